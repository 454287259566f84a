"""The selection settles the owners with the capacity model the review uses (issue 19)."""

import pandas as pd
import selection_testdata as td

from kamlib import capacity, selection
from kamlib.capacity import ResourcePlanner, book_hours, planned_accounts
from kamlib.review.resources import accounts_to_assign


def test_planned_accounts_mark_the_accounts_at_risk_and_the_review_uses_the_same_order():
    feats = td.features(60).assign(account_manager=[f"M{i % 4}" for i in range(60)])
    res = selection.run(feats, None, None, criteria=["billing", "growth"], weights="equal",
                        n_key_accounts=6, n_draws=50)
    scores = res.selection_scores
    planned = planned_accounts(feats, scores)
    risky = scores.set_index("account_id").loc[planned["account_id"], "loss_p_leave"]
    assert (planned["at_risk"].to_numpy() == (risky >= capacity.AT_RISK_P_LEAVE).to_numpy()).all()
    review_side = accounts_to_assign(feats, scores)
    pd.testing.assert_frame_equal(review_side, planned)


def test_selection_settles_the_owners_the_review_will_show():
    """One model: the owners the selection settles are the resource plan's, book included."""
    feats = td.features(80).assign(account_manager=[f"M{i % 3}" if i % 7 else "M0"
                                                    for i in range(80)])
    res = selection.run(feats, None, None, criteria=["billing", "growth"], weights="equal",
                        n_key_accounts=8, n_draws=50, max_accounts=6, max_hours=900.0)
    scores = res.selection_scores
    to_assign = accounts_to_assign(feats, scores)
    book = book_hours(feats, scores, to_assign["account_id"])
    review_plan = ResourcePlanner(max_accounts=6, max_hours=900.0).fit(to_assign, book=book)
    settled = scores.set_index("account_id").loc[to_assign["account_id"], "owner"]
    assert (settled.to_numpy() == review_plan.assignment_["manager"].to_numpy()).all()
    changed = res.owner_changes()
    assert len(changed) == review_plan.n_changes_
    s = scores.set_index("account_id")
    assert (s.loc[changed["account_id"], "owner_change"] != "").all()
    others = s.loc[~s.index.isin(to_assign["account_id"])]
    assert (others["owner"] == feats.set_index("account_id").loc[others.index,
                                                                  "account_manager"]).all()


def test_the_review_says_when_its_owners_differ_from_the_plans():
    from kamlib import review

    feats = td.features(80).assign(account_manager=[f"M{i % 3}" if i % 7 else "M0"
                                                    for i in range(80)],
                                   as_of=pd.Timestamp("2026-06-30"))
    res = selection.run(feats, None, None, criteria=["billing", "growth"], weights="equal",
                        n_key_accounts=8, n_draws=50)
    rules = res.tables()["capacity_rules"]  # the review reads the selection's rules
    same = review.run(feats, res.selection_scores, key_accounts=res.key_accounts,
                      capacity_rules=rules)
    assert same.owners_differ() == 0 and "other owner" not in same.resource_line()
    # a capacity_rules table that is not the one these owners were settled with
    other = review.run(feats, res.selection_scores, key_accounts=res.key_accounts,
                       capacity_rules=capacity.CapacityRules(switch_cost_hours=0.0).table())
    assert other.owners_differ() > 0  # free handovers rebalance what the selection kept
    assert "rerun 10_selection" in other.resource_line()


def test_the_capacity_parameters_are_the_selections_alone():
    """Declared once: the selection step takes them and saves them as capacity_rules; the
    review takes that table, not parameters of its own."""
    import inspect

    from kamlib import review

    feats = td.features(40).assign(account_manager=[f"M{i % 3}" for i in range(40)])
    res = selection.run(feats, None, None, criteria=["billing", "growth"], weights="equal",
                        n_key_accounts=4, n_draws=20, max_accounts=7, max_hours=800.0,
                        switch_cost_hours=50.0, managers=["M0", "M1", "M2"])
    assert capacity.CapacityRules.from_table(res.tables()["capacity_rules"]) == \
        capacity.CapacityRules(managers=("M0", "M1", "M2"), max_accounts=7, max_hours=800.0,
                               switch_cost_hours=50.0)
    review_params = inspect.signature(review.run).parameters
    for name in ("managers", "max_accounts", "max_hours", "hours_by_tier", "tiers",
                 "switch_cost_hours", "value_measure"):
        assert name not in review_params, name
