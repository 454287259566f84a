"""Groups: a parent company and its subsidiaries as one (global) account.

``accounts.parent_id`` names the account's parent. The group of an account is its top-most
ancestor (the parent of the parent ...; an id that is not itself an account still names a
group; a loop of parents is cut where it closes). An account without a parent that is the parent
of others heads its own group; one with neither is a group of one.

``selection.level``:

* ``account`` (default): every account is scored on its own. The group columns still say who
  belongs together, and an account whose group has a key account is marked ("in key group
  ..."), never silently left in the long tail.
* ``group``: the accounts are rolled up into their groups first (:func:`roll_up`: money,
  volumes, head counts, sites, orders and shares summed; margin %, growth and recency
  recomputed from the sums; the managers' judgements averaged over the members they assessed)
  and the groups are scored. A key group makes every member key: the list length counts
  groups (one key account manager leads a global account), and each member carries the
  group's rank, score and tier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kamlib.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

LEVELS = ("account", "group")
"""Values of ``selection.level``."""

SUMMED = ("revenue_12m", "revenue_prev_12m", "revenue_prev2_12m", "margin_12m",
          "margin_prev_12m", "margin_prev2_12m", "revenue_total", "margin_total", "quantity_12m",
          "employees", "n_sites", "wallet", "cost_to_serve", "n_orders", "n_orders_12m",
          "share_of_sales_12m", "n_contacts", "n_active_sites_12m")
"""Feature columns a group holds as the sum over its members."""
LARGEST = ("n_functions", "n_categories", "n_products", "months_active", "tenure_days")
"""Feature columns a group holds as its members' largest value."""

GROUP_COLUMNS = ["group_id", "group_name", "group_size", "group_role", "group_members",
                 "key_group", "group_note"]
"""Columns :func:`mark` adds to ``selection_scores``."""


def check_level(level: str) -> None:
    """Refuse a ``level`` other than :data:`LEVELS`."""
    if level not in LEVELS:
        raise ParameterError(f"Parameter 'selection.level' is {level!r}. Fix: use 'account' "
                             "(score every account) or 'group' (score parent companies with "
                             "their subsidiaries as one).")


def _blank(v) -> bool:
    import pandas as pd

    return v is None or bool(pd.isna(v)) or str(v).strip() == ""


def group_of(ids: list[str], parents: list) -> dict[str, str]:
    """Each account's group: its top-most ancestor by ``parent_id`` (itself when it has none)."""
    parent = {a: (None if _blank(p) else str(p)) for a, p in zip(ids, parents)}
    out: dict[str, str] = {}
    for a in ids:
        seen, cur = {a}, a
        while parent.get(cur) is not None and parent[cur] not in seen:
            cur = parent[cur]
            seen.add(cur)
        out[a] = cur
    return out


def group_table(feats: pd.DataFrame) -> pd.DataFrame:
    """``account_id, group_id, group_name, group_size, group_role`` for every account of
    ``feats`` (``parent_id`` column; without it every account is its own group)."""
    import pandas as pd

    ids = feats["account_id"].astype(str).tolist()
    parents = feats["parent_id"].tolist() if "parent_id" in feats.columns else [None] * len(ids)
    gid = group_of(ids, parents)
    names = dict(zip(ids, feats["name"].astype(str))) if "name" in feats.columns else {}
    t = pd.DataFrame({"account_id": ids, "group_id": [gid[a] for a in ids]})
    size = t.groupby("group_id")["account_id"].transform("size")
    t["group_size"] = size.astype(int)
    t["group_name"] = [names.get(g, f"group {g}") for g in t["group_id"]]
    t["group_role"] = np.where(size <= 1, "", np.where(t["account_id"] == t["group_id"],
                                                       "parent", "member"))
    t["group_role"] = t["group_role"].astype("str")
    label = {a: f"{names.get(a, a)} ({a})" for a in ids}
    members = t.groupby("group_id")["account_id"].agg(list).to_dict()
    t["group_members"] = pd.Series([_others(members[g], a, label) for a, g in
                                    zip(t["account_id"], t["group_id"])], dtype="str")
    return t


