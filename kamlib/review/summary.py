"""What the executive summary says: its tables, its numbers and its sentences, by which rule.

* **Portfolio at a glance** -- accounts, key accounts and their share of revenue and margin;
  the split into Stars, Developing, Core and Laggards (accounts against money).
* **Key accounts** -- selection rank and score, segment, revenue and its trend, CLV with its
  interval, health, owner.
* **Where to invest** -- key accounts in segments with an *invest* posture (Stars, then
  Developing), ranked by their investment ceiling from the CLV step (or CLV, or revenue when
  CLV is missing): the most the account is worth spending on a year.
* **Board decisions** -- management's overrides of the selection (each with its reason and what
  the criteria alone said) and the largest accounts by revenue and by CLV that are not key,
  each with why (:func:`selection_decisions`).
* **Biggest risks** -- :mod:`kamlib.review.risks`.
* **Resource plan** and **plan review**, when those were made.

Every input is optional: a missing table leaves its part empty (the page then says which step
produces it). The page itself is laid out by :mod:`kamlib.report.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib import formatting
from kamlib.key_accounts import key_accounts as find_key_accounts
from kamlib.review.audit import PlanReview
from kamlib.review.economics import economics_facts
from kamlib.review.plan import data_date
from kamlib.review.risks import first_column, top_risks, unchecked_sources
from kamlib.vocabulary import INVEST_SEGMENTS, LAGGARD, RED, SEGMENT_LABELS, SEGMENT_STRATEGIES, \
    SEGMENTS, STAR, TIERS

HEALTH_SCORE_COLUMNS: tuple[str, ...] = ("health", "health_score", "score")
HEALTH_BAND_COLUMNS: tuple[str, ...] = ("band", "health_band", "rag")
"""Where a health table may hold its score and band, first found wins."""


def key_account_table(features: pd.DataFrame | None = None, scores: pd.DataFrame | None = None,
                      key_accounts: pd.DataFrame | None = None,
                      segments: pd.DataFrame | None = None, clv: pd.DataFrame | None = None,
                      health: pd.DataFrame | None = None,
                      assignment: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per key account with what the summary shows about it (best rank first).

    The key accounts are decided by :mod:`kamlib.key_accounts` (no revenue fallback here:
    without a selection the page says so). Returns an empty frame when there are none.
    """
    found = find_key_accounts(key_accounts, scores)
    if not found.from_selection:
        return pd.DataFrame()
    ka = found.rows.copy()
    ka = ka.drop(columns=[c for c in ka.columns if c not in (
        "account_id", "rank", "score", "p_key", "main_drivers")])
    ka["account_id"] = ka["account_id"].astype("str")
    if features is not None:
        fcols = [c for c in ("account_id", "name", "industry", "account_manager", "revenue_12m",
                             "revenue_prev_12m", "margin_12m", "growth_12m")
                 if c in features.columns]
        ka = ka.merge(features[fcols], on="account_id", how="left")
    if segments is not None and "segment" in segments.columns:
        ka = ka.merge(segments[["account_id", "segment"]], on="account_id", how="left")
    if clv is not None:
        ccols = [c for c in ("account_id", "clv", "clv_low", "clv_high", "investment_ceiling",
                             "p_alive") if c in clv.columns]
        ka = ka.merge(clv[ccols], on="account_id", how="left")
    hs = first_column(health, HEALTH_SCORE_COLUMNS)
    hb = first_column(health, HEALTH_BAND_COLUMNS)
    if hs or hb:
        h = health[["account_id", *[c for c in (hs, hb) if c]]].rename(
            columns={hs: "health", hb: "health_band"} if hs else {hb: "health_band"})
        ka = ka.merge(h.drop_duplicates("account_id"), on="account_id", how="left")
    if assignment is not None and "manager" in assignment.columns:
        ka = ka.merge(assignment[["account_id", "manager"]], on="account_id", how="left")
    if "revenue_12m" in ka.columns and "revenue_prev_12m" in ka.columns:
        prev = ka["revenue_prev_12m"].where(ka["revenue_prev_12m"] > 0)
        ka["revenue_change"] = ka["revenue_12m"] / prev - 1
    sort = "rank" if "rank" in ka.columns else ("score" if "score" in ka.columns else None)
    if sort:
        ka = ka.sort_values(sort, ascending=sort == "rank", kind="stable")
    return ka.reset_index(drop=True)


BIG_ACCOUNTS = 10
"""How many of the largest accounts (by revenue, by CLV) the "big but not key" list looks at."""

