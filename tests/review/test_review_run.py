"""The portfolio review's entry point: its keywords are the notebook's parameters (with the
notebook's defaults), and its tables are what the notebook saves."""

from __future__ import annotations

import ast
import inspect
import json
from collections.abc import Mapping

import pandas as pd
import pytest

from kamlib import paths, review
from kamlib.capacity import CapacityRules
from kamlib.errors import ParameterError
from kamlib.review.audit import review_plan, review_tables
from kamlib.review.entry import TABLES
from kamlib.review.evidence import Evidence
from kamlib.review.plan import Baseline
from kamlib.review.resources import (CapacityError, ResourcePlanner, accounts_to_assign,
                                     book_hours)
from tests.review.plan_data import AS_OF, PLAN_DATE, _actions, _objectives
from tests.review.portfolio_data import _portfolio

RULES = CapacityRules(max_accounts=4, max_hours=1000.0).table()
"""The selection's capacity_rules table for these tests (the rules are declared in step 10)."""


def _declared() -> dict[str, object]:
    nb = json.loads(paths.notebook_for("portfolio_review").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    return {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(source).body}


def _plain(value):
    """Defaults compared as values: a tuple default stands for the notebook's list."""
    if isinstance(value, Mapping):
        return dict(value)
    return list(value) if isinstance(value, tuple) else value


def test_run_takes_exactly_the_notebook_parameters_with_their_defaults():
    declared = {k: v for k, v in _declared().items() if k not in ("engagement", "run_dir")}
    params = inspect.signature(review.run).parameters
    keyword_only = {n: p for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert list(keyword_only) == list(declared)
    assert {n: _plain(p.default) for n, p in keyword_only.items()} == declared
    tables = [n for n in params if n not in keyword_only]
    assert tables[:2] == ["account_features", "selection_scores"]
    assert all(params[n].default is None for n in tables[2:])


def _tables():
    feats, scores, segments, clv, health, flags = _portfolio()
    return dict(account_features=feats, selection_scores=scores,
                key_accounts=scores[scores["is_key"]], clv=clv, segments=segments,
                plan_health=health, plan_red_flags=flags)


def test_tables_are_what_the_step_saves():
    result = review.run(**_tables(), capacity_rules=RULES)
    tables = result.tables()
    assert list(tables) == list(TABLES)
    feats, scores, segments, clv, _, _ = _portfolio()
    to_assign = accounts_to_assign(feats, scores, segments=segments, clv=clv)
    # the review counts every manager's other accounts (the capacity model's existing book)
    book = book_hours(feats, scores, to_assign["account_id"])
    assert sum(book.values()) > 0
    planner = ResourcePlanner(max_accounts=4, max_hours=1000.0).fit(to_assign, book=book)
    pd.testing.assert_frame_equal(tables["resource_plan"], planner.assignment_)
    pd.testing.assert_frame_equal(tables["manager_workload"], planner.workload_)
    empty = review_tables(None)
    for name in ("plan_review", "objective_review", "action_review", "segment_changes"):
        assert tables[name].empty and list(tables[name]) == list(empty[name])
    assert result.audit is None and result.as_of == pd.Timestamp("2026-09-30")
    assert (result.owner_changes()["reason"] != "kept").all()
    assert result.value_label == "revenue"
    assert set(result.input_status()["note"]) == {"ok", "missing: run step 00_intake; the "
                                                  "sections that need it say so",
                                                  "missing: run step 40_account_plans; the "
                                                  "sections that need it say so"}
    assert result.summary("EUR").resources.startswith("5 accounts (4 key, 1 key-development)")


def test_a_given_last_plan_is_reviewed_against_the_new_data():
    feats = _tables()["account_features"].assign(as_of=AS_OF)
    last = Baseline(_objectives(), _actions(), None, PLAN_DATE, "the plan tables of run q1")
    result = review.run(**{**_tables(), "account_features": feats}, last_plan=last,
                        baseline="reports/sample/q1", capacity_rules=RULES)
    expected = review_plan(last, Evidence(as_of=AS_OF), None)
    pd.testing.assert_frame_equal(result.tables()["action_review"], expected.actions)
    pd.testing.assert_frame_equal(result.tables()["plan_review"], expected.milestones)
    message, overview = result.review_overview("no baseline")
    assert message == "Reviewing the plan from the plan tables of run q1"
    assert overview is result.audit.summary


def test_a_baseline_that_was_not_read_is_an_error():
    with pytest.raises(ParameterError, match="was not read"):
        review.run(**_tables(), baseline="reports/sample/q1")


def test_too_little_capacity_is_a_parameter_error():
    with pytest.raises(CapacityError) as e:
        review.run(**_tables(), capacity_rules=CapacityRules(max_accounts=1).table())
    assert isinstance(e.value, ParameterError)


def test_three_runs_make_three_points_of_history_and_warn_of_what_slipped():
    """q1 -> q2 -> q3: each run adds its row to the baseline's history; the early warnings
    compare this run's health and P(alive) with the baseline's."""
    base = _tables()
    runs, last = [], None
    for day, drop in (("2026-03-31", 0.0), ("2026-06-30", 0.0), ("2026-09-30", 30.0)):
        health = base["plan_health"].copy()
        health.loc[0, "score"] = health.loc[0, "score"] - drop
        tables = {**base, "account_features": base["account_features"].assign(as_of=pd.Timestamp(day)),
                  "plan_health": health}
        result = review.run(**tables, last_plan=last, baseline="q" if last else "",
                            capacity_rules=RULES)
        runs.append(result)
        last = Baseline(_objectives(), _actions(), base["segments"], pd.Timestamp(day), "run",
                        tables={"portfolio_history": result.tables()["portfolio_history"],
                                "plan_health": health, "clv": base["clv"]})
    history = runs[-1].tables()["portfolio_history"]
    assert history["as_of"].dt.strftime("%Y-%m-%d").tolist() == ["2026-03-31", "2026-06-30", "2026-09-30"]
    assert history["plan_completion"].iloc[0] != history["plan_completion"].iloc[0]  # no plan reviewed yet
    warned = runs[-1].tables()["early_warnings"]
    assert warned["account_id"].tolist() == [str(base["plan_health"].loc[0, "account_id"])]
    assert runs[1].tables()["early_warnings"].empty


def test_a_baseline_from_before_the_history_adds_its_own_point():
    base = _tables()
    last = Baseline(_objectives(), _actions(), base["segments"], PLAN_DATE, "old run",
                    tables={"plan_health": base["plan_health"]})
    feats = base["account_features"].assign(as_of=AS_OF)
    history = review.run(**{**base, "account_features": feats}, last_plan=last, baseline="old",
                         capacity_rules=RULES).tables()["portfolio_history"]
    assert history["as_of"].tolist() == [PLAN_DATE, AS_OF]
