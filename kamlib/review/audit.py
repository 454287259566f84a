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
from kamlib.vocabulary import ACTION_LEADING_COLUMNS, ACTION_STATUSES, OBJECTIVE_COLUMNS, SEGMENT_RANK

OBJECTIVE_REQUIRED: tuple[str, ...] = ("account_id", "objective_id", "objective", "due_date",
                                       "target")
"""The columns the review cannot do without."""

ACTION_REQUIRED: tuple[str, ...] = ("account_id", "action_id", "action", "due_date", "status")
"""The columns the review cannot do without."""

STATUS_SYNONYMS: dict[str, str] = {
    "completed": "done", "complete": "done", "closed": "done", "finished": "done",
    "cancelled": "dropped", "canceled": "dropped", "in progress": "open", "planned": "open",
}
"""Other words people type for a status, read as the status they mean (the account plans'
health score counts done/completed/closed as done, too)."""

SHEET_OBJECTIVES = "Objectives"
SHEET_ACTIONS = "Actions"
SHEET_ABOUT = "About"
WORKBOOK_NAME = "plan_workbook.xlsx"

MONEY_KINDS: dict[str, str] = {"revenue": "revenue", "margin": "margin"}
"""Objective kinds measured as money over the plan period, and their purchase_occasions column."""


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
        :data:`ACTION_LEADING_COLUMNS`, plus any others they carried).
    segments : DataFrame or None
        The baseline run's ``segments`` table, when available.
    category_year : DataFrame or None
        The baseline run's ``account_category_year`` (what each account bought at plan time;
        whitespace objectives are measured against it).
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
    category_year: pd.DataFrame | None = None


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
    _check_columns(objectives, OBJECTIVE_REQUIRED, where,
                   "keep the column headers the workbook was written with.")
    df = objectives.dropna(how="all").reset_index(drop=True)
    for col in ("account_id", "objective_id", "objective"):
        df[col] = df[col].astype("str").str.strip()
    df["objective"] = df["objective"].str.lower()
    for col in ("baseline", "target", "days"):
        if col not in df.columns:
            continue
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() & df[col].notna() & (df[col].astype("str").str.strip() != "")
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
    _check_columns(actions, ACTION_REQUIRED, where,
                   "keep the column headers the workbook was written with.")
    df = actions.dropna(how="all").reset_index(drop=True)
    status = df["status"].astype("str").str.strip().str.lower()
    status = status.where(df["status"].notna() & (status != ""), "open").replace(
        STATUS_SYNONYMS)
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
        if col in df.columns:
            df[col] = df[col].astype("str").str.strip().where(df[col].notna())
    if "checkpoint_date" not in df.columns:
        df["checkpoint_date"] = pd.NaT
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
        # shown on the client's summary page: the run's name, not a path on the consultant's disk
        source = f"the edited {workbook.name} of run {folder.name}"
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
        source = f"the plan tables of run {folder.name} (plan_objectives, plan_actions)"
    return Baseline(objectives=objectives, actions=actions,
                    segments=_read_table(folder, "segments"), as_of=as_of, source=source,
                    category_year=_read_table(folder, "account_category_year"))


# --------------------------------------------------------------------------------------------
# Reviewing
# --------------------------------------------------------------------------------------------
@dataclass
class Evidence:
    """What the new data says about the accounts: the tables a review measures actuals from.

    Attributes
    ----------
    as_of : Timestamp
        The new data's date.
    occasions : DataFrame, optional
        ``purchase_occasions`` (account_id, date, revenue, margin): revenue and margin
        objectives.
    category_year : DataFrame, optional
        ``account_category_year`` of this run: whitespace objectives.
    baseline_category_year : DataFrame, optional
        ``account_category_year`` of the baseline run (what was bought at plan time).
    roles_covered : Series, optional
        DMU roles covered now per account (index account_id), as this run's account plans
        counted them (:func:`roles_covered`): relationship objectives. An account the plans
        did not cover cannot be measured (no data).
    """

    as_of: pd.Timestamp
    occasions: pd.DataFrame | None = None
    category_year: pd.DataFrame | None = None
    baseline_category_year: pd.DataFrame | None = None
    roles_covered: pd.Series | None = None


