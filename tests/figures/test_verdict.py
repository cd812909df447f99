"""The figures' verdict protocol on synthetic results: each situation a figure can meet -- a
same-rule tie, a spread tie, a clear win, an edge selection, a vacuous comparison, a collapse, a
run too short for the paper's separation -- gets exactly its class."""

import numpy as np
import pytest

from jaxsim.figures import verdict as V
from jaxsim.figures.base import Comparison, Curve, Metric, Part
from jaxsim.sweep import SweepResult

P = 20  # recorded points


def result(curves, gammas=(0.1, 1.0, 10.0), method="m"):
    """A SweepResult over a gamma grid from ``curves[seed, gamma, point]`` (the metric 'g')."""
    g = np.asarray(curves, np.float64)
    seeds = g.shape[0]
    zeros = np.zeros(g.shape)
    return SweepResult(method=method, dims=("seed", "gamma", "point"),
                       coords={"seed": np.arange(seeds), "gamma": np.asarray(gammas)},
                       metrics={"g": g, "loss": g, "grad_norm_sq": g, "diverged": zeros.astype(bool),
                                "updates": zeros, "received": zeros},
                       time=np.tile(np.linspace(0, 100, g.shape[-1]), (seeds, 1)))


def decay(start, end, seeds=3, noise=0.0, rng=None):
    """``[seed, point]`` curves from ``start`` to ``end`` (geometric), optionally noisy per seed."""
    base = np.geomspace(start, end, P)
    if not noise:
        return np.tile(base, (seeds, 1))
    rng = rng or np.random.default_rng(0)
    return base * np.exp(noise * rng.standard_normal((seeds, P)))


def test_tail_values_average_the_last_tenth_and_mark_non_finite_runs():
    c = np.arange(20.0)[None].repeat(2, 0)
    c[1, -1] = np.nan
    v = V.tail_values(c)
    assert v[0] == pytest.approx((18 + 19) / 2) and v[1] == np.inf
    assert V.tail_slice(20, 0.1) == slice(18, 20) and V.tail_slice(20, 0.1, upto=9) == slice(9, 10)


def test_select_uses_the_tail_mean_not_the_last_point():
    # gamma=1: low for the whole tail but one final spike; gamma=0.1: low only at the very last point
    a = np.full((3, P), 1.0)
    a[:, -3:] = [0.5, 0.5, 0.05]
    b = np.full((3, P), 1.0)
    b[:, -3:] = [0.1, 0.1, 0.3]
    c = np.full((3, P), 2.0)
    res = result(np.stack([a, b, c], axis=1))
    sel = V.select(res, "g")
    assert sel.hparams["gamma"] == 1.0 and sel.edges == {}
    assert sel.value == pytest.approx(np.mean([0.1, 0.3])) and sel.per_seed.shape == (3,)
    assert res.best("g")["hparams"]["gamma"] == 0.1  # the single-point rule picks the other one


def test_selection_on_the_grid_edge_is_flagged_low_and_high():
    good, bad = decay(10, 0.01), decay(10, 1.0)
    assert V.select(result(np.stack([good, bad, bad], 1)), "g").edges == {"gamma": "low"}
    assert V.select(result(np.stack([bad, bad, good], 1)), "g").edges == {"gamma": "high"}
    # the grid's order is the values', not the stored order
    assert V.select(result(np.stack([bad, good, bad], 1), gammas=(1.0, 10.0, 0.1)), "g").edges == {"gamma": "high"}


def test_diverged_settings_are_never_selected():
    good, better = decay(10, 0.1), decay(10, 0.001)
    better[1, 5] = np.inf
    res = result(np.stack([good, better, good * 2], 1))
    sel = V.select(res, "g")
    assert sel.hparams["gamma"] == 0.1 and sel.excluded == 1


def test_same_rule_tie():
    a = decay(10, 0.01, noise=0.3)
    part = V.compare("x", V.tail_values(a), V.tail_values(a), same=V.same_results(a, a.copy()), start=10.0)
    assert part["verdict"] == "tie" and "same rule" in part["evidence"]


def test_spread_tie_when_seeds_disagree():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.5, 1.5, 3.5])  # a lower on seeds 0 and 2, higher on seed 1
    part = V.compare("x", a, b, start=10.0)
    assert part["verdict"] == "tie" and "disagree" in part["evidence"]
    # differences inside the tolerance are a tie too
    assert V.compare("x", a, a * 1.001, start=10.0)["verdict"] == "tie"


def test_clear_win_and_clear_loss():
    a, b = np.array([0.1, 0.2, 0.15]), np.array([0.3, 0.5, 0.4])
    win = V.compare("x", a, b, start=10.0)
    assert win["verdict"] == "holds" and win["numbers"]["A"]["median"] == pytest.approx(0.15)
    assert V.compare("x", b, a, start=10.0)["verdict"] == "does_not_hold"
    # "lower than factor x B"
    assert V.compare("x", b, a, factor=4.0, start=10.0)["verdict"] == "holds"


def test_vacuous_when_neither_side_learned():
    a, b = np.array([11.0, 12.0, 13.0]), np.array([20.0, 30.0, 40.0])
    part = V.compare("x", a, b, start=10.0)
    assert part["verdict"] == "vacuous" and "neither learned" in part["evidence"]
    # one side learning is a real comparison
    assert V.compare("x", np.array([1.0, 2.0, 3.0]), b, start=10.0)["verdict"] == "holds"


