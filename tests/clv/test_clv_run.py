"""The CLV step's entry point: its keywords are the notebook's parameters, its tables are what
the notebook saves, built from intake-like tables."""

import inspect

import numpy as np
import pandas as pd
import pytest

from kamlib import clv, paths
from kamlib.clv import simulate
from kamlib.errors import ParameterError
from kamlib.params import ALWAYS, declared_parameters


def test_run_takes_exactly_the_notebook_parameters_with_their_defaults():
    declared = {name: d.default for name, d in
                declared_parameters(paths.notebook_for("20_clv")).items() if name not in ALWAYS}
    signature = inspect.signature(clv.run).parameters.values()
    keyword_only = {p.name: p.default for p in signature if p.kind is p.KEYWORD_ONLY}
    assert list(keyword_only) == list(declared)
    for name, default in declared.items():
        assert keyword_only[name] == default and type(keyword_only[name]) is type(default), name
    assert [p.name for p in signature if p.kind is not p.KEYWORD_ONLY] == [
        "occasions", "accounts", "features", "key_accounts"]


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


def test_clv_from_intake_tables():
    occ, accounts, features = _intake_like()
    res = clv.run(occ, accounts, features, time_unit="week", horizon=2.0, n_bootstrap=50,
                  ceiling="share")
    table = res.clv
    assert len(table) == len(accounts)  # every account listed, also those without purchases
    need = {"account_id", "frequency", "recency", "T", "expected_purchases", "p_alive",
            "expected_value", "clv", "clv_low", "clv_high", "investment_ceiling",
            "cost_to_serve", "time_unit", "model"}
    assert need <= set(table.columns)
    assert (table["time_unit"] == "week").all()
    assert (table.loc[table["model"] == "no purchases", "clv"] == 0).all()
    assert (table["model"] == "no purchases").sum() == 5
    bought = table[table["model"] != "no purchases"]
    assert (bought["clv"] >= 0).all() and bought["p_alive"].between(0, 1).all()
    np.testing.assert_allclose(table["investment_ceiling"], 0.10 * table["clv"].clip(lower=0))
    assert set(res.model_summary["model"]) >= {"BG/NBD", "Gamma-Gamma", "BG/NBD holdout"}
    assert {"account_id", "predicted", "actual"} <= set(res.holdout.columns)
    assert res.tracking["period"].eq("holdout").any()
    # Reproducible.
    again = clv.run(occ, accounts, features, time_unit="week", horizon=2.0, n_bootstrap=50,
                    ceiling="share")
    pd.testing.assert_frame_equal(table, again.clv)


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
    res = clv.run(occ, accounts, features, ceiling="uplift", uplift_retention=0.2,
                  n_bootstrap=0, programme_cost=0.0)
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
        clv.run(occ, time_unit="year")
    with pytest.raises(ParameterError, match="value"):
        clv.run(occ, value="profit")
    with pytest.raises(ParameterError, match="calibration_end"):
        clv.run(occ, calibration_end="1990-01-01")


def test_tables_are_what_the_step_saves_and_the_notebook_shows():
    occ, accounts, features = _intake_like(n=150)
    features["name"] = "Account " + features["account_id"]
    key = pd.DataFrame({"account_id": ["C0003", "C0001", "C0152"]})  # C0152 never bought
    res = clv.run(occ, accounts, features, key, n_bootstrap=20)
    tables = res.tables()
    assert list(tables) == ["clv", "clv_model_summary", "clv_holdout", "clv_profitability"]
    assert tables["clv"] is res.clv and tables["clv_holdout"] is res.holdout
    assert list(res.descriptions()) == list(tables)
    assert res.descriptions()["clv"] == "CLV per account over 3 years, time unit week"
    assert res.key_ids == ["C0003", "C0001", "C0152"]
    shown = res.headline()
    assert set(shown["account_id"]) == {"C0003", "C0001"}  # key accounts that bought
    assert shown["clv"].is_monotonic_decreasing
    assert (shown["name"] == "Account " + shown["account_id"]).all()
    assert res.holdout_length == res.holdout["holdout_length"].iloc[0]
    assert list(res.overview().columns) == ["mean", "50%", "max"]


def test_without_key_accounts_the_headline_shows_the_top_accounts():
    occ, accounts, features = _intake_like(n=150)
    res = clv.run(occ, accounts, features, n_bootstrap=20)
    assert res.key_ids == [] and res.names is None
    shown = res.headline(top=7)
    assert shown["account_id"].tolist() == res.clv.nlargest(7, "clv")["account_id"].tolist()
    assert "name" not in shown
