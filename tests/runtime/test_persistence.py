"""Results that survive crashes: atomic saves and resumable sweeps; saved results carry what makes them again."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import optax
import pytest

import jaxsim
from jaxsim import SweepResult
from jaxsim.runtime.checkpoint import digest
from jaxsim.cli import main

PROB = jaxsim.worst_case_quadratic(d=4, noise_scale=0.1)
TIMING = jaxsim.make_timing(4, "sqrt", "halfnormal")
KW = dict(seeds=[0, 1], grid={"gamma": [0.05, 0.1, 0.2, 0.4], "R": 2}, horizon=10.0, num_points=4, batch_size=1)


def assert_same(a: SweepResult, b: SweepResult):
    assert a.dims == b.dims and a.method == b.method and set(a.metrics) == set(b.metrics)
    for k in a.metrics:
        assert a.metrics[k].dtype == b.metrics[k].dtype, k
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k, strict=True)
    np.testing.assert_array_equal(a.time, b.time, strict=True)
    for k in a.coords:
        np.testing.assert_array_equal(a.coords[k], b.coords[k])


@pytest.fixture(scope="module")
def plain():
    """The uninterrupted run without checkpoints (4 batches of one setting)."""
    return jaxsim.sweep("ringmaster", PROB, TIMING, **KW)


# ---------------------------------------------------------------- atomic saves

def test_save_returns_the_path_written_and_round_trips(plain, tmp_path):
    p = plain.save(tmp_path / "x")
    assert p == tmp_path / "x.npz" and p.is_file()
    assert_same(SweepResult.load(p), plain)
    assert_same(SweepResult.load(tmp_path / "x"), plain)  # the name given to save works too
    assert plain.save(str(tmp_path / "sub" / "y.npz")) == tmp_path / "sub" / "y.npz"  # no second suffix
    assert sorted(f.name for f in tmp_path.iterdir()) == ["sub", "x.npz"]  # no temporary files left
    mask = os.umask(0o022)
    os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask  # a normal file, not mkstemp's 0600


def test_failed_save_keeps_the_previous_file(plain, tmp_path, monkeypatch):
    p = plain.save(tmp_path / "r.npz")
    before = p.read_bytes()
    os.chmod(p, 0o640)

    def dies_mid_write(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    other = jaxsim.SweepResult(**{**plain.__dict__, "method": "other"})
    monkeypatch.setattr(np, "savez_compressed", dies_mid_write)
    with pytest.raises(OSError, match="disk full"):
        other.save(p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert_same(SweepResult.load(p), plain)
    assert [f.name for f in tmp_path.iterdir()] == ["r.npz"]  # the temporary file is gone
    other.save(p)  # a successful overwrite replaces the file and keeps its permissions
    assert SweepResult.load(p).method == "other" and p.stat().st_mode & 0o777 == 0o640


# ---------------------------------------------------------------- resumable sweeps

def test_checkpoint_resumes_only_missing_batches(plain, tmp_path):
    ck = tmp_path / "ck"
    first = jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, **KW)
    assert first.info["batches_computed"] == [0, 1, 2, 3] and first.info["batches_loaded"] == []
    files = sorted(ck.glob("batch-*.npz"))
    assert len(files) == 4 and (ck / "manifest.json").is_file()
    assert_same(first, plain)

    files[1].unlink()  # as if the run had died before this batch
    again = jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, **KW)
    assert len(again.info["batches_computed"]) == 1 and len(again.info["batches_loaded"]) == 3
    assert_same(again, plain)

    full = jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, **KW)
    assert full.info["batches_computed"] == [] and full.info["batches_loaded"] == [0, 1, 2, 3]
    assert_same(full, plain)


def test_checkpoint_refuses_another_configuration(tmp_path):
    ck = tmp_path / "ck"
    kw = dict(KW, grid={"gamma": [0.05, 0.1], "R": 2})
    jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, **kw)
    manifest = (ck / "manifest.json").read_bytes()
    with pytest.raises(ValueError, match=r"different sweep configuration \(differs in: .*settings"):
        jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, **dict(kw, grid={"gamma": [0.05, 0.3], "R": 2}))
    other_data = jaxsim.worst_case_quadratic(d=4, noise_scale=0.2)  # same static fields, other array data
    with pytest.raises(ValueError, match=r"differs in: .*problem"):
        jaxsim.sweep("ringmaster", other_data, TIMING, checkpoint_dir=ck, **kw)
    with pytest.raises(ValueError, match=r"differs in: .*inputs"):  # other sampled streams
        jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, **dict(kw, seeds=[0, 2]))
    with pytest.raises(ValueError, match=r"differs in: .*clock.optimizer"):
        jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, optimizer=optax.sgd(1.0, momentum=0.5), **kw)
    assert (ck / "manifest.json").read_bytes() == manifest and len(list(ck.glob("batch-*.npz"))) == 2

    (ck / "manifest.json").unlink()  # batch files without a manifest: not trusted either
    with pytest.raises(ValueError, match="no manifest.json"):
        jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, **kw)
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="not a directory"):
        jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=tmp_path / "f", **kw)
    with pytest.raises(ValueError, match="checkpoint_dir: expected a directory path"):
        jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=3, **kw)


def test_digest_is_content_based():
    assert digest(optax.adam(1e-3)) == digest(optax.adam(1e-3))
    assert digest(optax.adam(1e-3)) != digest(optax.adam(1e-2))
    assert digest(optax.sgd(0.1, momentum=0.9)) != digest(optax.sgd(0.1, momentum=0.8))
    assert digest(PROB) == digest(jaxsim.worst_case_quadratic(d=4, noise_scale=0.1))
    assert digest(PROB) != digest(jaxsim.worst_case_quadratic(d=5, noise_scale=0.1))
    assert digest(TIMING) != digest(jaxsim.make_timing(4, "sqrt", "exponential"))
    assert digest({"a": 1, "b": 2.0}) == digest({"b": 2.0, "a": 1}) != digest({"a": 1, "b": 2})
    assert digest(np.float32(0.1)) != digest(np.float64(0.1))

    class Opaque:
        __slots__ = ()

    with pytest.raises(ValueError, match="cannot hash the configuration deterministically"):
        digest([Opaque()])


def test_cli_checkpoint_dir(tmp_path, capsys):
    ck, out = tmp_path / "ck", tmp_path / "r.npz"
    argv = ["run", "ringmaster", "--d", "4", "--n", "4", "--base", "sqrt", "--horizon", "10", "--points", "3",
            "--hp", "gamma=0.1,0.2", "--checkpoint-dir", str(ck), "--out", str(out)]
    assert main(argv) == 0
    first = SweepResult.load(out)
    assert first.info["batches_computed"] and not first.info["batches_loaded"]
    assert main(argv) == 0
    second = SweepResult.load(out)
    assert second.info["batches_loaded"] == first.info["batches_computed"] and not second.info["batches_computed"]
    assert_same(first, second)
    capsys.readouterr()
    assert main([*argv[:-5], "gamma=0.1,0.3", *argv[-4:]]) == 2
    err = capsys.readouterr().err
    assert "different sweep configuration" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- acceptance: kill -9 and resume

SCRIPT = textwrap.dedent("""
    import json, sys, time
    import jax
    import jaxsim
    import jaxsim.sim.runner as runner

    ckdir, out, slow, kw = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])
    run_batch, calls = runner.run_batch, []

    def logged(*args, **kwargs):  # each computed batch: logged, and slow enough to be killed between batches
        res = jax.block_until_ready(run_batch(*args, **kwargs))
        calls.append(1)
        time.sleep(slow)
        return res

    runner.run_batch = logged
    res = jaxsim.sweep("ringmaster", jaxsim.worst_case_quadratic(d=4, noise_scale=0.1),
                       jaxsim.make_timing(4, "sqrt", "halfnormal"), checkpoint_dir=ckdir, **kw)
    res.save(out)
    print(json.dumps(dict(calls=len(calls), loaded=res.info.get("batches_loaded"),
                          computed=res.info.get("batches_computed"))))
