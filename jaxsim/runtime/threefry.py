"""The threefry hash unrolled on CPU, as on every other backend.

JAX lowers its threefry2x32 hash (every ``jax.random`` draw and ``fold_in``) on CPU as a
``while`` loop of five trips, to keep compile times short; elsewhere it is unrolled. Inside the
simulator's loops that rolled form dominated a step: a controlled or allocation step folds and
draws several keys (a job's duration, its gradient noise, the method's key), each a loop of its
own, and a loop trip on XLA's CPU runtime costs far more than the twenty rounds of integer
arithmetic it runs. :func:`unroll_threefry_on_cpu` registers JAX's own unrolled lowering for
CPU too. The hash is the same integer arithmetic either way, so every draw is the same bit for
bit; only the compiled code changes. It is called when :mod:`jaxsim.runtime.rng` is imported,
before anything of the simulator is compiled.
"""

from __future__ import annotations

_done = False


def unroll_threefry_on_cpu() -> bool:
    """Lower threefry2x32 unrolled on CPU (idempotent). Returns whether the lowering is
    registered: JAX's private names it uses may move between versions, and then the rolled
    lowering stays (the same numbers, slower)."""
    global _done
    if _done:
        return True
    try:
        from jax._src.random import threefry2x32 as tf
        from jax.interpreters import mlir

        mlir.register_lowering(tf.threefry2x32_p, tf._threefry2x32_lowering_rule, platform="cpu")
    except (ImportError, AttributeError):
        return False
    _done = True
    return True


__all__ = ["unroll_threefry_on_cpu"]
