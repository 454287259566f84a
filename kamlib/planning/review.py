"""The plan review (audit): last quarter's plan against what actually happened.

A key account plan is a living document. Each quarter the consultant reruns the workbook on
fresh data and passes the previous run as the *baseline* (``kam run --baseline RUN``). The
review then answers three questions:

1. **Objectives** — did each account reach its target? The actual value of the objective's
   metric is read from this run's ``account_features`` and compared with the plan's target:
   ``met`` (target reached), ``missed`` (due date passed, target not reached), ``on track`` /
   ``behind`` (not yet due: is the share of the planned change achieved at least the share of
   the plan period elapsed?), ``open`` (not yet due, no plan date to judge pace) or ``no data``
   (the account or metric is not in the new data).
2. **Actions** — which were done, dropped, or are ``overdue`` (still open after their due
   date), or past their 30-day ``checkpoint`` without being done.
3. **Segments** — which accounts moved between Stars, Developing, Core and Laggards.

The baseline is either a run folder (its ``plan_workbook.xlsx`` if present — the copy the
consultant edits — else its Parquet tables ``plan_objectives`` and ``plan_actions``) or the
edited workbook itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError

OBJECTIVE_COLUMNS: tuple[str, ...] = (
    "account_id", "objective_id", "metric", "baseline_value", "target_value", "due_date",
)
"""Columns of ``plan_objectives`` the review needs."""

ACTION_COLUMNS: tuple[str, ...] = (
    "account_id", "action_id", "objective_id", "action", "owner", "due_date",
    "checkpoint_date", "status",
)
"""Columns of ``plan_actions`` the review needs."""

ACTION_STATUSES: tuple[str, ...] = ("open", "done", "dropped")
"""Statuses a consultant may give an action in the workbook."""

SHEET_OBJECTIVES = "Objectives"
SHEET_ACTIONS = "Actions"
SHEET_ABOUT = "About"
WORKBOOK_NAME = "plan_workbook.xlsx"

METRIC_ALIASES: dict[str, str] = {
    "revenue": "revenue_12m",
    "margin": "margin_12m",
    "quantity": "quantity_12m",
    "margin_pct": "margin_pct_12m",
    "orders": "n_orders_12m",
    "share_of_sales": "share_of_sales_12m",
    "contacts": "n_contacts",
    "functions": "n_functions",
    "categories": "n_categories",
}
"""Objective metric names that map to a differently named ``account_features`` column."""

SEGMENT_RANK: dict[str, int] = {"Laggard": 0, "Developing": 1, "Core": 1, "Star": 2}
"""Higher is better; Developing <-> Core is a sideways move (value traded for growth)."""


# --------------------------------------------------------------------------------------------
# Loading the baseline
# --------------------------------------------------------------------------------------------
@dataclass
class Baseline:
    """Last plan, as the review reads it.

    Attributes
    ----------
    objectives, actions : DataFrame
        The plan's objectives and actions (columns :data:`OBJECTIVE_COLUMNS`,
        :data:`ACTION_COLUMNS`, plus any others they carried).
    segments : DataFrame or None
        The baseline run's ``segments`` table, when available.
    as_of : Timestamp or None
        The data date of the baseline run (the plan date).
    source : str
        Where the plan was read from (said in the report).
    """

    objectives: pd.DataFrame
    actions: pd.DataFrame
    segments: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    source: str = ""


def _check_columns(df: pd.DataFrame, needed: tuple[str, ...], where: str, fix: str) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(where, f"column(s) {missing} are missing (found {list(df.columns)}).",
                         fix, column=missing[0])


def _to_dates(df: pd.DataFrame, cols: tuple[str, ...], where: str) -> pd.DataFrame:
    df = df.copy()
    for col in cols:
        if col not in df.columns:
            continue
        raw = df[col]
        parsed = pd.to_datetime(raw, errors="coerce")
        bad = parsed.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            raise InputError(where, "some dates cannot be read.",
                             "type dates as YYYY-MM-DD (or use Excel date cells).", column=col,
                             rows=(np.flatnonzero(bad.to_numpy()) + 1).tolist())
        df[col] = parsed.astype("datetime64[us]")
    return df


def clean_objectives(objectives: pd.DataFrame, where: str = "plan_objectives") -> pd.DataFrame:
    """Check and normalise a plan's objectives (ids as text, numbers, dates)."""
    _check_columns(objectives, OBJECTIVE_COLUMNS, where,
                   "keep the column headers the workbook was written with.")
    df = objectives.dropna(how="all").reset_index(drop=True)
    for col in ("account_id", "objective_id", "metric"):
        df[col] = df[col].astype("str").str.strip()
    for col in ("baseline_value", "target_value"):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() & df[col].notna()
        if bad.any():
            raise InputError(where, "some values are not numbers.", "type plain numbers "
                             "(no currency signs or text).", column=col,
                             rows=(np.flatnonzero(bad.to_numpy()) + 1).tolist())
        df[col] = num.astype(float)
    return _to_dates(df, ("due_date",), where)


