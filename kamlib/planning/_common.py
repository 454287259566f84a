"""Small helpers the planning modules share (plan start date, role lists, safe numbers)."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from kamlib.errors import InputError
from kamlib.vocabulary import DMU_ROLES
from kamlib.formatting import share as fmt_share


RECENT_DAYS = 92
"""Data at most this many days old counts as recent: the plan then starts at its ``as_of``."""


def data_date(features: pd.DataFrame) -> pd.Timestamp:
    """The data's date: the latest ``as_of`` of ``account_features``."""
    if "as_of" in features.columns and features["as_of"].notna().any():
        return pd.Timestamp(pd.to_datetime(features["as_of"]).max()).normalize()
    raise InputError("account_features", "there is no as_of date to start the plan from.",
                     "Rerun intake, or set the plan_start parameter.", column="as_of")


def plan_start(features: pd.DataFrame, start: str | _dt.date | None = None,
               today: _dt.date | None = None) -> pd.Timestamp:
    """The day the plan starts, so that its 30/60/90-day checkpoints lie ahead of the people
    who receive it.

    ``start`` is a date (YYYY-MM-DD), ``"as_of"`` (the data's date: a rerun on the same inputs
    gives the same due dates) or empty: the data's ``as_of`` when it is recent (at most
    :data:`RECENT_DAYS` before ``today``, the run date), else ``today``.
    """
    if isinstance(start, str) and start.strip().lower() == "as_of":
        return data_date(features)
    if start not in (None, ""):
        try:
            return pd.Timestamp(start).normalize()
        except (ValueError, TypeError) as exc:
            raise InputError("parameter plan_start", f"{start!r} is not a date.",
                             "Give it as YYYY-MM-DD, 'as_of' for the data's date, or leave it "
                             "empty for the run date (the data's date when it is recent).") from exc
    as_of = data_date(features)
    run_date = pd.Timestamp(today if today is not None else _dt.date.today()).normalize()
    return as_of if as_of >= run_date - pd.Timedelta(days=RECENT_DAYS) else run_date


def num(df: pd.DataFrame, col: str, default: float = np.nan) -> pd.Series:
    """Column ``col`` as float (``default`` where the column is absent or not numeric)."""
    if col not in df.columns:
        return pd.Series(default, index=df.index, dtype=float)
    return pd.to_numeric(df[col], errors="coerce").astype(float)


def text(df: pd.DataFrame, col: str, default: str = "") -> pd.Series:
    """Column ``col`` as text with missing values replaced by ``default``."""
    if col not in df.columns:
        return pd.Series(default, index=df.index, dtype=object)
    s = df[col].astype(object)
    return s.where(s.notna() & (s.astype(str).str.strip() != ""), default).astype(str)


def nz(v) -> float:
    """A number, with missing values (None, NaN) as 0."""
    return 0.0 if v is None or v != v else float(v)


def split_roles(value: object) -> list[str]:
    """``"decider; buyer"`` -> ``["decider", "buyer"]`` (known DMU roles only, contract order)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (list, tuple, set, np.ndarray)):  # intake may hand over real lists
        parts = {str(p).strip().lower() for p in value}
    else:
        parts = {p.strip().lower() for p in str(value).replace(",", ";").split(";")}
    return [r for r in DMU_ROLES if r in parts]


def require_columns(df: pd.DataFrame, table: str, columns: list[str]) -> None:
    """Raise an :class:`InputError` naming the first missing column of ``table``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(table, f"the column(s) {', '.join(missing)} are missing.",
                         f"Rerun the step that writes '{table}', or add the column(s).",
                         column=missing[0])


def workday(ts: pd.Timestamp) -> pd.Timestamp:
    """Move a Saturday or Sunday due date to the following Monday."""
    wd = ts.weekday()
    return ts + pd.Timedelta(days=7 - wd) if wd >= 5 else ts


def records(df: pd.DataFrame) -> list[dict]:
    """``df.to_dict("records")``, faster: one ``tolist`` per column instead of a row iterator
    (pandas 3's ``to_dict`` costs milliseconds per call, and pages call it hundreds of times)."""
    cols = list(df.columns)
    return [dict(zip(cols, vals)) for vals in zip(*(df[c].tolist() for c in cols))] if len(df) else []


def plain(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """A copy with pandas' nullable columns made plain: ``Int64``/``Float64`` -> float with NaN,
    ``string``/``boolean`` -> object with NaN for missing.

    Intake hands over nullable dtypes (their missing value is ``pd.NA``, which refuses to be
    compared); the planning rules run on plain values where missing is NaN.
    """
    if df is None:
        return None
    out = df.copy()
    for col in out.columns:
        dt = out[col].dtype
        if isinstance(dt, pd.api.extensions.ExtensionDtype) and getattr(dt, "na_value", None) is pd.NA:
            s = out[col]
            if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt):
                out[col] = s.astype("float64")
            else:
                out[col] = s.astype(object).where(s.notna(), np.nan)
    return out


def pct_change(now: float, before: float) -> float:
    """Plain change ``now / before - 1`` as readers compute it (NaN when ``before`` is not > 0).

    ``growth_12m`` is a *symmetric* growth, bounded and defined from zero, which suits scores
    and rules; shown to a reader, +45% symmetric for revenue that went from 2.4M to 3.7M (+58%)
    looks like an error, and the summary page shows the plain change.
    """
    try:
        now, before = float(now), float(before)
    except (TypeError, ValueError):
        return float("nan")
    if not (before == before and now == now) or before <= 0:
        return float("nan")
    return now / before - 1.0


def change_text(now: float, before: float) -> str:
    """'+58%' (plain change), '>+300%' beyond that, 'new' when there was nothing before."""
    try:
        before_f, now_f = float(before), float(now)
    except (TypeError, ValueError):
        return "n/a"
    if before_f == before_f and before_f <= 0 and now_f == now_f and now_f > 0:
        return "new"
    c = pct_change(now, before)
    if c != c:
        return "n/a"
    return fmt_share(c, signed=True)  # ">+300%" beyond that