""")


def test_sigkill_mid_sweep_then_resume_is_bit_identical(plain, tmp_path):
    """A sweep killed (SIGKILL) between batches, then resumed in a new process, gives the
    uninterrupted sweep's numbers (``plain``: this process, no checkpoints) bit for bit. The
    processes read the kernel from this test run's compilation cache (``tests/conftest.py``),
    as a user's resumed sweep reads it from ``JAXSIM_COMPILE_CACHE``: what is checked is the
    checkpointing, not compiling again."""
    script = tmp_path / "run_sweep.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
               JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    env["JAXSIM_COMPILE_CACHE"] = os.environ.get("JAXSIM_TEST_CACHE", "")
    ck = tmp_path / "ck"
    kw = json.dumps(KW)

    def start(out, slow):
        return subprocess.Popen([sys.executable, str(script), str(ck), str(out), str(slow), kw], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    t0 = time.monotonic()
    victim = start(tmp_path / "victim.npz", 1.5)
    while not list(ck.glob("batch-*.npz")):
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() - t0 < 120, "no batch file appeared"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    t_kill = time.monotonic() - t0
    assert victim.returncode == -signal.SIGKILL
    done = {}
    for f in ck.glob("batch-*.npz"):
        with np.load(f) as z:
            done[int(z["index"])] = f.name
    assert 1 <= len(done) < 4, done  # killed between batches: some finished, some not
    assert not (tmp_path / "victim.npz").exists()

    resumed = start(tmp_path / "resumed.npz", 0.0)
    out, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err
    log = json.loads(out.strip().splitlines()[-1])
    assert sorted(log["loaded"]) == sorted(done)  # every finished batch was loaded ...
    assert sorted(log["computed"]) == sorted(set(range(4)) - set(done))  # ... and only the others computed
    assert log["calls"] == 4 - len(done)
    assert plain.info["batches"] == 4
    assert_same(SweepResult.load(tmp_path / "resumed.npz"), plain)
    print(f"killed after {t_kill:.1f} s with {len(done)} of 4 batches; total {time.monotonic() - t0:.1f} s")

    with pytest.raises(ValueError, match="different sweep configuration"):  # another gamma: refused
        jaxsim.sweep("ringmaster", PROB, TIMING, checkpoint_dir=ck, **dict(KW, grid={"gamma": [0.05, 0.1, 0.2, 0.3],
                                                                                     "R": 2}))


# ---- saved results carry what makes them again -----------------------------------------------

def test_saved_results_carry_the_problem_timing_and_method_configuration(plain, tmp_path):
    from jaxsim.results.recipe import timing_from_config

    back = SweepResult.load(plain.save(tmp_path / "r.npz"))
    cfg = back.info["config"]
    assert cfg["problem"]["name"] == "quadratic" and cfg["problem"]["class"].endswith("WorstCaseQuadratic")
    p = cfg["problem"]["params"]
    assert p["d"] == 4 and p["L"] == 1.0 and p["noise"] == "scalar" and p["noise_scale"] == pytest.approx(0.1)
    assert cfg["method"] == "ringmaster" and "method_static" in cfg
    assert cfg["timing"]["noise"] == {"law": "halfnormal", "var": "i"} and cfg["timing"]["base"] == "sqrt"
    assert timing_from_config(cfg["timing"]) == TIMING  # the same model: the same durations
    assert cfg["grid"] == {"gamma": [0.05, 0.1, 0.2, 0.4]} and cfg["fixed"] == {"R": 2} and cfg["seeds"] == [0, 1]


def test_every_timing_feature_is_described_and_rebuilt_exactly():
    from jaxsim.results.recipe import describe_timing, timing_from_config
    from jaxsim.timing import Comm, Exponential, HalfNormal, Pareto, SpeedProfile, TimingModel

    models = [
        TIMING, jaxsim.make_timing(3, [1.0, 2.5, 0.125], "exponential", scale="base", base_scale=2.0),
        TimingModel(n=2, base="linear", noise=HalfNormal(var=(0.5, 1.5)), permute_base=True,
                    speed=SpeedProfile.periodic(2, 0.5, 10.0, horizon=50.0, points=7),
                    comm=Comm(down=0.1, up=(0.2, 0.3), noise=Exponential(scale=1.0))),
        TimingModel(n=2, noise=Pareto(a=2.5, xm=0.5),  # per-worker change points
                    speed=SpeedProfile(breakpoints=((0.0,), (0.0, 3.0)), values=((1.0,), (0.25, 2.0)))),
    ]
    for t in models:
        text = json.dumps(describe_timing(t))  # as the .npz header stores it
        assert timing_from_config(json.loads(text)) == t, text
    with pytest.raises(ValueError, match="unknown noise law"):
        timing_from_config({**describe_timing(TIMING), "noise": {"law": "nope"}})
    with pytest.raises(ValueError, match="incomplete"):
        timing_from_config({"n": 3})
