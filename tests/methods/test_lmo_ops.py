"""LMOs over parameter pytrees (spec lmo_vr_local.md §2.2): Newton--Schulz against an SVD,
the spec's singular-value facts, partitions, group rules and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxsim.methods import lmo_ops as L
from jaxsim.reference.lmo_rules import lmo_np, newton_schulz_np


def _matrix(rng, rows, cols, singular_values):
    """U diag(s) V^T with random orthogonal factors."""
    U, _ = np.linalg.qr(rng.normal(size=(rows, rows)))
    V, _ = np.linalg.qr(rng.normal(size=(cols, cols)))
    k = min(rows, cols)
    return U[:, :k] @ np.diag(singular_values) @ V[:, :k].T


def _ns_scalar(s):
    """The iteration's action on one normalised singular value, step by step."""
    for a, b, c in L.NS_COEFFS:
        s = a * s + b * s ** 3 + c * s ** 5
    return s


def test_singular_value_facts_of_the_spec():
    s = np.geomspace(1e-3, 1.0, 20001)
    out = _ns_scalar(s)
    assert out.min() >= 0.858 and out.max() <= 1.142
    assert _ns_scalar(1.0) == pytest.approx(0.859, abs=5e-4)
    assert _ns_scalar(1e-4) == pytest.approx(0.099, abs=5e-3)  # too small to be orthogonalised


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4)])
def test_newton_schulz_maps_singular_values_and_keeps_singular_vectors(shape):
    """Against numpy.linalg.svd: NS(m) = U f(s/||m||_F) V^T with f the scalar iteration."""
    rng = np.random.default_rng(sum(shape))
    k = min(shape)
    sv = rng.uniform(0.5, 2.0, k)  # well conditioned
    m = _matrix(rng, *shape, sv)
    U, s, Vt = np.linalg.svd(m, full_matrices=False)
    expected = U @ np.diag(_ns_scalar(s / (np.linalg.norm(m) + L.NS_EPS))) @ Vt
    with jax.enable_x64(True):
        got64 = np.asarray(L.newton_schulz(jnp.asarray(m)))
    np.testing.assert_allclose(got64, expected, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(newton_schulz_np(m), expected, rtol=1e-9, atol=1e-11)
    got32 = np.asarray(L.newton_schulz(jnp.asarray(m, jnp.float32)))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, expected, atol=2e-5)  # fp32 follows the fp64 reference


def test_output_is_nearly_orthogonal_for_well_conditioned_matrices():
    """Singular values of the output lie in [0.858, 1.142] (not exactly 1: the iteration
    trades convergence for speed), singular vectors are the input's."""
    rng = np.random.default_rng(3)
    for rows, cols in [(8, 8), (5, 12), (12, 5)]:
        m = _matrix(rng, rows, cols, rng.uniform(1.0, 3.0, min(rows, cols)))  # condition number <= 3
        out = np.asarray(L.newton_schulz(jnp.asarray(m, jnp.float32)), np.float64)
        s_out = np.linalg.svd(out, compute_uv=False)
        assert s_out.min() >= 0.858 - 1e-4 and s_out.max() <= 1.142 + 1e-4
        U, _, Vt = np.linalg.svd(m, full_matrices=False)
        polar = U @ Vt  # the exact orthogonal factor
        gram = out @ out.T if rows <= cols else out.T @ out
        assert np.abs(gram - np.eye(min(rows, cols))).max() < 0.31  # (1.142)^2 - 1
        assert np.sum(out * polar) / (np.linalg.norm(out) * np.linalg.norm(polar)) > 0.99


def test_agrees_with_optax_newton_schulz_given_the_same_coefficients():
    """The spec's iteration is optax's iterator with the five triples and eps = 1e-7."""
    from optax.contrib import _muon

    rng = np.random.default_rng(0)
    m = jnp.asarray(rng.normal(size=(5, 7)), jnp.float32)
    ours = L.newton_schulz(m)
    theirs = _muon.orthogonalize_via_newton_schulz(m, jnp.asarray(L.NS_COEFFS, jnp.float32), eps=L.NS_EPS)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)


def test_vector_gets_a_normalized_step_of_length_0_859():
    v = jnp.asarray(np.random.default_rng(1).normal(size=17), jnp.float32)
    out = L.lmo(v, L.LMOConfig(matrix="spectral", partition="all"))
    np.testing.assert_allclose(np.asarray(out), -0.859 * np.asarray(v) / np.linalg.norm(v), rtol=2e-3)


def _tree(rng):
    return {"wte": {"embedding": rng.normal(size=(7, 3))},
            "h_0": {"q": rng.normal(size=(3, 3)), "fc": rng.normal(size=(3, 6)), "proj": rng.normal(size=(6, 3)),
                    "scale": rng.normal(size=(3,)), "conv": rng.normal(size=(2, 3, 2))},
            "lm_head": {"kernel": rng.normal(size=(3, 7))}}