def test_undecided_before_the_papers_separation_keeps_the_leaning():
    part = V.compare("x", np.array([0.1, 0.1, 0.1]), np.array([1.0, 1.0, 1.0]), start=10.0, horizon=1000.0,
                     separates_at=25_000.0, separation_source="spec §4")
    assert part["verdict"] == "undecided" and part["leaning"] == "holds" and "25000" in part["evidence"]
    later = V.compare("x", np.array([0.1, 0.1, 0.1]), np.array([1.0, 1.0, 1.0]), start=10.0, horizon=30_000.0,
                      separates_at=25_000.0)
    assert later["verdict"] == "holds" and "leaning" not in later


def test_collapse_flags_the_constant_predictor_with_a_vanishing_gradient():
    entropy = 2.3
    flags = V.collapsed(loss=[2.301, 2.30, 1.2], grad_norm_sq=[1e-12, 1e-3, 1e-12], entropy=entropy, grad_start=1.0)
    assert flags.tolist() == [True, False, False]


def test_claim_verdict_is_the_weakest_part():
    h = dict(text="a", verdict="holds", evidence="")
    t = dict(text="b", verdict="tie", evidence="")
    d = dict(text="c", verdict="does_not_hold", evidence="")
    v = dict(text="d", verdict="vacuous", evidence="")
    assert V.claim("c", [h, h])["verdict"] == "holds"
    assert V.claim("c", [h, t])["verdict"] == "tie"
    assert V.claim("c", [h, t, v])["verdict"] == "vacuous"
    assert V.claim("c", [h, t, v, d])["verdict"] == "does_not_hold"
    assert V.claim("c", [])["verdict"] == "undecided"
    with pytest.raises(ValueError, match="verdict"):
        V.claim("c", [dict(text="x", verdict="true", evidence="")])


class _Cfg:
    horizon = 100.0
    seeds = (0, 1, 2)


def comparison():
    return Comparison(claim="A lowest", metric=Metric("g", "g", "g"),
                      curves=(Curve("a", "A", "r"), Curve("b", "B", "b")), parts=(Part("a", "b"),))


def test_comparison_reports_a_same_rule_tie_and_never_holds():
    rng = np.random.default_rng(1)
    same = decay(10, 0.01, noise=0.2, rng=rng)
    worse = decay(10, 1.0)
    results = {"a": result(np.stack([worse, same, worse], 1), method="a"),
               "b": result(np.stack([worse, worse, same], 1), method="b")}
    s = comparison().summarize(results, _Cfg(), {"paper": {"a": {"gamma": 1.0}, "b": {"gamma": 10.0}}})
    parts = {p["text"].split(":")[0]: p["verdict"] for p in s["claim"]["parts"]}
    assert parts == {"tuned": "tie", "paper": "tie"} and s["claim"]["verdict"] == "tie"
    assert s["methods"]["b"]["selection"]["edges"] == {"gamma": "high"}
    assert any("edge" in n for n in s["claim"]["notes"])


def test_comparison_with_a_clear_winner_holds():
    win, lose = decay(10, 0.01, noise=0.05), decay(10, 0.5, noise=0.05)
    results = {"a": result(np.stack([lose, win, lose], 1), method="a"),
               "b": result(np.stack([lose, lose * 1.1, lose * 1.2], 1), method="b")}
    s = comparison().summarize(results, _Cfg())
    assert s["claim"]["verdict"] == "holds" and [p["verdict"] for p in s["claim"]["parts"]] == ["holds"]


def test_learning_is_judged_on_the_progress_metric_when_given():
    """A gradient norm can rise while the loss falls: with ``progress`` on the loss, two runs
    whose gradient norms ended above their start but whose losses fell are compared, not vacuous;
    two whose losses did not fall are vacuous whatever their gradients did."""
    a, b = np.array([3.0, 3.1, 3.2]), np.array([5.0, 6.0, 7.0])  # both above the gradient's start 2.0
    fell = {"metric": "loss", "start": 2.3, "A": 1.1, "B": 1.4}
    assert V.compare("x", a, b, start=2.0)["verdict"] == "vacuous"
    part = V.compare("x", a, b, start=2.0, progress=fell)
    assert part["verdict"] == "holds"
    V.check_part(part)
    stuck = V.compare("x", np.array([0.1, 0.1, 0.1]), b, start=2.0,
                      progress={"metric": "loss", "start": 2.3, "A": 2.4, "B": 2.9})
    assert stuck["verdict"] == "vacuous" and "loss" in stuck["evidence"]
    V.check_part(stuck)


def test_check_part_rejects_a_class_its_numbers_do_not_give():
    part = V.compare("x", np.array([0.1, 0.2, 0.15]), np.array([0.3, 0.5, 0.4]), start=10.0)
    V.check_part(part)
    with pytest.raises(AssertionError):
        V.check_part(dict(part, verdict="tie"))
    with pytest.raises(AssertionError):
        V.check_part(dict(part, verdict="holds", start=0.01))  # neither learned: must be vacuous


def test_figure_statistics_leave_out_diverged_seeds_and_share_the_edge_rule():
    from jaxsim import results
    from jaxsim.figures.base import stats

    assert stats([1.0, 3.0]) == {"median": 2.0, "q25": 1.5, "q75": 2.5}  # nothing left out: as before
    assert stats([1.0, 3.0, np.inf]) == {"median": 2.0, "q25": 1.5, "q75": 2.5, "left_out": 1}
    assert stats([1.0, 3.0, 5.0], [False, False, True])["left_out"] == 1  # flagged, though finite
    assert V.grid_edges is results.grid_edges  # one rule for figures, best() and jaxsim run
