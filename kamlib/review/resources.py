"""The resource plan: which account manager serves which key account, within capacity.

The capacity model itself -- the hours rule by tier, every manager's existing book, the
assignment that keeps owners, never moves an at-risk account for balance alone and explains each
move -- is :mod:`kamlib.capacity`, which the selection and the account plans use as well, so the
three agree. This module gives the review its accounts (:func:`accounts_to_assign`, after the
segmentation step's proposed serving-model moves when given: :func:`tiers_after_moves`) and
compares effort with value (:func:`effort_by_segment`); the planner's names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlib.capacity import (AT_RISK_P_LEAVE, DEFAULT_HOURS_BY_TIER, CapacityError,
                             ResourcePlanner, assign_accounts, book_hours, planned_accounts)
from kamlib.errors import InputError, ParameterError
from kamlib.formatting import hours as _fmt_hours
from kamlib.key_accounts import in_tiers
from kamlib.vocabulary import PLANNED_TIERS, SEGMENTS, TIER_DEFAULT_SERVING
from kamlib.vocabulary import TIERS as TIER_ORDER

__all__ = ["AT_RISK_P_LEAVE", "DEFAULT_HOURS_BY_TIER", "CapacityError", "ResourcePlanner",
           "accounts_to_assign", "assign_accounts", "book_hours", "effort_by_segment",
           "explain_serving_moves", "tiers_after_moves"]

SERVING_TIER: dict[str, str] = {model: tier for tier, model in TIER_DEFAULT_SERVING.items()}
"""The tier whose hours an account served by each serving model takes in the capacity model
(the inverse of :data:`~kamlib.vocabulary.TIER_DEFAULT_SERVING`)."""


def tiers_after_moves(scores: pd.DataFrame, moves: pd.DataFrame | None) -> pd.DataFrame:
    """``selection_scores`` with each moved account's tier set to its new serving model's.

    Parameters
    ----------
    scores : DataFrame
        ``selection_scores`` (account_id, tier).
    moves : DataFrame or None
        ``serving_moves`` of the segmentation step (account_id, from_model, to_model).

    Returns
    -------
    DataFrame
        The scores with ``tier`` after the moves (the capacity model takes that tier's hours),
        ``selection_tier`` (the tier before) and ``serving_move`` ("inside sales -> ...",
        empty for an account that is not moved). Unchanged (no new columns) without moves.
    """
    if moves is None or not len(moves):
        return scores
    missing = [c for c in ("account_id", "from_model", "to_model") if c not in moves.columns]
    if missing:
        raise InputError("serving_moves", f"columns {missing} are missing.",
                         "rerun step 30_segmentation, which writes them.", column=missing[0])
    unknown = sorted(set(moves["to_model"].astype(str)) - set(SERVING_TIER))
    if unknown:
        raise InputError("serving_moves", f"serving models {unknown} in column to_model are not "
                         f"serving models ({', '.join(SERVING_TIER)}).",
                         "rerun step 30_segmentation, which writes them.", column="to_model")
    m = moves.assign(account_id=moves["account_id"].astype(str)).drop_duplicates(
        "account_id", keep="last").set_index("account_id")
    ids = scores["account_id"].astype(str)
    to_model = ids.map(m["to_model"].astype(str))
    moved = to_model.notna().to_numpy()
    out = scores.copy()
    out["selection_tier"] = scores["tier"].astype(str)
    out["tier"] = out["selection_tier"].where(~moved, to_model.map(SERVING_TIER))
    out["serving_move"] = (ids.map(m["from_model"].astype(str)) + " -> " + to_model).where(
        moved, "").astype("str")
    return out


def explain_serving_moves(assignment: pd.DataFrame) -> pd.DataFrame:
    """The resource plan with each moved account's explanation saying it follows a proposed
    serving-model move (and the hours that gives it)."""
    if "serving_move" not in assignment.columns:
        return assignment
    moved = assignment["serving_move"].fillna("").astype(str).ne("")
    text = [f"; follows a proposed serving-model move ({mv}): {_fmt_hours(h)} h a year as {t}"
            for mv, h, t in zip(assignment.loc[moved, "serving_move"],
                                assignment.loc[moved, "hours"], assignment.loc[moved, "tier"])]
    out = assignment.copy()
    out.loc[moved, "explanation"] = out.loc[moved, "explanation"].astype(str) + pd.Series(
        text, index=out.index[moved], dtype="str")
    return out


def accounts_to_assign(features: pd.DataFrame, scores: pd.DataFrame,
                       tiers: Sequence[str] = PLANNED_TIERS,
                       segments: pd.DataFrame | None = None,
                       clv: pd.DataFrame | None = None,
                       moves: pd.DataFrame | None = None) -> pd.DataFrame:
    """The accounts the resource plan covers, with what the plan and its figures need.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` (account_id, name, account_manager, revenue_12m, margin_12m).
    scores : DataFrame
        ``selection_scores`` (account_id, tier, score).
    tiers : sequence of str
        Tiers to assign (default the key and key-development accounts).
    segments, clv : DataFrame, optional
        ``segments`` (segment) and ``clv`` (clv) tables, joined when given.
    moves : DataFrame, optional
        ``serving_moves`` of the segmentation step. A moved account takes the tier (and so the
        hours) of its new serving model (:func:`tiers_after_moves`); the plan covers the
        accounts whose tier is in ``tiers`` before or after the move, and says which moved
        (``serving_move``, ``selection_tier``).

    Returns
    -------
    DataFrame
        account_id, name, tier, score, at_risk (when the scores carry the chance of
        leaving), account_manager, revenue_12m, margin_12m and, when available, segment,
        clv and the serving-model move; sorted by tier then score (best first)
        (:func:`kamlib.capacity.planned_accounts`).
    """
    for name, table, source in (("account_features", features, "00_intake"),
                                ("selection_scores", scores, "10_selection")):
        if table is None:
            raise InputError(name, "is not in this run; the resource plan needs it to know "
                             "which accounts are key.", f"run step {source} first (kam run "
                             "runs every step).")
    missing = [c for c in ("account_id", "tier") if c not in scores.columns]
    if missing:
        raise InputError("selection_scores", f"columns {missing} are missing.",
                         "rerun step 10_selection, which writes them.", column=missing[0])
    unknown = sorted(set(tiers) - set(scores["tier"].astype(str)) - set(TIER_ORDER))
    if unknown:
        raise ParameterError(
            f"tiers {unknown} are not selection tiers; use some of {list(TIER_ORDER)}."
        )
    after = tiers_after_moves(scores, moves)
    if after is scores:
        out = planned_accounts(features, scores, tiers)
    else:
        cover = (in_tiers(after, tiers) | after["selection_tier"].isin(list(tiers))).to_numpy()
        covered = after[cover]
        out = planned_accounts(features, covered, TIER_ORDER)
        out = out.merge(covered[["account_id", "selection_tier", "serving_move"]].assign(
            account_id=covered["account_id"].astype(str)), on="account_id", how="left")
    if segments is not None and "segment" in segments.columns:
        out = out.merge(segments[["account_id", "segment"]], on="account_id", how="left")
    if clv is not None and "clv" in clv.columns:
        out = out.merge(clv[["account_id", "clv"]], on="account_id", how="left")
    return out


def effort_by_segment(assignment: pd.DataFrame, value: str = "revenue_12m",
                      by: str = "segment") -> pd.DataFrame:
    """Effort (hours) against value, by segment: does our time follow the money?

    Parameters
    ----------
    assignment : DataFrame
        :attr:`ResourcePlanner.assignment_` (needs ``hours``, ``by`` and ``value``).
    value : str
        The value column (``revenue_12m``, ``margin_12m`` or ``clv``).
    by : str
        The grouping column (``segment`` or ``tier``). When the segments are not in the run,
        ``segment`` falls back to ``tier`` (the first column of the result says which).

    Returns
    -------
    DataFrame
        One row per group: n_accounts, hours, value, hours_share, value_share and
        ``effort_ratio`` = hours_share / value_share (above 1: more time than value).
    """
    if by == "segment" and ("segment" not in assignment.columns
                            or assignment["segment"].isna().all()):
        by = "tier"
    for col in ("hours", by, value):
        if col not in assignment.columns:
            raise InputError("resource plan", f"column '{col}' is missing.",
                             f"join the '{col}' column before comparing effort with value.",
                             column=col)
    g = assignment.assign(**{by: assignment[by].astype("object").fillna("(none)")}).groupby(
        by, sort=False)
    out = pd.DataFrame({"n_accounts": g.size(), "hours": g["hours"].sum(),
                        "value": g[value].sum(min_count=1).fillna(0.0)})
    out["hours_share"] = out["hours"] / out["hours"].sum() if out["hours"].sum() else 0.0
    total = out["value"].clip(lower=0).sum()
    out["value_share"] = out["value"].clip(lower=0) / total if total else 0.0
    out["effort_ratio"] = np.where(out["value_share"] > 0,
                                   out["hours_share"] / out["value_share"].where(
                                       out["value_share"] > 0, 1.0), np.nan)
    order = [*SEGMENTS, *TIER_ORDER]
    out = out.reset_index()
    out["_o"] = out[by].map({k: i for i, k in enumerate(order)}).fillna(len(order))
    return out.sort_values(["_o", by]).drop(columns="_o").reset_index(drop=True)
