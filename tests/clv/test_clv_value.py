"""CLV arithmetic, intervals, guards and the clv tables built from intake-like tables."""

import warnings

import numpy as np
import pandas as pd
import pytest

from kamlib.clv import simulate
from kamlib.clv.bgnbd import BGNBD
from kamlib.clv.build import clv_tables
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
        assert (c["clv_low"] <= c["clv"] * 1.0001).all() and (c["clv"] <= c["clv_high"] * 1.0001).all()
        assert (c["clv_high"] > c["clv_low"]).all()
    width_b = (boot["clv_high"] - boot["clv_low"]) / boot["clv"]
    width_d = (delta["clv_high"] - delta["clv_low"]) / delta["clv"]
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


def _intake_like(n=400, seed=3):
    """Purchase occasions, accounts and features as intake writes them."""
    rng = np.random.default_rng(seed)
    sim = simulate.bgnbd(n, 0.8, 20.0, 0.6, 3.0, T=np.arange(200, 900), seed=seed,
                         resolution=1.0)
    as_of = pd.Timestamp("2025-12-31")
    rows = []
    for i, s in sim.iterrows():
        first = as_of - pd.Timedelta(days=int(s["T"]))
        k = int(s["frequency"])
        days = np.sort(rng.choice(np.arange(1, int(s["recency"]) + 1), k, replace=False)) if k and s["recency"] >= k else np.arange(1, k + 1)
        for dd in np.r_[0, days]:
            rev = float(rng.gamma(5, 200))
            rows.append((f"C{i:04d}", first + pd.Timedelta(days=int(dd)), rev, 0.3 * rev))
    occ = pd.DataFrame(rows, columns=["account_id", "date", "revenue", "margin"])
    ids = [f"C{i:04d}" for i in range(n + 5)]  # five accounts never bought
    accounts = pd.DataFrame({"account_id": ids, "cost_to_serve": rng.gamma(2, 500, len(ids))})
    features = pd.DataFrame({"account_id": ids, "as_of": as_of})
    return occ, accounts, features


def test_clv_tables_from_intake_tables():
    occ, accounts, features = _intake_like()
    res = clv_tables(occ, accounts, features, time_unit="week", horizon=2.0, n_bootstrap=50)
    clv = res.clv
    assert len(clv) == len(accounts)  # every account listed, also those without purchases
    need = {"account_id", "frequency", "recency", "T", "expected_purchases", "p_alive",
            "expected_value", "clv", "clv_low", "clv_high", "investment_ceiling",
            "cost_to_serve", "time_unit", "model"}
    assert need <= set(clv.columns)
    assert (clv["time_unit"] == "week").all()
    assert (clv.loc[clv["model"] == "no purchases", "clv"] == 0).all()
    assert (clv["model"] == "no purchases").sum() == 5
    bought = clv[clv["model"] != "no purchases"]
    assert (bought["clv"] >= 0).all() and bought["p_alive"].between(0, 1).all()
    np.testing.assert_allclose(clv["investment_ceiling"], 0.10 * clv["clv"].clip(lower=0))
    assert set(res.model_summary["model"]) >= {"BG/NBD", "Gamma-Gamma", "BG/NBD holdout"}
    assert {"account_id", "predicted", "actual"} <= set(res.holdout.columns)
    assert res.tracking["period"].eq("holdout").any()
    # Reproducible.
    again = clv_tables(occ, accounts, features, time_unit="week", horizon=2.0, n_bootstrap=50)
    pd.testing.assert_frame_equal(clv, again.clv)


def test_uplift_ceiling_and_contract_accounts():
    occ, accounts, features = _intake_like(seed=4)
    rng = np.random.default_rng(9)
    con = accounts.index[:120]
    accounts["contract_start"] = pd.NaT
    accounts["contract_end"] = pd.NaT
    accounts["relationship_start"] = pd.NaT
    years = rng.integers(1, 7, len(con))
    accounts.loc[con, "relationship_start"] = pd.Timestamp("2025-12-31") - pd.to_timedelta(years * 365 + 100, "D")
    accounts.loc[con, "contract_start"] = pd.Timestamp("2025-03-01")
    churn = con[:30]
    accounts.loc[churn, "contract_end"] = pd.Timestamp("2025-06-30")
    res = clv_tables(occ, accounts, features, ceiling="uplift", uplift_retention=0.2,
                     n_bootstrap=0)
    c = res.clv.set_index("account_id")
    ids = accounts["account_id"]
    assert (c.loc[ids[churn], "clv"] == 0).all()
    assert c.loc[ids[con[30:]], "model"].str.startswith("sBG").all()
    assert res.contract_model is not None
    # A programme that cuts dropout raises CLV, so the ceiling is positive where CLV is.
    live = c[(c["model"] != "no purchases") & (c["clv"] > 0)]
    assert (live["investment_ceiling"] > 0).all()
    assert (c["ceiling_to_cost"].dropna() >= 0).all()


def test_bad_parameters_are_clear_errors():
    occ, accounts, features = _intake_like(n=100)
    with pytest.raises(ParameterError, match="time_unit"):
        clv_tables(occ, time_unit="year")
    with pytest.raises(ParameterError, match="value"):
        clv_tables(occ, value="profit")
    with pytest.raises(ParameterError, match="calibration_end"):
        clv_tables(occ, calibration_end="1990-01-01")
