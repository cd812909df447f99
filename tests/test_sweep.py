"""Sweeps: determinism, labels and shapes, best-of-grid selection, divergence, save/load, xarray and pandas views."""

import json

import numpy as np
import pytest

import jaxsim
from jaxsim import SweepResult
from jaxsim.sweep import METRICS

TIMING = jaxsim.make_timing(4, "one_plus_sqrt", "halfnormal")
PROB = jaxsim.worst_case_quadratic(d=3, noise_scale=0.2)
GRID = {"gamma": [0.05, 0.2, 1e6], "R": [1, 3]}
KW = dict(grid=GRID, horizon=15.0, num_points=5)


@pytest.fixture(scope="module")
def res01():
    return jaxsim.sweep("ringmaster", PROB, TIMING, seeds=[0, 1], **KW)


def test_shapes_dims_coords(res01):
    r = res01
    assert r.method == "ringmaster"
    assert r.dims == ("seed", "gamma", "R", "point")
    assert r.grid_dims == ("gamma", "R")
    np.testing.assert_array_equal(r.coords["seed"], [0, 1])
    np.testing.assert_array_equal(r.coords["gamma"], GRID["gamma"])
    np.testing.assert_array_equal(r.coords["R"], GRID["R"])
    assert set(r.metrics) == set(METRICS) - {"batch_loss"}  # the quadratic has no sample losses
    for k, v in r.metrics.items():
        assert v.shape == (2, 3, 2, 6), k
    assert r.time.shape == (2, 6) and r.metrics["busy_time"].shape[0] == 2
    np.testing.assert_allclose(r.time, np.tile(np.linspace(0, 15.0, 6), (2, 1)))
    busy = np.broadcast_to((4 * r.time)[:, None, None], (2, 3, 2, 6))  # 4 free-running workers
    np.testing.assert_allclose(r.metrics["busy_time"], busy)
    assert r.diverged.shape == (2, 3, 2)
    assert r.final("updates").shape == (2, 3, 2)
    assert r.curve((1, 0), "loss_gap").shape == (2, 6)
    np.testing.assert_array_equal(r.curve((1, 0), "loss_gap"), r.metrics["loss_gap"][:, 1, 0])
    assert r.metrics["updates"][..., 0].sum() == 0  # point 0 is the start
    np.testing.assert_allclose(r.metrics["loss_gap"][..., 0], float(PROB.loss_gap(PROB.init())), rtol=1e-6)


def test_fixed_scalar_hparams_are_not_axes():
    r = jaxsim.sweep("ringmaster", PROB, TIMING, seeds=[0, 1], grid={"gamma": 0.2, "R": [1, 3]},
                     horizon=15.0, num_points=5)
    assert r.dims == ("seed", "R", "point")
    assert r.fixed == {"gamma": 0.2}
    assert r.metrics["loss_gap"].shape == (2, 2, 6)
    assert r.best()["hparams"]["gamma"] == 0.2


def test_same_seed_identical(res01):
    again = jaxsim.sweep("ringmaster", PROB, TIMING, seeds=[0, 1], **KW)
    assert set(again.metrics) == set(res01.metrics)
    for k in res01.metrics:
        np.testing.assert_array_equal(res01.metrics[k], again.metrics[k], err_msg=k)
    np.testing.assert_array_equal(res01.time, again.time)


def test_seed_order_and_subset_consistent(res01):
    """A seed gives the same runs whatever its position in the seed list."""
    one = jaxsim.sweep("ringmaster", PROB, TIMING, seeds=[1, 0], **KW)
    for k in res01.metrics:
        np.testing.assert_array_equal(one.metrics[k][0], res01.metrics[k][1], err_msg=k)


def test_different_seeds_differ(res01):
    m = res01.metrics
    ok = ~res01.diverged[0] & ~res01.diverged[1]
    assert ok.any()
    assert not np.array_equal(m["loss_gap"][0][ok], m["loss_gap"][1][ok])
    assert not np.array_equal(m["received"][0], m["received"][1])  # different compute times


def test_settings_of_one_seed_share_the_stream(res01):
    rec = res01.metrics["received"]
    for s in range(2):
        assert np.all(rec[s] == rec[s, 0, 0])  # every (gamma, R) sees the same arrivals


def test_diverging_stepsize_is_flagged(res01):
    r = res01
    div = r.diverged
    assert div[:, 2, :].all()  # gamma = 1e6
    assert not div[:, :2, :].any()
    finite = r.metrics["loss_gap"][:, :2]
    assert np.all(np.isfinite(finite))
    assert np.all(finite[..., -1] < finite[..., 0])  # the stable stepsizes make progress
    assert not np.all(np.isfinite(r.metrics["loss_gap"][:, 2, :, -1]))
    b = r.best("loss_gap")
    assert b["hparams"]["gamma"] != 1e6
    assert b["excluded"] == 2  # both R settings of gamma = 1e6
    fin = np.median(r.final("loss_gap"), axis=0)
    fin[2] = np.inf
    assert b["index"] == np.unravel_index(np.argmin(fin), fin.shape)


