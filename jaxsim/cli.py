"""Command line: ``jaxsim list | run | bench | figure``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .figures import FIGURES


def _cmd_list(args) -> int:
    from .figures import describe
    from .methods import REGISTRY
    from .problems import PROBLEMS
    from .timing import BASE_PROFILES, NOISE_LAWS

    groups = {"methods": sorted(REGISTRY), "problems": sorted(PROBLEMS),
              "timing base profiles": sorted(BASE_PROFILES), "timing noise laws": sorted(NOISE_LAWS),
              "figures": sorted(FIGURES)}
    for title, names in groups.items():
        print(f"{title}:")
        for name in names:
            print(f"  {name}")
            if title == "figures":
                print(f"      {describe(name)}")
    return 0


def _parse_value(text: str):
    vals = [float(v) for v in text.split(",")]
    vals = [int(v) if v.is_integer() and "." not in t and "e" not in t.lower() else v
            for v, t in zip(vals, text.split(","))]
    return vals if len(vals) > 1 else vals[0]


def _cmd_run(args) -> int:
    import numpy as np

    from . import make_problem, make_timing, sweep

    hp = {}
    for item in args.hp or []:
        if "=" not in item:
            raise ValueError(f"--hp expects name=value[,value...], got {item!r}")
        k, v = item.split("=", 1)
        hp[k] = _parse_value(v)
    problem = make_problem(args.problem, d=args.d, noise_scale=args.noise_scale)
    noise_kw = {"var": "i"} if args.noise == "halfnormal" else {}
    timing = make_timing(args.n, args.base, args.noise, **noise_kw)
    res = sweep(args.method, problem, timing, seeds=args.seeds, grid=hp, horizon=args.horizon,
                num_points=args.points)
    events = res.final("received")[0].max()  # arrivals of the seed's busiest setting
    sizes = {d: len(res.coords[d]) for d in res.grid_dims}
    print(f"method {res.method}: {len(args.seeds)} seed(s), grid {sizes}, "
          f"{events} gradients received (seed {args.seeds[0]}), {res.info['seconds_total']:.2f} s")
    final = {m: res.final(m) for m in ("loss_gap", "grad_norm_sq", "updates", "discarded")}
    for m, v in final.items():
        print(f"  final {m:13s} median {np.median(v):.6g}  min {np.min(v):.6g}  max {np.max(v):.6g}")
    print(f"  diverged runs {int(res.diverged.sum())} of {res.diverged.size}")
    if res.grid_dims:
        print(f"  best (final {args.select}): {res.best(args.select)['hparams']}")
    if args.out:
        path = res.save(Path(args.out))
        print(f"  saved {path}")
    return 0


def _cmd_bench(args) -> int:
    from . import bench

    r = bench.run(events=args.events)
    if not args.json:
        print(f"engine     {r['engine_run_events_per_s']:.3e} run-events/s ({r['runs']} runs, d={r['d']}, n={r['n']})")
        print(f"reference  {r['reference_run_events_per_s']:.3e} run-events/s")
        print(f"floor      {r['floor_run_events_per_s']:.3e} run-events/s (same draws, one axpy per event)")
        print(f"speedup vs reference {r['speedup_vs_reference']:.1f}x; fraction of floor "
              f"{r['fraction_of_floor']:.2f}; compile {r['compile_s']:.2f} s")
    print(json.dumps(r))
    return 0


def _cmd_figure(args) -> int:
    from .figures import load

    return load(args.name).main(args.options)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jaxsim", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="registered methods, problems, timing models and figures")

    r = sub.add_parser("run", help="simulate one method (optionally over a grid) and print a summary")
    r.add_argument("method")
    r.add_argument("--problem", default="quadratic")
    r.add_argument("--d", type=int, default=100)
    r.add_argument("--noise-scale", type=float, default=0.01)
    r.add_argument("--n", type=int, default=100)
    r.add_argument("--base", default="one_plus_sqrt")
    r.add_argument("--noise", default="halfnormal")
    r.add_argument("--horizon", type=float, default=200.0, help="simulated seconds")
    r.add_argument("--points", type=int, default=50)
    r.add_argument("--seeds", type=int, nargs="+", default=[0])
    r.add_argument("--hp", nargs="*", help="name=value or name=v1,v2,... (a grid axis)")
    r.add_argument("--select", default="loss_gap")
    r.add_argument("--out", help="save the labeled results (.npz)")

    b = sub.add_parser("bench", help="engine vs reference vs floor throughput")
    b.add_argument("--json", action="store_true", help="print only the JSON line")
    b.add_argument("--events", type=int, default=20_000)

    f = sub.add_parser("figure", help="reproduce a paper figure",
                       description="Run a paper figure; `jaxsim figure NAME --help` lists its options.")
    f.add_argument("name", choices=sorted(FIGURES))
    f.add_argument("options", nargs=argparse.REMAINDER, help="the figure's own options")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"list": _cmd_list, "run": _cmd_run, "bench": _cmd_bench, "figure": _cmd_figure}[args.cmd]
    try:
        return handler(args)
    except ValueError as e:
        print(f"jaxsim: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
