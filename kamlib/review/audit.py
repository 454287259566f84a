"""The plan review (audit): last quarter's plan against what actually happened.

A key account plan is a living document. Each quarter the consultant reruns the workbook on
fresh data and passes the previous run as the *baseline* (``kam run --baseline RUN``). The
review then answers three questions:

1. **Objectives** — did each account reach its stage goals? The plan sets, per objective
   (revenue, margin, whitespace, relationship), cumulative targets at day 30, 60, 90 and each
   quarter from the plan start. The actual is measured the same way in the new data: revenue
   and margin summed over the account's purchases from the plan start to the milestone
   (``purchase_occasions``), whitespace as the categories bought now that were not bought at
   plan time (``account_category_year``), relationship as the DMU roles covered now, as this
   run's account plans counted them (``plan_profile.roles_covered``: one rule and one
   ``cover_strength``, step 40's). A milestone is ``met`` or ``missed`` once its due date has passed; a
   milestone still ahead is ``on track`` or ``behind`` by comparing the actual to date with
   the target prorated to the time elapsed, ``open`` when no time has elapsed, and ``no data``
   when the new data cannot measure it.
2. **Actions** — which were done, dropped, or are ``overdue`` (still open after their due
   date), or past their 30-day ``checkpoint`` without being done.
3. **Segments** — which accounts moved between Stars, Developing, Core and Laggards.

The last plan itself is read elsewhere (the runner knows run folders:
:mod:`kamlib.runner.baseline`; the edited workbook is read beside its writer,
:mod:`kamlib.report.plan_workbook`) and arrives here as a :class:`~kamlib.review.plan.Baseline`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib.review.evidence import MONEY_KINDS, Evidence, measure
from kamlib.review.plan import Baseline, check_columns, clean_actions
from kamlib.vocabulary import ACTION_LEADING_COLUMNS, OBJECTIVE_COLUMNS, SEGMENT_RANK


def review_objectives(objectives: pd.DataFrame, evidence: Evidence,
                      plan_date=None) -> pd.DataFrame:
    """Judge every stage goal of the plan against the new data.

    Parameters
    ----------
    objectives : DataFrame
        The plan's objectives (:data:`OBJECTIVE_COLUMNS`, one row per stage goal).
    evidence : Evidence
        The new data.
    plan_date : date-like, optional
        The plan start, used where a row has no ``days`` (days from the start).

    Returns
    -------
    DataFrame
        :func:`measure`'s output plus ``expected`` (the target prorated to the time elapsed,
        for goals still ahead; the target itself for goals due), ``gap`` (actual - expected),
        ``progress`` (actual / target) and ``review`` in {met, missed, on track, behind, open,
        no data}.
    """
    out = measure(objectives, evidence, plan_date)
    as_of = pd.Timestamp(evidence.as_of)
    target = out["target"].to_numpy(float)
    actual = out["actual"].to_numpy(float)
    due = (out["due_date"] <= as_of).to_numpy(bool)
    span = (out["due_date"] - out["start"]).dt.days.to_numpy(float)
    elapsed = (as_of - out["start"]).dt.days.to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip(np.where(span > 0, elapsed / span, 1.0), 0.0, 1.0)
        # Counts (roles, categories) start from where they stood at plan time, money from 0.
        base = np.where(out["objective"].isin(list(MONEY_KINDS)).to_numpy(), 0.0,
                        out["baseline"].to_numpy(float) if "baseline" in out.columns
                        else 0.0)
        base = np.nan_to_num(base)
        expected = np.where(due, target, base + (target - base) * frac)
        out["expected"] = expected
        out["gap"] = actual - expected
        out["progress"] = np.where(target != 0, actual / target, np.nan)
    not_started = ~due & ~(elapsed > 0)
    status = np.select(
        [np.isnan(actual), due & (actual >= target - 1e-9), due, not_started,
         actual >= expected - 1e-9],
        ["no data", "met", "missed", "open", "on track"], default="behind")
    out["review"] = pd.Series(status, index=out.index, dtype="str")
    return out


def objective_outcomes(review: pd.DataFrame) -> pd.DataFrame:
    """One row per objective: its latest milestone that is due (met / missed), or, when none
    is due yet, its next milestone's pace (on track / behind / open / no data).

    Returns
    -------
    DataFrame
        account_id, objective_id, objective, description (if any), milestone, due_date,
        target, expected, actual, review.
    """
    if review.empty:
        return review.copy()
    r = review.copy()
    r["_due"] = r["review"].isin(["met", "missed"]) | (
        (r["review"] == "no data") & (r["due_date"] <= r["measured_to"]))
    r = r.sort_values(["objective_id", "due_date"], kind="stable")
    last_due = r[r["_due"]].groupby("objective_id", sort=False).tail(1)
    ahead = r[~r["_due"] & ~r["objective_id"].isin(last_due["objective_id"])]
    first_ahead = ahead.groupby("objective_id", sort=False).head(1)
    out = pd.concat([last_due, first_ahead]).sort_values(["account_id", "objective_id"])
    cols = [c for c in ("account_id", "objective_id", "objective", "description", "milestone",
                        "due_date", "target", "expected", "actual", "review") if c in out.columns]
    return out[cols].reset_index(drop=True)


def review_actions(actions: pd.DataFrame, as_of) -> pd.DataFrame:
    """Classify the plan's actions at ``as_of``.

    Returns
    -------
    DataFrame
        The actions plus ``review`` in {done, dropped, overdue, checkpoint passed, open} and
        ``days_overdue`` (days past the due date for open actions, else 0). ``checkpoint
        passed`` means the 30-day checkpoint is behind us but the due date is not.
    """
    act = clean_actions(actions)
    as_of = pd.Timestamp(as_of)
    is_open = act["status"].eq("open").to_numpy()
    overdue = is_open & (act["due_date"] < as_of).to_numpy(bool)
    checkpoint = is_open & ~overdue & (act["checkpoint_date"] < as_of).to_numpy(bool)
    review = np.select([~is_open, overdue, checkpoint],
                       [act["status"].to_numpy(str), "overdue", "checkpoint passed"],
                       default="open")
    out = act.copy()
    out["review"] = pd.Series(review, index=out.index, dtype="str")
    days = (as_of - act["due_date"]).dt.days
    out["days_overdue"] = np.where(overdue, days.fillna(0), 0).astype(int)
    return out


def segment_changes(before: pd.DataFrame | None, after: pd.DataFrame | None) -> pd.DataFrame:
    """Accounts whose portfolio segment changed between the baseline and this run.

    Returns
    -------
    DataFrame
        account_id, segment_before, segment_after and ``move`` in {same, up, down, sideways,
        new, gone} (up/down by :data:`SEGMENT_RANK`: towards Stars / towards Laggards).
    """
    cols = ["account_id", "segment_before", "segment_after", "move"]
    if before is None or after is None:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in cols})
    for name, df in (("baseline segments", before), ("segments", after)):
        check_columns(df, ("account_id", "segment"), name, "rerun step 30_segmentation.")
    b = before[["account_id", "segment"]].rename(columns={"segment": "segment_before"})
    a = after[["account_id", "segment"]].rename(columns={"segment": "segment_after"})
    m = b.merge(a, on="account_id", how="outer")
    rb = m["segment_before"].map(SEGMENT_RANK).to_numpy(float)
    ra = m["segment_after"].map(SEGMENT_RANK).to_numpy(float)
    move = np.select(
        [m["segment_after"].isna(), m["segment_before"].isna(),
         (m["segment_before"] == m["segment_after"]).to_numpy(bool), ra > rb, ra < rb],
        ["gone", "new", "same", "up", "down"], default="sideways")
    m["move"] = pd.Series(move, index=m.index, dtype="str")
    return m[cols].sort_values("account_id").reset_index(drop=True)


@dataclass
class PlanReview:
    """The review of a baseline plan against this run.

    Attributes
    ----------
    milestones : DataFrame
        Every stage goal judged (:func:`review_objectives`): the ``plan_review`` table.
    objectives : DataFrame
        One row per objective (:func:`objective_outcomes`).
    actions, segments : DataFrame
        See :func:`review_actions`, :func:`segment_changes`.
    summary : DataFrame
        One row per finding (``what``, ``count``, ``of``) for the executive summary.
    as_of, plan_date : Timestamp or None
    source : str
    """

    milestones: pd.DataFrame
    objectives: pd.DataFrame
    actions: pd.DataFrame
    segments: pd.DataFrame
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: pd.Timestamp | None = None
    plan_date: pd.Timestamp | None = None
    source: str = ""


def review_plan(baseline: Baseline, evidence: Evidence,
                segments: pd.DataFrame | None = None) -> PlanReview:
    """Review a baseline plan against the new data.

    Parameters
    ----------
    baseline : Baseline
        Read by :func:`kamlib.runner.baseline.load_baseline`.
    evidence : Evidence
        This run's tables (its ``as_of`` is the review date). When it has no baseline
        ``category_year`` of its own, the baseline's is used.
    segments : DataFrame, optional
        This run's ``segments``.

    Returns
    -------
    PlanReview
    """
    if evidence.baseline_category_year is None and baseline.category_year is not None:
        evidence = Evidence(**{**evidence.__dict__,
                               "baseline_category_year": baseline.category_year})
    miles = review_objectives(baseline.objectives, evidence, baseline.as_of)
    obj = objective_outcomes(miles)
    act = review_actions(baseline.actions, evidence.as_of)
    seg = segment_changes(baseline.segments, segments)
    planned = set(obj["account_id"]) | set(act["account_id"].dropna())
    seg_planned = seg[seg["account_id"].isin(planned)]
    n_obj, n_act, n_seg = len(obj), len(act), len(seg_planned)
    rows = [
        ("objectives met at their last milestone", int((obj["review"] == "met").sum()), n_obj),
        ("objectives that missed their last milestone", int((obj["review"] == "missed").sum()),
         n_obj),
        ("objectives behind pace", int((obj["review"] == "behind").sum()), n_obj),
        ("objectives on track", int((obj["review"] == "on track").sum()), n_obj),
        ("objectives not yet started", int((obj["review"] == "open").sum()), n_obj),
        ("objectives the new data cannot measure", int((obj["review"] == "no data").sum()),
         n_obj),
        ("actions done", int((act["review"] == "done").sum()), n_act),
        ("actions overdue", int((act["review"] == "overdue").sum()), n_act),
        ("actions past their checkpoint", int((act["review"] == "checkpoint passed").sum()),
         n_act),
        ("actions dropped", int((act["review"] == "dropped").sum()), n_act),
        ("planned accounts that moved up a segment", int((seg_planned["move"] == "up").sum()),
         n_seg),
        ("planned accounts that moved down a segment",
         int((seg_planned["move"] == "down").sum()), n_seg),
    ]
    summary = pd.DataFrame(rows, columns=["what", "count", "of"])
    return PlanReview(milestones=miles, objectives=obj, actions=act, segments=seg,
                      summary=summary, as_of=pd.Timestamp(evidence.as_of),
                      plan_date=baseline.as_of, source=baseline.source)


def review_outline() -> pd.DataFrame:
    """What a review contains, column by column (shown when a run has no baseline)."""
    rows = [
        ("plan_review", "actual", "the stage goal measured in the new data: revenue or margin "
         "since the plan start, new categories bought, DMU roles covered"),
        ("plan_review", "expected", "the target, prorated to the time elapsed for goals still "
         "ahead"),
        ("plan_review", "review", "met / missed (goal due) or on track / behind / open (goal "
         "ahead); no data when the new data cannot measure it"),
        ("objective_review", "review", "each objective's latest due milestone, or the pace "
         "towards its next one"),
        ("action_review", "review", "done / dropped / overdue / checkpoint passed / open for "
         "each action, from the status the account manager set in the workbook"),
        ("action_review", "days_overdue", "days an open action is past its due date"),
        ("segment_changes", "move", "up / down / sideways / same / new / gone: how each account "
         "moved between Stars, Developing, Core and Laggards"),
    ]
    return pd.DataFrame(rows, columns=["table", "column", "meaning"])


def review_tables(review: PlanReview | None) -> dict[str, pd.DataFrame]:
    """The review's tables to save: ``plan_review`` (every stage goal), ``objective_review``,
    ``action_review`` and ``segment_changes`` (empty, with their columns, when there is no
    review, so the run's table list does not depend on having a baseline)."""
    if review is not None:
        return {"plan_review": review.milestones, "objective_review": review.objectives,
                "action_review": review.actions, "segment_changes": review.segments}
    miles = [*OBJECTIVE_COLUMNS, "start", "measured_to", "actual", "expected", "gap",
             "progress", "review"]
    outcome = ["account_id", "objective_id", "objective", "description", "milestone",
               "due_date", "target", "expected", "actual", "review"]
    acts = [*ACTION_LEADING_COLUMNS, "review", "days_overdue"]

    def empty(cols):
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in cols})

    return {"plan_review": empty(miles), "objective_review": empty(outcome),
            "action_review": empty(acts),
            "segment_changes": empty(["account_id", "segment_before", "segment_after", "move"])}



def review_overview(review: PlanReview | None, hint: str) -> tuple[str, pd.DataFrame]:
    """What the notebook shows first: where the reviewed plan came from and its summary, or,
    without a baseline, how to get one and what the review will contain."""
    if review is None:
        return hint, review_outline()
    return f"Reviewing the plan from {review.source}", review.summary
