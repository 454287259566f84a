"""The plans name the owner the capacity model settled and link a member to its group (issue 19)."""

import pandas as pd

from kamlib import planning
from kamlib.report.account_page import account_page, plan_file


def _scores(keys: pd.DataFrame) -> pd.DataFrame:
    """F02 moves from Ann to Bea; F03 belongs to F01's group (both key), F02 to a group whose
    head has no plan."""
    ids = keys["account_id"].tolist()
    s = keys.assign(is_key=True, tier="key", owner="Ann", owner_change="")
    s.loc[s["account_id"] == "F02", ["owner", "owner_change"]] = ["Bea", "balances workload"]
    s["group_id"] = ids
    s.loc[s["account_id"] == "F03", "group_id"] = "F01"
    s.loc[s["account_id"] == "F02", "group_id"] = "G9"
    s["group_name"] = s["group_id"].map({"F01": "Food 1", "G9": "group G9"}).fillna("")
    s["group_note"] = ""
    s.loc[s["account_id"] == "F03", "group_note"] = "in key group Food 1 (F01)"
    return s


def test_plans_name_the_settled_owner(world):
    features, cy, contacts, keys, segments = world
    res = planning.run(features, cy, contacts, key_accounts=keys, selection_scores=_scores(keys),
                       segments=segments)
    owner = res.profile.set_index("account_id")["account_manager"]
    assert owner["F02"] == "Bea" and owner["F01"] == "Ann"
    assert owner["F04"] == "Ann"  # the settled owner fills an account that had none
    actions = res.actions[res.actions["account_id"] == "F02"]
    own = actions[actions["contact_id"].fillna("").eq("")]  # not a contact's owner's action
    assert len(own) and set(own["owner"]) == {"Bea"}


def test_a_member_plan_links_to_its_group_plan(world):
    features, cy, contacts, keys, segments = world
    res = planning.run(features, cy, contacts, key_accounts=keys, selection_scores=_scores(keys),
                       segments=segments)
    p = res.profile.set_index("account_id")
    assert p.loc["F03", "group_plan"] == "F01"
    assert p.loc["F01", "group_plan"] == "" and p.loc["F02", "group_plan"] == ""  # no own plan
    page = account_page(res.account("F03"))
    assert f'href="{plan_file("F01", ".html")}"' in page
    assert plan_file("F01", ".html") not in account_page(res.account("F02"))