def _others(members: list[str], me: str, label: dict[str, str], most: int = 8) -> str:
    """The other members of an account's group, by name and id ('' for a group of one)."""
    others = [label[m] for m in members if m != me]
    more = f" and {len(others) - most} more" if len(others) > most else ""
    return "; ".join(others[:most]) + more


def roll_up(feats: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """One row of features per group (``account_id`` = the group id), see the module docs."""
    import pandas as pd

    from kamlib.intake.features import symmetric_growth

    f = feats.assign(account_id=feats["account_id"].astype(str)).merge(
        groups[["account_id", "group_id", "group_name"]], on="account_id")
    rev = pd.to_numeric(f.get("revenue_12m", 0.0), errors="coerce").fillna(0.0)
    f = f.assign(_rev=rev).sort_values(["group_id", "_rev"], ascending=[True, False])
    g = f.groupby("group_id", sort=True)
    out = g[["group_name"]].first().rename(columns={"group_name": "name"})
    for col in SUMMED:
        if col in f.columns:
            out[col] = g[col].sum(min_count=1)
    for col in LARGEST:
        if col in f.columns:
            out[col] = g[col].max()
    for col in ("industry", "region", "country", "account_manager"):
        if col in f.columns:
            out[col] = g[col].first()  # the largest member's
    if "recency_days" in f.columns:
        out["recency_days"] = g["recency_days"].min()
    if {"margin_12m", "revenue_12m"} <= set(out.columns):
        rv = out["revenue_12m"]
        out["margin_pct_12m"] = np.where(rv != 0, out["margin_12m"] / rv.where(rv != 0, 1),
                                         np.nan)
    if {"revenue_12m", "revenue_prev_12m"} <= set(out.columns):
        out["growth_12m"] = symmetric_growth(out["revenue_12m"], out["revenue_prev_12m"])
    if {"revenue_prev_12m", "revenue_prev2_12m"} <= set(out.columns):
        out["growth_prev_12m"] = symmetric_growth(out["revenue_prev_12m"],
                                                  out["revenue_prev2_12m"])
    return out.rename_axis("account_id").reset_index()


def roll_up_assessments(assessments: pd.DataFrame | None, groups: pd.DataFrame
                        ) -> pd.DataFrame | None:
    """The managers' judgements per group: the mean of the members each assessed, the best
    ``top_rank`` any member got."""
    if assessments is None or not len(assessments):
        return assessments
    gid = dict(zip(groups["account_id"], groups["group_id"]))
    a = assessments.assign(account_id=assessments["account_id"].astype(str).map(
        lambda x: gid.get(x, x)))
    numeric = [c for c in a.columns if c not in ("manager", "account_id", "top_rank")
               and a[c].dtype.kind in "fiu"]
    agg = {c: "mean" for c in numeric}
    if "top_rank" in a.columns:
        agg["top_rank"] = "min"
    out = a.groupby(["manager", "account_id"], sort=False).agg(agg).reset_index()
    if "top_rank" in out.columns:  # two members in one manager's list: re-number 1..n
        out["top_rank"] = out.groupby("manager")["top_rank"].rank(method="first").astype("Int64")
    return out


def mark(scores: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """``scores`` (one row per account) with :data:`GROUP_COLUMNS`: ``key_group`` is the group
    id when any account of the group is key, and ``group_note`` says so for the accounts that
    are not key themselves ("in key group ...")."""
    out = scores.drop(columns=[c for c in GROUP_COLUMNS if c in scores.columns]).merge(
        groups, on="account_id", how="left")
    key_groups = set(out.loc[out["is_key"].astype(bool), "group_id"])
    in_key = out["group_id"].isin(key_groups) & out["group_size"].gt(1)
    out["key_group"] = out["group_id"].where(in_key, "").astype("str")
    note = [(f"in key group {n} ({g})" if k and not own else
             (f"key group {n} ({g}): {s} accounts" if k else ""))
            for n, g, s, k, own in zip(out["group_name"], out["group_id"], out["group_size"],
                                       in_key, out["is_key"].astype(bool))]
    out["group_note"] = note
    out["group_note"] = out["group_note"].astype("str")
    return out
