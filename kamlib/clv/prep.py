"""From purchase occasions to the RFM summary the CLV models take.

A *purchase occasion* is one account buying on one day: invoice lines of the same day are merged
(intake writes them as the ``purchase_occasions`` table). The models see, per account:

``frequency``  repeat occasions (occasions after the first) up to the calibration end
``recency``    time from the first occasion to the last one (0 when there is no repeat)
``T``          time from the first occasion to the calibration end (the account's "age")
``monetary_value``  average value per *repeat* occasion (the first one is left out, as in
               Fader, Hardie & Lee 2005 "RFM and CLV"; it is often a trial order)

all measured in one time unit (day, week or month) that every output states.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError

TIME_UNITS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}
"""Length of each supported time unit in days."""

DAYS_PER_YEAR = 365.25


def unit_days(time_unit: str) -> float:
    """Length of ``time_unit`` in days; a clear error for anything else."""
    try:
        return TIME_UNITS[time_unit]
    except KeyError:
        raise ParameterError(
            f"time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}."
        ) from None


def units_per_year(time_unit: str) -> float:
    """How many ``time_unit`` periods make a year (52.18 weeks, 12 months, 365.25 days)."""
    return DAYS_PER_YEAR / unit_days(time_unit)


def per_unit_discount(annual_rate: float, time_unit: str) -> float:
    """Convert an annual discount rate to the rate per time unit (compound, not divided).

    >>> round(per_unit_discount(0.10, "month"), 6)
    0.007974
    """
    if not (0.0 <= annual_rate < 1.0):
        raise ParameterError(f"discount_rate is an annual rate in [0, 1), got {annual_rate!r}.")
    return (1.0 + annual_rate) ** (1.0 / units_per_year(time_unit)) - 1.0


def purchase_occasions(
    lines: pd.DataFrame,
    account: str = "account_id",
    date: str = "date",
    values: tuple[str, ...] = ("revenue", "margin"),
) -> pd.DataFrame:
    """Merge invoice lines into one purchase occasion per account and day.

    Parameters
    ----------
    lines : DataFrame
        One row per line with an account, a date and the value columns to sum.
    account, date : str
        Column names of the account identifier and the date.
    values : tuple of str
        Columns summed per occasion (those missing are skipped).

    Returns
    -------
    DataFrame
        ``account_id, date, <values...>, n_lines``, sorted by account and date.
    """
    have = [v for v in values if v in lines.columns]
    df = lines[[account, date, *have]].copy()
    df[date] = pd.to_datetime(df[date]).dt.normalize()
    out = df.groupby([account, date], sort=True, observed=True).agg(
        **{v: (v, "sum") for v in have}, n_lines=(date, "size")
    )
    out = out.reset_index().rename(columns={account: "account_id", date: "date"})
    return out


@dataclass(frozen=True)
class RFMSplit:
    """The dates an RFM summary was built at, kept with it for the outputs."""

    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    time_unit: str

    @property
    def holdout_length(self) -> float:
        """Holdout length in time units (0 when there is no holdout)."""
        return (self.observation_end - self.calibration_end).days / unit_days(self.time_unit)


def default_calibration_end(occasions: pd.DataFrame, holdout_share: float = 0.3) -> pd.Timestamp:
    """A calibration end that leaves the last ``holdout_share`` of the observed span as holdout.

    The split is rounded down to a month end so that reports read naturally.
    """
    d = pd.to_datetime(occasions["date"])
    start, end = d.min(), d.max()
    cut = start + (end - start) * (1.0 - holdout_share)
    month_end = (cut - pd.offsets.MonthEnd(0)) if not cut.is_month_end else cut
    return pd.Timestamp(month_end).normalize()


def rfm_summary(
    occasions: pd.DataFrame,
    calibration_end: str | pd.Timestamp | None = None,
    observation_end: str | pd.Timestamp | None = None,
    time_unit: str = "week",
    value: str = "margin",
) -> tuple[pd.DataFrame, RFMSplit]:
    """Frequency, recency, age and average repeat value per account.

    Parameters
    ----------
    occasions : DataFrame
        ``account_id, date`` and the value column, one row per account and day (see
        :func:`purchase_occasions`; rows of the same day are merged again here, so raw lines
        also work).
    calibration_end : date, optional
        Last day of the calibration period (inclusive). Default: ``observation_end`` (no holdout).
    observation_end : date, optional
        Last day observed. Default: the last occasion date.
    time_unit : {"day", "week", "month"}
        Unit of ``recency``, ``T`` and the holdout length.
    value : str
        Column holding the value of an occasion ("margin" or "revenue").

    Returns
    -------
    summary : DataFrame
        Indexed by ``account_id`` (accounts whose first occasion is after the calibration end
        are left out — they were not customers yet): ``frequency, recency, T, monetary_value,
        first_purchase, last_purchase, frequency_holdout, value_holdout, duration_holdout``.
    split : RFMSplit
        The dates used.
    """
    for col in ("account_id", "date", value):
        if col not in occasions.columns:
            raise InputError(
                "purchase_occasions",
                f"the column '{col}' is missing.",
                "run the intake step, or pass a table with account_id, date and the value column.",
                column=col,
            )
    days = unit_days(time_unit)
    df = occasions[["account_id", "date", value]].copy()
    df["date"] = pd.to_datetime(df["date"]).dt.normalize()
    df = df.groupby(["account_id", "date"], sort=True, observed=True)[value].sum().reset_index()
    obs_end = pd.Timestamp(observation_end) if observation_end else df["date"].max()
    cal_end = pd.Timestamp(calibration_end) if calibration_end else obs_end
    if cal_end > obs_end:
        raise ParameterError(
            f"calibration_end {cal_end.date()} is after the end of the data {obs_end.date()}."
        )
    df = df[df["date"] <= obs_end]
    first = df.groupby("account_id", observed=True)["date"].min()
    keep = first[first <= cal_end].index
    df = df[df["account_id"].isin(keep)]
    cal = df[df["date"] <= cal_end]
    hold = df[df["date"] > cal_end]

    g = cal.groupby("account_id", observed=True)
    n = g.size()
    first = g["date"].min()
    last = g["date"].max()
    total = g[value].sum()
    first_value = cal.loc[g["date"].idxmin(), ["account_id", value]].set_index("account_id")[value]
    freq = (n - 1).astype(float)
    repeat_total = total - first_value
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq > 0, repeat_total / freq.where(freq > 0, 1.0), 0.0)
    out = pd.DataFrame(
        {
            "frequency": freq,
            "recency": (last - first).dt.days / days,
            "T": (cal_end - first).dt.days / days,
            "monetary_value": monetary,
            "first_purchase": first,
            "last_purchase": last,
        }
    )
    hg = hold.groupby("account_id", observed=True)
    out["frequency_holdout"] = hg.size().reindex(out.index, fill_value=0).astype(float)
    out["value_holdout"] = hg[value].sum().reindex(out.index, fill_value=0.0).astype(float)
    out["duration_holdout"] = (obs_end - cal_end).days / days
    out.index.name = "account_id"
    return out, RFMSplit(cal_end, obs_end, time_unit)


def compress(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique (frequency, recency, T) triples, their counts and the inverse index.

    Accounts observed at daily resolution share triples, so likelihoods and predictions are
    computed once per triple and weighted by the count.

    Returns
    -------
    x, t_x, T, weights, inverse : arrays
        ``x[inverse]`` gives back the input order.
    """
    x = np.asarray(frequency, float)
    t_x = np.asarray(recency, float)
    TT = np.asarray(T, float)
    # Round to 1e-9 so triples equal up to float noise (days / 7) are merged; a lexsort is much
    # faster than np.unique(axis=0) on a million rows.
    keys = [np.round(v, 9) for v in (x, t_x, TT)]
    order = np.lexsort(keys[::-1])
    sk = [k[order] for k in keys]
    new = np.ones(len(order), bool)
    if len(order):
        new[1:] = (np.diff(sk[0]) != 0) | (np.diff(sk[1]) != 0) | (np.diff(sk[2]) != 0)
    group = np.cumsum(new) - 1
    inverse = np.empty(len(order), np.int64)
    inverse[order] = group
    counts = np.bincount(group).astype(float)
    first = order[new]
    return x[first], t_x[first], TT[first], counts, inverse