OVERRIDE_KINDS = ("include", "exclude", "made room")
"""``selection_scores.override`` values, and the kind of the accounts that made room."""


def _criteria_alone(scores: pd.DataFrame) -> list[str]:
    n = len(scores)
    by_criteria = (scores["key_by_criteria"] if "key_by_criteria" in scores.columns
                   else scores["is_key"]).astype(bool)
    return [f"rank {r} of {n}: {'key' if k else 'not key'} on the criteria alone"
            for r, k in zip(scores["rank"], by_criteria)]


def selection_decisions(scores: pd.DataFrame | None, clv: pd.DataFrame | None = None,
                        n: int = BIG_ACCOUNTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the board must not be surprised by: the overrides and the big accounts not key.

    Returns
    -------
    overrides : DataFrame
        ``account_id, name, override, reason, criteria_alone, is_key``: every inclusion and
        exclusion management made, and every account that left the list to make room.
    big_not_key : DataFrame
        ``account_id, by, name, rank, revenue_12m, clv, why``: of the ``n`` largest accounts by
        revenue and the ``n`` largest by CLV, those that are not key (an account on both lists
        once, ``by`` naming its places, e.g. "revenue #1, CLV #2"), with why they are not key.
    """
    empty = pd.DataFrame()
    if scores is None or "account_id" not in scores.columns or "rank" not in scores.columns:
        return empty, empty
    s = scores.assign(account_id=scores["account_id"].astype(str))
    is_key = find_key_accounts(None, s).ids
    s["is_key"] = s["account_id"].isin(is_key)
    s["criteria_alone"] = _criteria_alone(s)
    overrides = empty
    if "override" in s.columns:
        kind = s["override"].fillna("").astype(str)
        made_room = (s["key_by_criteria"].astype(bool) & ~s["is_key"] & kind.eq("")
                     if "key_by_criteria" in s.columns else kind.eq("x"))
        kind = kind.where(~made_room, "made room")
        reason = s.get("override_reason", pd.Series("", index=s.index)).fillna("").astype(str)
        reason = reason.where(~made_room, "key on the criteria, left the list to make room "
                                          "for the overrides")
        rows = s.assign(override=kind, reason=reason)[kind.isin(OVERRIDE_KINDS)]
        order = rows["override"].map({k: i for i, k in enumerate(OVERRIDE_KINDS)})
        overrides = (rows.assign(_o=order).sort_values(["_o", "rank"], kind="stable")[
            ["account_id", "name", "override", "reason", "criteria_alone", "is_key"]]
            .reset_index(drop=True))
    if clv is not None and "clv" in clv.columns:
        s = s.merge(clv[["account_id", "clv"]].assign(account_id=clv["account_id"].astype(str)),
                    on="account_id", how="left")
    big = []
    for by, col in (("revenue", "revenue_12m"), ("CLV", "clv")):
        if col not in s.columns:
            continue
        top = s[s[col].notna()].sort_values([col, "account_id"], ascending=[False, True],
                                            kind="stable").head(n)
        top = top.assign(by=[f"{by} #{i}" for i in range(1, len(top) + 1)])
        big.append(top[~top["is_key"]])
    if not big:
        return overrides, empty
    found = pd.concat(big, ignore_index=True)
    why = found["why_not_key"] if "why_not_key" in found.columns else pd.Series(
        [f"rank {r} (not on the list)" for r in found["rank"]], index=found.index)
    found["why"] = why.where(why.fillna("").astype(str).ne(""), found["criteria_alone"])
    cols = [c for c in ("name", "rank", "revenue_12m", "clv", "why") if c in found.columns]
    merged = found.groupby("account_id", sort=False).agg(
        by=("by", ", ".join), **{c: (c, "first") for c in cols}).reset_index()
    return overrides, merged


def investment_priorities(table: pd.DataFrame, n: int = 6) -> pd.DataFrame:
    """Key accounts to invest in: invest-posture segments, by investment ceiling.

    Returns
    -------
    DataFrame
        Up to ``n`` rows: account_id, name, segment, the measure used (``basis``) and its
        ``amount``; Stars before Developing at equal amount.
    """
    if table.empty:
        return pd.DataFrame()
    basis = next((c for c in ("investment_ceiling", "clv", "revenue_12m") if c in table.columns
                  and table[c].notna().any()), None)
    if basis is None:
        return pd.DataFrame()
    t = table
    if "segment" in t.columns:
        t = t[t["segment"].isin(INVEST_SEGMENTS)]
    t = t.assign(basis=basis, amount=t[basis]).dropna(subset=["amount"])
    t = t.sort_values("amount", ascending=False, kind="stable").head(n)
    return t.reset_index(drop=True)


def segment_overview(segments: pd.DataFrame | None, features: pd.DataFrame | None,
                     clv: pd.DataFrame | None, key_ids: set[str]) -> pd.DataFrame:
    """Accounts, key accounts and money per segment, with the segment's strategy (``posture``,
    the same text as the ``strategy`` column of ``segments``)."""
    if segments is None or "segment" not in segments.columns:
        return pd.DataFrame()
    df = segments[["account_id", "segment"]].copy()
    if features is not None:
        df = df.merge(features[[c for c in ("account_id", "revenue_12m", "margin_12m")
                                if c in features.columns]], on="account_id", how="left")
    if clv is not None and "clv" in clv.columns:
        df = df.merge(clv[["account_id", "clv"]], on="account_id", how="left")
    df["is_key"] = df["account_id"].isin(key_ids)
    g = df.groupby("segment")
    out = pd.DataFrame({"accounts": g.size(), "key_accounts": g["is_key"].sum()})
    for c in ("revenue_12m", "margin_12m", "clv"):
        if c in df.columns:
            out[c] = g[c].sum()
    if "revenue_12m" in out.columns:
        out["revenue_share"] = out["revenue_12m"] / out["revenue_12m"].clip(lower=0).sum()
    out = out.reindex([s for s in SEGMENTS if s in out.index] +
                      [s for s in out.index if s not in SEGMENTS])
    out["posture"] = [SEGMENT_STRATEGIES.get(s, "") for s in out.index]
    return out.rename_axis("segment").reset_index()


def tier_split(assignment: pd.DataFrame) -> str:
    """' (25 key, 28 key-development)': the tiers behind the resource plan's account count."""
    if "tier" not in assignment.columns or assignment.empty:
        return ""
    n = assignment["tier"].value_counts()
    order = [t for t in TIERS if t in n.index]
    order += [t for t in n.index if t not in order]
    return " (" + ", ".join(f"{int(n[t])} {t}" for t in order) + ")"


