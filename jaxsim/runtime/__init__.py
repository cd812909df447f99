"""What every layer stands on: keys, memory budgets, files, provenance, JAX set-up.

* :mod:`~jaxsim.runtime.rng` -- keys for common random numbers (one seed, independent streams).
* :mod:`~jaxsim.runtime.memory` -- memory budgets of a batch (device) or a duration table (host).
* :mod:`~jaxsim.runtime.checkpoint` -- atomic files, content hashes and resumable sweeps.
* :mod:`~jaxsim.runtime.provenance` -- what made a result (versions, device, commit, date).
* :mod:`~jaxsim.runtime.compile_cache` -- JAX's persistent compilation cache, when asked for.
* :mod:`~jaxsim.runtime.cpu_devices` -- the host CPU split into several JAX devices.
* :mod:`~jaxsim.runtime.pytree` -- frozen dataclasses that are JAX pytrees.

Nothing is imported here: any module of the package may import a module of this one
without an import cycle, and importing this package runs no JAX code.
"""