def test_default_and_code_partitions():
    tree = _tree(np.random.default_rng(0))
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(tree)]
    default = dict(zip(paths, L.labels_of("default", tree)))
    code = dict(zip(paths, L.labels_of("muon_code", tree)))
    matrix = lambda labels: sorted(p for p, lab in labels.items() if lab == "matrix")  # noqa: E731
    assert matrix(default) == ["['h_0']['fc']", "['h_0']['proj']", "['h_0']['q']"]  # 2-D, not embedding or head
    # the code's partition: ndim >= 2 inside blocks
    assert matrix(code) == ["['h_0']['conv']", "['h_0']['fc']", "['h_0']['proj']", "['h_0']['q']"]
    assert set(L.labels_of("all", tree)) == {"matrix"} and set(L.labels_of("none", tree)) == {"other"}


@pytest.mark.parametrize("radius", ["unit", "muon"])
def test_group_rules_on_a_pytree_match_their_definitions(radius):
    rng = np.random.default_rng(2)
    tree = _tree(rng)
    cfg = L.LMOConfig(matrix="spectral", other="euclidean", partition="default", radius=radius)
    with jax.enable_x64(True):
        out = L.lmo(jax.tree.map(jnp.asarray, tree), cfg)
    # other group: one Euclidean normalization over all its leaves together
    others = [tree["wte"]["embedding"], tree["h_0"]["scale"], tree["h_0"]["conv"], tree["lm_head"]["kernel"]]
    norm = np.sqrt(sum(np.sum(v ** 2) for v in others)) + 1e-10  # the code's eps
    np.testing.assert_allclose(out["h_0"]["scale"], -tree["h_0"]["scale"] / norm, rtol=1e-12)
    np.testing.assert_allclose(out["lm_head"]["kernel"], -tree["lm_head"]["kernel"] / norm, rtol=1e-12)
    # matrix group: per block, the code's radius sqrt(max(1, fan_out/fan_in)); flax kernels are [in, out]
    np.testing.assert_allclose(out["h_0"]["proj"], -newton_schulz_np(tree["h_0"]["proj"]), rtol=1e-9, atol=1e-12)
    r = 1.0 if radius == "unit" else np.sqrt(2.0)  # fc is 3 -> 6, like torch's 6 x 3 weight
    np.testing.assert_allclose(out["h_0"]["fc"], -r * newton_schulz_np(tree["h_0"]["fc"]), rtol=1e-9,
                               atol=1e-12)
    for got, ref in zip(jax.tree.leaves(out), jax.tree.leaves(lmo_np(tree, cfg))):
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_sign_and_momentum_rules():
    m = jnp.asarray([[1.5, -2.0, 0.0]])
    np.testing.assert_array_equal(L.lmo(m, L.LMOConfig(matrix="sign", partition="all")), [[-1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(L.lmo(m, L.LMOConfig(other="momentum", partition="none")), -m)
    assert float(jnp.linalg.norm(L.lmo(m, L.LMOConfig(other="euclidean", partition="none")))) == pytest.approx(1.0)
    zero = L.lmo(jnp.zeros(4), L.LMOConfig(other="euclidean", partition="none"))
    assert np.all(np.asarray(zero) == 0)  # lmo(0) := 0 (the eps), no NaN


def test_scale_by_lmo_is_an_optax_transformation():
    """Chained with a learning rate it steps lr * lmo(u) (descent, like optax optimizers)."""
    v = jnp.asarray([3.0, -4.0])
    opt = optax.chain(L.scale_by_lmo(L.LMOConfig(partition="none")), optax.scale_by_learning_rate(0.5))
    upd, _ = opt.update(v, opt.init(v), v)
    np.testing.assert_allclose(np.asarray(upd), [-0.3, 0.4], rtol=1e-6)


@pytest.mark.parametrize("kw, field", [
    (dict(matrix="frobenius"), "lmo.matrix"), (dict(other="adam"), "lmo.other"),
    (dict(partition="layers"), "partition"), (dict(radius="big"), "radius"),
])
def test_bad_config_names_the_field(kw, field):
    with pytest.raises(ValueError, match=field):
        L.LMOConfig(**kw).check()


def test_label_function_leaving_a_leaf_unlabeled_is_refused():
    tree = _tree(np.random.default_rng(0))

    def half(params):  # forgets the head
        labels = jax.tree.map(lambda _: "other", params)
        labels["lm_head"]["kernel"] = None
        return labels

    with pytest.raises(ValueError, match="partition"):
        L.labels_of(half, tree)
    with pytest.raises(ValueError, match=r"partition: leaf .*'q'.* labeled 'dense'"):
        L.labels_of(lambda p: jax.tree_util.tree_map_with_path(
            lambda path, _: "dense" if "q" in jax.tree_util.keystr(path) else "other", p), tree)
