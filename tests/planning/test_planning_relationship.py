"""Relationship X-ray rules on constructed accounts whose right answers are known."""

import pandas as pd
import pytest

from kamlib.errors import ParameterError
from kamlib.planning.relationship import (
    RelationshipRules, contact_view, red_flags, relationship_summary,
)
from kamlib.vocabulary import RED_FLAGS

from conftest import AS_OF


def flags_of(fitted, aid):
    f = fitted.red_flags
    return set(f.loc[f["account_id"] == aid, "flag"])


def row(df, aid):
    return df[df["account_id"] == aid].iloc[0]


def test_diamond_with_everything_is_integrated_and_flag_free(fitted):
    r = row(fitted.relationship, "F01")
    assert r["shape"] == "diamond"
    assert r["stage"] == "integrated"
    assert r["coverage"] == 1.0
    assert r["n_link_functions"] == 4 and r["n_owners"] == 2
    assert flags_of(fitted, "F01") == set()


def test_single_buyer_is_a_bow_tie_with_the_right_flags(fitted):
    r = row(fitted.relationship, "F02")
    assert (r["shape"], r["stage"]) == ("bow-tie", "basic")
    assert r["roles_covered"] == "buyer"
    assert flags_of(fitted, "F02") == {"no_decider", "single_point_of_contact", "no_champion"}


def test_hostile_stale_decider_and_decline(fitted):
    fl = fitted.red_flags[fitted.red_flags["account_id"] == "F03"].set_index("flag")
    assert set(fl.index) == {"decider_hostile", "stale_contacts", "revenue_declining", "no_champion"}
    assert fl.loc["decider_hostile", "contact_ids"] == "c6"
    # the stale contact is the decider, so the flag is high
    assert fl.loc["stale_contacts", "severity"] == "high"
    assert fl.loc["stale_contacts", "contact_ids"] == "c6"
    # flags come most severe first
    sev = fitted.red_flags.loc[fitted.red_flags["account_id"] == "F03", "severity"].tolist()
    assert sev == sorted(sev, key=["high", "medium", "low"].index)


def test_every_flag_raised_has_a_heading_in_the_vocabulary(fitted):
    raised = set(fitted.red_flags["flag"])
    assert {"no_decider", "no_contacts", "decider_hostile"} <= raised  # the fixture raises many
    assert raised <= set(RED_FLAGS)


def test_no_contacts_asks_for_them_and_nothing_else(fitted):
    assert flags_of(fitted, "F04") == {"no_contacts"}
    msg = fitted.red_flags.query("account_id == 'F04'")["message"].iloc[0]
    assert "export" in msg and "contacts" in msg
    assert row(fitted.relationship, "F04")["shape"] == "no contacts"


def test_no_revenue_is_exploratory(fitted):
    r = row(fitted.relationship, "M01")
    assert r["stage"] == "exploratory"
    assert "win it back" in r["stage_reason"]  # M01 bought the year before


def test_integrated_needs_a_known_wallet(world):
    features, cy, contacts, keys, segments = world
    features = features.assign(wallet=float("nan"))
    v = contact_view(contacts, AS_OF)
    s = relationship_summary(v, features[features.account_id == "F01"])
    assert s["stage"].iloc[0] == "interdependent"
    assert "wallet" in s["stage_reason"].iloc[0]


def test_two_linked_functions_make_a_cooperative_relationship(world):
    features, cy, contacts, keys, segments = world
    extra = pd.DataFrame([("c9", "F02", "Otto Ops", "Ops lead", "operations", "manager", "user", 3, 3, 4, "Tom",
                           AS_OF - pd.Timedelta(days=3))], columns=contacts.columns)
    v = contact_view(pd.concat([contacts, extra]), AS_OF)
    s = relationship_summary(v, features[features.account_id == "F02"])
    assert (s["shape"].iloc[0], s["stage"].iloc[0]) == ("bow-tie", "cooperative")


def test_stale_days_is_a_parameter(world):
    features, cy, contacts, keys, segments = world
    rules = RelationshipRules(stale_days=250)
    v = contact_view(contacts, AS_OF, rules)
    f = features[features.account_id == "F03"]
    fl = red_flags(v, relationship_summary(v, f, rules), f, rules)
    assert "stale_contacts" not in set(fl["flag"])
    assert "decider_hostile" in set(fl["flag"])


def test_unknown_last_contact_counts_as_stale(world):
    features, cy, contacts, keys, segments = world
    c = contacts.copy()
    c.loc[c.contact_id == "c5", "last_contact"] = pd.NaT
    v = contact_view(c, AS_OF)
    r = v[v.contact_id == "c5"].iloc[0]
    assert r["stale"] and not r["is_link"]
    assert "never" in r["fivep_proximity"]


