"""Normalisation, weighted sum and TOPSIS."""

import numpy as np
import pytest

from kamlib.errors import ParameterError
from kamlib.selection.mcda import check_weights, normalise, rank_desc, topsis, weighted_sum

# Hwang & Yoon (1981), *Multiple Attribute Decision Making*, Springer LNEMS 186: the fighter
# aircraft example. Criteria: maximum speed (Mach), ferry range (NM), maximum payload (lb),
# acquisition cost ($ million, a cost criterion), reliability and manoeuvrability (rated on a
# 1-9 scale: average = 5, low = 3, high = 7, very high = 9).
AIRCRAFT = np.array([
    [2.0, 1500, 20000, 5.5, 5, 9],
    [2.5, 2700, 18000, 6.5, 3, 5],
    [1.8, 2000, 21000, 4.5, 7, 7],
    [2.2, 1800, 20000, 5.0, 5, 5],
])
AIRCRAFT_W = np.array([0.2, 0.1, 0.1, 0.1, 0.2, 0.3])
AIRCRAFT_BENEFIT = np.array([True, True, True, False, True, True])


def test_topsis_hwang_yoon_fighter_aircraft():
    """Hwang & Yoon (1981), fighter aircraft selection: relative closeness to the ideal
    solution C* = 0.643 (A1), 0.268 (A2), 0.613 (A3), 0.312 (A4); ranking A1 > A3 > A4 > A2.

    The book carries rounded intermediate values (normalised matrix to 4 decimals), so the third
    decimal may differ by one unit (A3 is 0.6135 unrounded); we allow exactly that."""
    res = topsis(AIRCRAFT, AIRCRAFT_W, AIRCRAFT_BENEFIT)
    np.testing.assert_allclose(res["closeness"], [0.643, 0.268, 0.613, 0.312], atol=1.0e-3)
    assert list(rank_desc(res["closeness"])) == [1, 4, 2, 3]


def test_topsis_dominant_alternative_is_ideal():
    x = np.array([[3.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    res = topsis(x, [0.5, 0.5], [True, False])
    assert res["closeness"][0] == pytest.approx(1.0)
    assert res["closeness"][2] == pytest.approx(0.0)


def test_minmax_reverses_cost_criteria_and_handles_constants():
    x = np.array([[1.0, 10.0, 5.0], [3.0, 20.0, 5.0], [2.0, 30.0, 5.0]])
    n = normalise(x, [True, False, True], "minmax")
    np.testing.assert_allclose(n[:, 0], [0, 1, 0.5])
    np.testing.assert_allclose(n[:, 1], [1, 0.5, 0])
    np.testing.assert_allclose(n[:, 2], [0, 0, 0])  # a constant cannot separate accounts


@pytest.mark.parametrize("method", ["minmax", "rank", "zscore", "vector"])
def test_every_normalisation_keeps_order_and_direction(method):
    rng = np.random.default_rng(3)
    x = rng.lognormal(size=(50, 2))
    n = normalise(x, [True, False], method)
    assert np.all(np.argsort(n[:, 0], kind="stable") == np.argsort(x[:, 0], kind="stable"))
    assert np.all(np.argsort(n[:, 1], kind="stable") == np.argsort(-x[:, 1], kind="stable"))


def test_rank_normalisation_is_robust_to_an_outlier():
    x = np.array([[1.0], [2.0], [3.0], [1e9]])
    np.testing.assert_allclose(normalise(x, [True], "rank")[:, 0], [0, 1 / 3, 2 / 3, 1])


def test_unknown_normalisation():
    with pytest.raises(ParameterError, match="normalisation"):
        normalise(np.ones((2, 2)), [True, True], "softmax")


def test_weighted_sum_contributions_add_up():
    rng = np.random.default_rng(1)
    n = rng.random((20, 4))
    w = np.array([0.4, 0.3, 0.2, 0.1])
    score, contrib = weighted_sum(n, w)
    np.testing.assert_allclose(contrib.sum(axis=1), score)
    np.testing.assert_allclose(score, n @ w)


def test_check_weights():
    np.testing.assert_allclose(check_weights([0.5, 0.5]), [0.5, 0.5])
    np.testing.assert_allclose(check_weights([0.333, 0.333, 0.333]).sum(), 1.0)  # rounding
    with pytest.raises(ParameterError, match="sum to 1.2"):
        check_weights([0.6, 0.6])
    with pytest.raises(ParameterError, match="negative.*growth"):
        check_weights([1.2, -0.2], names=["billing", "growth"])
    with pytest.raises(ParameterError, match="zero"):
        check_weights([0, 0])


def test_rank_desc_ties_share_the_better_rank():
    assert list(rank_desc([3, 5, 5, 1])) == [3, 1, 1, 4]
