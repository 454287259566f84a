"""Holdout validation: does the model fitted on the calibration period predict what came next?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib.clv.predictive import Predictive, rate_drift
from kamlib.clv.prep import RFMSplit, rfm_summary, unit_days
from kamlib.formatting import share as fmt_share


def holdout_predictions(model, rfm: pd.DataFrame, level: float = 0.90, n_simulations: int = 0,
                        seed: int = 0, drift: float = 0.0) -> pd.DataFrame:
    """Predicted vs actual holdout purchases per account, with a predictive interval.

    ``rfm`` must come from :func:`~kamlib.clv.prep.rfm_summary` with a calibration end before the
    observation end (columns ``frequency_holdout`` and ``duration_holdout``). With
    ``n_simulations`` the table gains ``predicted_low`` and ``predicted_high``: the central
    ``level`` interval of the account's holdout purchases simulated from the model with its
    parameters' uncertainty (:class:`~kamlib.clv.predictive.Predictive`; whole numbers, so an
    interval covers at least ``level`` of its account's simulated futures; ``drift`` as in
    :func:`~kamlib.clv.predictive.rate_drift`), and ``inside``: whether the actual count fell
    in it.
    """
    H = rfm["duration_holdout"].to_numpy(float)
    pred = model.expected_purchases(H, rfm["frequency"], rfm["recency"], rfm["T"])
    out = pd.DataFrame({"frequency": rfm["frequency"], "predicted": pred,
                        "actual": rfm["frequency_holdout"]}, index=rfm.index)
    if n_simulations > 0:
        sim = Predictive(model, model.sample_params(n_simulations, seed=seed), rfm["frequency"],
                         rfm["recency"], rfm["T"], H, level=level, seed=seed + 2, drift=drift)
        out["predicted_low"] = sim.count_low
        out["predicted_high"] = sim.count_high
        out["inside"] = (out["actual"] >= sim.count_low) & (out["actual"] <= sim.count_high)
        out.attrs["drift"] = drift
    return out


def calibration_by_frequency(pred: pd.DataFrame, max_bucket: int = 7, groups: int = 8
                             ) -> pd.DataFrame:
    """Mean predicted and actual holdout purchases by calibration frequency.

    Consumer data (most accounts buy a few times) get one bucket per frequency 0..max_bucket-1
    and an open last bucket ``max_bucket+``. Business accounts often buy weekly, so that every
    account would land in the last bucket; when more than half of them would, the buckets are
    instead ``groups`` ranges of frequency with about equally many accounts each ("12-25").

    Returns
    -------
    DataFrame
        ``bucket`` (ordered categorical), ``accounts``, ``predicted``, ``actual``.
    """
    f = pred["frequency"].to_numpy(float)
    if len(f) and (f >= max_bucket).mean() <= 0.5:
        b = np.minimum(f, max_bucket).astype(int)
        labels = [str(i) for i in range(max_bucket)] + [f"{max_bucket}+"]
    else:
        # Integer edges at frequency quantiles; bucket i holds lo_i <= f < lo_{i+1}.
        lo = np.unique(np.floor(np.quantile(f, np.linspace(0, 1, groups + 1)[:-1])))
        b = np.searchsorted(lo, f, side="right") - 1
        hi = np.r_[lo[1:] - 1, f.max()]
        labels = [f"{a:.0f}" if a == z else f"{a:.0f}-{z:.0f}" for a, z in zip(lo, hi)]
    g = pred.assign(bucket=pd.Categorical.from_codes(b, labels)).groupby("bucket", observed=True)
    return g.agg(accounts=("actual", "size"), predicted=("predicted", "mean"),
                 actual=("actual", "mean")).reset_index()


def error_summary(pred: pd.DataFrame) -> pd.DataFrame:
    """Totals and per-account errors of the holdout prediction, one row per measure."""
    e = pred["predicted"] - pred["actual"]
    tot_p, tot_a = pred["predicted"].sum(), pred["actual"].sum()
    corr = np.corrcoef(pred["predicted"], pred["actual"])[0, 1] if len(pred) > 1 else np.nan
    rows = {
        "accounts": len(pred),
        "predicted_total": tot_p,
        "actual_total": tot_a,
        "total_error_pct": 100 * (tot_p - tot_a) / tot_a if tot_a else np.nan,
        "mae_per_account": e.abs().mean(),
        "rmse_per_account": float(np.sqrt((e**2).mean())),
        "correlation": corr,
    }
    if "inside" in pred.columns:
        rows["interval_coverage"] = float(pred["inside"].mean()) if len(pred) else np.nan
        rows["rate_drift"] = float(pred.attrs.get("drift", 0.0))
    return pd.DataFrame({"measure": list(rows), "value": [float(v) for v in rows.values()]})


def cumulative_tracking(model, rfm: pd.DataFrame, occasions: pd.DataFrame, split: RFMSplit,
                        steps: int = 60) -> pd.DataFrame:
    """Cumulative repeat purchases of the cohort: actual vs model, over calendar time.

    The model's curve sums, over accounts, the expected repeat purchases of a new account since
    its first purchase (``expected_purchases_new``), so the holdout part is a true forecast.
    """
    days = unit_days(split.time_unit)
    first = rfm["first_purchase"]
    start = first.min()
    dates = pd.date_range(start, split.observation_end, periods=steps + 1).floor("D")
    occ = occasions[occasions["account_id"].isin(rfm.index)][["account_id", "date"]].copy()
    occ["date"] = pd.to_datetime(occ["date"]).dt.normalize()
    occ = occ.drop_duplicates()
    occ = occ[occ["date"] > occ["account_id"].map(first)]  # repeats only
    rep = np.sort(occ["date"].to_numpy())
    actual = np.searchsorted(rep, dates.to_numpy(), side="right")
    # Group accounts by first-purchase day: the expectation depends only on the age.
    fd = first.value_counts()
    ages = ((dates.to_numpy()[:, None] - fd.index.to_numpy()[None, :])
            / np.timedelta64(1, "D")) / days
    expected = (np.where(ages > 0, model.expected_purchases_new(np.clip(ages, 0, None)), 0.0)
                * fd.to_numpy()[None, :]).sum(axis=1)
    return pd.DataFrame({"date": dates, "actual": actual.astype(float), "expected": expected,
                         "period": np.where(dates <= split.calibration_end, "calibration",
                                            "holdout")})


@dataclass
class HoldoutCheck:
    """The purchase model fitted up to the calibration end and tested on what came after.

    Attributes
    ----------
    table : DataFrame
        ``clv_holdout``: predicted and actual holdout purchases per account (no rows when the
        calibration period has too few repeat buyers to fit the model).
    errors, calibration, tracking : DataFrame or None
        :func:`error_summary`, :func:`calibration_by_frequency`, :func:`cumulative_tracking`.
    summary : DataFrame or None
        The check's rows of ``clv_model_summary``.
    """

    table: pd.DataFrame
    errors: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    tracking: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None


def holdout_check(model_class, label: str, occasions: pd.DataFrame, calibration_end: pd.Timestamp,
                  as_of: pd.Timestamp, time_unit: str, value: str, min_repeat_accounts: int,
                  notes: list[str], level: float = 0.90, n_simulations: int = 0,
                  seed: int = 0) -> HoldoutCheck:
    """Fit ``model_class`` (labelled ``label``) on the occasions up to ``calibration_end`` and
    compare its forecast with the purchases up to ``as_of``; the outcome goes to ``notes``.

    With fewer than ``min_repeat_accounts`` repeat buyers in the calibration period nothing is
    fitted and the check is empty. With ``n_simulations`` each account gets a predictive
    ``level`` interval of its holdout purchases and the errors the share of accounts whose actual
    count fell inside (``interval_coverage``).
    """
    rfm_cal, split = rfm_summary(occasions, calibration_end, as_of, time_unit, value)
    if int((rfm_cal["frequency"] > 0).sum()) < min_repeat_accounts:
        cols = ["account_id", "frequency", "predicted", "actual"]
        if n_simulations > 0:
            cols += ["predicted_low", "predicted_high", "inside"]
        return HoldoutCheck(pd.DataFrame(columns=cols))
    m_cal = model_class().fit(rfm_cal["frequency"], rfm_cal["recency"], rfm_cal["T"])
    drift = (rate_drift(occasions, calibration_end, time_unit, split.holdout_length)
             if n_simulations > 0 else 0.0)
    pred = holdout_predictions(m_cal, rfm_cal, level, n_simulations, seed, drift)
    errors = error_summary(pred)
    table = pred.reset_index()
    table["calibration_end"] = calibration_end
    table["holdout_length"] = split.holdout_length
    table["time_unit"] = time_unit
    e = errors.set_index("measure")["value"]
    notes.append(
        f"Holdout check: fitted up to {calibration_end.date()}, the model predicted "
        f"{e['predicted_total']:.0f} purchase occasions in the next "
        f"{split.holdout_length:.0f} {time_unit}s; {e['actual_total']:.0f} happened "
        f"({e['total_error_pct']:+.1f} %)."
        + (f" {fmt_share(e['interval_coverage'])} of the accounts' actual counts fell inside their "
           f"{fmt_share(level)} predictive interval." if "interval_coverage" in e else "")
    )
    summary = pd.DataFrame({
        "model": f"{label} holdout", "parameter": errors["measure"],
        "estimate": errors["value"], "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
        "note": f"calibration to {calibration_end.date()}",
    })
    return HoldoutCheck(table, errors, calibration_by_frequency(pred),
                        cumulative_tracking(m_cal, rfm_cal, occasions, split), summary)