def segment_count_note(segments: pd.DataFrame | None, features: pd.DataFrame | None) -> str:
    """Why the segment counts do not add up to the active accounts (lapsed and old accounts).

    The headline counts accounts that bought in the last twelve months; segmentation also
    places accounts that bought only before that, and leaves out those with no history to judge.
    Without this sentence the two numbers on one page look inconsistent.
    """
    sg, f = segments, features
    if sg is None or f is None or "segment" not in sg.columns or "revenue_12m" not in f.columns:
        return ""
    df = sg[["account_id", "segment"]].merge(f[["account_id", "revenue_12m"]], on="account_id", how="left")
    placed = df["segment"].notna()
    active = df["revenue_12m"].fillna(0) > 0
    lapsed = int((placed & ~active).sum())
    left_out = int((~placed).sum())
    if not lapsed and not left_out:
        return ""
    parts = [f"The segments hold {formatting.count(placed.sum())} accounts: the "
             f"{formatting.count((placed & active).sum())} that bought in the last twelve months"]
    if lapsed:
        by = df[placed & ~active]["segment"].value_counts()
        where = ", ".join(f"{n} among {SEGMENT_LABELS.get(seg, seg)}" for seg, n in by.items())
        parts[-1] += f" and {formatting.count(lapsed)} that bought only before then ({where})"
    text = parts[0] + "."
    if left_out:
        text += (f" {formatting.count(left_out, 'account')} without purchases in the "
                 "period the segmentation looks at " + ("is" if left_out == 1 else "are") +
                 " not segmented.")
    return text


