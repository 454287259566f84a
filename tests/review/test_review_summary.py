"""What the executive summary states: the key accounts, where to invest, the biggest risks."""

import pytest

from kamlib.review.risks import top_risks
from kamlib.review.summary import investment_priorities, key_account_table, summary_facts
from tests.review.portfolio_data import _inputs


def _table_inputs():
    d = _inputs()
    return {k: d[k] for k in ("features", "scores", "key_accounts", "segments", "clv", "health",
                              "assignment")}


def test_key_account_table_joins_every_source():
    t = key_account_table(**_table_inputs()).set_index("account_id")
    assert list(t.index) == ["A", "B", "C", "D"]  # rank order, key tier only
    assert t.at["B", "health_band"] == "red" and t.at["B", "health"] == 30
    assert t.at["A", "segment"] == "Star" and t.at["D", "clv"] == 2000
    assert t.at["B", "revenue_change"] == pytest.approx(500 / 700 - 1)


def test_investment_priorities_only_invest_segments_by_ceiling():
    inv = investment_priorities(key_account_table(**_table_inputs()))
    # B is Core (maintain, not invest); D (Developing, ceiling 250) ranks between A and C.
    assert inv["account_id"].tolist() == ["A", "D", "C"]
    assert (inv["basis"] == "investment_ceiling").all()


def test_top_risks_points_times_revenue():
    d = _inputs()
    r = top_risks(key_account_table(**_table_inputs()), d["red_flags"]).set_index("account_id")
    # B: red health (3) + revenue -29 % (2) = 5 points x 500; C: p_alive 0.4 (2) x 400;
    # D: two flags (2) x 300; A: one flag (1) x 900.
    assert r.index.tolist() == ["B", "A", "C", "D"]
    assert r.at["B", "points"] == 5 and "red" in r.at["B", "signs"]
    assert "No decider" in r.at["D", "signs"] and "no_decider" not in r.at["D", "signs"]


def test_facts_without_a_resource_plan_or_review_leave_those_parts_empty():
    d = _inputs(assignment=None, workload=None)
    facts = summary_facts(**d, currency="EUR")
    assert facts.resources is None and facts.moves is None and facts.review is None
    assert facts.as_of == d["features"]["as_of"].max()
    assert ("key accounts", "4") in facts.kpis
    assert facts.unchecked == []
    assert summary_facts(features=d["features"]).unchecked == [
        "health scores (40_account_plans)", "relationship red flags (40_account_plans)",
        "CLV (20_clv)"]
