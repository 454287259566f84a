"""The criteria catalogue, the criterion matrix and the whole selection run."""

import inspect

import numpy as np
import pandas as pd
import pytest
import selection_testdata as td

from kamlib import paths, selection
from kamlib.errors import InputError, ParameterError
from kamlib.intake.contract import DEFAULT_CRITERIA, JUDGED_CRITERIA, SELECTION_CRITERIA
from kamlib.params import ALWAYS, declared_parameters
from kamlib.selection.entry import TABLE_DESCRIPTIONS
from kamlib.selection.criteria import CATALOGUE, criteria_table, criterion_matrix, resolve_criteria
from kamlib.selection.tiers import TIERS, n_key_accounts


@pytest.fixture(scope="module")
def data():
    f = td.features()
    return f, td.assessments(f), td.judgements()


def test_catalogue_covers_the_contract_and_is_documented():
    assert tuple(CATALOGUE) == SELECTION_CRITERIA
    t = criteria_table(list(CATALOGUE.values()))
    assert t["definition"].str.len().min() > 20
    assert set(t["direction"]) == {"benefit", "cost"}
    assert set(t.loc[t["criterion"].isin(JUDGED_CRITERIA), "source"]) == {"judged"}
    assert t.set_index("criterion").loc["cost_to_serve", "direction"] == "cost"


def test_resolve_criteria_errors():
    assert [c.key for c in resolve_criteria(None)] == list(DEFAULT_CRITERIA)
    with pytest.raises(ParameterError, match="Did you mean 'billing'"):
        resolve_criteria(["biling", "growth"])
    with pytest.raises(ParameterError, match="twice"):
        resolve_criteria(["billing", "billing"])
    with pytest.raises(ParameterError, match="direction"):
        resolve_criteria(["billing", "growth"], {"esg_score": "good"})
    custom = resolve_criteria(["billing", "growth"], {"esg_score": "benefit"})
    assert custom[-1].source == "custom"


def test_unassessed_accounts_are_repaired_and_flagged(data):
    f, a, _ = data
    crits = resolve_criteria(["billing", "future_potential"])
    low, rep = criterion_matrix(f, a, crits, "low")
    med, _ = criterion_matrix(f, a, crits, "median")
    seen = set(a["account_id"])
    unseen = [i for i in f["account_id"] if i not in seen]
    assert unseen, "fixture should leave some accounts unassessed"
    flagged = set(rep.loc[rep["criterion"] == "future_potential", "account_id"])
    assert flagged == set(unseen)
    means = a.groupby("account_id")["future_potential"].mean()
    assert low.loc[unseen[0], "future_potential"] == pytest.approx(means.quantile(0.25))
    assert med.loc[unseen[0], "future_potential"] == pytest.approx(means.median())
    assert low.loc[unseen[0], "n_assessors"] == 0


def test_cost_to_serve_proxy_and_ratio(data):
    f, a, _ = data
    vals, rep = criterion_matrix(f, a, resolve_criteria(["billing", "cost_to_serve"]))
    known = f.dropna(subset=["cost_to_serve"]).query("revenue_12m > 0").iloc[0]
    cap = vals["cost_to_serve"].max()
    assert vals.loc[known["account_id"], "cost_to_serve"] == pytest.approx(
        min(known["cost_to_serve"] / known["revenue_12m"], cap))
    proxied = set(rep.loc[rep["repair"].str.contains("blank cost"), "account_id"])
    assert proxied == set(f.loc[f["cost_to_serve"].isna(), "account_id"])
    no_rev = f.loc[f["revenue_12m"] == 0, "account_id"]
    assert (vals.loc[no_rev, "cost_to_serve"] == cap).all()  # worst ratio


def test_missing_column_names_the_fix(data):
    f, a, _ = data
    with pytest.raises(InputError, match="n_sites"):
        criterion_matrix(f.drop(columns="n_sites"), a, resolve_criteria(["billing",
                                                                         "dispersed_units"]))


def test_n_key_from_capacity():
    assert n_key_accounts(500, 0, 4, 6)[0] == 24
    assert n_key_accounts(500, 12)[0] == 12
    n, why = n_key_accounts(10, 0, 5, 5)
    assert n == 10 and "capped" in why
    assert "more than 50" in n_key_accounts(500, 80)[1]


