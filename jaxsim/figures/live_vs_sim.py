"""Simulation against reality: live runs on real worker processes against their replay and the simulator's band.

One method per kind of clock behaviour on a small worst-case quadratic (``n = 8`` workers with
durations ``(1 + sqrt(w)) + |N(0, w + 1)|``): ASGD (free-running), Ringmaster ASGD with stops
(cancellations), Rennala SGD (batches, stale results discarded) and MindFlayer SGD (clipped
attempts, idle workers). Each runs live (:func:`jaxsim.live.live`: one process per worker, the
reference rule as the server, ``time_scale`` wall seconds per simulated second) on the first
seed; the jitted engine then replays it with its measured durations
(:func:`jaxsim.live.replay`), and simulates every seed from the timing model alone, before and
after calibrating a communication model to the live run's measured overheads
(:func:`jaxsim.live.calibration.calibrated_timing`). Each panel shows the live ``f - f*`` over
time over the simulator's band (the other seeds: independent draws; median and inter-quartile
band, before and after calibration), the simulation of the live run's own draws and the
replay, with the measured overheads in its title.

Reported per method: the replay's arrival order (identical, or the first divergence) and update
counts; the distance of the live curve of ``f - f*`` (mean ``|log10 (f - f*)_live - log10 (f -
f*)_sim|`` over the recording times) to the replay, and to the simulation of the same seed before
and after calibration; the share of recording times at which the live curve lies in the
simulated seeds' range and IQR; the overheads (mean milliseconds: server time per arrival,
download, upload, overrun of the wait); the machine's load average when the live run started.

The claim (this project's, not a paper's): the simulator reproduces a real asynchronous run up to
its measured overheads. Parts, per method: the replay is closer to the live curve than the
uncalibrated simulation of the same draws, and the calibrated simulation is closer than the
uncalibrated one.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from .. import sweep
from . import verdict as V
from .base import band, fmt_hparams

NAME = "live-vs-sim"
FORMS = ("paper",)
LABELS = {"asgd": "ASGD", "ringmaster_stops": "Ringmaster ASGD (stops)", "rennala": "Rennala SGD",
          "mindflayer": "MindFlayer SGD"}
#: Each method's fixed hyperparameters (stable on this quadratic for n = 8; no tuning: the live
#: run, not the method, is under test).
HPARAMS = {"asgd": {"gamma": 0.05}, "ringmaster_stops": {"gamma": 0.2, "R": 4}, "rennala": {"gamma": 0.5, "B": 4},
           "mindflayer": {"gamma": 0.5, "t": 2.0, "S": 4}}
#: The metric drawn and compared (``f - f*``: ``f`` itself crosses zero on this quadratic).
METRIC = "loss_gap"
#: The distance every number and part is stated in.
DISTANCE = "mean |log10 (f - f*)_live - log10 (f - f*)_sim| over the recording times"


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = dataclasses.field(default=8, metadata={"help": "workers (one process each in the live run)"})
    d: int = dataclasses.field(default=20, metadata={"help": "dimension of the quadratic"})
    noise_scale: float = dataclasses.field(default=0.01, metadata={"help": "gradient noise s"})
    horizon: float = dataclasses.field(default=400.0, metadata={"help": "simulated seconds"})
    time_scale: float = dataclasses.field(default=0.01, metadata={
        "help": "wall seconds per simulated second in the live run"})
    seeds: tuple = dataclasses.field(default=tuple(range(10)), metadata={
        "elem": int, "help": "the first runs live; every one runs in the simulator (the band: the others)"})
    methods: tuple = dataclasses.field(default=tuple(HPARAMS), metadata={"elem": str, "help": "methods"})
    num_points: int = 100


FULL = Config()
QUICK = Config(horizon=100.0, seeds=(0, 1, 2, 3, 4), num_points=50)
TINY = Config(n=3, d=10, horizon=12.0, time_scale=0.02, seeds=(0, 1), methods=("asgd", "ringmaster_stops"),
              num_points=12)


def setup(cfg: Config):
    """``(problem name, options, timing)`` of the figure."""
    from ..timing import make_timing

    return "quadratic", {"d": cfg.d, "noise_scale": cfg.noise_scale}, make_timing(cfg.n, "one_plus_sqrt", "halfnormal",
                                                                                  var="i")


def _hp(method: str, cfg: Config) -> dict:
    hp = dict(HPARAMS[method])
    for k in ("R", "B"):
        if k in hp:
            hp[k] = min(hp[k], cfg.n)
    return hp


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """Per method: the live run (``M.live``), its replay (``M.replay``, with the replay's report in
    ``info["replay"]``), every seed simulated (``M.sim``) and calibrated (``M.calibrated``)."""
    import jax

    from ..live import calibrated_timing, live, replay
    from ..live.run import build_problem

    name, options, timing = setup(cfg)
    problem = build_problem(name, options)
    unknown = set(cfg.methods) - set(HPARAMS)
    if unknown:
        raise ValueError(f"methods: {sorted(unknown)} have no settings here; choose from {sorted(HPARAMS)}")
    out = {}
    for m in cfg.methods:
        hp = _hp(m, cfg)
        load = os.getloadavg()
        log = live(m, name, timing, hparams=hp, seed=cfg.seeds[0], horizon=cfg.horizon, time_scale=cfg.time_scale,
                   num_points=cfg.num_points, problem_options=options)
        if log.error is not None:
            raise RuntimeError(f"live run of {m} ended early: {log.error}")
        res = log.result()
        res.info["load"] = list(load)
        res.info["config"]["seeds"] = [cfg.seeds[0]]
        rep = replay(log, problem=problem, timing=timing)
        rres = rep.pop("result")
        rres.info["replay"] = rep
        cal = calibrated_timing(log, timing)
        with jax.enable_x64(True):
            sims = {k: sweep(m, problem, tm, seeds=list(cfg.seeds), grid=hp, horizon=cfg.horizon,
                             num_points=cfg.num_points, progress=progress)
                    for k, tm in (("sim", timing), ("calibrated", cal))}
        sims["calibrated"].info["comm"] = dict(down=list(cal.comm.down), up=list(cal.comm.up))
        out.update({f"{m}.live": res, f"{m}.replay": rres, f"{m}.sim": sims["sim"],
                    f"{m}.calibrated": sims["calibrated"]})
    return out


def _dist(a, b) -> float:
    a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
    ok = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    return float(np.mean(np.abs(np.log10(a[ok]) - np.log10(b[ok])))) if ok.any() else float("inf")


def method_numbers(results: dict, m: str) -> dict:
    """The reported numbers of method ``m`` (see the module docstring), from the saved results."""
    from ..live import band_overlap

    live, rep, sim, cal = (results[f"{m}.{k}"] for k in ("live", "replay", "sim", "calibrated"))
    y = live.metrics[METRIC][0]
    others = slice(1, None)
    r = rep.info["replay"]
    ov = live.info["overheads"]
    return dict(
        replay=dict(order_identical=r["order"]["identical"], first_divergence=r["order"]["first_divergence"],
                    arrivals=[r["order"]["arrivals_live"], r["order"]["arrivals_replay"]], updates=r["updates"],
                    max_rel_timed=r["timed"][METRIC], max_rel_by_update=r["by_update"][METRIC]["max_rel"]),
        distance=dict(replay=_dist(y, rep.metrics[METRIC][0]), sim=_dist(y, sim.metrics[METRIC][0]),
                      calibrated=_dist(y, cal.metrics[METRIC][0])),
        updates=dict(live=int(live.metrics["updates"][0, -1]), sim=int(sim.metrics["updates"][0, -1]),
                     calibrated=int(cal.metrics["updates"][0, -1]), replay=int(rep.metrics["updates"][0, -1])),
        band=dict(sim=band_overlap(y, sim.metrics[METRIC][others]),
                  calibrated=band_overlap(y, cal.metrics[METRIC][others])),
        overheads_ms={k: v["mean_ms"] for k, v in ov.items()},
        comm_sim_seconds=cal.info.get("comm"),
        load=live.info.get("load"), startup_s=live.info.get("startup"))


def summarize(results: dict, cfg: Config, forms: str = "paper") -> dict:
    methods, parts = {}, []
    for m in cfg.methods:
        num = method_numbers(results, m)
        d, r = num["distance"], num["replay"]
        order = "same order" if r["order_identical"] else f"order differs at arrival {r['first_divergence']['index']}"
        num["line"] = (f"replay {order}, updates {r['updates']['live']}/{r['updates']['replay']} (live/replay); "
                       f"distance replay {d['replay']:.3g}, sim {d['sim']:.3g}, calibrated {d['calibrated']:.3g}; "
                       f"in band {num['band']['sim']['range']:.0%} "
                       f"(calibrated {num['band']['calibrated']['range']:.0%}); "
                       f"server {num['overheads_ms']['server']:.2f} ms, down {num['overheads_ms']['down']:.2f} ms, "
                       f"up {num['overheads_ms']['up']:.2f} ms")
        methods[m] = num
        label = LABELS.get(m, m)
        parts.append(V.compare(f"{label}: the replay is closer to the live run than the uncalibrated simulation",
                               [d["replay"]], [d["sim"]], names=("replay", "simulation")))
        parts.append(V.compare(f"{label}: calibration brings the simulation closer to the live run",
                               [d["calibrated"]], [d["sim"]], names=("calibrated", "uncalibrated")))
    claim = V.claim("the simulator reproduces a real asynchronous run up to its measured overheads", parts,
                    notes=[f"distances: {DISTANCE}; one live run per method (seed {cfg.seeds[0]})"])
    return dict(methods=methods, claim=claim, protocol=dict(metric=METRIC, distance=DISTANCE, seeds=len(cfg.seeds),
                                                           live_seed=cfg.seeds[0], time_scale=cfg.time_scale))


def plot(results: dict, cfg: Config, forms: str = "paper"):
    import matplotlib.pyplot as plt

    k = len(cfg.methods)
    cols = min(2, k)
    rows = (k + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 4.2 * rows), squeeze=False)
    for ax, m in zip(axes.reshape(-1), cfg.methods):
        live, rep, sim, cal = (results[f"{m}.{k}"] for k in ("live", "replay", "sim", "calibrated"))
        t = live.time[0]
        band(ax, sim.time[0], sim.metrics[METRIC][1:], color="#888888", label="simulator (other seeds)")
        band(ax, cal.time[0], cal.metrics[METRIC][1:], color="#1f77b4", style="--",
             label="simulator, calibrated (other seeds)")
        for res, color, what in ((sim, "#888888", "simulator"), (cal, "#1f77b4", "calibrated")):
            ax.plot(res.time[0], np.maximum(res.metrics[METRIC][0], 1e-16), "-", color=color, lw=0.8, alpha=0.9,
                    label=f"{what}, the live run's draws")
        ax.plot(t, np.maximum(live.metrics[METRIC][0], 1e-16), "-", color="black", lw=1.6, label="live")
        ax.plot(rep.time[0], np.maximum(rep.metrics[METRIC][0], 1e-16), ":", color="#C00000", lw=1.6,
                label="replay (measured durations)")
        ov = live.info["overheads"]
        load = live.info.get("load") or [float("nan")]
        ax.set_title(f"{LABELS.get(m, m)} ({fmt_hparams(live.fixed)})\nserver {ov['server']['mean_ms']:.2f} ms/arrival,"
                     f" down {ov['down']['mean_ms']:.2f} ms, up {ov['up']['mean_ms']:.2f} ms, overrun "
                     f"{ov['overrun']['mean_ms']:.2f} ms; load {load[0]:.1f}", fontsize=8)
        ax.set_xlabel("simulated seconds")
        ax.set_ylabel("f(x) - f*")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    for ax in axes.reshape(-1)[k:]:
        ax.axis("off")
    fig.suptitle(f"Live vs simulated: worst-case quadratic n={cfg.n}, d={cfg.d}, 1 simulated s = "
                 f"{1e3 * cfg.time_scale:g} ms; band: {len(cfg.seeds) - 1} other seeds", fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["Config", "FULL", "HPARAMS", "NAME", "QUICK", "TINY", "method_numbers", "plot", "simulate", "summarize"]
