"""Who serves each key account: the owners the capacity model settles, at selection time.

The key list is only as good as the people who serve it. Right after the list is drawn, the
key and key-development accounts are given to the account managers with
:class:`kamlib.capacity.ResourcePlanner`, counting every manager's existing book (their other
accounts' hours by tier): current owners are kept unless capacity or balance makes a move worth
its handover, an at-risk account is never moved for balance alone, and every move is explained.
The account plans name this owner, and the portfolio review's resource plan, run by the same
model on the same tables and parameters, shows the same assignment with its workload.

The capacity parameters (``managers``, ``max_accounts``, ``max_hours``, ``hours_by_tier``,
``tiers``, ``switch_cost_hours``) are declared once, by the selection step; it saves them as its
``capacity_rules`` table (:class:`kamlib.capacity.CapacityRules`), which the portfolio review's
resource plan reads instead of declaring them again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kamlib import capacity
from kamlib.formatting import hours as fmt_hours
from kamlib.formatting import share as fmt_share

if TYPE_CHECKING:
    import pandas as pd

def settle(accounts: pd.DataFrame, scores: pd.DataFrame, rules: capacity.CapacityRules,
           notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``scores`` with ``owner`` (the settled owner; the current one outside the planned tiers)
    and ``owner_change`` (why a planned account changes owner, else blank), and the
    assignment itself (empty when nobody owns any account and no managers are given)."""
    import pandas as pd

    current = (accounts.set_index("account_id")["account_manager"]
               if "account_manager" in accounts.columns else pd.Series(dtype=str))
    out = scores.assign(owner=scores["account_id"].map(current).astype("str").fillna(""),
                        owner_change="")
    to_assign = capacity.planned_accounts(accounts, scores, rules.tiers)
    owned = "account_manager" in to_assign.columns and to_assign["account_manager"].notna().any()
    if not len(to_assign) or not (owned or len(rules.managers)):
        notes.append("No account owners in the accounts table and no 'managers' given: the "
                     "key accounts have no settled owner yet.")
        return out, pd.DataFrame()
    book = capacity.book_hours(accounts, scores, to_assign["account_id"], rules.hours_by_tier)
    planner = capacity.fit_beside_books(rules.planner(), to_assign, list(rules.managers) or None,
                                        book)
    a = planner.assignment_.set_index("account_id")
    settled = out["account_id"].map(a["manager"])
    out["owner"] = settled.where(settled.notna(), out["owner"]).astype("str")
    change = out["account_id"].map(a["explanation"].where(a["changed"], ""))
    out["owner_change"] = change.fillna("").astype("str")
    w = planner.workload_
    notes.append(
        f"Owners settled for {len(a)} key and key-development accounts "
        f"({fmt_hours(w['plan_hours'].sum())} h a year) beside the managers' other accounts "
        f"({fmt_hours(w['book_hours'].sum())} h): {planner.n_changes_} change(s) of owner; "
        f"busiest manager at {fmt_share(w['utilisation'].max())} of {fmt_hours(rules.max_hours)} h.")
    if planner.books_note_:
        notes.append(planner.books_note_)
    return out, planner.assignment_.reset_index(drop=True)