def test_a_key_list_longer_than_the_accounts_names_n_key_accounts():
    """Capacity is capped at the accounts (a note); a length the user set is not: it is an
    error naming the parameter."""
    assert n_key_accounts(10, 10)[0] == 10
    with pytest.raises(ParameterError, match="Parameter 'n_key_accounts' .* 100000.* only 10 acc"):
        n_key_accounts(10, 100_000)


def test_run_takes_exactly_the_notebook_parameters_with_their_defaults():
    declared = {name: d.default for name, d in
                declared_parameters(paths.notebook_for("10_selection")).items()
                if name not in ALWAYS}
    signature = inspect.signature(selection.run).parameters.values()
    keyword_only = {p.name: p.default for p in signature if p.kind is p.KEYWORD_ONLY}
    assert list(keyword_only) == list(declared)
    for name, default in declared.items():
        assert keyword_only[name] == default and type(keyword_only[name]) is type(default), name
    assert [p.name for p in signature if p.kind is not p.KEYWORD_ONLY] == [
        "features", "assessments", "judgements"]


def test_full_run_tables(data):
    f, a, j = data
    res = selection.run(f, a, j, n_key_accounts=12, n_draws=400)
    s = res.selection_scores
    assert len(s) == len(f) and s["account_id"].is_unique
    assert s["is_key"].sum() == 12 == len(res.key_accounts)
    assert set(s["tier"]) <= set(TIERS)
    assert (s.loc[s["is_key"], "tier"] == "key").all()
    assert list(s["rank"]) == list(range(1, len(f) + 1))
    assert s["score"].is_monotonic_decreasing
    contrib = s[[c for c in s.columns if c.startswith("contrib_")]].sum(axis=1)
    np.testing.assert_allclose(contrib, s["score"])
    assert ((s["rank_low"] <= s["rank_median"]) & (s["rank_median"] <= s["rank_high"])).all()
    assert s["p_key"].between(0, 1).all()
    w = res.weights.query("manager == 'group'")["weight"]
    assert w.sum() == pytest.approx(1.0)
    assert set(res.weights["manager"]) == set(td.MANAGERS) | {"group"}
    assert res.criteria["weight"].sum() == pytest.approx(1.0)
    assert res.key_accounts["main_drivers"].str.len().min() > 0
    assert {"selection_scores", "key_accounts", "criteria", "weights", "robustness",
            "sensitivity", "agreement_summary", "ahp_consistency"} <= set(res.tables())


def test_tables_are_what_the_step_saves_with_their_descriptions(data):
    f, a, j = data
    res = selection.run(f, a, j, n_key_accounts=12, n_draws=200)
    assert list(res.tables()) == list(TABLE_DESCRIPTIONS)
    assert list(res.descriptions()) == list(res.tables())
    without = selection.run(f, None, None, criteria=["billing", "growth"], weights="equal",
                            n_draws=200)
    assert list(without.tables()) == ["selection_scores", "key_accounts", "criteria", "weights",
                                      "robustness", "sensitivity", "selection_repairs",
                                      "selection_overrides", "big_not_key", "account_owners",
                                      "capacity_rules"]
    assert list(without.descriptions()) == list(without.tables())


def test_what_the_notebook_shows_beside_the_tables(data):
    f, a, j = data
    res = selection.run(f, a, j, n_key_accounts=12, n_draws=200)
    tiers = res.tier_summary()
    in_use = set(res.selection_scores["tier"])
    assert list(tiers.index) == [t for t in TIERS if t in in_use]  # rank order: key first
    assert tiers["accounts"].sum() == len(f) and tiers.loc["key", "accounts"] == 12
    assert tiers.loc["key", "mean_score"] == pytest.approx(
        res.selection_scores.query("tier == 'key'")["score"].mean())
    repairs = res.repairs_by_criterion()
    assert list(repairs.columns) == ["criterion", "repair", "accounts"]
    assert repairs["accounts"].sum() == len(res.repairs)
    labels = res.criterion_labels()
    assert list(labels) == list(res.criteria["criterion"]) and labels["billing"] == "Billing"


def test_same_inputs_same_tables(data):
    f, a, j = data
    r1 = selection.run(f, a, j, n_draws=300, seed=5)
    r2 = selection.run(f, a, j, n_draws=300, seed=5)
    pd.testing.assert_frame_equal(r1.selection_scores, r2.selection_scores)