def clean_actions(actions: pd.DataFrame, where: str = "plan_actions") -> pd.DataFrame:
    """Check and normalise a plan's actions; a blank status is ``open``.

    Rows a consultant added by hand without an ``action_id`` get ``NEW-1``, ``NEW-2`` ...
    """
    _check_columns(actions, ACTION_COLUMNS, where,
                   "keep the column headers the workbook was written with.")
    df = actions.dropna(how="all").reset_index(drop=True)
    status = df["status"].astype("str").str.strip().str.lower()
    status = status.where(df["status"].notna() & (status != ""), "open")
    bad = ~status.isin(ACTION_STATUSES)
    if bad.any():
        raise InputError(where, f"status must be one of {list(ACTION_STATUSES)}; found "
                         f"{sorted(set(df.loc[bad, 'status'].astype(str)))}.",
                         "pick the status from the drop-down list.", column="status",
                         rows=(np.flatnonzero(bad.to_numpy()) + 1).tolist())
    df["status"] = status.astype("str")
    ids = df["action_id"]
    blank = ids.isna() | (ids.astype("str").str.strip() == "")
    df["action_id"] = ids.astype("str").str.strip()
    df.loc[blank, "action_id"] = [f"NEW-{i + 1}" for i in range(int(blank.sum()))]
    for col in ("account_id", "objective_id"):
        df[col] = df[col].astype("str").str.strip().where(df[col].notna())
    return _to_dates(df, ("due_date", "checkpoint_date"), where)