def test_five_p_view_and_configurable_names(world):
    features, cy, contacts, keys, segments = world
    v = contact_view(contacts, AS_OF).set_index("contact_id")
    assert v.loc["c6", "fivep_perception"] == "hostile (-4)"
    assert v.loc["c1", "fivep_perception"] == "champion (+5)"
    assert v.loc["c6", "fivep_power"] == "high (5/5)"
    assert "decider" in v.loc["c6", "fivep_position"]
    assert v.loc["c4", "fivep_priorities"].startswith("assumed from function")
    names = ("Rolle", "Macht", "Prioritaeten", "Wahrnehmung", "Naehe")
    assert RelationshipRules(five_p=names).five_p == names
    with pytest.raises(ParameterError, match="five names"):
        RelationshipRules(five_p=("a", "b"))


def test_hostile_non_decider_with_power_is_flagged(world):
    features, cy, contacts, keys, segments = world
    c = contacts.copy()
    c.loc[c.contact_id == "c4", "attitude"] = -3  # F01's CFO, power 4
    v = contact_view(c, AS_OF)
    f = features[features.account_id == "F01"]
    fl = red_flags(v, relationship_summary(v, f), f)
    assert set(fl["flag"]) == {"hostile_influence"}
    assert fl["contact_ids"].iloc[0] == "c4"


def test_missing_contact_fields_are_reported_not_fatal(world):
    features, cy, contacts, keys, segments = world
    c = contacts.drop(columns=["power", "attitude"]).copy()
    c.loc[c.contact_id == "c2", "dmu_roles"] = None
    v = contact_view(c, AS_OF)
    f = features[features.account_id == "F01"]
    fl = red_flags(v, relationship_summary(v, f), f)
    msg = fl.loc[fl.flag == "missing_contact_data", "message"].iloc[0]
    assert "power for 4" in msg and "DMU roles for 1" in msg
    assert "no_champion" in set(fl["flag"])  # attitude unknown: nobody can be a champion


def test_stale_contacts_are_counted_not_reported_as_nobody(world):
    """Five known contacts in three functions, all gone cold: the reasons must say we know
    them and why none counts as a live link, not 'links in 0 functions by 0 people'."""
    features, cy, contacts, keys, segments = world
    c = contacts[contacts.account_id == "F01"].copy()
    c["last_contact"] = AS_OF - pd.Timedelta(days=200)
    v = contact_view(c, AS_OF)
    s = relationship_summary(v, features[features.account_id == "F01"]).iloc[0]
    n_funcs = v["function"].nunique()
    assert (s["shape"], s["stage"]) == ("bow-tie", "basic")
    assert f"we know {len(c)} contacts in {n_funcs} functions" in s["shape_reason"]
    assert "none is a live link" in s["shape_reason"]
    assert "more than 90 days ago" in s["shape_reason"]
    assert "0 function" not in s["shape_reason"] + s["stage_reason"]
    assert "no contact is a live link" in s["stage_reason"]


def test_bow_tie_reason_names_what_a_diamond_still_needs(world):
    features, cy, contacts, keys, segments = world
    c = contacts[contacts.account_id == "F01"].copy()
    c["owner"] = "Tom"  # every live link held by one of our people
    v = contact_view(c, AS_OF)
    s = relationship_summary(v, features[features.account_id == "F01"]).iloc[0]
    assert s["shape"] == "bow-tie"
    assert "held by Tom" in s["shape_reason"]
    assert "only" not in s["shape_reason"]  # four linked functions are not 'only'
    assert "a second person on our side" in s["shape_reason"]


def test_plan_page_shows_the_plain_revenue_change_the_summary_shows(fitted):
    """The summary shows now/before - 1; the plan page must show the same number, not the
    symmetric growth the rules use (+45% symmetric is +58% plain)."""
    from kamlib.planning._common import change_text
    from kamlib.report.account_page import account_page

    p = fitted.profile
    p = p[(p["revenue_prev_12m"] > 0) & (p["revenue_12m"] > 0)
          & ((p["revenue_12m"] / p["revenue_prev_12m"] - 1).abs() > 0.2)]
    assert len(p)
    r = p.iloc[0]
    plain = change_text(r["revenue_12m"], r["revenue_prev_12m"])
    sym = f"{r['growth_12m']:+.0%}"
    assert plain != sym
    page = account_page(fitted.account(r["account_id"]))
    assert f"{plain} vs the 12 before" in page
    assert f"{sym} vs the 12 before" not in page


def test_recorded_priorities_override_the_function_stereotype(world):
    """contacts.priorities (a contract column) wins over the guess from the function; a blank
    one falls back to the guess, marked to confirm."""
    features, cy, contacts, keys, segments = world
    recorded = contacts.assign(priorities=[None, None, None, "cash before growth", None, None, " ", None])
    v = contact_view(recorded, AS_OF).set_index("contact_id")
    assert v.loc["c4", "fivep_priorities"] == "cash before growth"
    assert v.loc["c2", "fivep_priorities"].startswith("assumed from function")
    assert v.loc["c7", "fivep_priorities"].startswith("assumed from function")  # blank: the guess
