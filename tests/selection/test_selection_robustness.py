"""Monte Carlo over the weights and one-at-a-time sensitivity."""

import numpy as np
import pytest

from kamlib.errors import ParameterError
from kamlib.selection.robustness import (BORDERLINE, NOT_KEY, ROBUST, classify, monte_carlo,
                                         sensitivity, weight_draws)


def test_draws_are_weight_vectors_and_reproducible():
    w = np.array([0.5, 0.3, 0.2, 0.0])
    d1 = weight_draws(w, 500, 50, seed=7)
    d2 = weight_draws(w, 500, 50, seed=7)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_allclose(d1.sum(axis=1), 1.0)
    assert np.all(d1[:, 3] == 0)  # a switched-off criterion stays off
    np.testing.assert_allclose(d1.mean(axis=0), w, atol=0.01)  # Dirichlet mean is the centre


def test_concentration_controls_the_spread():
    w = np.array([0.5, 0.3, 0.2])
    tight = weight_draws(w, 2000, 1000, seed=1).std(axis=0)
    loose = weight_draws(w, 2000, 10, seed=1).std(axis=0)
    assert np.all(tight < loose / 5)


def test_manager_mode_centres_on_managers():
    mw = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    d = weight_draws(np.array([1 / 3] * 3), 4000, 2000, seed=3, mode="managers",
                     manager_weights=mw)
    near = np.minimum(np.abs(d[:, 0] - 0.8), np.abs(d[:, 0] - 0.1))
    assert np.all(near < 0.1)
    with pytest.raises(ParameterError, match="needs each manager"):
        weight_draws(np.array([0.5, 0.5]), 10, 10, 0, mode="managers")


@pytest.mark.parametrize("concentration, n_key", [(30, 20), (1, 60), (1000, 5)])
def test_monte_carlo_p_key_matches_brute_force(concentration, n_key):
    """The bounded, segmented top-k equals a full sort of every scenario."""
    rng = np.random.default_rng(0)
    x = rng.random((300, 5))
    d = weight_draws(rng.dirichlet(np.ones(5)), 1200, concentration, seed=2)
    res = monte_carlo(x, d, n_key=n_key, chunk=128, rank_draws=1200)
    scores = (d.astype(np.float32) @ x.astype(np.float32).T)
    in_top = np.zeros(300)
    ranks = np.empty_like(scores, dtype=int)
    for k, row in enumerate(scores):
        order = np.argsort(-row)
        in_top[order[:n_key]] += 1
        ranks[k, order] = np.arange(1, 301)
    np.testing.assert_allclose(res.p_key, in_top / len(d))
    np.testing.assert_array_equal(res.rank_low, np.percentile(ranks, 5, axis=0,
                                                              method="nearest"))
    np.testing.assert_array_equal(res.rank_high, np.percentile(ranks, 95, axis=0,
                                                               method="nearest"))


def test_dominant_accounts_are_robust_and_dominated_never_key():
    x = np.vstack([np.full((5, 3), 0.9), np.random.default_rng(1).random((50, 3)) * 0.5])
    d = weight_draws(np.array([0.4, 0.4, 0.2]), 1000, 5, seed=0)
    res = monte_carlo(x, d, n_key=5)
    np.testing.assert_array_equal(res.p_key[:5], 1.0)
    np.testing.assert_array_equal(res.p_key[5:], 0.0)
    assert list(classify(res.p_key)[:6]) == [ROBUST] * 5 + [NOT_KEY]


def test_classify_thresholds():
    assert list(classify(np.array([0.95, 0.9, 0.5, 0.1, 0.05]))) == [
        ROBUST, ROBUST, BORDERLINE, BORDERLINE, NOT_KEY]


def test_list_size_outside_range_is_refused():
    with pytest.raises(ParameterError, match="1 to 3"):
        monte_carlo(np.ones((3, 2)), np.array([[0.5, 0.5]]), n_key=5)


def test_smallest_weight_change_is_found_analytically():
    """Two accounts, two criteria: A = (1, 0), B = (0, 1), weights (0.6, 0.4), one key account.
    A stays key while w1 > 0.5: the list changes when w1 falls by 1/6 (relative), never when it
    rises; symmetrically for w2 it changes when w2 rises by 1/4."""
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    df = sensitivity(x, np.array([0.6, 0.4]), 1, ["c1", "c2"], step=0.1,
                     account_ids=["A", "B"]).set_index("criterion")
    assert df.loc["c1", "min_change_down"] == pytest.approx(-1 / 6, abs=1e-12)
    assert np.isnan(df.loc["c1", "min_change_up"])
    assert df.loc["c2", "min_change_up"] == pytest.approx(1 / 4, abs=1e-12)
    assert df.loc["c1", "weight_at_change_down"] == pytest.approx(0.5)
    assert df.loc["c1", "leaves_down"] == "A" and df.loc["c1", "enters_down"] == "B"
    # +/-10 % moves nothing here
    assert df["entering_plus"].sum() == 0 and df["entering_minus"].sum() == 0


def test_smallest_change_agrees_with_brute_force_grid():
    """The exact crossing is where a fine grid of rescaled weights first changes the list."""
    rng = np.random.default_rng(8)
    x = rng.random((80, 4))
    w = np.array([0.4, 0.3, 0.2, 0.1])
    df = sensitivity(x, w, 10, list("abcd"))
    base = set(np.argsort(-(x @ w))[:10])
    for j in range(4):
        t_up = df.loc[j, "weight_at_change_up"]
        if np.isnan(t_up):
            continue
        for t, changed in ((t_up - 1e-6, False), (t_up + 1e-6, True)):
            wj = w.copy()
            wj[j] = 0
            wj = wj / wj.sum() * (1 - t)
            wj[j] = t
            assert (set(np.argsort(-(x @ wj))[:10]) != base) == changed
