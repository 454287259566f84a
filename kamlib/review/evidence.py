"""What the new data says about the accounts of the last plan: the actual of each stage goal.

Revenue and margin are summed over the account's purchases from the plan start to the milestone
(``purchase_occasions``); whitespace is the categories bought now that were not bought at plan
time (``account_category_year``); relationship is the DMU roles covered now, as this run's
account plans counted them (``plan_profile.roles_covered``: one rule and one ``cover_strength``,
step 40's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib.errors import InputError
from kamlib.review.plan import clean_objectives, data_date

MONEY_KINDS: dict[str, str] = {"revenue": "revenue", "margin": "margin"}
"""Objective kinds measured as money over the plan period, and their purchase_occasions column."""


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



def evidence_from(tables: Mapping[str, pd.DataFrame | None]) -> Evidence:
    """:class:`Evidence` from a run's tables (a mapping name -> DataFrame or None)."""
    feats = tables.get("account_features")
    as_of = data_date(feats)
    if as_of is None:
        raise InputError("account_features", "has no 'as_of' date to review the plan at.",
                         "rerun step 00_intake, which writes it.", column="as_of")
    return Evidence(as_of=as_of, occasions=tables.get("purchase_occasions"),
                    category_year=tables.get("account_category_year"),
                    roles_covered=roles_covered(tables.get("plan_profile")))