def _window_sums(occasions: pd.DataFrame, value: str, accounts: np.ndarray,
                 start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Sum of ``value`` per row over purchases with start < date <= end (NaN: no account)."""
    out = np.full(len(accounts), np.nan)
    occ = occasions[["account_id", "date", value]].dropna(subset=["date"])
    occ = occ.assign(account_id=occ["account_id"].astype("str"),
                     date=pd.to_datetime(occ["date"]).astype("datetime64[us]"))
    groups = {a: g.sort_values("date") for a, g in occ.groupby("account_id", sort=False)}
    for i, acc in enumerate(accounts):
        g = groups.get(acc)
        if g is None:
            out[i] = 0.0  # bought nothing in the new data: zero, measured
            continue
        dates = g["date"].to_numpy()
        cum = np.r_[0.0, np.cumsum(g[value].to_numpy(float))]
        lo = np.searchsorted(dates, np.datetime64(start[i], "us"), side="right")
        hi = np.searchsorted(dates, np.datetime64(end[i], "us"), side="right")
        out[i] = cum[hi] - cum[lo]
    return out


def _bought(cy: pd.DataFrame, years: tuple[int, ...]) -> dict[str, set[str]]:
    rows = cy[cy["year"].isin(years) & (pd.to_numeric(cy["revenue"], errors="coerce") > 0)]
    return {str(a): set(g["category"].astype(str))
            for a, g in rows.groupby("account_id", sort=False)}


def new_categories(category_year: pd.DataFrame,
                   baseline_category_year: pd.DataFrame | None = None) -> pd.Series:
    """Categories each account buys now (last 12 months) that it did not buy at plan time.

    At plan time means the baseline run's last 12 months when that table is given, else the
    two earlier windows of this run (an approximation when the baseline folder is gone).
    """
    now = _bought(category_year, (0,))
    before = (_bought(baseline_category_year, (0,)) if baseline_category_year is not None
              else _bought(category_year, (1, 2)))
    return pd.Series({a: len(cats - before.get(a, set())) for a, cats in now.items()},
                     dtype=float)


def roles_covered(plan_profile: pd.DataFrame | None) -> pd.Series | None:
    """DMU roles covered per account, from the account plans' ``plan_profile`` table.

    The account plans (step 40) decide coverage by one rule and their ``cover_strength``;
    the review counts the roles they list in ``roles_covered`` (';'-separated) rather than
    judging the contacts again, perhaps with another threshold. None without the table.
    """
    if plan_profile is None or "roles_covered" not in plan_profile.columns:
        return None
    listed = plan_profile["roles_covered"].astype(object).where(
        plan_profile["roles_covered"].notna(), "")
    n = [len([r for r in str(v).split(";") if r.strip()]) for v in listed]
    return pd.Series(n, index=plan_profile["account_id"].astype(str), dtype=float)


def measure(objectives: pd.DataFrame, evidence: Evidence, plan_date=None) -> pd.DataFrame:
    """The actual value of each stage goal in the new data.

    Money objectives are summed from the plan start to the milestone's due date, or to the new
    data's date when the milestone is still ahead; counts are taken as they stand now.

    Returns
    -------
    DataFrame
        The objectives plus ``start`` (plan start), ``measured_to`` and ``actual`` (NaN where
        the new data cannot measure the objective).
    """
    obj = clean_objectives(objectives)
    as_of = pd.Timestamp(evidence.as_of)
    if "days" in obj.columns and obj["days"].notna().any():
        start = obj["due_date"] - pd.to_timedelta(obj["days"].fillna(0), unit="D")
        if plan_date is not None:
            start = start.where(obj["days"].notna(), pd.Timestamp(plan_date))
    else:
        start = pd.Series(pd.Timestamp(plan_date) if plan_date is not None else pd.NaT,
                          index=obj.index)
    obj["start"] = pd.to_datetime(start).astype("datetime64[us]")
    obj["measured_to"] = obj["due_date"].where(obj["due_date"] <= as_of, as_of)
    actual = np.full(len(obj), np.nan)
    kind = obj["objective"]
    accounts = obj["account_id"].to_numpy(str)
    if evidence.occasions is not None:
        for k, col in MONEY_KINDS.items():
            rows = (kind == k).to_numpy() & obj["start"].notna().to_numpy()
            if rows.any() and col in evidence.occasions.columns:
                actual[rows] = _window_sums(evidence.occasions, col, accounts[rows],
                                            obj["start"].to_numpy()[rows],
                                            obj["measured_to"].to_numpy()[rows])
    if evidence.category_year is not None:
        rows = (kind == "whitespace").to_numpy()
        if rows.any():
            n = new_categories(evidence.category_year, evidence.baseline_category_year)
            actual[rows] = pd.Series(accounts[rows]).map(n).fillna(0.0).to_numpy()
    if evidence.roles_covered is not None:
        rows = (kind == "relationship").to_numpy()
        if rows.any():
            n = evidence.roles_covered[~evidence.roles_covered.index.duplicated()]
            actual[rows] = pd.Series(accounts[rows]).map(n).to_numpy(float)
    obj["actual"] = actual
    return obj


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
        From :func:`load_baseline`.
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


def evidence_from(tables) -> Evidence:
    """:class:`Evidence` from a run's tables (a mapping name -> DataFrame or None)."""
    feats = tables.get("account_features")
    as_of = _as_of(feats)
    if as_of is None:
        raise InputError("account_features", "has no 'as_of' date to review the plan at.",
                         "rerun step 00_intake, which writes it.", column="as_of")
    return Evidence(as_of=as_of, occasions=tables.get("purchase_occasions"),
                    category_year=tables.get("account_category_year"),
                    roles_covered=roles_covered(tables.get("plan_profile")))


def review_run(baseline: str | Path | None, tables) -> PlanReview | None:
    """Review the baseline's plan against this run's tables; None when there is no baseline.

    Parameters
    ----------
    baseline : str or Path or None
        The ``baseline`` parameter: a previous run folder or an edited plan workbook.
    tables : mapping
        This run's tables (``account_features``, ``purchase_occasions``,
        ``account_category_year``, ``plan_profile``, ``segments``).
    """
    b = load_baseline(baseline)
    if b is None:
        return None
    return review_plan(b, evidence_from(tables), tables.get("segments"))


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


def baseline_hint(run_dir: str | Path, engagement: str = "<engagement>") -> str:
    """How to make this run the baseline of the next one (shown when there is no review)."""
    run_dir = Path(run_dir)
    return (f"This is the first plan: there is no earlier run to review it against. Keep this "
            f"run folder ({run_dir.name}); during the quarter, account managers update "
            f"{WORKBOOK_NAME} (status of each action, dates, new actions). At the next "
            f"quarterly rerun on fresh data, pass this run as the baseline: "
            f"kam run {engagement} --baseline {run_dir} — the review then shows which "
            f"targets were met or missed, which actions are overdue and which accounts "
            f"changed segment.")


def review_overview(review: PlanReview | None, hint: str) -> tuple[str, pd.DataFrame]:
    """What the notebook shows first: where the reviewed plan came from and its summary, or,
    without a baseline, how to get one and what the review will contain."""
    if review is None:
        return hint, review_outline()
    return f"Reviewing the plan from {review.source}", review.summary