def read_plan_workbook(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Read a plan workbook written by :func:`kamlib.report.plan_workbook.write_plan_workbook`.

    Returns
    -------
    objectives, actions : DataFrame
        Checked and normalised (see :func:`clean_objectives`, :func:`clean_actions`).
    about : dict
        The key/value pairs of the ``About`` sheet (``as_of``, ``engagement``, ``run``), empty
        when the sheet was removed.
    """
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object)
    except Exception as exc:  # a corrupt or non-Excel file: say which file
        raise InputError(str(path), f"cannot be read as an Excel workbook ({exc}).",
                         "give the plan_workbook.xlsx a previous run wrote (save it as .xlsx).")
    for sheet in (SHEET_OBJECTIVES, SHEET_ACTIONS):
        if sheet not in sheets:
            raise InputError(str(path), f"has no sheet '{sheet}' (sheets: {list(sheets)}).",
                             f"keep the sheet names the workbook was written with.")
    objectives = clean_objectives(sheets[SHEET_OBJECTIVES], f"{path.name}, sheet {SHEET_OBJECTIVES}")
    actions = clean_actions(sheets[SHEET_ACTIONS], f"{path.name}, sheet {SHEET_ACTIONS}")
    about: dict[str, str] = {}
    if SHEET_ABOUT in sheets and sheets[SHEET_ABOUT].shape[1] >= 2:
        a = sheets[SHEET_ABOUT]
        about = {str(k): str(v) for k, v in zip(a.iloc[:, 0], a.iloc[:, 1]) if pd.notna(k)}
    return objectives, actions, about


def _read_table(folder: Path, name: str) -> pd.DataFrame | None:
    f = folder / "tables" / f"{name}.parquet"
    return pd.read_parquet(f) if f.exists() else None


def _as_of(features: pd.DataFrame | None) -> pd.Timestamp | None:
    if features is None or "as_of" not in features.columns or features["as_of"].isna().all():
        return None
    return pd.Timestamp(pd.to_datetime(features["as_of"]).max())


def load_baseline(baseline: str | Path | None) -> Baseline | None:
    """Load the previous plan from a run folder or an edited plan workbook.

    Parameters
    ----------
    baseline : str or Path or None
        A previous run folder (``reports/<engagement>/<run>``), or the ``plan_workbook.xlsx``
        a consultant edited. ``""`` or None means no baseline.

    Returns
    -------
    Baseline or None
        None when no baseline was given.

    Raises
    ------
    ParameterError
        When the path does not exist or holds no plan.
    """
    if baseline is None or str(baseline).strip() == "":
        return None
    path = Path(str(baseline).strip()).expanduser()
    if not path.exists():
        raise ParameterError(
            f"baseline {str(path)!r} does not exist. Fix: give the folder of an earlier run "
            f"(reports/<engagement>/<run>) or the {WORKBOOK_NAME} you edited, e.g. "
            "kam run --baseline reports/acme/2026-08-31."
        )
    if path.is_file():
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise ParameterError(
                f"baseline {str(path)!r} is a file but not an Excel workbook. Fix: give a run "
                f"folder or its {WORKBOOK_NAME}."
            )
        workbook, folder = path, path.parent
    else:
        folder = path
        workbook = folder / WORKBOOK_NAME if (folder / WORKBOOK_NAME).exists() else None
    features = None
    if (folder / "tables" / "account_features.parquet").exists():
        features = pd.read_parquet(folder / "tables" / "account_features.parquet",
                                   columns=["as_of"])
    as_of = _as_of(features)
    if workbook is not None:
        objectives, actions, about = read_plan_workbook(workbook)
        if about.get("as_of") and about["as_of"] not in ("nan", "NaT", "None"):
            as_of = pd.Timestamp(about["as_of"])
        source = f"edited workbook {workbook}"
    else:
        objectives = _read_table(folder, "plan_objectives")
        actions = _read_table(folder, "plan_actions")
        if objectives is None or actions is None:
            raise ParameterError(
                f"baseline {str(folder)!r} holds no plan: it has neither {WORKBOOK_NAME} nor "
                "tables/plan_objectives.parquet and tables/plan_actions.parquet. Fix: give a run "
                "that included step 40_account_plans and 50_portfolio_review."
            )
        objectives = clean_objectives(objectives, f"{folder}/tables/plan_objectives.parquet")
        actions = clean_actions(actions, f"{folder}/tables/plan_actions.parquet")
        source = f"run folder {folder} (tables plan_objectives, plan_actions)"
    return Baseline(objectives=objectives, actions=actions,
                    segments=_read_table(folder, "segments"), as_of=as_of, source=source)


# --------------------------------------------------------------------------------------------
# Reviewing
# --------------------------------------------------------------------------------------------
def metric_column(metric: str, columns) -> str | None:
    """The ``account_features`` column that measures an objective's metric, or None."""
    if metric in columns:
        return metric
    alias = METRIC_ALIASES.get(metric)
    if alias in columns:
        return alias
    if f"{metric}_12m" in columns:
        return f"{metric}_12m"
    return None


def review_objectives(objectives: pd.DataFrame, features: pd.DataFrame, as_of,
                      plan_date=None) -> pd.DataFrame:
    """Compare each objective's target with the actual value in the new data.

    Parameters
    ----------
    objectives : DataFrame
        The plan's objectives (:data:`OBJECTIVE_COLUMNS`).
    features : DataFrame
        This run's ``account_features``.
    as_of : date-like
        The new data's date: objectives due on or before it are judged final.
    plan_date : date-like, optional
        When the plan was made (the baseline's data date); lets the review judge pace
        (``on track`` / ``behind``) for objectives not yet due.

    Returns
    -------
    DataFrame
        The objectives plus ``actual``, ``gap`` (actual - target), ``progress`` (share of the
        planned change achieved), ``expected_progress`` (share of the period elapsed) and
        ``review`` in {met, missed, on track, behind, open, no data}.
    """
    obj = clean_objectives(objectives)
    as_of = pd.Timestamp(as_of)
    feats = features.drop_duplicates("account_id")
    feats = feats.set_index(feats["account_id"].astype("str"))
    actual = np.full(len(obj), np.nan)
    for metric, idx in obj.groupby("metric").groups.items():
        col = metric_column(str(metric), feats.columns)
        if col is None:
            continue
        vals = pd.to_numeric(feats[col], errors="coerce")
        actual[np.asarray([obj.index.get_loc(i) for i in idx])] = (
            obj.loc[idx, "account_id"].map(vals).to_numpy(float))
    out = obj.copy()
    out["actual"] = actual
    base, target = out["baseline_value"].to_numpy(float), out["target_value"].to_numpy(float)
    change = target - base
    up = change >= 0  # a target below baseline (e.g. cost to serve) is met by going down
    met = np.where(up, actual >= target, actual <= target)
    out["gap"] = actual - target
    with np.errstate(divide="ignore", invalid="ignore"):
        out["progress"] = np.where(change != 0, (actual - base) / change,
                                   np.where(met, 1.0, 0.0))
    due = out["due_date"]
    if plan_date is not None and not pd.isna(plan_date):
        start = pd.Timestamp(plan_date)
        span = (due - start).dt.days.to_numpy(float)
        elapsed = float((as_of - start).days)
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.clip(np.where(span > 0, elapsed / span, 1.0), 0.0, 1.0)
    else:
        expected = np.full(len(out), np.nan)
    out["expected_progress"] = expected
    overdue = (due <= as_of).to_numpy(bool)
    status = np.select(
        [np.isnan(actual), met, overdue, np.isnan(expected),
         out["progress"].to_numpy(float) >= expected - 1e-9],
        ["no data", "met", "missed", "open", "on track"], default="behind")
    out["review"] = pd.Series(status, index=out.index, dtype="str")
    return out


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
        _check_columns(df, ("account_id", "segment"), name, "rerun step 30_segmentation.")
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
    objectives, actions, segments : DataFrame
        See :func:`review_objectives`, :func:`review_actions`, :func:`segment_changes`.
    summary : DataFrame
        One row per finding (``what``, ``count``, ``of``) for the executive summary.
    as_of, plan_date : Timestamp or None
    source : str
    """

    objectives: pd.DataFrame
    actions: pd.DataFrame
    segments: pd.DataFrame
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: pd.Timestamp | None = None
    plan_date: pd.Timestamp | None = None
    source: str = ""


def review_plan(baseline: Baseline, features: pd.DataFrame,
                segments: pd.DataFrame | None = None) -> PlanReview:
    """Review a baseline plan against this run's features and segments.

    Parameters
    ----------
    baseline : Baseline
        From :func:`load_baseline`.
    features : DataFrame
        This run's ``account_features`` (its ``as_of`` is the review date).
    segments : DataFrame, optional
        This run's ``segments``.

    Returns
    -------
    PlanReview
    """
    as_of = _as_of(features)
    if as_of is None:
        raise InputError("account_features", "has no 'as_of' date to review the plan at.",
                         "rerun step 00_intake, which writes it.", column="as_of")
    obj = review_objectives(baseline.objectives, features, as_of, baseline.as_of)
    act = review_actions(baseline.actions, as_of)
    seg = segment_changes(baseline.segments, segments)
    planned = set(obj["account_id"]) | set(act["account_id"].dropna())
    seg_planned = seg[seg["account_id"].isin(planned)]
    rows = [
        ("objectives met", int((obj["review"] == "met").sum()), len(obj)),
        ("objectives missed", int((obj["review"] == "missed").sum()), len(obj)),
        ("objectives behind pace", int((obj["review"] == "behind").sum()), len(obj)),
        ("objectives on track or open", int(obj["review"].isin(["on track", "open"]).sum()),
         len(obj)),
        ("objectives without data", int((obj["review"] == "no data").sum()), len(obj)),
        ("actions done", int((act["review"] == "done").sum()), len(act)),
        ("actions overdue", int((act["review"] == "overdue").sum()), len(act)),
        ("actions past checkpoint", int((act["review"] == "checkpoint passed").sum()), len(act)),
        ("actions dropped", int((act["review"] == "dropped").sum()), len(act)),
        ("planned accounts that moved up", int((seg_planned["move"] == "up").sum()),
         len(seg_planned)),
        ("planned accounts that moved down", int((seg_planned["move"] == "down").sum()),
         len(seg_planned)),
    ]
    summary = pd.DataFrame(rows, columns=["what", "count", "of"])
    return PlanReview(objectives=obj, actions=act, segments=seg, summary=summary, as_of=as_of,
                      plan_date=baseline.as_of, source=baseline.source)


def review_outline() -> pd.DataFrame:
    """What a review contains, column by column (shown when a run has no baseline)."""
    rows = [
        ("plan_review", "review", "met / missed / on track / behind / open / no data for each "
         "objective: the new data's actual against the plan's target"),
        ("plan_review", "actual, gap", "the metric's value in the new data, and actual - target"),
        ("plan_review", "progress", "share of the planned change achieved (1 = target reached)"),
        ("plan_review", "expected_progress", "share of the plan period elapsed at the new data's "
         "date: progress below it means behind pace"),
        ("action_review", "review", "done / dropped / overdue / checkpoint passed / open for "
         "each action, from the status the account manager set in the workbook"),
        ("action_review", "days_overdue", "days an open action is past its due date"),
        ("segment_changes", "move", "up / down / sideways / same / new / gone: how each account "
         "moved between Stars, Developing, Core and Laggards"),
    ]
    return pd.DataFrame(rows, columns=["table", "column", "meaning"])