def test_save_load_roundtrip(res01, tmp_path):
    p = res01.save(tmp_path / "sub" / "res.npz")
    back = SweepResult.load(p)
    assert back.method == res01.method and back.dims == res01.dims
    assert back.fixed == res01.fixed
    assert back.info == res01.info
    assert set(back.coords) == set(res01.coords)
    for k in res01.coords:
        np.testing.assert_array_equal(back.coords[k], res01.coords[k])
    assert set(back.metrics) == set(res01.metrics)
    for k in res01.metrics:
        np.testing.assert_array_equal(back.metrics[k], res01.metrics[k])
        assert back.metrics[k].dtype == res01.metrics[k].dtype
    np.testing.assert_array_equal(back.time, res01.time)
    np.testing.assert_array_equal(back.metrics["busy_time"], res01.metrics["busy_time"])
    assert back.best() == res01.best()


def test_to_xarray_matches_metrics(res01):
    ds = res01.to_xarray()
    assert set(ds.data_vars) == set(res01.metrics) | {"time", "run_diverged"}
    for k, v in res01.metrics.items():
        assert ds[k].dims == res01.dims, k
        assert ds[k].dtype == v.dtype, k
        np.testing.assert_array_equal(ds[k].values, v, err_msg=k)
    for d in res01.dims[:-1]:
        np.testing.assert_array_equal(ds.coords[d].values, res01.coords[d])
    np.testing.assert_array_equal(ds.coords["point"].values, np.arange(6))
    assert ds["time"].dims == ("seed", "point")
    np.testing.assert_array_equal(ds["time"].values, res01.time)
    assert ds["run_diverged"].dims == ("seed", "gamma", "R")
    np.testing.assert_array_equal(ds["run_diverged"].values, res01.diverged)
    assert ds.attrs["method"] == "ringmaster" and json.loads(ds.attrs["fixed"]) == res01.fixed
    assert json.loads(ds.attrs["info"])["n"] == res01.info["n"]
    # selecting by label is selecting by index
    np.testing.assert_array_equal(ds["loss_gap"].sel(seed=1, gamma=0.2, R=3).values,
                                  res01.curve(res01.index_of(gamma=0.2, R=3), "loss_gap")[1])


def test_to_dataframe_is_tidy(res01):
    df = res01.to_dataframe()
    shape = res01.metrics["loss_gap"].shape  # (seed, gamma, R, point)
    assert len(df) == shape[0] * (shape[1] * shape[2]) * shape[3]  # seeds x settings x points
    assert list(df.columns) == ["method", "seed", "gamma", "R", "point", "time", *res01.metrics]
    assert (df["method"] == "ringmaster").all()
    for row, (s, g, r, p) in zip(df.itertuples(index=False), np.ndindex(*shape)):
        assert (row.seed, row.gamma, row.R, row.point) == (res01.coords["seed"][s], res01.coords["gamma"][g],
                                                          res01.coords["R"][r], p)
        assert row.time == res01.time[s, p]
        for k, v in res01.metrics.items():
            np.testing.assert_array_equal(getattr(row, k), v[s, g, r, p], err_msg=k)
    # the analysis it is for: medians over seeds per setting agree with the arrays'
    last = df[(df.point == shape[3] - 1) & (df.gamma < 1e6)]
    med = last.groupby(["gamma", "R"]).loss_gap.median().unstack("R")
    np.testing.assert_allclose(med.to_numpy(), np.median(res01.final("loss_gap")[:, :2], axis=0), rtol=1e-6)


def test_to_dataframe_repeats_fixed_hyperparameters():
    r = _hand_result(_finals(), fixed={"foo": 7})
    df = r.to_dataframe()
    assert len(df) == 3 * 3 * 2 * 2 and (df["foo"] == 7).all()
    np.testing.assert_array_equal(df["loss_gap"], r.metrics["loss_gap"].ravel())


# ---- best() on hand-made results ---------------------------------------------------------------

def _hand_result(final, diverged=None, fixed=None):
    """final: [seed, gamma(3), R(2)]; curves start at 100 and end at ``final``."""
    final = np.asarray(final, np.float64)
    S = final.shape[0]
    curve = np.stack([np.full_like(final, 100.0), final], axis=-1)
    div = np.zeros(curve.shape, bool) if diverged is None else np.asarray(diverged)
    return SweepResult(
        method="hand", dims=("seed", "gamma", "R", "point"),
        coords={"seed": np.arange(S), "gamma": np.array([0.1, 0.2, 0.3]), "R": np.array([1, 4])},
        metrics={"loss_gap": curve, "diverged": div}, time=np.zeros((S, 2)),
        fixed=dict(fixed or {}))


def _finals():
    f = np.full((3, 3, 2), 50.0)
    f[:, 0, 1] = [1.0, 1.0, 100.0]  # median 1, mean 34
    f[:, 2, 0] = [2.0, 2.0, 2.0]  # median 2, mean 2
    return f


