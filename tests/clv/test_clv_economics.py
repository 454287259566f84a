"""Cost to serve, net profit, net CLV, the whale curve and the investment ceiling."""

import numpy as np
import pandas as pd
import pytest

from kamlib import clv
from kamlib.clv.economics import (
    DEFAULT_COST_RATES,
    annuity,
    check_cost_rates,
    cost_to_serve,
    estimated_cost_to_serve,
    investment_ceiling,
    net_values,
    whale_curve,
    whale_summary,
)
from kamlib.errors import ParameterError

AS_OF = pd.Timestamp("2025-12-31")


def _occasions():
    return pd.DataFrame({
        "account_id": ["A", "A", "A", "B", "C"],
        "date": pd.to_datetime(["2025-02-01", "2025-06-01", "2024-06-01", "2025-03-03",
                                "2025-11-11"]),
        "revenue": [1000.0, 2000.0, 500.0, 800.0, 50.0],
        "margin": [300.0, 600.0, 150.0, 200.0, 10.0],
        "n_lines": [4, 6, 3, 10, 1],
    })


def test_the_cost_rule_prices_each_activity_at_its_rate():
    rates = check_cost_rates({"order": 10, "line": 1, "site": 100, "returns": 0.5,
                              "contract": 1000})
    act = pd.DataFrame({"orders": [2, 0], "lines": [10, 0], "sites": [3, 0],
                        "returns": [200.0, 0.0], "contract": [True, False]}, index=["A", "B"])
    cost = estimated_cost_to_serve(act, rates)
    assert cost["A"] == 2 * 10 + 10 * 1 + 3 * 100 + 0.5 * 200 + 1000
    assert cost["B"] == 0.0


def test_cost_to_serve_is_given_where_known_and_estimated_elsewhere_with_a_flag():
    features = pd.DataFrame({"account_id": ["A", "B", "C"], "n_active_sites_12m": [2, 1, 1],
                             "returns_share": [0.1, 0.0, 0.0], "revenue_12m": [3000.0, 800, 50],
                             "margin_12m": [900.0, 200.0, 10.0],
                             "cost_to_serve": [np.nan, 5000.0, np.nan]})
    accounts = pd.DataFrame({"account_id": ["A", "B", "C"],
                             "contract_start": pd.to_datetime(["2024-01-01", None, None])})
    r = DEFAULT_COST_RATES
    out = cost_to_serve(pd.Index(["A", "B", "C"]), _occasions(), AS_OF, features, accounts, r)
    # A: 2 orders and 10 lines this year (the 2024 occasion is older), 2 sites, 300 returned,
    # on contract terms.
    expect_a = 2 * r["order"] + 10 * r["line"] + 2 * r["site"] + 0.1 * 3000 * r["returns"] \
        + r["contract"]
    assert out.loc["A", "cost_to_serve"] == pytest.approx(expect_a)
    assert out.loc["B", "cost_to_serve"] == 5000.0  # the accounts table's figure wins
    assert out["cost_to_serve_estimated"].tolist() == [True, False, True]
    assert out.loc["A", "margin_12m"] == 900.0


def test_net_clv_is_discounted_margin_minus_cost_carried_like_the_margin():
    out = pd.DataFrame({"clv": [3000.0, 0.0, 500.0], "cost_to_serve": [400.0, 100.0, 50.0],
                        "margin_12m": [1000.0, 0.0, 0.0]}, index=["A", "B", "C"])
    net = net_values(out, "margin", 3.0, 0.10)
    assert net.loc["A", "net_profit_12m"] == 600.0
    assert net.loc["A", "discounted_cost_to_serve"] == pytest.approx(400.0 * 3.0)
    assert net.loc["A", "net_clv"] == pytest.approx(3000.0 - 1200.0)
    assert net.loc["B", "net_clv"] == 0.0 and net.loc["B", "net_profit_12m"] == -100.0
    # No margin this year but a CLV: the cost is carried over the horizon's annuity.
    assert net.loc["C", "discounted_cost_to_serve"] == pytest.approx(50.0 * annuity(3.0, 0.10))
    # On revenue, the CLV is turned into margin at this year's margin rate first.
    rev = out.assign(clv=[10_000.0, 0.0, 0.0], revenue_12m=[4000.0, 0.0, 0.0])
    assert net_values(rev, "revenue", 3.0, 0.1).loc["A", "discounted_margin"] == 2500.0


def test_annuity_discounts_mid_year_payments():
    assert annuity(1.0, 0.0) == 1.0 and annuity(2.5, 0.0) == pytest.approx(2.5)
    assert annuity(2.0, 0.1) == pytest.approx(1.1**-0.5 + 1.1**-1.5)