def group_rows(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (frequency, recency, T) triples (equal to 1e-9, as in :func:`compress`) and
    their counts, in no particular order (the same for the same input).

    A hash grouping instead of :func:`compress`'s sort: several times faster on a million
    accounts, for fits that need the distinct histories but not their order. An account whose
    age no other account shares is a history of its own, so with ages not at day resolution
    only the few accounts of a shared age are grouped further.
    """
    import pandas as pd

    cols = [np.asarray(v, float) for v in (frequency, recency, T)]
    age = pd.factorize(np.round(cols[2], 9))[0]
    shared = np.bincount(age)[age] > 1
    if shared.all():
        return _group_rows_by_key(cols)
    alone = [c[~shared] for c in cols] + [np.ones(int(len(age) - shared.sum()))]
    grouped = _group_rows_by_key([c[shared] for c in cols])
    return tuple(np.concatenate([a, g]) for a, g in zip(alone, grouped))


def _group_rows_by_key(cols):
    """:func:`group_rows` on all three columns, in the order each history first occurs."""
    import pandas as pd

    codes = [pd.factorize(np.round(v, 9))[0].astype(np.int64) for v in cols]
    key = codes[0]
    for c in codes[1:]:
        # Each product is below len^2 <= 2^62 after refactorising: no overflow.
        key = pd.factorize(key * (int(c.max(initial=-1)) + 1) + c)[0].astype(np.int64)
    # Groups are numbered in the order they first occur: a group's first row is where the
    # running maximum of the numbers first reaches it.
    counts = np.bincount(key).astype(float)
    first = np.flatnonzero(np.diff(np.maximum.accumulate(key), prepend=-1) > 0)
    return cols[0][first], cols[1][first], cols[2][first], counts


def check_rfm(frequency, recency, T, table: str = "rfm summary") -> None:
    """Raise a clear error when frequency/recency/T are inconsistent."""
    x = np.asarray(frequency, float)
    t_x = np.asarray(recency, float)
    TT = np.asarray(T, float)
    bad = ~(np.isfinite(x) & np.isfinite(t_x) & np.isfinite(TT))
    bad |= (x < 0) | (t_x < 0) | (t_x > TT + 1e-9) | ((x == 0) & (t_x != 0))
    if bad.any():
        rows = (np.flatnonzero(bad) + 1).tolist()
        raise InputError(
            table,
            "frequency, recency and T must be finite with 0 <= recency <= T, and recency = 0 "
            "when frequency = 0.",
            "build the summary with kamlib.clv.prep.rfm_summary.",
            rows=rows,
        )


def fit_arrays(frequency, recency, T, weights=None):
    """Checked ``(x, t_x, T, w)`` arrays for a model fit.

    Without ``weights`` the rows are compressed to distinct ``(x, t_x, T)`` triples with their
    counts as weights (many accounts share a history); with ``weights`` the rows are taken as
    already compressed.
    """
    check_rfm(frequency, recency, T)
    if weights is None:
        x, t_x, TT, w, _ = compress(frequency, recency, T)
        return x, t_x, TT, w
    x, t_x, TT = (np.asarray(v, float) for v in (frequency, recency, T))
    return x, t_x, TT, np.asarray(weights, float)
