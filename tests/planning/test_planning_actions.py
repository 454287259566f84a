"""The 90-day action plan, the contact cadence and the iCalendar export."""

import pandas as pd
import pytest

from kamlib.planning.actions import cadence, to_ics
from kamlib import planning


def acts(fitted, aid):
    a = fitted.actions
    return a[a.account_id == aid]


def test_every_action_is_owned_dated_and_serves_an_objective(fitted):
    a = fitted.actions
    start = fitted.start
    assert a["owner"].str.len().gt(0).all()
    assert ((a["due_date"] - start).dt.days.between(1, 92)).all()
    assert set(a["objective_id"]) <= set(fitted.objectives["objective_id"])
    assert a["due_date"].dt.day_of_week.lt(5).all()  # no weekend due dates
    assert a["action_id"].is_unique
    # the checkpoint is the first 30-day review on or after the due date
    assert (a["checkpoint_date"] >= a["due_date"]).all()
    assert ((a["checkpoint_date"] - a["due_date"]).dt.days < 33).all()


def test_actions_answer_the_known_gaps(fitted):
    assert set(acts(fitted, "F01")["gap"]) == {"business_review"}
    f02 = acts(fitted, "F02")
    assert {"no_decider", "single_point_of_contact", "no_champion", "whitespace", "uncovered_role"} <= set(f02["gap"])
    assert f02.loc[f02.gap == "whitespace", "category"].tolist() == ["C"]
    f03 = acts(fitted, "F03")
    assert f03.loc[f03.gap == "declining_category", "category"].tolist() == ["B"]
    first = f03.sort_values("due_date").iloc[0]
    assert first["contact_id"] == "c6" and first["checkpoint"] == "day 30"  # the hostile, stale decider first
    assert acts(fitted, "F04")["gap"].tolist() == ["no_contacts", "business_review"]
    # Harry is stale and hostile: one sponsor meeting, not a second "re-engage" visit
    assert (f03["contact_id"] == "c6").sum() == 1
    assert f03.loc[f03.contact_id == "c6", "gap"].item() == "decider_hostile"


def test_missing_account_manager_means_unassigned_owner(fitted):
    assert set(acts(fitted, "F04")["owner"]) == {"unassigned"}


def test_max_actions_keeps_the_business_review(world):
    features, cy, contacts, keys, segments = world
    b = planning.run(features, cy, contacts, key_accounts=keys, segments=segments, max_actions=3)
    assert b.actions.groupby("account_id").size().max() <= 3
    assert (b.actions.groupby("account_id")["gap"].agg(lambda g: "business_review" in set(g))).all()
    f02 = b.actions[b.actions.account_id == "F02"]
    assert set(f02["priority"]) - {"medium"} == {"high"}  # the highest priorities were kept


def test_cadence_by_tier_and_role(fitted):
    c = fitted.cadence.set_index("contact_id")
    assert c.loc["c5", "interval_days"] == 14  # key tier 30 days x buyer 0.5 -> 2 weeks
    assert c.loc["c6", "interval_days"] == 28  # decider x 1 -> 4 weeks
    # Harry (last contact 200 days ago) is overdue: first meeting in the plan's first week
    assert (c.loc["c6", "first_meeting"] - fitted.start).days <= 9
    c2 = cadence(fitted.contacts, fitted.profile.assign(tier="managed"), fitted.start)
    assert c2.set_index("contact_id").loc["c5", "interval_days"] == 42  # 90 x 0.5 rounded to weeks


def unfold(text):
    return text.replace("\r\n ", "")


def test_ics_is_valid_rfc5545(fitted):
    ics = fitted.ics("F03")
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    lines = ics.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    body = unfold(ics).split("\r\n")
    # the actions, the three contacts' cadence, and the governance meetings (one event each)
    n_meetings = int((fitted.governance["account_id"] == "F03").sum())
    assert n_meetings == 2 + 4 + 12  # top-to-top, quarterly business reviews, monthly operational
    assert body.count("BEGIN:VEVENT") == body.count("END:VEVENT") == len(acts(fitted, "F03")) + 3 + n_meetings
    assert ("SUMMARY:[Food 3] Executive-sponsor meeting with Harry Hostile (decider\\, hostile): "
            "hear the objections and agree what would change them") in body
    assert any(x.startswith("RRULE:FREQ=DAILY;INTERVAL=14;UNTIL=") for x in body)
    uids = [x for x in body if x.startswith("UID:")]
    assert len(uids) == len(set(uids))


def test_ics_is_reproducible_and_escapes_text(fitted):
    assert fitted.ics("F03") == fitted.ics("F03")
    a = fitted.actions.head(1).assign(action="Call; then write, \\ and\nfollow up ü" * 3)
    ics = unfold(to_ics(a, None, fitted.start))
    assert "Call\\; then write\\, \\\\ and\\nfollow up ü" in ics


def test_combined_cadence_calendar(fitted):
    ics = unfold(fitted.ics(cadence_only=True))
    assert ics.count("BEGIN:VEVENT") == len(fitted.cadence)
    assert "X-WR-CALNAME:Key account contact cadence" in ics


def test_ids_and_names_cannot_add_a_calendar_line(fitted):
    """An id or a name from the client's files with a line break stays inside its value."""
    evil = "X\r\nATTACH:http://evil\rORGANIZER:mailto:evil@example.com\nLOCATION:x"
    a = fitted.actions.head(2).assign(account_id=evil, action_id=evil + "-A1", action=evil)
    c = fitted.cadence.head(2).assign(account_id=evil, contact_id=evil, contact_name=evil)
    ics = to_ics(a, c, fitted.start, calendar_name=evil, account_names={evil: evil})
    assert "\n" not in ics.replace("\r\n", "") and "\r" not in ics.replace("\r\n", "")
    body = unfold(ics).split("\r\n")
    assert not [x for x in body if x.startswith(("ATTACH", "ORGANIZER", "LOCATION"))]


def test_no_control_character_of_the_clients_reaches_a_calendar(fitted):
    """RFC 5545 allows no control character but tab in a TEXT value: a NUL or an escape
    sequence in an id or a name shows as U+FFFD, and the value stays on its line."""
    evil = "nul\x00id\x1b[31m\x0b\x7f"
    a = fitted.actions.head(2).assign(account_id=evil, action_id=evil + "-A1", action=evil)
    c = fitted.cadence.head(2).assign(account_id=evil, contact_id=evil, contact_name=evil)
    ics = to_ics(a, c, fitted.start, calendar_name=evil, account_names={evil: evil})
    assert not [ch for ch in ics if ord(ch) < 0x20 and ch not in "\r\n\t" or ch == "\x7f"]
    assert "nul\ufffdid\ufffd[31m" in unfold(ics)
