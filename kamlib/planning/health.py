"""Account health: one 0-100 score from weighted components, with red/amber/green bands.

Components (each 0-100, higher is healthier):

``revenue_trend``  50 + 50 x growth_12m / trend_span, clipped: flat revenue scores 50, growth of
                   ``trend_span`` (symmetric growth) or more scores 100, decline of as much 0.
``margin``         percentile of the account's 12-month margin rate among the other planned (key)
                   accounts, or among all accounts (``margin_peers``). Key accounts buy big and
                   usually get better prices, so against the whole base most would look weak.
``coverage``       share of the six DMU roles covered (relationship X-ray).
``freshness``      power-weighted share of contacts touched within ``stale_days``.
``plan_progress``  share of the plan's actions due so far that are done.

score = sum(w_i x m_i) / sum(w_i) over the components that can be measured; a component that
cannot (no contacts, no action due yet) is left out of both sums and named in ``not_measured``,
so a missing table lowers confidence, not the score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.planning._common import num
from kamlib.vocabulary import AMBER, GREEN, RED, UNKNOWN_BAND

HEALTH_WEIGHTS: dict[str, float] = {
    "revenue_trend": 0.30, "margin": 0.20, "coverage": 0.20, "freshness": 0.15, "plan_progress": 0.15,
}
"""Default component weights (any positive numbers; they are normalised)."""

HEALTH_BANDS: tuple[float, float] = (40.0, 70.0)
"""Scores below the first are red, below the second amber, the rest green."""

MARGIN_PEERS = "plans"
"""Default accounts the margin rate is ranked among: the planned (key) accounts."""

HEALTH_COLUMNS: list[str] = [
    "account_id", "score", "band", *[f"h_{k}" for k in HEALTH_WEIGHTS], "not_measured", "weakest",
]
"""Columns of :func:`health` (the ``plan_health`` table)."""


def band(score: pd.Series | np.ndarray, bands: tuple[float, float] = HEALTH_BANDS) -> np.ndarray:
    """'red' / 'amber' / 'green' (or 'unknown' for NaN) for each score, at full precision:
    39.96 is red with the default bands (round only when showing the score)."""
    s = np.asarray(score, dtype=float)
    return np.select([np.isnan(s), s < bands[0], s < bands[1]], [UNKNOWN_BAND, RED, AMBER],
                     default=GREEN)


def health(
    profile: pd.DataFrame,
    features: pd.DataFrame,
    summary: pd.DataFrame,
    actions: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
    weights: dict[str, float] | None = None,
    bands: tuple[float, float] = HEALTH_BANDS,
    trend_span: float = 0.3,
    contacts_known: bool = True,
    margin_peers: str = MARGIN_PEERS,
) -> pd.DataFrame:
    """Health score of every account in ``profile``.

    Parameters
    ----------
    profile : DataFrame
        Plan profiles (``account_id``, ``growth_12m``, ``margin_pct_12m``).
    features : DataFrame
        ``account_features`` of all accounts.
    summary : DataFrame
        From :func:`kamlib.planning.relationship.relationship_summary`.
    actions : DataFrame, optional
        Plan actions with ``status`` and ``due_date``; progress counts those due by ``as_of``.
    as_of : Timestamp, optional
        Date at which progress is measured (without it, progress is not measured).
    weights : dict, optional
        Component weights, merged over :data:`HEALTH_WEIGHTS`; set one to 0 to drop it.
    bands : (float, float)
        Red/amber and amber/green limits.
    trend_span : float
        Growth that maps to a trend score of 0 or 100.
    margin_peers : {"plans", "all"}
        Accounts the margin rate is ranked among: the planned accounts or all of ``features``.
    contacts_known : bool
        False when the client gave no contacts table at all: coverage and freshness are then
        not measured. With a contacts table, an account without contacts scores 0 on both.

    Returns
    -------
    DataFrame
        Columns :data:`HEALTH_COLUMNS`; ``h_<component>`` are the component scores (NaN when
        not measured), ``weakest`` the lowest measured component.
    """
    from kamlib.errors import ParameterError

    w = {**HEALTH_WEIGHTS, **(weights or {})}
    unknown = set(w) - set(HEALTH_WEIGHTS)
    if unknown:
        raise ParameterError(f"health weights: unknown component(s) {sorted(unknown)}; "
                             f"use {list(HEALTH_WEIGHTS)}.")
    if any(v < 0 for v in w.values()) or sum(w.values()) <= 0:
        raise ParameterError("health weights must be >= 0 and not all 0.")
    if not bands[0] < bands[1]:
        raise ParameterError(f"health bands {bands}: the red limit must be below the green limit.")
    p = profile[["account_id"]].copy()
    g = num(profile, "growth_12m").to_numpy()
    p["h_revenue_trend"] = np.clip(50 + 50 * g / trend_span, 0, 100)
    if margin_peers not in ("plans", "all"):
        raise ParameterError(f"margin_peers must be 'plans' or 'all', got {margin_peers!r}.")
    allm = num(profile if margin_peers == "plans" else features, "margin_pct_12m").dropna().to_numpy()
    m = num(profile, "margin_pct_12m").to_numpy()
    if len(allm):
        srt = np.sort(allm)
        # mid-rank percentile: ties share the middle of their range
        lo = np.searchsorted(srt, m, side="left")
        hi = np.searchsorted(srt, m, side="right")
        p["h_margin"] = np.where(np.isnan(m), np.nan, 100 * (lo + hi) / 2 / len(srt))
    else:
        p["h_margin"] = np.nan
    s = summary.set_index("account_id")
    if contacts_known:
        p["h_coverage"] = 100 * s["coverage"].reindex(p["account_id"]).fillna(0).to_numpy(dtype=float)
        p["h_freshness"] = 100 * s["freshness"].reindex(p["account_id"]).fillna(0).to_numpy(dtype=float)
    else:
        p["h_coverage"] = np.nan
        p["h_freshness"] = np.nan
    prog = pd.Series(np.nan, index=p["account_id"])
    if actions is not None and len(actions) and as_of is not None:
        due = actions[pd.to_datetime(actions["due_date"]) <= pd.Timestamp(as_of)]
        if len(due):
            done = due["status"].astype(str).str.lower().isin(["done", "completed", "closed"])
            prog = (done.groupby(due["account_id"]).mean() * 100).reindex(p["account_id"])
    p["h_plan_progress"] = prog.to_numpy(dtype=float)
    comps = list(HEALTH_WEIGHTS)
    M = p[[f"h_{k}" for k in comps]].to_numpy(dtype=float)
    W = np.array([w[k] for k in comps], dtype=float)
    measured = ~np.isnan(M) & (W > 0)
    wsum = (measured * W).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(wsum > 0, (np.nan_to_num(M) * W * measured).sum(axis=1) / wsum, np.nan)
    p["score"] = score  # full precision: the band below is decided on it; pages round
    p["band"] = band(score, bands)
    p["not_measured"] = [";".join(k for k, ok, wk in zip(comps, row, W) if not ok and wk > 0) for row in measured]
    masked = np.where(measured, M, np.inf)
    p["weakest"] = [comps[i] if np.isfinite(masked[j, i]) else "" for j, i in enumerate(masked.argmin(axis=1))]
    return p[HEALTH_COLUMNS].reset_index(drop=True)
