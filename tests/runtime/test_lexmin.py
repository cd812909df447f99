"""``lex_reduce``: the lexicographic extreme of several keys in one reduce, against NumPy's lexsort."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest


@pytest.mark.parametrize("smallest", [True, False])
def test_lex_reduce_picks_the_lexsort_extreme_with_its_carry(smallest):
    from jaxsim.runtime.lexmin import lex_reduce

    rng = np.random.default_rng(0)
    trials, n = 300, 13
    k1 = rng.integers(0, 3, (trials, n)).astype(np.float32)  # many ties on the first key
    k1[::7, 2] = np.inf if smallest else -np.inf
    k2 = rng.integers(0, 2, (trials, n)).astype(np.int32)
    k3 = rng.integers(0, 2, (trials, n)).astype(np.float32)  # ties on every key: the lowest index
    extra = rng.normal(size=(trials, n)).astype(np.float32)
    got = jax.jit(jax.vmap(lambda a, b, c, e: lex_reduce((a, b, c), smallest=smallest, carry=(e,))))(
        jnp.asarray(k1), jnp.asarray(k2), jnp.asarray(k3), jnp.asarray(extra))
    sign = 1 if smallest else -1
    for t in range(trials):
        # lexsort: last key primary; the index breaks ties towards the lowest in both directions
        i = np.lexsort((np.arange(n), sign * k3[t], sign * k2[t], sign * k1[t]))[0]
        want = (k1[t, i], k2[t, i], k3[t, i], i, extra[t, i])
        assert tuple(np.asarray(g)[t] for g in got) == want, (t, want)
