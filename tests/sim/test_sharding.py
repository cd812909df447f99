"""Sweeps sharded over devices: the plan, the device option, and bit-identity with one device.

The bit-identity check runs in a subprocess with 8 forced CPU devices
(``--xla_force_host_platform_device_count=8``, set before JAX starts) and XLA's default
optimization: a run's numbers do not depend on its batch's shape there (see
``tests/sim/test_batch_composition.py``), so each device's local batch gives what the whole
batch gives.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import pytest

import jaxsim
from jaxsim.sim.plan import MIN_AXIS, batches, mesh_shape, resolve_devices, useful_devices

SCRIPT = textwrap.dedent("""
    import json, sys
    import jax, numpy as np
    import jaxsim
    assert jax.device_count() == 8, jax.devices()
    problem = jaxsim.worst_case_quadratic(d=4, noise_scale=0.05)
    timing = jaxsim.make_timing(4, "one_plus_sqrt", "halfnormal")
    cases = {  # a free-running, a controlled and an allocation method; 3 seeds x 5 settings
        "ringmaster": {"gamma": [0.05, 0.1, 0.2, 0.3, 0.4], "R": 2},
        "ringmaster_stops": {"gamma": [0.05, 0.1, 0.2, 0.3, 0.4], "R": 2},
        "ata": {"gamma": [0.05, 0.1, 0.2, 0.3, 0.4], "B": 3},
    }
    out = {}
    for name, grid in cases.items():  # a short horizon: compiling the six kernels is the cost
        kw = dict(seeds=[0, 1, 2], grid=grid, horizon=8.0, num_points=2)
        one = jaxsim.sweep(name, problem, timing, devices=1, **kw)
        many = jaxsim.sweep(name, problem, timing, **kw)
        out[name] = dict(
            mesh=list(many.info["mesh"]), devices=many.info["devices"], padded=many.info["padded_runs"],
            one_mesh=list(one.info["mesh"]), metrics=sorted(one.metrics),
            same=[k for k in one.metrics if np.array_equal(one.metrics[k], many.metrics[k], equal_nan=True)],
            updates=int(one.metrics["updates"][..., -1].sum()))
    print("RESULT " + json.dumps(out))
