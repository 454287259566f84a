"""The living plan: the next plan rolls the edited one forward (kamlib.planning.rollforward)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kamlib import planning
from kamlib.planning._common import plan_start
from kamlib.planning.actions import stake_floor, stake_priority
from kamlib.review.plan import Baseline, clean_actions, clean_objectives

AS_OF = pd.Timestamp("2026-09-30")  # the data date of the world in conftest.py

NEXT = "2026-12-31"


def _key(df: pd.DataFrame) -> set[tuple]:
    return {(a, g, c or "", k or "") for a, g, c, k in
            zip(df["account_id"], df["gap"], df["contact_id"], df["category"])}


def _baseline(plan, actions=None, objectives=None, **tables) -> Baseline:
    """The plan as the next run reads it back (as from the edited workbook)."""
    acts = clean_actions(plan.actions if actions is None else actions)
    objs = clean_objectives(plan.objectives if objectives is None else objectives)
    base = {"plan_profile": plan.profile, "plan_health": plan.health,
            "plan_red_flags": plan.red_flags, "plan_relationship": plan.contacts,
            "plan_closed_actions": plan.closed}
    return Baseline(objectives=objs, actions=acts, as_of=plan.start, tables={**base, **tables})


def _edit(plan) -> pd.DataFrame:
    """An account manager's quarter: F03's first action done, its second dropped, F02's first
    handed to Tom with a note and a new date, one action typed in by hand on F01."""
    a = plan.actions.copy()
    f03 = a.index[a["account_id"] == "F03"]
    a.loc[f03[0], "status"] = "done"
    a.loc[f03[1], "status"] = "Cancelled"  # a synonym: read as dropped
    f02 = a.index[a["account_id"] == "F02"][0]
    a.loc[f02, ["owner", "notes"]] = ["Tom", "call booked for January"]
    a.loc[f02, "due_date"] = pd.Timestamp("2027-01-20")
    hand = {c: np.nan for c in a.columns} | {
        "account_id": "F01", "action": "Invite Dana to our open day", "owner": "Ann",
        "due_date": pd.Timestamp("2026-11-15"), "status": "open"}
    return pd.concat([a, pd.DataFrame([hand])], ignore_index=True)


@pytest.fixture
def quarters(world):
    features, cy, contacts, keys, segments = world
    kw = dict(key_accounts=keys, segments=segments)
    q1 = planning.run(features, cy, contacts, plan_start="as_of", **kw)
    edited = _edit(q1)
    q2 = planning.run(features, cy, contacts, last_plan=_baseline(q1, edited), baseline="q1",
                      plan_start=NEXT, **kw)
    return q1, edited, q2


def test_done_and_dropped_actions_are_closed_and_never_planned_again(quarters):
    q1, edited, q2 = quarters
    closed = edited[edited["status"].isin(["done", "Cancelled"])]
    assert set(closed["action_id"]) <= set(q2.closed["action_id"])
    assert set(q2.closed["status"]) == {"done", "dropped"}
    assert not set(closed["action_id"]) & set(q2.actions["action_id"])
    # the same evidence is still there, yet nothing closed comes back under another id
    assert not _key(closed) & _key(q2.actions)
    assert (q2.actions["status"] == "open").all()


def test_open_actions_carry_the_account_managers_edits(quarters):
    q1, edited, q2 = quarters
    f02 = edited[edited["account_id"] == "F02"].iloc[0]
    row = q2.actions.set_index("action_id").loc[f02["action_id"]]
    assert (row["owner"], row["notes"], row["origin"]) == ("Tom", "call booked for January", "carried")
    assert row["due_date"] == pd.Timestamp("2027-01-20")
    assert row["checkpoint_date"] >= pd.Timestamp(NEXT)  # a past checkpoint moves on
    carried = q1.actions[(q1.actions["account_id"] != "F03")
                         & ~q1.actions["gap"].eq("business_review")]
    assert set(carried["action_id"]) <= set(q2.actions["action_id"])


def test_an_action_typed_in_by_hand_persists_with_an_id_of_its_own(quarters):
    q1, edited, q2 = quarters
    hand = q2.actions[q2.actions["action"] == "Invite Dana to our open day"]
    assert len(hand) == 1 and hand["origin"].iloc[0] == "by hand"
    aid = hand["action_id"].iloc[0]
    assert aid.startswith("F01-A") and aid not in set(q1.actions["action_id"])
    assert q2.actions["action_id"].is_unique


def test_new_actions_only_for_new_evidence_and_marked_new(world, quarters):
    q1, edited, q2 = quarters
    new = q2.actions[q2.actions["origin"] == "new"]
    # the evidence did not change (and the business review is still open): nothing is new
    assert new.empty
    features, cy, contacts, keys, segments = world
    late = pd.DataFrame([("c9", "F02", "Nina New", "Engineer", "engineering", "staff", "decider", 4, -3, 1,
                          "Ann", AS_OF - pd.Timedelta(days=150))], columns=contacts.columns)
    q2b = planning.run(features, cy, pd.concat([contacts, late], ignore_index=True), key_accounts=keys,
                       segments=segments, last_plan=_baseline(q1, edited), baseline="q1", plan_start=NEXT)
    fresh = q2b.actions[(q2b.actions["origin"] == "new") & (q2b.actions["gap"] != "business_review")]
    assert len(fresh) and (fresh["account_id"] == "F02").all()
    assert "c9" in set(fresh["contact_id"])


def test_objectives_keep_their_targets_and_their_stage_goals_move_on(world, quarters):
    q1, edited, q2 = quarters
    year = q1.objectives[(q1.objectives["objective_id"] == "F01-REV")]["target"].max()
    o = q2.objectives[q2.objectives["objective_id"] == "F01-REV"]
    assert o["target"].max() == pytest.approx(year)
    assert (o["origin"] == "carried").all()
    assert (o["due_date"] - pd.Timestamp(NEXT)).dt.days.tolist() == o["days"].astype(int).tolist()
    # a target the consultant typed in is kept; retarget sets them afresh from the data
    objs = q1.objectives.copy()
    objs.loc[objs["objective_id"] == "F01-REV", "target"] *= 2
    features, cy, contacts, keys, segments = world
    kw = dict(key_accounts=keys, segments=segments, baseline="q1", plan_start=NEXT)
    kept = planning.run(features, cy, contacts, last_plan=_baseline(q1, edited, objs), **kw)
    assert kept.objectives.query("objective_id == 'F01-REV'")["target"].max() == pytest.approx(2 * year)
    fresh = planning.run(features, cy, contacts, last_plan=_baseline(q1, edited, objs), retarget=True, **kw)
    r = fresh.objectives.query("objective_id == 'F01-REV'")
    assert r["target"].max() == pytest.approx(year) and (r["origin"] == "re-targeted").all()


def test_an_objective_typed_in_by_hand_persists_re_dated(world, quarters):
    q1, edited, q2 = quarters
    hand = pd.DataFrame([{"account_id": "F02", "objective_id": "F02-NPS", "objective": "satisfaction",
                          "description": "Survey score 8+", "milestone": "day 90 / Q1", "days": 91,
                          "due_date": AS_OF + pd.Timedelta(days=91), "baseline": 6, "target": 8,
                          "unit": "score", "owner": "Ann", "status": "open"}])
    features, cy, contacts, keys, segments = world
    q2b = planning.run(features, cy, contacts, key_accounts=keys, segments=segments, baseline="q1",
                       plan_start=NEXT, last_plan=_baseline(q1, edited, pd.concat([q1.objectives, hand])))
    row = q2b.objectives[q2b.objectives["objective_id"] == "F02-NPS"].iloc[0]
    assert row["origin"] == "by hand" and row["target"] == 8
    assert row["due_date"] == pd.Timestamp(NEXT) + pd.Timedelta(days=91)


def test_every_account_says_what_changed_since_the_last_plan(quarters):
    q1, edited, q2 = quarters
    f03 = q2.changes[q2.changes["account_id"] == "F03"]["change"].tolist()
    assert any("1 action(s) done and 1 dropped" in c for c in f03)
    assert set(q2.changes["account_id"]) == set(q2.profile["account_id"])
    assert q2.account("F03").changes_list() == f03
    assert (q1.changes["topic"] == "plan").all()


def test_three_quarters_closed_actions_stay_closed(world, quarters):
    """q1 -> q2 -> q3: an action closed in q1 is not in q2's workbook any more, yet q3 does
    not propose it again (the closed-actions ledger is carried)."""
    q1, edited, q2 = quarters
    features, cy, contacts, keys, segments = world
    q3 = planning.run(features, cy, contacts, key_accounts=keys, segments=segments, baseline="q2",
                      last_plan=_baseline(q2), plan_start="2027-03-31")
    closed_q1 = edited[edited["status"].isin(["done", "Cancelled"])]
    assert set(closed_q1["action_id"]) <= set(q3.closed["action_id"])
    assert not _key(closed_q1) & _key(q3.actions)
    assert q3.actions["action_id"].is_unique


def test_a_baseline_without_its_plan_is_an_error(world):
    features, cy, *_ = world
    with pytest.raises(Exception, match="last_plan"):
        planning.run(features, cy, baseline="reports/x")


def test_plan_start_is_the_run_date_unless_the_data_is_recent(world):
    features = world[0]
    assert plan_start(features, "as_of") == AS_OF
    assert plan_start(features, "", today=AS_OF + pd.Timedelta(days=40)) == AS_OF
    late = AS_OF + pd.Timedelta(days=200)
    assert plan_start(features, "", today=late) == late
    assert plan_start(features, "2027-02-01") == pd.Timestamp("2027-02-01")


def test_money_actions_need_money_at_stake_and_priority_follows_it(world):
    features, cy, contacts, keys, segments = world
    kw = dict(key_accounts=keys, segments=segments, plan_start="as_of")
    base = planning.run(features, cy, contacts, **kw).actions
    fall = base[(base["account_id"] == "F03") & (base["gap"] == "declining_category")]
    assert len(fall) == 1 and fall["priority"].iloc[0] == "high"  # 30 k of 100 k at stake
    def f03_falls(**materiality):
        a = planning.run(features, cy, contacts, **kw, **materiality).actions
        return ((a["account_id"] == "F03") & (a["gap"] == "declining_category")).sum()

    assert f03_falls(min_stake=40_000.0) == 0  # the absolute floor
    assert f03_falls(min_stake_share=0.5, min_stake=0.0) == 0  # the share of its revenue
    assert f03_falls(high_stake_share=0.5) == 1
    assert stake_floor(1_100_000, 0.02, 5000) == 22_000  # 566 lost on 1.1 M is not an action
    assert stake_floor(10_000, 0.02, 5000) == 5000
    assert stake_priority(30_000, 100_000) == "high" and stake_priority(5_000, 100_000) == "medium"
