"""A sweep sharded over the devices of several processes (hosts) with ``jax.distributed``.

Every process runs this same script; ``jax.distributed.initialize`` joins them, after which
``jax.devices()`` lists every process's devices and :func:`jaxsim.sweep` shards each batch's
runs over all of them (a ``("seed", "setting")`` mesh). The metrics come back replicated,
so every process holds the whole result; process 0 prints and saves it.

On a cluster, start one process per host::

    python experiments/multihost_sweep.py --coordinator HOST0:12345 --num-processes 4 --process-id I

(on Cloud TPU pods and SLURM, ``jax.distributed.initialize()`` finds these by itself: pass
``--auto``). To try it on one machine, ``--local 2`` starts two CPU processes with two
devices each, joined over localhost (CPU collectives: gloo), and checks that the sharded
numbers equal a run on one device::

    python experiments/multihost_sweep.py --local 2
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys


def sweep_and_report(out: str | None, check: bool) -> None:
    import jax
    import numpy as np

    import jaxsim

    problem = jaxsim.worst_case_quadratic(d=50, noise_scale=0.01)
    timing = jaxsim.make_timing(20, "one_plus_sqrt", "halfnormal", var="i")
    kw = dict(seeds=[0, 1, 2], grid={"gamma": [0.01, 0.02, 0.05, 0.1, 0.2], "R": [1, 2, 5, 10]},
              horizon=200.0, num_points=20)
    res = jaxsim.sweep("ringmaster", problem, timing, **kw)
    me = jax.process_index()
    if me == 0:
        b = res.best("loss_gap")
        print(f"{jax.process_count()} processes, {jax.device_count()} devices, mesh {res.info['mesh']}: "
              f"{res.diverged.size} runs; best {b['hparams']} final f-f* {b['value']:.4g}")
        if out:
            print("saved", res.save(out))
    if check:  # the same sweep on one of this process's devices
        one = jaxsim.sweep("ringmaster", problem, timing, devices=jax.local_devices()[:1], **kw)
        same = all(np.array_equal(one.metrics[k], res.metrics[k], equal_nan=True) for k in one.metrics)
        print(f"process {me}: sharded == one device: {same}")
        if not same:
            raise SystemExit(1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--coordinator", help="HOST:PORT of process 0")
    p.add_argument("--num-processes", type=int)
    p.add_argument("--process-id", type=int)
    p.add_argument("--auto", action="store_true", help="let jax.distributed.initialize() detect the cluster")
    p.add_argument("--local", type=int, metavar="P", help="start P CPU processes on this machine (a demo)")
    p.add_argument("--local-devices", type=int, default=2, help="CPU devices per process with --local")
    p.add_argument("--out", help="process 0 saves the results here (.npz)")
    p.add_argument("--check", action="store_true", help="also compare with a one-device run")
    args = p.parse_args(argv)

    if args.local:  # spawn the processes of a one-machine demo, then wait for them
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, JAX_PLATFORMS="cpu",
                   XLA_FLAGS=f"--xla_force_host_platform_device_count={args.local_devices}")
        procs = [subprocess.Popen([sys.executable, __file__, "--coordinator", f"127.0.0.1:{port}",
                                   "--num-processes", str(args.local), "--process-id", str(i), "--check"]
                                  + (["--out", args.out] if args.out else []), env=env)
                 for i in range(args.local)]
        return max(proc.wait() for proc in procs)

    import jax

    if args.auto:
        jax.distributed.initialize()
    else:
        # CPU devices of several processes talk over gloo (GPUs and TPUs have their own collectives)
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(args.coordinator, args.num_processes, args.process_id)
    sweep_and_report(args.out, args.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
