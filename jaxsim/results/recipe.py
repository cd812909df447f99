"""What a saved result records about its making, as plain JSON (``SweepResult.info["config"]``).

* :func:`describe_timing` / :func:`timing_from_config`: a :class:`~jaxsim.timing.TimingModel`
  as a dict (workers, base profile or times, scale, noise law and its parameters, per-seed
  permutation, speed profile, communication times) and back, exactly: the rebuilt model equals
  the original, so it draws the same durations.
* :func:`describe_problem`: a problem's registered name, class and constructor parameters
  (numbers, strings and flags as they are; arrays as their type and shape).
* :func:`describe_method`: a method's name and every static option (given or default).

A run of ``jaxsim run`` also records its command line and the parsed options
(``info["command"]``), from which ``jaxsim run --from FILE`` makes it again.
"""

from __future__ import annotations

import dataclasses

import numpy as np


def plain(o):
    """``o`` as JSON-ready Python: tuples to lists, NumPy scalars and 0-d arrays to numbers."""
    if isinstance(o, dict):
        return {str(k): plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [plain(v) for v in o]
    if isinstance(o, np.generic):
        return o.item()
    return o


def _noise(law) -> dict:
    return {"law": law.name, **{f.name: plain(getattr(law, f.name)) for f in dataclasses.fields(law)}}


def describe_timing(timing) -> dict:
    """A :class:`~jaxsim.timing.TimingModel` as JSON-ready data that :func:`timing_from_config`
    turns back into an equal model: ``n``, ``base`` (a profile name or the ``n`` base times),
    ``scale``, ``noise`` (``{"law": name, parameters...}``), ``permute_base``, ``speed``
    (``{"breakpoints", "values"}`` or ``None``) and ``comm`` (``{"down", "up", "noise"}`` or
    ``None``)."""
    speed, comm = timing.speed, timing.comm
    return dict(
        n=int(timing.n), base=plain(timing.base), scale=plain(timing.scale), noise=_noise(timing.noise),
        permute_base=bool(timing.permute_base),
        speed=None if speed is None else dict(breakpoints=plain(speed.breakpoints), values=plain(speed.values)),
        comm=None if comm is None else dict(down=plain(comm.down), up=plain(comm.up), noise=_noise(comm.noise)))


def _law(cfg: dict, field: str):
    from ..timing import NOISE_LAWS

    params = dict(cfg)
    name = params.pop("law", None)
    if name not in NOISE_LAWS:
        raise ValueError(f"{field}: unknown noise law {name!r}; known: {sorted(NOISE_LAWS)}")
    return NOISE_LAWS[name](**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})


def timing_from_config(cfg: dict):
    """The :class:`~jaxsim.timing.TimingModel` that :func:`describe_timing` described (a
    ``ValueError`` names what is missing or wrong)."""
    from ..timing import Comm, SpeedProfile, TimingModel

    try:
        speed, comm = cfg.get("speed"), cfg.get("comm")
        return TimingModel(
            n=cfg["n"], base=cfg["base"], scale=cfg["scale"], noise=_law(cfg["noise"], "timing.noise"),
            permute_base=cfg["permute_base"],
            speed=None if speed is None else SpeedProfile(breakpoints=speed["breakpoints"], values=speed["values"]),
            comm=None if comm is None else Comm(down=comm["down"], up=comm["up"],
                                                noise=_law(comm["noise"], "timing.comm.noise")))
    except (KeyError, TypeError) as e:
        raise ValueError(f"timing: the recorded configuration is incomplete or malformed ({type(e).__name__}: "
                         f"{e})") from None


def describe_value(v, depth: int = 0):
    """One constructor parameter as JSON: numbers, strings and flags as they are, arrays as
    ``"float32[60000, 784]"`` (0-d arrays as their number), dataclasses as their fields."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        if tuple(v.shape) == ():
            try:
                return np.asarray(v).item()
            except Exception:  # noqa: BLE001  a traced or key array: its type says enough
                pass
        return f"{v.dtype}{list(v.shape)}"
    if depth < 4 and dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {"class": type(v).__name__,
                **{f.name: describe_value(getattr(v, f.name), depth + 1) for f in dataclasses.fields(v)}}
    if depth < 4 and isinstance(v, (list, tuple)):
        return [describe_value(x, depth + 1) for x in v] if len(v) <= 64 else f"{type(v).__name__} of {len(v)}"
    if depth < 4 and isinstance(v, dict):
        return {str(k): describe_value(x, depth + 1) for k, x in v.items()}
    if callable(v):
        return f"{getattr(v, '__module__', '?')}.{getattr(v, '__qualname__', type(v).__name__)}"
    text = repr(v)
    return text if len(text) <= 200 else text[:197] + "..."


def describe_problem(problem) -> dict:
    """A problem's registered ``name``, its ``class`` and its constructor ``params`` (each
    dataclass field, see :func:`describe_value`). ``jaxsim run`` adds the registered builder's
    ``options`` as given on its command line."""
    params = ({f.name: describe_value(getattr(problem, f.name)) for f in dataclasses.fields(problem)}
              if dataclasses.is_dataclass(problem) else {})
    return {"name": getattr(problem, "name", None), "class": f"{type(problem).__module__}.{type(problem).__qualname__}",
            "params": params}


def describe_method(method) -> dict:
    """A method's registered ``name`` and its static ``options`` (every dataclass field, given
    or default)."""
    options = ({f.name: describe_value(getattr(method, f.name)) for f in dataclasses.fields(method)}
               if dataclasses.is_dataclass(method) else {})
    return {"name": method.name, "options": options}


__all__ = ["describe_method", "describe_problem", "describe_timing", "describe_value", "plain", "timing_from_config"]
