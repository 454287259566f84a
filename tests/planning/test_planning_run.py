"""The plans step (planning.run): missing data, fallbacks, reproducibility, pages and calendars."""

import re

import numpy as np
import pandas as pd
import pytest

from kamlib import planning
from kamlib.errors import InputError, ParameterError
from kamlib.report.account_page import (account_page, page_index, plan_calendars, plan_file,
                                        plan_pages)
from tests.entry_points import (
    assert_notebook_passes_its_parameters_once,
    assert_run_takes_the_notebook_parameters,
)


def test_tables_have_the_documented_columns(fitted):
    t = fitted.tables()
    assert {"account_id", "objective_id", "milestone", "due_date", "target", "owner", "status"} <= set(t["plan_objectives"])
    assert {"account_id", "action_id", "objective_id", "owner", "due_date", "checkpoint", "status"} <= set(t["plan_actions"])
    assert {"account_id", "score", "band"} <= set(t["plan_health"])
    assert t["plan_profile"]["account_id"].tolist() == ["F01", "F02", "F03", "F04", "M01"]
    for name, df in t.items():
        assert "account_id" in df.columns, name


def test_same_inputs_same_plans(world):
    features, cy, contacts, keys, segments = world
    a = planning.run(features, cy, contacts, key_accounts=keys, segments=segments).tables()
    b = planning.run(features.sample(frac=1, random_state=3), cy.sample(frac=1, random_state=4),
                     contacts.sample(frac=1, random_state=5), key_accounts=keys, segments=segments).tables()
    for name in a:
        pd.testing.assert_frame_equal(a[name].reset_index(drop=True), b[name].reset_index(drop=True), obj=name)


def test_without_any_optional_table_plans_still_come_out(world):
    features, cy, *_ = world
    bp = planning.run(features, cy, top_n=4)
    assert len(bp.profile) == 4
    assert "No key-account list" in bp.key_source
    assert bp.profile["missing"].str.contains("contacts").all()
    assert bp.profile["missing"].str.contains("segment").all()
    assert set(bp.red_flags["flag"]) >= {"no_contacts"}
    assert bp.health["not_measured"].str.contains("coverage").all()
    assert len(bp.cadence) == 0
    for aid in bp.profile["account_id"]:
        html = account_page(bp.account(aid))
        assert "What this plan still needs" in html and "No contacts are recorded" in html
        assert bp.ics(aid).startswith("BEGIN:VCALENDAR")


def test_selection_scores_used_when_key_accounts_absent(world):
    features, cy, contacts, *_ = world
    sel = pd.DataFrame({"account_id": ["F02", "F01", "F05"], "is_key": [True, True, False],
                        "rank": [2, 1, 3], "score": [1, 2, 0.5], "tier": ["key", "key", "managed"]})
    bp = planning.run(features, cy, contacts, selection_scores=sel)
    assert bp.profile["account_id"].tolist() == ["F01", "F02"]


def test_clv_feeds_profile_and_targets(world):
    features, cy, contacts, keys, segments = world
    clv = pd.DataFrame({"account_id": ["F01", "F02"], "clv": [500_000.0, 90_000.0], "clv_low": [400_000.0, 50_000.0],
                        "clv_high": [600_000.0, 120_000.0], "investment_ceiling": [50_000.0, 9_000.0],
                        "p_alive": [0.95, 0.2]})
    bp = planning.run(features, cy, contacts, key_accounts=keys, segments=segments, clv=clv)
    p = bp.profile.set_index("account_id")
    assert p.loc["F01", "investment_ceiling"] == 50_000 and "CLV" not in p.loc["F01", "missing"]
    assert p.loc["F02", "objective_kind"] == "retain"
    html = account_page(bp.account("F01"), currency="EUR")
    assert "500 k EUR" in html and "400 k–600 k" in html


def test_bad_input_names_table_and_column(world):
    features, cy, *_ = world
    with pytest.raises(InputError, match="account_category_year.*category"):
        planning.run(features, cy.drop(columns=["category"]))
    with pytest.raises(InputError, match="plan_start"):
        planning.run(features, cy, plan_start="next tuesday")
    with pytest.raises(ParameterError, match="no plan"):
        planning.run(features, cy).account("nope")


def test_plan_start_moves_every_date(world):
    features, cy, contacts, keys, segments = world
    bp = planning.run(features, cy, contacts, key_accounts=keys, plan_start="2027-01-04")
    assert bp.start == pd.Timestamp("2027-01-04")
    assert (bp.actions["due_date"] > bp.start).all()


def test_page_shows_the_plan_and_escapes_client_text(world):
    features, cy, contacts, keys, segments = world
    features = features.copy()
    features.loc[features.account_id == "F03", "name"] = "Smith & <b>Sons</b>"
    bp = planning.run(features, cy, contacts, key_accounts=keys, segments=segments,
                      five_p=("Rolle", "Macht", "Prioritaeten", "Wahrnehmung", "Naehe"))
    html = account_page(bp.account("F03"), currency="EUR", ics_href="F03.ics")
    assert "Smith &amp; &lt;b&gt;Sons&lt;/b&gt;" in html and "<b>Sons</b>" not in html
    for text in ("Decider hostile", "Harry Hostile", "Find out why B fell 50%", "Checkpoint day 30",
                 "<th>Wahrnehmung</th>", "Core", "@media print", "<svg", 'href="F03.ics"'):
        assert text in html, text
    assert "<script" not in html


