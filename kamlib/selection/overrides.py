"""Management overrides: accounts put on or kept off the key list by a decision, with a reason.

Criteria make the list defensible; they do not know everything. A board may keep an account
key that the numbers rank low (a reference customer in a market being entered, a contract
about to be signed) or keep one off that the numbers rank high (a customer being exited, one
served by a partner). ``selection.include`` and ``selection.exclude`` record such decisions as
``{account_id: reason}``:

* an included account is key whatever its score; an excluded one is never key;
* both count against capacity: the list keeps its length (managers x accounts each), so each
  inclusion takes the place of the lowest-ranked account the criteria alone would have made
  key, and each exclusion frees a place for the next account by rank;
* more inclusions than places, or exclusions that leave fewer accounts than places, are a
  :class:`~kamlib.errors.ParameterError`; so is an id that is not an account, an account both
  included and excluded, and an override without a reason.

The ``selection_overrides`` table lists every override with its reason and what the criteria
alone would have said, and every account that left the list to make room.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import numpy as np

from kamlib.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

INCLUDE = "include"
EXCLUDE = "exclude"
MADE_ROOM = "made room"
"""Kinds in ``selection_overrides.override`` (the last one: an account key on the criteria
that left the list because of the others)."""

OVERRIDE_COLUMNS = ["account_id", "name", "override", "reason", "rank", "score",
                    "key_by_criteria", "is_key", "criteria_alone"]


def check_overrides(include: dict, exclude: dict, ids: list[str], n_key: int) -> None:
    """Refuse overrides the list cannot honour, naming the parameter and the fix."""
    known = set(ids)
    for name, given in (("include", include), ("exclude", exclude)):
        unknown = [str(k) for k in given if str(k) not in known]
        if unknown:
            hints = [m for u in unknown[:3]
                     for m in difflib.get_close_matches(u, ids, n=1, cutoff=0.8)]
            hint = f" Did you mean {', '.join(hints)}?" if hints else ""
            raise ParameterError(
                f"Parameter 'selection.{name}' names {len(unknown)} account id(s) that are not "
                f"in the accounts table: {', '.join(unknown[:5])}.{hint} Fix: use ids of the "
                f"accounts table (account_id), or remove them from selection.{name}.")
        blank = [str(k) for k, v in given.items() if not isinstance(v, str) or not v.strip()]
        if blank:
            raise ParameterError(
                f"Parameter 'selection.{name}' gives no reason for {', '.join(blank[:5])}. "
                f"Fix: write each as `account id: reason`, e.g. `{blank[0]}: \"reference "
                "customer in the new market\"`; the reason is shown to the board.")
    both = sorted(set(map(str, include)) & set(map(str, exclude)))
    if both:
        raise ParameterError(
            f"Account(s) {', '.join(both[:5])} are both in selection.include and in "
            "selection.exclude. Fix: keep each account in one of them.")
    if len(include) > n_key:
        raise ParameterError(
            f"Parameter 'selection.include' puts {len(include)} accounts on a key list of "
            f"{n_key} places (overrides count against capacity). Fix: include at most {n_key} "
            "accounts, or make room: raise n_key_accounts, or n_key_account_managers or "
            "accounts_per_manager.")
    if len(ids) - len(exclude) < n_key:
        raise ParameterError(
            f"Parameter 'selection.exclude' leaves {len(ids) - len(exclude)} accounts for a key "
            f"list of {n_key}. Fix: exclude fewer accounts or lower n_key_accounts.")


def key_mask(ids: np.ndarray, rank: np.ndarray, n_key: int, include: dict,
             exclude: dict) -> np.ndarray:
    """Which accounts are key: the included ones, then the best-ranked others that are not
    excluded, until the list holds ``n_key``."""
    inc = np.isin(ids, [str(k) for k in include])
    exc = np.isin(ids, [str(k) for k in exclude])
    key = inc.copy()
    free = n_key - int(inc.sum())
    candidates = np.flatnonzero(~inc & ~exc)
    best = candidates[np.argsort(rank[candidates], kind="stable")[:free]]
    key[best] = True
    return key


def overrides_table(scores: pd.DataFrame, include: dict, exclude: dict, n_key: int
                    ) -> pd.DataFrame:
    """``selection_overrides``: every override and every account that made room for one."""
    import pandas as pd

    s = scores
    kind = pd.Series("", index=s.index, dtype=object)
    reason = pd.Series("", index=s.index, dtype=object)
    ids = s["account_id"].astype(str)
    for name, given in ((INCLUDE, include), (EXCLUDE, exclude)):
        hit = ids.isin([str(k) for k in given])
        kind[hit] = name
        reason[hit] = ids[hit].map({str(k): str(v).strip() for k, v in given.items()})
    made_room = s["key_by_criteria"] & ~s["is_key"] & kind.eq("")
    kind[made_room] = MADE_ROOM
    reason[made_room] = "key on the criteria, left the list to make room for the overrides"
    rows = s.assign(override=kind, reason=reason)[kind.ne("").to_numpy()]
    said = [f"rank {r} of {len(s)}: " + ("key" if k else "not key") + " on the criteria alone"
            for r, k in zip(rows["rank"], rows["key_by_criteria"])]
    out = rows.assign(criteria_alone=said)[OVERRIDE_COLUMNS]
    order = {INCLUDE: 0, EXCLUDE: 1, MADE_ROOM: 2}
    return (out.assign(_o=out["override"].map(order)).sort_values(["_o", "rank"])
            .drop(columns="_o").astype({"override": "str", "reason": "str",
                                        "criteria_alone": "str"}).reset_index(drop=True))
