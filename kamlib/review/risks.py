"""The executive summary's risk rules: which key accounts are most at risk, and why.

Per key account, the warning signs found by earlier steps: a red health score, relationship red
flags, falling revenue, a low probability of still being active, a missed objective. Each sign
scores points (red health 3, falling revenue 2, low p_alive 2, missed objective 1, each red flag
1, at most 3 from flags); accounts are ranked by points times revenue at stake, so a big account
with one serious sign outranks a small one with many.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kamlib.formatting import share
from kamlib.vocabulary import RED, RED_FLAGS

if TYPE_CHECKING:
    from kamlib.review.audit import PlanReview

FLAG_TEXT_COLUMNS: tuple[str, ...] = ("flag", "red_flag", "label", "detail", "description")
"""Where a red-flag table may hold its flag code, first found wins."""


def first_column(df: pd.DataFrame | None, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` that ``df`` has (None without a table or a match)."""
    if df is None:
        return None
    return next((c for c in names if c in df.columns), None)


def flag_heading(code: object) -> str:
    """A red-flag code (``no_decider``) as the heading the account plans use."""
    text = str(code)
    if text in RED_FLAGS:
        return RED_FLAGS[text]
    return text.replace("_", " ").capitalize() if "_" in text else text


def top_risks(table: pd.DataFrame, red_flags: pd.DataFrame | None = None,
              review: PlanReview | None = None, n: int = 8, p_alive_below: float = 0.6,
              revenue_drop: float = -0.10) -> pd.DataFrame:
    """The key accounts most at risk and why (see the module docstring for the points).

    Parameters
    ----------
    table : DataFrame
        :func:`kamlib.review.summary.key_account_table`.
    red_flags : DataFrame, optional
        The account plans' ``plan_red_flags``.
    review : PlanReview, optional
        The plan review (missed objectives).

    Returns
    -------
    DataFrame
        account_id, name, points, at_stake (revenue_12m), signs (a readable list), sorted by
        points × revenue at stake; accounts without any sign are left out.
    """
    if table.empty:
        return pd.DataFrame(columns=["account_id", "name", "points", "at_stake", "signs"])
    signs: dict[str, list[str]] = {a: [] for a in table["account_id"]}
    points = dict.fromkeys(signs, 0)

    def add(acc, text, pts):
        if acc in signs:
            signs[acc].append(text)
            points[acc] += pts

    for r in table.itertuples(index=False):
        d = r._asdict()
        band = str(d.get("health_band", "")).lower()
        if band == RED:
            score = d.get("health")
            add(r.account_id, f"health {score:.0f}/100 (red)" if score is not None
                and not pd.isna(score) else "health red", 3)
        ch = d.get("revenue_change")
        if ch is not None and not pd.isna(ch) and ch <= revenue_drop:
            add(r.account_id, f"revenue {share(ch, signed=True)} on the year before", 2)
        pa = d.get("p_alive")
        if pa is not None and not pd.isna(pa) and pa < p_alive_below:
            add(r.account_id, f"only {share(pa)} likely still active", 2)
    ftext = first_column(red_flags, FLAG_TEXT_COLUMNS)
    if ftext:
        # Falling revenue is judged above from the numbers; the plans' flag would repeat it.
        rf = red_flags[red_flags[ftext].astype(str) != "revenue_declining"]
        for acc, flags in rf.groupby("account_id")[ftext]:
            flags = [flag_heading(f) for f in flags.dropna()]
            if flags:
                add(str(acc), "; ".join(flags[:3]) + (f" (+{len(flags) - 3})" if len(flags) > 3
                                                       else ""), min(len(flags), 3))
    if review is not None and len(getattr(review, "objectives", [])):
        missed = review.objectives[review.objectives["review"] == "missed"]
        for acc, g in missed.groupby("account_id"):
            add(str(acc), f"missed {', '.join(map(str, g['objective']))} target", 1)
    out = table[["account_id"] + [c for c in ("name", "segment", "revenue_12m")
                                  if c in table.columns]].copy()
    out["points"] = out["account_id"].map(points)
    out["signs"] = out["account_id"].map(lambda a: "; ".join(signs[a]))
    out["at_stake"] = out["revenue_12m"].clip(lower=0) if "revenue_12m" in out.columns else 1.0
    out = out[out["points"] > 0]
    out = out.assign(_rank=out["points"] * (out["at_stake"].fillna(0) + 1)).sort_values(
        ["_rank", "account_id"], ascending=[False, True], kind="stable")
    return out.drop(columns="_rank").head(n).reset_index(drop=True)


def unchecked_sources(health: pd.DataFrame | None, red_flags: pd.DataFrame | None,
                      clv: pd.DataFrame | None) -> list[str]:
    """The warning signs that could not be looked for, and the step that would give them."""
    sources = []
    if health is None:
        sources.append("health scores (40_account_plans)")
    if red_flags is None:
        sources.append("relationship red flags (40_account_plans)")
    if clv is None:
        sources.append("CLV (20_clv)")
    return sources
