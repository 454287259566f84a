"""CLV arithmetic, intervals and guards."""

import warnings

import numpy as np
import pandas as pd
import pytest

from kamlib.clv import simulate
from kamlib.clv.bgnbd import BGNBD
from kamlib.clv.gammagamma import GammaGamma, InfiniteMeanWarning
from kamlib.clv.margin import margin_multiple, margin_multiple_clv
from kamlib.clv.prep import per_unit_discount, rfm_summary
from kamlib.clv.sbg import ShiftedBetaGeometric
from kamlib.clv.value import clv_frame, discount_grid
from kamlib.errors import ParameterError


def test_rfm_merges_same_day_lines_and_measures_in_the_time_unit():
    lines = pd.DataFrame({
        "account_id": ["A", "A", "A", "A", "B"],
        "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-02-12", "2024-02-01"]),
        "margin": [10.0, 5.0, 20.0, 40.0, 7.0],
    })
    rfm, split = rfm_summary(lines, "2024-02-12", None, "week")
    a = rfm.loc["A"]
    assert a["frequency"] == 2  # three days, the first one of two lines
    assert a["recency"] == pytest.approx(6.0) and a["T"] == pytest.approx(6.0)
    assert a["monetary_value"] == pytest.approx(30.0)  # repeat occasions only
    assert rfm.loc["B", "frequency"] == 0 and rfm.loc["B", "monetary_value"] == 0
    d, _ = rfm_summary(lines, "2024-02-12", None, "day")
    assert d.loc["A", "T"] == 42


def test_discount_rate_is_converted_to_the_unit_and_applied():
    assert (1 + per_unit_discount(0.10, "week")) ** (365.25 / 7) == pytest.approx(1.10)
    t, disc = discount_grid(1.0, 0.10, "month")
    assert t[-1] == pytest.approx(12.0) and disc[-1] == pytest.approx(1.1 ** -(11.5 / 12))
    with pytest.raises(ParameterError):
        per_unit_discount(1.5, "week")


def test_margin_multiple_formula():
    # m r / (1 + d - r) with r = 0.8, d = 0.1: 0.8 / 0.3.
    assert margin_multiple(0.8, 0.1) == pytest.approx(0.8 / 0.3)
    assert margin_multiple_clv(100, 0.8, 0.1, horizon=200) == pytest.approx(100 * 0.8 / 0.3)
    # One year: the margin of the one retained year, discounted once.
    assert margin_multiple(0.8, 0.1, horizon=1) == pytest.approx(0.8 / 1.1)


def test_sbg_derl_equals_the_discounted_sum():
    """FH (2010) DERL counts the next payment undiscounted: DERL = (1+d) x our sum."""
    m = ShiftedBetaGeometric().fit_survivors([1000, 869, 743, 653, 593, 551, 517, 491])
    for n in (0, 3, 10):
        assert m.derl(0.1, n) == pytest.approx(1.1 * m.expected_payments(2000, 0.1, n), rel=1e-9)
    assert m.retention_rate(5) > m.retention_rate(2)  # sorting: survivors are better


@pytest.fixture(scope="module")
def fitted():
    d = simulate.bgnbd(3000, 0.5, 6.0, 0.8, 2.5, T=np.linspace(20, 60, 41), seed=11,
                       resolution=1 / 7)
    d["monetary_value"] = np.nan_to_num(simulate.gammagamma(d["frequency"], 6, 4, 15, seed=12))
    d.index = [f"A{i}" for i in range(len(d))]
    m = BGNBD().fit(d["frequency"], d["recency"], d["T"])
    g = GammaGamma().fit(d["frequency"], d["monetary_value"])
    return d, m, g


def test_clv_equals_discounted_purchases_times_value(fitted):
    d, m, g = fitted
    c = clv_frame(d, m, g, "week", 2.0, 0.0, n_bootstrap=0)
    # Without discounting, discounted purchases are the plain expectation over the horizon.
    horizon = 2 * 365.25 / 7
    direct = m.expected_purchases(horizon, d["frequency"], d["recency"], d["T"])
    np.testing.assert_allclose(c["discounted_purchases"], direct, rtol=1e-10)
    np.testing.assert_allclose(c["clv"], direct * g.expected_value(d["frequency"], d["monetary_value"]))
    c10 = clv_frame(d, m, g, "week", 2.0, 0.10, n_bootstrap=0)
    assert (c10["clv"] < c["clv"]).all()


def test_clv_does_not_depend_on_the_time_unit(fitted):
    """The same accounts in days and in weeks give the same CLV (the unit is bookkeeping)."""
    d, m, g = fitted
    c_w = clv_frame(d, m, g, "week", 3.0, 0.1, n_bootstrap=0)
    dd = d.copy()
    dd[["recency", "T"]] *= 7
    r, alpha, a, b = m.params_.values()
    m_d = BGNBD()
    m_d.params_ = {"r": r, "alpha": alpha * 7, "a": a, "b": b}
    m_d.cov_log_ = m.cov_log_
    c_d = clv_frame(dd, m_d, g, "day", 3.0, 0.1, n_bootstrap=0)
    np.testing.assert_allclose(c_d["clv"], c_w["clv"], rtol=1e-6)


def test_intervals_bracket_the_estimate_and_bootstrap_agrees_with_delta(fitted):
    d, m, g = fitted
    boot = clv_frame(d, m, g, "week", 3.0, 0.1, n_bootstrap=400, seed=1)
    delta = clv_frame(d, m, g, "week", 3.0, 0.1, n_bootstrap=0)
    for c in (boot, delta):
        assert (c["clv_param_low"] <= c["clv"] * 1.0001).all() and (c["clv"] <= c["clv_param_high"] * 1.0001).all()
        assert (c["clv_param_high"] > c["clv_param_low"]).all()
    width_b = (boot["clv_param_high"] - boot["clv_param_low"]) / boot["clv"]
    width_d = (delta["clv_param_high"] - delta["clv_param_low"]) / delta["clv"]
    assert np.median(width_b / width_d) == pytest.approx(1.0, abs=0.2)
    # Same seed, same table.
    again = clv_frame(d, m, g, "week", 3.0, 0.1, n_bootstrap=400, seed=1)
    pd.testing.assert_frame_equal(boot, again)


def test_gamma_gamma_guards_infinite_mean():
    """Heavy-tailed values that push q <= 1 must not produce absurd CLVs."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, 3000)
    # Pareto-tailed values with a huge spread across accounts: q estimated <= 1.
    m = (rng.pareto(0.6, 3000) + 1) * 10
    with pytest.warns(InfiniteMeanWarning):
        g = GammaGamma().fit(x, m)
    assert g.params_["q"] <= 1 and g.fallback_
    ev = g.expected_value(np.r_[x[:5], 0], np.r_[m[:5], 0])
    np.testing.assert_allclose(ev[:5], m[:5])  # own observed average
    assert ev[5] == pytest.approx(np.median(m))  # no history: median observed average
    assert np.isinf(g.population_mean_)
