"""The portfolio's history: one row per run, carried from run to run through the baseline.

Each run adds its row to the baseline's ``portfolio_history`` (a run without a baseline
starts the history): the data date, the key accounts, the revenue share of Stars and of
Laggards, how many key accounts are green, amber and red, how much of the last plan was done,
and how many accounts are on the early-warning list. So "more Stars, fewer Laggards" and a
plan that is worked rather than shelved can be followed over the quarters.

The **early-warning list** names the accounts that lost ground since the last run: a drop of
``warn_p_alive`` or more in the probability of being alive (CLV), or of ``warn_health`` health
points or more, or a worse health band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.vocabulary import AMBER, GREEN, LAGGARD, RED, STAR

HISTORY_COLUMNS: list[str] = [
    "as_of", "key_accounts", "star_revenue_share", "laggard_revenue_share", "health_green",
    "health_amber", "health_red", "actions_reviewed", "actions_done", "plan_completion",
    "early_warnings",
]
"""Columns of ``portfolio_history`` (one row per run, oldest first)."""

WARNING_COLUMNS: list[str] = ["account_id", "name", "signal", "before", "after", "change"]
"""Columns of ``early_warnings``."""

WARN_P_ALIVE = 0.10
WARN_HEALTH = 10.0
_BAND_RANK = {GREEN: 0, AMBER: 1, RED: 2}


def _indexed(df: pd.DataFrame | None, col: str) -> pd.Series:
    if df is None or col not in df.columns or "account_id" not in df.columns:
        return pd.Series(dtype=float if col != "band" else object)
    return df.assign(account_id=df["account_id"].astype(str)).drop_duplicates(
        "account_id").set_index("account_id")[col]


def early_warnings(clv_before: pd.DataFrame | None, clv_now: pd.DataFrame | None,
                   health_before: pd.DataFrame | None, health_now: pd.DataFrame | None,
                   names: pd.Series | None = None, warn_p_alive: float = WARN_P_ALIVE,
                   warn_health: float = WARN_HEALTH) -> pd.DataFrame:
    """Accounts that lost P(alive) or health since the last run (module doc), worst first."""
    rows = []
    pa0, pa1 = _indexed(clv_before, "p_alive"), _indexed(clv_now, "p_alive")
    for aid in pa1.index.intersection(pa0.index):
        b, a = float(pa0[aid]), float(pa1[aid])
        if np.isfinite(a) and np.isfinite(b) and b - a >= warn_p_alive:
            rows.append((aid, "P(alive) fell", b, a, a - b))
    h0, h1 = _indexed(health_before, "score"), _indexed(health_now, "score")
    b0, b1 = _indexed(health_before, "band"), _indexed(health_now, "band")
    for aid in h1.index.intersection(h0.index):
        b, a = float(h0[aid]), float(h1[aid])
        if np.isfinite(a) and np.isfinite(b) and b - a >= warn_health:
            rows.append((aid, "health fell", b, a, a - b))
        elif _BAND_RANK.get(str(b1.get(aid)), 0) > _BAND_RANK.get(str(b0.get(aid)), 0):
            rows.append((aid, f"health band {b0.get(aid)} -> {b1.get(aid)}", b, a, a - b))
    out = pd.DataFrame(rows, columns=["account_id", "signal", "before", "after", "change"])
    out.insert(1, "name", out["account_id"].map(names) if names is not None else "")
    out["name"] = out["name"].astype(object).where(out["name"].notna(), "").astype("str")
    for c in ("account_id", "signal"):
        out[c] = out[c].astype("str")
    for c in ("before", "after", "change"):
        out[c] = out[c].astype(float)
    return out.sort_values(["change", "account_id"]).reset_index(drop=True)[WARNING_COLUMNS]


def _revenue_share(segments: pd.DataFrame | None, segment: str) -> float:
    if segments is None or not len(segments) or "revenue" not in segments.columns:
        return float("nan")
    rev = pd.to_numeric(segments["revenue"], errors="coerce").fillna(0.0)
    total = float(rev.clip(lower=0).sum())
    return float(rev[segments["segment"] == segment].clip(lower=0).sum()) / total if total else float("nan")


def history_row(as_of: pd.Timestamp, key_accounts: int, segments: pd.DataFrame | None,
                health: pd.DataFrame | None, action_review: pd.DataFrame | None,
                warnings: pd.DataFrame) -> dict[str, object]:
    """This run's row of ``portfolio_history``."""
    bands = health["band"].astype(str).value_counts() if health is not None and "band" in health else {}
    reviewed = 0 if action_review is None else len(action_review)
    done = 0 if action_review is None else int((action_review["review"] == "done").sum())
    return {
        "as_of": pd.Timestamp(as_of), "key_accounts": int(key_accounts),
        "star_revenue_share": _revenue_share(segments, STAR),
        "laggard_revenue_share": _revenue_share(segments, LAGGARD),
        "health_green": int(bands.get(GREEN, 0)), "health_amber": int(bands.get(AMBER, 0)),
        "health_red": int(bands.get(RED, 0)), "actions_reviewed": reviewed,
        "actions_done": done, "plan_completion": done / reviewed if reviewed else float("nan"),
        "early_warnings": len(warnings),
    }


def portfolio_history(previous: pd.DataFrame | None, row: dict[str, object]) -> pd.DataFrame:
    """The baseline's history with this run's row added (a row of the same data date is
    replaced: a rerun on the same data counts once), oldest first."""
    now = pd.DataFrame([row], columns=HISTORY_COLUMNS)
    if previous is not None and len(previous):
        prev = previous.reindex(columns=HISTORY_COLUMNS)
        prev = prev[pd.to_datetime(prev["as_of"]) != pd.Timestamp(row["as_of"])]
        now = pd.concat([prev, now], ignore_index=True)
    now["as_of"] = pd.to_datetime(now["as_of"]).astype("datetime64[us]")
    for c in HISTORY_COLUMNS[1:]:
        num = pd.to_numeric(now[c], errors="coerce")
        floats = "share" in c or c == "plan_completion"
        now[c] = num.astype(float) if floats else num.fillna(0).astype("int64")
    return now.sort_values("as_of").reset_index(drop=True)