""")


@pytest.fixture(scope="module")
def eight_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    env.pop("JAXSIM_COMPILE_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


@pytest.mark.parametrize("name", ["ringmaster", "ringmaster_stops", "ata"])
def test_sharded_sweep_is_bit_identical_to_one_device(eight_devices, name):
    r = eight_devices[name]
    # by default, the fewest of the 8 that reach the smallest batch per device: 6 (2 x 2 runs each)
    assert r["devices"] == len(useful_devices(3, 5, list(range(8)))) == 6 and r["one_mesh"] == [1, 1]
    ds, dp = r["mesh"]
    assert ds * dp == 6 and (ds, dp) == mesh_shape(3, 5, 6)
    assert r["padded"] > 0  # 3 x 5 runs on a mesh of 6: masked copies were computed and dropped
    assert r["updates"] > 0  # the runs did something
    assert r["same"] == r["metrics"]


def test_mesh_shape_computes_fewest_runs():
    assert mesh_shape(3, 5, 1) == (1, 1)
    assert mesh_shape(1, 100, 8) == (1, 8)  # one seed: every device over settings
    assert mesh_shape(100, 1, 8) == (8, 1)  # one setting: every device over seeds
    for S, P, k in [(3, 5, 8), (3, 70, 2), (7, 7, 4), (2, 2, 8)]:
        ds, dp = mesh_shape(S, P, k)
        best = min(max(-(-S // a), MIN_AXIS) * max(-(-P // (k // a)), MIN_AXIS) for a in range(1, k + 1) if k % a == 0)
        assert ds * dp == k and max(-(-S // ds), MIN_AXIS) * max(-(-P // dp), MIN_AXIS) == best


@pytest.mark.parametrize("S,P,mesh,budget_runs", [(3, 5, (2, 4), 10 ** 6), (5, 40, (1, 8), 12), (9, 3, (4, 2), 6)])
def test_sharded_plan_covers_every_run_once(S, P, mesh, budget_runs):
    per_run = 1000
    plan = batches(list(range(P)), per_run, S, None, budget_runs * per_run, mesh=mesh)
    ds, dp = mesh
    assert plan.mesh == mesh
    assert plan.seeds_per_batch % ds == 0 and plan.settings_per_batch % dp == 0
    assert plan.seeds_per_batch // ds >= MIN_AXIS and plan.settings_per_batch // dp >= MIN_AXIS
    assert plan.bytes_per_batch <= budget_runs * per_run  # the budget is per device
    got = [s for chunk, k in zip(plan.chunks, plan.real) for s in chunk[:k]]
    assert got == list(range(P))
    assert [i for g, k in zip(plan.seed_groups, plan.seeds_real) for i in g[:k]] == list(range(S))
    assert all(len(c) == plan.settings_per_batch for c in plan.chunks)


def test_devices_option_is_checked_before_compiling():
    problem = jaxsim.worst_case_quadratic(d=3)
    timing = jaxsim.make_timing(2, "one_plus_sqrt")
    assert resolve_devices(None) == jax.devices() and resolve_devices(1) == jax.devices()[:1]
    assert resolve_devices(jax.devices()[:1]) == jax.devices()[:1]
    for bad in [0, len(jax.devices()) + 1, "cpu", [], [jax.devices()[0]] * 2, 1.5, [0]]:
        with pytest.raises(ValueError, match="devices"):
            jaxsim.sweep("asgd", problem, timing, grid={"gamma": 0.1}, horizon=5.0, devices=bad)



def test_cpu_devices_is_checked_and_refused_once_jax_runs():
    jax.numpy.zeros(1).block_until_ready()  # the backend is up
    for bad in [0, -1, 1.5, True, "2"]:
        with pytest.raises(ValueError, match="cpu_devices: expected"):
            jaxsim.use_cpu_devices(bad)
    with pytest.raises(ValueError, match="cpu_devices: JAX's backends are already initialized"):
        jaxsim.use_cpu_devices(2)


def test_cli_cpu_devices_splits_the_cpu():
    code = ("import sys, jax; from jaxsim import cli; "
            "sys.exit(cli.main(['--cpu-devices', '3', 'list']) or (jax.device_count() != 3))")
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_cpu_devices_share_the_host_memory_budget():
    from jaxsim.runtime.memory import default_memory_budget, host_memory_budget

    if jax.default_backend() != "cpu":
        pytest.skip("CPU devices only")
    one = jax.devices()[:1]
    assert default_memory_budget(one) == default_memory_budget() == host_memory_budget()
    assert default_memory_budget(one * 4) == host_memory_budget() // 4


def _device_count_after_cli(env_extra: dict, argv=("list",)) -> subprocess.CompletedProcess:
    code = (f"import sys, jax; from jaxsim import cli; code = cli.main({list(argv)!r}); "
            "print('DEVICES', jax.device_count()); sys.exit(code)")
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    for k in ("XLA_FLAGS", "JAXSIM_CPU_DEVICES"):
        env.pop(k, None)
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def _devices_printed(proc) -> int:
    assert proc.returncode == 0, proc.stderr[-2000:]
    return int(proc.stdout.split("DEVICES")[-1])


def test_cli_splits_the_cpu_by_default_one_device_per_core():
    from jaxsim.runtime.cpu_devices import AUTO_MAX

    assert _devices_printed(_device_count_after_cli({})) == max(1, min(os.cpu_count() or 1, AUTO_MAX))


@pytest.mark.parametrize("env, expected", [
    ({"JAXSIM_CPU_DEVICES": "1"}, 1),  # the opt-out
    ({"JAXSIM_CPU_DEVICES": "3"}, 3),
    ({"XLA_FLAGS": "--xla_force_host_platform_device_count=5"}, 5),  # a count already set is kept
])
def test_cli_default_split_follows_the_environment(env, expected):
    assert _devices_printed(_device_count_after_cli(env)) == expected


def test_cli_default_split_refuses_a_bad_environment_value():
    proc = _device_count_after_cli({"JAXSIM_CPU_DEVICES": "lots"})
    assert proc.returncode == 2
    assert "cpu_devices: $JAXSIM_CPU_DEVICES='lots'" in proc.stderr and proc.stderr.count("\n") == 1


def test_cli_default_split_leaves_a_running_session_alone(monkeypatch):
    from jaxsim.runtime.cpu_devices import apply_default

    jax.numpy.zeros(1).block_until_ready()
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.setenv("JAXSIM_CPU_DEVICES", "2")
    assert apply_default() == 0 and "XLA_FLAGS" not in os.environ


@pytest.mark.parametrize("S, P, k, expected", [
    (1, 1, 8, 1),  # one run: a second device would compute only padding
    (2, 2, 8, 1),
    (3, 1, 2, 2),  # 2 seeds x 2 settings (padding included) per device against 3 x 2 on one
    (4, 1, 2, 2),
    (3, 5, 8, 6),
    (4, 64, 2, 2),
])
def test_default_devices_are_those_that_shorten_the_sweep(S, P, k, expected):
    assert useful_devices(S, P, list(range(k))) == list(range(expected))