def portfolio_kpis(features: pd.DataFrame | None, table: pd.DataFrame,
                   currency: str = "") -> list[tuple[str, str]]:
    """Headline numbers as (label, value) pairs."""
    k: list[tuple[str, str]] = []
    f = features
    if f is not None:
        active = int((f["revenue_12m"] > 0).sum()) if "revenue_12m" in f.columns else len(f)
        k.append(("active accounts (12 m)", formatting.count(active)))
    if not table.empty:
        k.append(("key accounts", formatting.count(len(table))))
    if f is not None and "revenue_12m" in f.columns:
        total = f["revenue_12m"].clip(lower=0).sum()
        k.append(("revenue, last 12 months", formatting.money(total, currency)))
        if not table.empty and total > 0:
            share = table["revenue_12m"].clip(lower=0).sum() / total
            k.append(("key accounts' share of revenue", formatting.share(share)))
        if "margin_12m" in f.columns and not table.empty and f["margin_12m"].sum() > 0:
            k.append(("key accounts' share of margin", formatting.share(
                table["margin_12m"].sum() / f["margin_12m"].clip(lower=0).sum())))
    if "clv" in table.columns and table["clv"].notna().any():
        k.append(("CLV of the key accounts", formatting.money(table["clv"].sum(), currency)))
    if "health_band" in table.columns:
        k.append(("key accounts in the red",
                  formatting.count((table["health_band"].astype(str).str.lower() == RED).sum())))
    return k


def lead_text(features: pd.DataFrame | None, table: pd.DataFrame, seg: pd.DataFrame) -> str:
    """The page's first sentences: how much the key accounts and the Stars carry."""
    parts = []
    f = features
    if not table.empty and f is not None and "revenue_12m" in f.columns:
        total = f["revenue_12m"].clip(lower=0).sum()
        share = table["revenue_12m"].clip(lower=0).sum() / total if total else np.nan
        active = int((f["revenue_12m"] > 0).sum())
        parts.append(f"Of {formatting.count(active)} accounts that bought in the last twelve "
                     f"months, {len(table)} are key accounts; together they bring "
                     f"{formatting.share(share)} of revenue.")
    if not seg.empty and "revenue_share" in seg.columns:
        s = seg.set_index("segment")
        if STAR in s.index:
            parts.append(f"The {int(s.at[STAR, 'accounts'])} {SEGMENT_LABELS[STAR]} hold "
                         f"{formatting.share(s.at[STAR, 'revenue_share'])} of revenue")
            if LAGGARD in s.index:
                parts[-1] += (f"; the {int(s.at[LAGGARD, 'accounts'])} {SEGMENT_LABELS[LAGGARD]}, "
                              f"{formatting.share(s.at[LAGGARD, 'revenue_share'])}.")
            else:
                parts[-1] += "."
    return " ".join(parts)


def resource_text(assignment: pd.DataFrame, workload: pd.DataFrame) -> str:
    """The resource plan in one sentence: accounts, managers, hours, utilisation, changes."""
    a, w = assignment, workload
    changes = int(a["changed"].sum())
    return (f"{len(a)} accounts{tier_split(a)} shared among {len(w)} account managers, "
            f"{formatting.hours(w['hours'].sum())} hours a year in all (utilisation "
            f"{formatting.share(w['utilisation'].min())}–"
            f"{formatting.share(w['utilisation'].max())} of capacity). "
            f"{changes} change{'s' if changes != 1 else ''} of owner"
            f"{' proposed' if changes else ': every current relationship is kept'}.")


def proposed_moves(assignment: pd.DataFrame) -> pd.DataFrame:
    """The proposed changes of owner: account_id, name, previous_manager, manager and why."""
    moved = assignment[assignment["changed"]].reset_index(drop=True)
    why = (moved["explanation"] if "explanation" in moved.columns
           else moved["reason"].str.replace("moved: ", "", regex=False))
    return moved[[c for c in ("account_id", "name", "previous_manager", "manager")
                  if c in moved.columns]].assign(why=why)


def overdue_actions(review: PlanReview, features: pd.DataFrame | None,
                    n: int = 8) -> pd.DataFrame:
    """The last plan's most overdue actions, with the account's name where it is known."""
    late = review.actions[review.actions["review"] == "overdue"].sort_values(
        "days_overdue", ascending=False).head(n)
    names = (dict(zip(features["account_id"], features["name"]))
             if features is not None and "name" in features.columns else {})
    return pd.DataFrame({"account": late["account_id"].map(lambda a: names.get(a, a)).to_numpy(),
                         "action": late["action"].to_numpy(), "owner": late["owner"].to_numpy(),
                         "days_overdue": late["days_overdue"].to_numpy()})