def test_ceiling_is_the_uplift_net_of_programme_cost_and_flags_a_manager_it_cannot_pay():
    out = pd.DataFrame({"clv": [100_000.0, 20_000.0], "clv_uplift": [90_000.0, 5_000.0]},
                       index=["A", "B"])
    a = annuity(3.0, 0.1)
    c = investment_ceiling(out, "uplift", 0.1, 1000.0, 20_000.0, 3.0, 0.1)
    # A year: the horizon's uplift spread over its discounted years, minus the programme.
    assert c.loc["A", "investment_ceiling"] == pytest.approx(90_000 / a - 1000)
    assert c.loc["B", "investment_ceiling"] == pytest.approx(5_000 / a - 1000)
    assert c.loc["A", "manager_cost"] == 20_000.0
    assert c["covers_manager"].tolist() == [True, False]  # 31.6 k >= 20 k; 0.9 k < 20 k
    assert (investment_ceiling(out.assign(clv_uplift=[100.0, 0.0]), "uplift", 0.1, 1000.0,
                               20_000.0, 3.0, 0.1)["investment_ceiling"] == 0).all()
    share = investment_ceiling(out, "share", 0.1, 1000.0, 20_000.0, 3.0, 0.1)
    assert share["investment_ceiling"].tolist() == [10_000.0, 2_000.0]


def test_whale_curve_peaks_above_the_total_and_names_the_loss_makers():
    out = pd.DataFrame({"margin_12m": [500.0, 300.0, 100.0, 50.0, 0.0],
                        "cost_to_serve": [100.0, 100.0, 200.0, 250.0, 0.0]},
                       index=pd.Index(["A", "B", "C", "D", "E"], name="account_id"))
    out["net_profit_12m"] = out["margin_12m"] - out["cost_to_serve"]
    curve = whale_curve(out)
    assert curve["account_id"].tolist() == ["A", "B", "C", "D"]  # E has neither
    assert curve["cumulative_net_profit"].tolist() == [400.0, 600.0, 500.0, 300.0]
    w = whale_summary(curve)
    assert w["peak"] == 600.0 and w["peak_rank"] == 2 and w["peak_share"] == pytest.approx(2.0)
    assert w["loss_accounts"] == 2 and w["loss"] == -300.0


def test_bad_costs_are_clear_errors_of_the_run():
    occ, accounts, features = _portfolio(n=30)
    with pytest.raises(ParameterError, match="manager_cost"):
        clv.run(occ, accounts, features, manager_cost=-1.0)
    with pytest.raises(ParameterError, match="cost_rates"):
        clv.run(occ, accounts, features, cost_rates={"pallet": 3.0})


def test_bad_cost_rates_are_clear_errors():
    with pytest.raises(ParameterError, match="unknown activities"):
        check_cost_rates({"orderz": 1})
    with pytest.raises(ParameterError, match=">= 0"):
        check_cost_rates({"order": -1})


def _portfolio(n=150, seed=5):
    """Weekly-ish buyers over two years, as intake's purchase occasions."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        rate = rng.gamma(2, 1 / 60)  # purchases a day
        days = np.unique(rng.integers(0, 730, rng.poisson(rate * 730) + 1))
        for d in days:
            rev = float(rng.gamma(4, 300))
            rows.append((f"A{i:03d}", AS_OF - pd.Timedelta(days=int(d)), rev, 0.3 * rev, 3))
    occ = pd.DataFrame(rows, columns=["account_id", "date", "revenue", "margin", "n_lines"])
    ids = [f"A{i:03d}" for i in range(n)]
    accounts = pd.DataFrame({"account_id": ids,
                             "cost_to_serve": np.where(np.arange(n) < 50, 800.0, np.nan)})
    features = pd.DataFrame({"account_id": ids, "as_of": AS_OF})
    return occ, accounts, features


def test_the_run_saves_net_values_and_the_whale_curve():
    occ, accounts, features = _portfolio()
    res = clv.run(occ, accounts, features, n_bootstrap=0, n_simulations=200)
    c = res.clv
    assert c["cost_to_serve_estimated"].sum() == 100
    assert (c.loc[~c["cost_to_serve_estimated"], "cost_to_serve"] == 800.0).all()
    np.testing.assert_allclose(c["net_profit_12m"], c["margin_12m"] - c["cost_to_serve"])
    np.testing.assert_allclose(c["net_clv"], c["clv"] - c["discounted_cost_to_serve"])
    assert set(res.tables()) >= {"clv", "clv_profitability"}
    assert res.profitability["net_profit"].is_monotonic_decreasing
    assert res.whale()["accounts"] == len(res.profitability)
    assert "Net profit this year" in res.economics_markdown()
