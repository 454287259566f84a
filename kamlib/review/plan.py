"""The last plan as the review reads it: its objectives and actions, checked and normalised.

The plan comes from the baseline run: the ``plan_workbook.xlsx`` the account managers edited
(read by :func:`kamlib.report.plan_workbook.read_plan_workbook`) or the run's Parquet tables
``plan_objectives`` and ``plan_actions`` (read by :mod:`kamlib.runner.baseline`). Reading files
is not done here: this module checks what was read, whatever its source, and says which column
or row a person has to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib.errors import InputError
from kamlib.vocabulary import ACTION_STATUSES

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
    tables : dict of str to DataFrame
        The baseline run's other tables the next run builds on, by name (the plan's profile,
        health, red flags and contacts, its closed actions, its segment boundaries, the
        portfolio history ...): its Parquet tables, overridden by the sheets of the edited
        workbook.
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
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def check_columns(df: pd.DataFrame, needed: tuple[str, ...], where: str, fix: str) -> None:
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
    check_columns(objectives, OBJECTIVE_REQUIRED, where,
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
    check_columns(actions, ACTION_REQUIRED, where,
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


def data_date(features: pd.DataFrame | None) -> pd.Timestamp | None:
    """The data date of a run (the latest ``as_of`` of its ``account_features``), or None."""
    if features is None or "as_of" not in features.columns or features["as_of"].isna().all():
        return None
    return pd.Timestamp(pd.to_datetime(features["as_of"]).max())