@dataclass
class SummaryFacts:
    """Everything the executive summary states (see the module docstring); laid out by
    :func:`kamlib.report.summary.summary_page`.

    Attributes
    ----------
    currency : str
        Shown after money amounts ("" = none).
    as_of : Timestamp or None
        The data date.
    key_accounts, segments, investments, risks : DataFrame
        :func:`key_account_table`, :func:`segment_overview`, :func:`investment_priorities`,
        :func:`kamlib.review.risks.top_risks` (empty when their inputs are missing).
    lead, segment_note : str
        :func:`lead_text`, :func:`segment_count_note`.
    kpis : list of (label, value)
        :func:`portfolio_kpis`.
    unchecked : list of str
        Warning signs that could not be looked for (their tables are missing).
    resources : str or None
        :func:`resource_text`; None without a resource plan.
    moves : DataFrame or None
        :func:`proposed_moves`.
    review : PlanReview or None
        The plan review, when a baseline was given.
    overdue : DataFrame or None
        :func:`overdue_actions`.
    overrides, big_not_key : DataFrame
        :func:`selection_decisions`: management's overrides, the big accounts that are not key.
    decisions_known : bool
        Whether the selection is in the run (the page then always states both, even "none").
    economics : dict or None
        :func:`kamlib.review.economics.economics_facts`; None without net values.
    """

    currency: str = ""
    as_of: pd.Timestamp | None = None
    key_accounts: pd.DataFrame = field(default_factory=pd.DataFrame)
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    investments: pd.DataFrame = field(default_factory=pd.DataFrame)
    risks: pd.DataFrame = field(default_factory=pd.DataFrame)
    lead: str = ""
    segment_note: str = ""
    kpis: list[tuple[str, str]] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    resources: str | None = None
    moves: pd.DataFrame | None = None
    review: PlanReview | None = None
    overdue: pd.DataFrame | None = None
    overrides: pd.DataFrame = field(default_factory=pd.DataFrame)
    big_not_key: pd.DataFrame = field(default_factory=pd.DataFrame)
    decisions_known: bool = False
    economics: dict | None = None

    @property
    def review_too_early(self) -> bool:
        """The new data ends where the reviewed plan began: nothing can have happened yet."""
        rv = self.review
        return (rv is not None and rv.plan_date is not None and rv.as_of is not None
                and rv.as_of <= rv.plan_date)


def summary_facts(features: pd.DataFrame | None = None, scores: pd.DataFrame | None = None,
                  key_accounts: pd.DataFrame | None = None,
                  segments: pd.DataFrame | None = None, clv: pd.DataFrame | None = None,
                  health: pd.DataFrame | None = None, red_flags: pd.DataFrame | None = None,
                  assignment: pd.DataFrame | None = None, workload: pd.DataFrame | None = None,
                  review: PlanReview | None = None, *, currency: str = "",
                  as_of=None, serving_models: pd.DataFrame | None = None) -> SummaryFacts:
    """What the executive summary states, from a run's tables (every one optional).

    Parameters
    ----------
    features, scores, key_accounts, segments, clv : DataFrame, optional
        Tables ``account_features``, ``selection_scores``, ``key_accounts``, ``segments``,
        ``clv``.
    health, red_flags : DataFrame, optional
        The account plans' health scores (account_id, health, band) and red flags
        (account_id, flag).
    assignment, workload : DataFrame, optional
        The resource plan (:class:`kamlib.review.resources.ResourcePlanner` results).
    review : PlanReview, optional
        The plan review, when a baseline was given.
    currency : str
        Shown after money amounts.
    as_of : date-like, optional
        The data date (defaults to ``features.as_of``).
    serving_models : DataFrame, optional
        The segmentation step's serving-model economics.
    """
    table = key_account_table(features, scores, key_accounts, segments, clv, health, assignment)
    key_ids = set(table["account_id"]) if not table.empty else set()
    seg = segment_overview(segments, features, clv, key_ids)
    has_plan = assignment is not None and workload is not None
    overrides, big_not_key = selection_decisions(scores, clv)
    return SummaryFacts(
        overrides=overrides, big_not_key=big_not_key,
        decisions_known=scores is not None and "rank" in scores.columns,
        currency=currency,
        as_of=pd.Timestamp(as_of) if as_of is not None else data_date(features),
        key_accounts=table, segments=seg, investments=investment_priorities(table),
        risks=top_risks(table, red_flags, review), lead=lead_text(features, table, seg),
        segment_note=segment_count_note(segments, features),
        kpis=portfolio_kpis(features, table, currency),
        unchecked=unchecked_sources(health, red_flags, clv),
        resources=resource_text(assignment, workload) if has_plan else None,
        moves=proposed_moves(assignment) if has_plan else None, review=review,
        overdue=overdue_actions(review, features) if review is not None else None,
        economics=economics_facts(clv, serving_models, key_ids))
