"""What to do with each segment, and how the portfolio is balanced.

The portfolio rule: maximise Stars, minimise Laggards, and give the long tail (the many small,
non-key accounts) a serving model that costs less than a key-account team.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.formatting import part_of, share
from kamlib.vocabulary import (
    KEY_LAGGARD_STRATEGY,
    KEY_SERVING_MODEL,
    LAGGARD,
    NO_PURCHASES_ACTIONS,
    NO_PURCHASES_STRATEGY,
    NO_SERVING_MODEL,
    NOT_SEGMENTED,
    NOT_SEGMENTED_STRATEGY,
    SEGMENT_ACTIONS,
    SEGMENT_LABELS,
    SEGMENT_POSITIONS,
    SEGMENT_SERVING_MODELS,
    SEGMENT_STRATEGIES,
    SEGMENTS,
    STAR,
)

SERVING_MODELS = SEGMENT_SERVING_MODELS
"""Serving model for non-key accounts by segment (the vocabulary's)."""

__all__ = ["KEY_SERVING_MODEL", "NOT_SEGMENTED", "SEGMENT_ACTIONS", "SEGMENT_STRATEGIES",
           "SERVING_MODELS", "assign_strategy", "portfolio_headline", "portfolio_kpis",
           "segment_summary", "strategy_table"]


def _is_key(df: pd.DataFrame) -> pd.Series:
    if "is_key" not in df:
        return pd.Series(False, index=df.index)
    return df["is_key"].astype(object).where(df["is_key"].notna(), False).astype(bool)


def assign_strategy(segments: pd.DataFrame) -> pd.DataFrame:
    """Add ``strategy``, ``actions`` and ``segment_serving_model`` to a segments table.

    Key accounts (``is_key``) keep the key-account team whatever their segment; a key account
    that is a Laggard is flagged in ``strategy`` for a review of its key status.

    Parameters
    ----------
    segments : DataFrame
        At least ``segment`` and ``is_key``.

    Returns
    -------
    DataFrame
        A copy with the three columns added.
    """
    out = segments.copy()
    seg = out["segment"]
    is_key = _is_key(out)
    out["strategy"] = seg.map(SEGMENT_STRATEGIES).fillna(NO_PURCHASES_STRATEGY)
    out.loc[is_key & (seg == LAGGARD), "strategy"] = KEY_LAGGARD_STRATEGY
    out["actions"] = seg.map(SEGMENT_ACTIONS).fillna(NO_PURCHASES_ACTIONS)
    out["segment_serving_model"] = np.where(
        is_key, KEY_SERVING_MODEL, seg.map(SEGMENT_SERVING_MODELS).fillna(NO_SERVING_MODEL))
    return out


def segment_summary(segments: pd.DataFrame) -> pd.DataFrame:
    """Portfolio KPIs per segment.

    Parameters
    ----------
    segments : DataFrame
        The ``segments`` table: segment, revenue, margin, potential, growth, value, is_key.

    Returns
    -------
    DataFrame
        One row per segment (Star, Developing, Core, Laggard, then Not segmented when some
        accounts had no history, then Total): n_accounts, share_accounts, revenue,
        share_revenue, margin, share_margin, potential, n_key, share_key (of all key accounts),
        key_accounts (ids of up to 10, largest first), growth_median, value_median, strategy.
    """
    df = segments.copy()
    df["segment"] = df["segment"].astype(object).where(df["segment"].notna(), NOT_SEGMENTED)
    is_key = _is_key(df)
    df["_key"] = is_key
    order = list(SEGMENTS) + ([NOT_SEGMENTED] if (df["segment"] == NOT_SEGMENTED).any() else [])
    g = df.groupby("segment", sort=False)
    out = pd.DataFrame({
        "n_accounts": g.size(),
        "revenue": g["revenue"].sum(),
        "margin": g["margin"].sum(),
        "potential": g["potential"].sum(min_count=1),
        "n_key": g["_key"].sum(),
        "value_median": g["value"].median(),
        "growth_median": g["growth"].median(),
    }).reindex(order)
    out[["n_accounts", "n_key"]] = out[["n_accounts", "n_key"]].fillna(0).astype(int)
    out[["revenue", "margin"]] = out[["revenue", "margin"]].fillna(0.0)

    def share(col: str) -> pd.Series:
        tot = out[col].sum()
        return out[col] / tot if tot else out[col] * np.nan

    out["share_accounts"] = share("n_accounts")
    out["share_revenue"] = share("revenue")
    out["share_margin"] = share("margin")
    out["share_key"] = share("n_key")
    keys = (
        df[df["_key"]].sort_values("revenue", ascending=False)
        .groupby("segment")["account_id"].agg(lambda s: ", ".join(s.astype(str).head(10)))
    )
    out["key_accounts"] = keys.reindex(out.index).fillna("")
    out["strategy"] = [SEGMENT_STRATEGIES.get(s, NOT_SEGMENTED_STRATEGY) for s in out.index]
    out.index.name = "segment"
    out = out.reset_index()
    out.insert(1, "label", out["segment"].map(SEGMENT_LABELS).fillna(out["segment"]))
    total = {
        "segment": "Total", "label": "Total", "n_accounts": int(out["n_accounts"].sum()),
        "revenue": out["revenue"].sum(), "margin": out["margin"].sum(),
        "potential": out["potential"].sum(min_count=1), "n_key": int(out["n_key"].sum()),
        "value_median": df["value"].median(), "growth_median": df["growth"].median(),
        "share_accounts": 1.0, "share_revenue": 1.0 if out["revenue"].sum() else np.nan,
        "share_margin": 1.0 if out["margin"].sum() else np.nan,
        "share_key": 1.0 if out["n_key"].sum() else np.nan, "key_accounts": "", "strategy": "",
    }
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    cols = ["segment", "label", "n_accounts", "share_accounts", "revenue", "share_revenue",
            "margin", "share_margin", "potential", "n_key", "share_key", "key_accounts",
            "value_median", "growth_median", "strategy"]
    return out[cols]


def portfolio_kpis(summary: pd.DataFrame) -> dict[str, float]:
    """Headline numbers of the portfolio rule (maximise Stars, minimise Laggards).

    Returns a dict: star_share_revenue, star_share_accounts, laggard_share_revenue,
    laggard_share_accounts, key_in_stars (share of key accounts that are Stars),
    key_in_laggards.
    """
    s = summary.set_index("segment")

    def get(seg: str, col: str) -> float:
        return float(s.at[seg, col]) if seg in s.index and pd.notna(s.at[seg, col]) else 0.0

    return {
        "star_share_revenue": get(STAR, "share_revenue"),
        "star_share_accounts": get(STAR, "share_accounts"),
        "laggard_share_revenue": get(LAGGARD, "share_revenue"),
        "laggard_share_accounts": get(LAGGARD, "share_accounts"),
        "key_in_stars": get(STAR, "share_key"),
        "key_in_laggards": get(LAGGARD, "share_key"),
    }


def strategy_table() -> pd.DataFrame:
    """Segment, what defines it, strategy, what it means in practice, serving model (non-key)."""
    return pd.DataFrame({
        "segment": [SEGMENT_LABELS[s] for s in SEGMENTS],
        "position": [SEGMENT_POSITIONS[s] for s in SEGMENTS],
        "strategy": [SEGMENT_STRATEGIES[s] for s in SEGMENTS],
        "in practice": [SEGMENT_ACTIONS[s] for s in SEGMENTS],
        "serving model (non-key accounts)": [SEGMENT_SERVING_MODELS[s] for s in SEGMENTS],
    })


SEGMENTED_POPULATION = "segmented accounts"
"""The whole a segment's share of accounts is of (named wherever the share is stated)."""


def portfolio_headline(summary: pd.DataFrame, value_label: str = "revenue") -> str:
    """Two sentences on the balance of the portfolio, from a segment summary (Markdown)."""
    s = summary.set_index("segment")

    def row(seg: str) -> pd.Series | None:
        return s.loc[seg] if seg in s.index else None

    total = sum(int(s.loc[g, "n_accounts"]) for g in SEGMENTS if g in s.index)
    parts = []
    for seg in SEGMENTS:
        r = row(seg)
        if r is None or not r["n_accounts"]:
            parts.append(f"no {SEGMENT_LABELS[seg]}")
            continue
        parts.append(f"**{SEGMENT_LABELS[seg]}**: "
                     f"{part_of(r['n_accounts'], total, SEGMENTED_POPULATION)} with "
                     f"{share(r['share_revenue'])} of revenue and {share(r['share_margin'])} "
                     "of margin")
    text = "; ".join(parts) + "."
    n_key = int(s.loc["Total", "n_key"]) if "Total" in s.index else 0
    if n_key:
        spread = ", ".join(f"{int(s.loc[seg, 'n_key'])} {SEGMENT_LABELS[seg]}"
                           for seg in SEGMENTS if seg in s.index and s.loc[seg, "n_key"])
        text += f" The {n_key} key accounts split into {spread}."
    return text