def test_direct_weights_recover_a_known_ranking():
    """Simulated recovery: accounts whose criteria were generated so that the true score is
    known; with the generating weights the selection reproduces the true top list."""
    f = td.features(200, seed=4)
    true_w = {"billing": 0.5, "growth": 0.3, "buying_group_breadth": 0.2}
    res = selection.run(f, None, None, criteria=list(true_w), weights="direct",
                        direct_weights=true_w, n_key_accounts=15, n_draws=200)
    rev = f["revenue_12m"].clip(lower=0)
    floor = rev[rev > 0].quantile(0.25)  # billing's log scale starts at a robust low end
    x = np.column_stack([np.log(rev.clip(lower=floor) / floor), f["growth_12m"].fillna(0),
                         f["n_functions"]]).astype(float)
    norm = (x - x.min(0)) / (x.max(0) - x.min(0))
    truth = norm @ np.array(list(true_w.values()))
    expected = set(f["account_id"].to_numpy()[np.argsort(-truth)[:15]])
    assert set(res.key_accounts["account_id"]) == expected


def test_bad_weights_are_refused(data):
    f, a, j = data
    with pytest.raises(ParameterError, match="sum to"):
        selection.run(f, a, j, criteria=["billing", "growth"], weights="direct",
                      direct_weights={"billing": 0.7, "growth": 0.7})
    with pytest.raises(ParameterError, match="no weight for growth"):
        selection.run(f, a, j, criteria=["billing", "growth"], weights="direct",
                      direct_weights={"billing": 1.0})
    with pytest.raises(ParameterError, match="no pairwise comparisons"):
        selection.run(f, a, None, weights="ahp")
    with pytest.raises(InputError, match="no manager compared size"):
        selection.run(f, a, j, criteria=list(DEFAULT_CRITERIA) + ["size"])


def test_manager_without_list_is_noted(data):
    f, a, j = data
    a2 = a.copy()
    a2.loc[a2["manager"] == "Dev", "top_rank"] = np.nan
    res = selection.run(f, a2, j, n_draws=200)
    assert res.agreement.missing_lists == ["Dev"]
    assert any("Dev" in n for n in res.notes)


def test_equal_weights_and_topsis_side_by_side(data):
    f, a, _ = data
    res = selection.run(f, a, None, weights="equal", n_draws=200)
    s = res.selection_scores
    assert s["score_topsis"].between(0, 1).all()
    # the two rules agree broadly, not exactly: vector normalisation shrinks criteria whose
    # values sit far from zero (log revenue ~ 11 +/- 1), so TOPSIS weighs them differently
    assert s[["rank", "rank_topsis"]].corr(method="spearman").iloc[0, 1] > 0.5
    assert any("dirichlet" in n for n in res.notes)  # no managers' AHP weights to draw around


def test_biggest_accounts_and_headline(data):
    f, a, j = data
    res = selection.run(f, a, j, n_key_accounts=8, n_draws=200)
    big = res.biggest_accounts()
    expected = f.sort_values("revenue_12m", ascending=False)["account_id"].head(8).tolist()
    assert big["account_id"].tolist() == expected
    assert list(big["revenue_rank"]) == list(range(1, 9))
    text = res.headline()
    assert "8 key accounts" in text and "different accounts" in text


def test_custom_criterion_from_a_feature_column(data):
    f, a, _ = data
    res = selection.run(f, a, None, criteria=["billing", "growth"],
                        custom_criteria={"n_orders_12m": "cost"}, weights="direct",
                        direct_weights={"billing": 0.4, "growth": 0.3, "n_orders_12m": 0.3},
                        n_draws=100)
    row = res.criteria.set_index("criterion").loc["n_orders_12m"]
    assert row["source"] == "custom" and row["direction"] == "cost"
    s = res.selection_scores
    np.testing.assert_allclose(s["raw_n_orders_12m"], f.set_index("account_id").loc[
        s["account_id"], "n_orders_12m"])
    # a cost criterion: the account with most orders contributes nothing through it
    worst = s["raw_n_orders_12m"].idxmax()
    assert s.loc[worst, "contrib_n_orders_12m"] == 0
    with pytest.raises(InputError, match="esg_score"):
        selection.run(f, a, None, criteria=["billing", "growth"],
                      custom_criteria={"esg_score": "benefit"}, weights="equal")
