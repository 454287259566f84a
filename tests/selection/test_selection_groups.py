"""Groups by parent_id (issue 19): roll-up, member marking, selection per group."""

import numpy as np
import pandas as pd
import pytest
import selection_testdata as td

from kamlib import selection
from kamlib.errors import ParameterError
from kamlib.selection import groups


def _with_groups(n: int = 120) -> pd.DataFrame:
    """A0000 heads a group with A0001 and A0002 (A0002 through A0001: a chain); A0010 heads
    A0011; A0020 belongs to a parent that is not an account (P9)."""
    f = td.features(n, seed=7)
    f.loc[:2, "revenue_12m"] = [1e5, 2e5, 3e5]  # the test data leaves the first three idle
    parent = pd.Series([None] * n, dtype=object)
    parent[1], parent[2], parent[11], parent[20] = "A0000", "A0001", "A0010", "P9"
    return f.assign(parent_id=parent.astype("str").where(parent.notna(), None),
                    margin_12m=f["revenue_12m"] * 0.2, revenue_prev_12m=f["revenue_12m"] * 0.9)


def test_group_of_follows_the_chain_and_survives_a_loop():
    g = groups.group_of(["a", "b", "c", "x", "y"], [None, "a", "b", "y", "x"])
    assert g["a"] == g["b"] == g["c"] == "a"
    assert g["x"] in ("x", "y") and g["y"] in ("x", "y")  # a loop is cut, not followed forever


def test_group_table_roles_and_members():
    t = groups.group_table(_with_groups()).set_index("account_id")
    assert t.loc["A0002", "group_id"] == "A0000" and t.loc["A0000", "group_size"] == 3
    assert t.loc["A0000", "group_role"] == "parent" and t.loc["A0002", "group_role"] == "member"
    assert t.loc["A0005", "group_role"] == "" and t.loc["A0005", "group_size"] == 1
    assert t.loc["A0020", "group_id"] == "P9" and t.loc["A0020", "group_name"] == "group P9"
    assert t.loc["A0000", "group_members"] == "Account 1 (A0001); Account 2 (A0002)"


def test_roll_up_sums_money_and_recomputes_ratios():
    f = _with_groups()
    t = groups.group_table(f)
    up = groups.roll_up(f, t).set_index("account_id")
    members = f[f["account_id"].isin(["A0000", "A0001", "A0002"])]
    assert len(up) == len(f) - 3  # two members fold into A0000, one into A0010
    assert up.loc["A0000", "revenue_12m"] == pytest.approx(members["revenue_12m"].sum())
    assert up.loc["A0000", "employees"] == pytest.approx(members["employees"].sum())
    assert up.loc["A0000", "n_sites"] == members["n_sites"].sum()
    assert up.loc["A0000", "n_functions"] == members["n_functions"].max()
    assert up.loc["A0000", "margin_pct_12m"] == pytest.approx(0.2)
    rev, prev = members["revenue_12m"].sum(), members["revenue_prev_12m"].sum()
    assert up.loc["A0000", "growth_12m"] == pytest.approx((rev - prev) / ((rev + prev) / 2))
    assert up.loc["A0000", "name"] == "Account 0"
    lone = f.set_index("account_id").loc["A0005"]
    assert up.loc["A0005", "revenue_12m"] == pytest.approx(lone["revenue_12m"])


def test_a_member_of_a_key_group_is_marked_at_account_level():
    f = _with_groups()
    f.loc[f["account_id"] == "A0000", "revenue_12m"] = 5e7  # the parent is surely key
    f.loc[f["account_id"].isin(["A0001", "A0002"]), "revenue_12m"] = 10.0  # small members
    res = selection.run(f, None, None, criteria=["billing", "growth"], weights="equal",
                        n_key_accounts=5, n_draws=50)
    s = res.selection_scores.set_index("account_id")
    assert s.loc["A0000", "is_key"] and not s.loc["A0002", "is_key"]
    assert s.loc["A0002", "key_group"] == "A0000"
    assert s.loc["A0002", "group_note"] == "in key group Account 0 (A0000)"
    assert s.loc["A0000", "group_note"] == "key group Account 0 (A0000): 3 accounts"
    assert s.loc["A0005", "group_note"] == ""
    ka = res.key_accounts.set_index("account_id")
    assert ka.loc["A0000", "group_members"] == "Account 1 (A0001); Account 2 (A0002)"


def test_selection_per_group_makes_every_member_key_and_counts_groups():
    f = _with_groups()
    res = selection.run(f, None, None, criteria=["billing", "growth"], weights="equal",
                        n_key_accounts=5, n_draws=50, level="group")
    s = res.selection_scores
    assert len(s) == len(f) and set(s["account_id"]) == set(f["account_id"])
    key_groups = s.loc[s["is_key"], "group_id"].unique()
    assert len(key_groups) == 5  # the list length counts groups
    for g in key_groups:  # every member of a key group is key, with the group's rank
        members = s[s["group_id"] == g]
        assert members["is_key"].all() and members["rank"].nunique() == 1
    own = f.set_index("account_id")["revenue_12m"]
    assert np.allclose(s.set_index("account_id")["revenue_12m"], own.reindex(s["account_id"]))
    assert res.headline().startswith("**5 key groups**")


def test_group_level_override_of_a_member_moves_the_group():
    f = _with_groups()
    res = selection.run(f, None, None, criteria=["billing", "growth"], weights="equal",
                        n_key_accounts=5, n_draws=50, level="group",
                        include={"A0002": "the group is a reference customer"})
    s = res.selection_scores.set_index("account_id")
    assert s.loc[["A0000", "A0001", "A0002"], "is_key"].all()
    assert res.overrides.iloc[0]["account_id"] == "A0000"


def test_unknown_level_is_refused():
    with pytest.raises(ParameterError, match="selection.level"):
        selection.run(td.features(30), None, None, criteria=["billing", "growth"],
                      weights="equal", level="holding")