def test_pages_and_calendars_are_plain_values(fitted):
    pages = plan_pages(fitted, currency="EUR")
    assert [title for title, *_ in pages][0] == "Account plan - Food 1" and len(pages) == 5
    f03 = plan_file("F03", ".html")
    assert re.fullmatch(r"F03-[0-9a-f]{10}\.html", f03)
    assert [rel for _, rel, *_ in pages][2] == f"plans/{f03}" and pages[2][3] == "F03"
    assert all(html.startswith("<!doctype html>") or "<html" in html[:200] for _, _, html, _ in pages)
    assert f'href="{plan_file("F03", ".ics")}"' in pages[2][2] and 'href="../index.html"' in pages[2][2]
    calendars = dict(plan_calendars(fitted))
    assert set(calendars) == ({f"plans/{plan_file(a, '.ics')}" for a in fitted.profile["account_id"]}
                              | {"plans/contact_cadence.ics"})
    assert calendars[f"plans/{plan_file('F03', '.ics')}"].count("\r\n") > 10
    assert "BEGIN:VEVENT" in calendars["plans/contact_cadence.ics"]
    idx = page_index(fitted)
    assert idx["page"].tolist()[0] == f"html/plans/{plan_file('F01', '.html')}"
    assert idx["calendar"].tolist()[0] == f"html/plans/{plan_file('F01', '.ics')}"
    assert idx["health"].tolist() == fitted.health["score"].tolist()


def test_group_is_shown_by_name(world):
    features, cy, contacts, keys, segments = world
    accounts = pd.DataFrame({"account_id": ["F01", "F02", "F09"], "name": ["Food 1", "Food 2", "Food Holding"],
                             "parent_id": ["F09", None, None]})
    bp = planning.run(features, cy, contacts, key_accounts=keys, accounts=accounts)
    p = bp.profile.set_index("account_id")["parent_id"]
    assert p["F01"] == "Food Holding (F09)" and pd.isna(p["F02"])
    assert "Food Holding (F09)" in account_page(bp.account("F01"))


def test_nullable_dtypes_from_intake_are_handled(world):
    features, cy, contacts, keys, segments = world
    c = contacts.astype({"power": "Int64", "attitude": "Int64", "relationship_strength": "Int64",
                         "name": "string", "dmu_roles": "string", "owner": "string", "account_id": "string"})
    c.loc[c.contact_id == "c2", ["power", "owner", "dmu_roles"]] = pd.NA
    f = features.astype({"name": "string", "account_manager": "string", "employees": "Int64"})
    accounts = pd.DataFrame({"account_id": pd.array(["F01"], dtype="string"),
                             "name": pd.array(["Food 1"], dtype="string"),
                             "parent_id": pd.array([pd.NA], dtype="string")})
    bp = planning.run(f, cy, c, key_accounts=keys, segments=segments, accounts=accounts)
    ref = planning.run(features, cy, contacts, key_accounts=keys, segments=segments)
    assert bp.profile.loc[bp.profile.account_id == "F04", "missing"].str.contains("account manager").all()
    assert set(bp.red_flags.query("account_id == 'F01'")["flag"]) == {"missing_contact_data"}
    assert len(bp.actions) >= len(ref.actions)
    for aid in bp.profile["account_id"]:
        account_page(bp.account(aid))


def test_five_p_table_and_preview(world):
    features, cy, contacts, keys, segments = world
    bp = planning.run(features, cy, contacts, key_accounts=keys, segments=segments,
                      five_p=("Rolle", "Macht", "Prioritaeten", "Wahrnehmung", "Naehe"))
    t = bp.account("F03").five_p_table()
    assert list(t.columns) == ["contact", "Rolle", "Macht", "Prioritaeten", "Wahrnehmung", "Naehe"]
    assert t.loc[t.contact == "Harry Hostile", "Wahrnehmung"].item() == "hostile (-4)"
    from kamlib.report.account_page import preview

    html = preview(bp, ["F01", "F03"]).data
    assert html.count("<iframe") == 2 and "Harry Hostile" in html


def test_drivers_may_be_lists(world):
    features, cy, contacts, keys, segments = world
    k = keys.copy()
    k["main_drivers"] = [["billing", "growth"], [], ["size"], None, ["potential"]]
    bp = planning.run(features, cy, contacts, key_accounts=k)
    assert bp.profile.set_index("account_id")["drivers"].tolist() == ["billing, growth", "", "size", "", "potential"]


def test_run_takes_exactly_the_notebook_parameters_with_their_defaults():
    assert_run_takes_the_notebook_parameters(
        planning.run, "40_account_plans",
        ["features", "category_year", "contacts", "key_accounts", "selection_scores", "segments", "clv",
         "accounts", "opportunities", "competitors", "account_strategy", "account_team"])


def test_tables_are_what_the_step_saves_and_inputs_are_reported(world, fitted):
    from kamlib.planning.entry import TABLES

    assert list(fitted.tables()) == list(TABLES)
    av = fitted.availability().set_index("table")
    assert av.loc[["account_features", "account_category_year", "contacts", "key_accounts", "segments"],
                  "available"].all()
    assert not av.loc[["selection_scores", "clv", "accounts"], "available"].any()
    assert av.loc["contacts", "rows"] == len(world[2])
    assert "key accounts from the selection step" in fitted.notes_markdown()
    assert "No 'clv' table" in fitted.notes_markdown()
    assert fitted.relationship_shapes()["accounts"].sum() == len(fitted.profile)
    flags = fitted.flag_counts()
    assert flags["accounts"].sum() == len(fitted.red_flags) and flags["accounts"].is_monotonic_decreasing
    assert fitted.examples() == fitted.examples(2) and len(fitted.examples(0)) == 0


def test_the_notebook_writes_each_parameter_once_and_calls_run_once():
    assert_notebook_passes_its_parameters_once("40_account_plans", "planning.run(")