def test_best_median_vs_mean():
    r = _hand_result(_finals(), fixed={"foo": 7})
    b = r.best("loss_gap")
    assert b["index"] == (0, 1)
    assert b["hparams"] == {"gamma": 0.1, "R": 4, "foo": 7}
    assert b["value"] == 1.0 and b["excluded"] == 0
    b = r.best("loss_gap", reduce="mean")
    assert b["index"] == (2, 0) and b["value"] == 2.0
    assert b["hparams"]["gamma"] == 0.3 and b["hparams"]["R"] == 1
    assert r.best(reduce="max")["index"] == (2, 0)


def test_best_excludes_diverged_settings():
    f = _finals()
    div = np.zeros(f.shape + (2,), bool)
    div[1, 0, 1, 0] = True  # one seed of the best-median setting diverged at some point
    b = _hand_result(f, div).best()
    assert b["index"] == (2, 0) and b["excluded"] == 1
    # a non-finite final value excludes the setting too, even without the flag
    f2 = f.copy()
    f2[0, 2, 0] = np.nan
    b = _hand_result(f2, div).best()
    assert b["excluded"] == 2
    assert b["value"] == 50.0


def test_best_all_diverged_raises():
    f = _finals()
    div = np.zeros(f.shape + (2,), bool)
    div[0, ..., 1] = True  # seed 0 diverged in every setting
    with pytest.raises(ValueError, match="diverged"):
        _hand_result(f, div).best()


# ---- statistics without diverged runs; best()'s flags of a suspect pick ------------------

def test_run_stats_leave_out_diverged_runs_and_count_them():
    from jaxsim.results import run_stats, stats_text

    v = np.array([[1.0, np.nan, 3.0], [2.0, 4.0, np.inf]])
    div = np.array([[False, True, False], [False, False, True]])
    s = run_stats(v, div)
    assert s == {"median": 2.5, "min": 1.0, "max": 4.0, "runs": 6, "left_out": 2}
    assert stats_text(s) == "median 2.5  min 1  max 4  (2 of 6 runs diverged, left out)"
    assert run_stats(v)["left_out"] == 2  # without flags: the non-finite values
    flagged = run_stats([1.0, 100.0], [False, True])  # a flagged run is left out even where finite
    assert flagged["max"] == 1.0 and flagged["left_out"] == 1
    assert stats_text(run_stats([1.0, 3.0])) == "median 2  min 1  max 3"  # nothing left out, nothing said
    none = run_stats([np.nan, 1.0], [True, True])
    assert np.isnan(none["median"]) and stats_text(none) == "every one of the 2 runs diverged: no statistics"
    with pytest.raises(ValueError, match="unknown statistic"):
        run_stats(v, keys=("mode",))


def test_final_stats_leave_out_the_diverged_runs():
    f = _finals()
    f[0, 0, 0] = np.nan  # one run's metric is non-finite: it diverged
    div = np.zeros(f.shape + (2,), bool)
    div[1, 2, 1, 1] = True  # another run is flagged
    r = _hand_result(f, div)
    assert int(r.diverged.sum()) == 2
    s = r.final_stats("loss_gap")
    kept = np.delete(f.ravel(), [np.ravel_multi_index(i, f.shape) for i in ((0, 0, 0), (1, 2, 1))])
    assert s == {"median": float(np.median(kept)), "min": float(kept.min()), "max": float(kept.max()),
                 "runs": 18, "left_out": 2}
    assert np.isnan(np.median(r.final("loss_gap")))  # what every statistic was before


def test_best_flags_a_pick_on_the_grid_edge_and_one_that_learned_nothing():
    r = _hand_result(_finals())  # best: gamma 0.1 (the first), R 4 (the last); from 100 down to 1
    b = r.best("loss_gap")
    assert b["edges"] == {"gamma": "low", "R": "high"}
    assert b["start"] == 100.0 and b["improved"] is True
    assert r.best("loss_gap", bounds={"R": (1, 4)})["edges"] == {"gamma": "low"}  # R cannot go past 4
    mid = np.full((3, 3, 2), 50.0)
    mid[:, 1, :] = 20.0  # the middle gamma of both R values: only R's pick is on an edge
    assert _hand_result(mid).best()["edges"] == {"R": "low"}
    worse = _hand_result(np.full((3, 3, 2), 150.0) + np.arange(6).reshape(3, 2))  # every run ends above 100
    b = worse.best()
    assert b["improved"] is False and b["value"] == 150.0 and b["start"] == 100.0
    one = SweepResult(method="hand", dims=("seed", "gamma", "point"),
                      coords={"seed": np.arange(1), "gamma": np.array([0.1])},
                      metrics={"loss_gap": np.array([[[5.0, 1.0]]]), "diverged": np.zeros((1, 1, 2), bool)},
                      time=np.zeros((1, 2)))
    assert one.best()["edges"] == {}  # an axis of one value has no edge
