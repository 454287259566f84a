"""The axes of the portfolio: value, growth and (optionally) potential, one row per account.

Value is what an account is worth to us now (revenue, gross margin or CLV). Growth compares the
latest 12 months with the 12 months that end ``growth_window_months`` earlier; it has to behave
for small and zero bases, so it is either *symmetric* growth ``(a - b) / ((|a| + |b|) / 2)``
(bounded in [-2, 2]; a new account scores +2, a lost one -2) or *log* growth
``log((a+ + c) / (b+ + c))`` with an offset ``c`` that keeps a zero base finite. Potential is
headroom in the account's wallet: ``wallet - revenue`` (never below 0) where the wallet is known.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError

VALUE_MEASURES: tuple[str, ...] = ("revenue", "margin", "clv")
GROWTH_MEASURES: tuple[str, ...] = ("symmetric", "log")
GROWTH_WINDOWS: tuple[int, ...] = (12, 24)

# Column names of account_features for each trailing 12-month window (0 = latest).
_REVENUE = {0: "revenue_12m", 1: "revenue_prev_12m", 2: "revenue_prev2_12m", 3: "revenue_prev3_12m"}
_MARGIN = {0: "margin_12m", 1: "margin_prev_12m", 2: "margin_prev2_12m", 3: "margin_prev3_12m"}


def symmetric_growth(current: np.ndarray | pd.Series, base: np.ndarray | pd.Series) -> np.ndarray:
    """Symmetric growth ``(a - b) / ((|a| + |b|) / 2)``, 0 when both are 0.

    Bounded in [-2, 2] whatever the base: a zero base gives +2 (new business), a zero current
    value -2 (lost business), so small accounts cannot produce the +5000 % outliers that plain
    growth rates do.

    Parameters
    ----------
    current, base : array-like
        Values of the later and the earlier window.

    Returns
    -------
    numpy.ndarray
    """
    a = np.asarray(current, dtype=float)
    b = np.asarray(base, dtype=float)
    den = (np.abs(a) + np.abs(b)) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(den > 0, (a - b) / np.where(den > 0, den, 1.0), 0.0)
    return g


def log_growth(
    current: np.ndarray | pd.Series, base: np.ndarray | pd.Series, offset: float
) -> np.ndarray:
    """Log growth ``log((max(a, 0) + c) / (max(b, 0) + c))``.

    The offset ``c`` (in currency) keeps a zero base finite and damps the growth of tiny
    accounts; negative window totals (credit notes exceeding sales) count as 0.

    Parameters
    ----------
    current, base : array-like
        Values of the later and the earlier window.
    offset : float
        Positive offset in the same currency as the values.

    Returns
    -------
    numpy.ndarray
    """
    if not offset > 0:
        raise ParameterError(f"log growth needs a positive offset, got {offset!r}.")
    a = np.clip(np.asarray(current, dtype=float), 0, None)
    b = np.clip(np.asarray(base, dtype=float), 0, None)
    return np.log((a + offset) / (b + offset))


def default_log_offset(revenue: pd.Series | np.ndarray, fraction: float = 0.05) -> float:
    """A data-driven offset for log growth: ``fraction`` of the median positive revenue (or 1)."""
    r = np.asarray(revenue, dtype=float)
    r = r[np.isfinite(r) & (r > 0)]
    return float(fraction * np.median(r)) if r.size else 1.0


def _require(features: pd.DataFrame, columns: list[str], why: str) -> None:
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise InputError(
            "account_features",
            f"column(s) {', '.join(missing)} missing, needed for {why}.",
            "re-run the intake step (00_intake), which writes these columns.",
            column=missing[0],
        )


def compute_measures(
    features: pd.DataFrame,
    *,
    value_measure: str = "revenue",
    growth_measure: str = "symmetric",
    growth_window_months: int = 12,
    lag: int = 0,
    clv: pd.DataFrame | None = None,
    log_offset: float | None = None,
) -> pd.DataFrame:
    """Value, growth and potential of every account for one window.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` from intake: account_id, revenue_12m, revenue_prev_12m,
        revenue_prev2_12m, margin_12m, margin_prev_12m, wallet (optional), ...
    value_measure : {"revenue", "margin", "clv"}
        What "value" means. ``"clv"`` takes the ``clv`` column of the CLV step's table; CLV has
        no past, so for ``lag > 0`` margin of that window stands in (the caller says so).
    growth_measure : {"symmetric", "log"}
        See :func:`symmetric_growth` and :func:`log_growth`.
    growth_window_months : {12, 24}
        Compare the latest 12 months with the 12 months ending 12 or 24 months earlier.
    lag : int
        0 = the current window; 1 = everything shifted back 12 months (for migration).
    clv : DataFrame, optional
        The CLV step's table (account_id, clv); required when ``value_measure == "clv"``.
    log_offset : float, optional
        Offset for log growth; default 5 % of the median positive revenue of the base window.

    Returns
    -------
    DataFrame
        account_id, value, growth, potential, revenue, margin, revenue_base, has_history
        (any revenue in the two windows compared), in the order of ``features``.
    """
    if value_measure not in VALUE_MEASURES:
        raise ParameterError(
            f"value_measure must be one of {', '.join(VALUE_MEASURES)}; got {value_measure!r}."
        )
    if growth_measure not in GROWTH_MEASURES:
        raise ParameterError(
            f"growth_measure must be one of {', '.join(GROWTH_MEASURES)}; got {growth_measure!r}."
        )
    if growth_window_months not in GROWTH_WINDOWS:
        raise ParameterError(
            f"growth_window_months must be 12 or 24 (account_features holds 12-month windows); "
            f"got {growth_window_months!r}."
        )
    step = growth_window_months // 12
    cur_i, base_i = lag, lag + step
    cur_rev, base_rev = _REVENUE[cur_i], _REVENUE[base_i]
    _require(features, ["account_id", cur_rev, base_rev], f"growth over {growth_window_months} months"
             + (" in the previous window" if lag else ""))
    out = pd.DataFrame({"account_id": features["account_id"].astype(str).to_numpy()})
    revenue = features[cur_rev].astype(float).fillna(0.0).to_numpy()
    base = features[base_rev].astype(float).fillna(0.0).to_numpy()
    margin_col = _MARGIN[cur_i]
    margin = (
        features[margin_col].astype(float).fillna(0.0).to_numpy()
        if margin_col in features.columns
        else np.full(len(features), np.nan)
    )

    if value_measure == "revenue":
        value = revenue
    elif value_measure == "margin" or (value_measure == "clv" and lag > 0):
        _require(features, [margin_col], "value_measure='margin'")
        value = margin
    else:
        if clv is None:
            raise ParameterError(
                "value_measure='clv' needs the CLV step's table 'clv'; run 20_clv first or "
                "choose value_measure='revenue' or 'margin'."
            )
        if "clv" not in clv.columns or "account_id" not in clv.columns:
            raise InputError("clv", "the table has no 'account_id' and 'clv' columns.",
                             "re-run the CLV step (20_clv).", column="clv")
        ids = clv["account_id"].astype(str)
        if ids.duplicated().any():
            raise InputError("clv", "account_id is not unique.", "re-run the CLV step (20_clv).",
                             column="account_id",
                             rows=list(map(int, ids.index[ids.duplicated()].to_numpy() + 1)))
        m = clv.assign(account_id=ids).set_index("account_id")["clv"]
        value = out["account_id"].map(m).astype(float).to_numpy()
        # Accounts CLV left out (e.g. never bought) are worth nothing to the model.
        value = np.where(np.isfinite(value), value, 0.0)

    if growth_measure == "symmetric":
        growth = symmetric_growth(revenue, base)
    else:
        off = log_offset if log_offset is not None else default_log_offset(base)
        growth = log_growth(revenue, base, off)

    if "wallet" in features.columns:
        wallet = features["wallet"].astype(float).to_numpy()
        potential = np.where(np.isfinite(wallet), np.clip(wallet - revenue, 0, None), np.nan)
    else:
        potential = np.full(len(features), np.nan)

    out["value"] = value
    out["growth"] = growth
    out["potential"] = potential
    out["revenue"] = revenue
    out["margin"] = margin
    out["revenue_base"] = base
    out["has_history"] = (revenue != 0) | (base != 0)
    return out


def window_available(features: pd.DataFrame | Mapping, growth_window_months: int, lag: int) -> bool:
    """Whether ``account_features`` holds both windows a (lagged) growth needs."""
    cols = features.columns if isinstance(features, pd.DataFrame) else features
    step = growth_window_months // 12
    return _REVENUE.get(lag, "") in cols and _REVENUE.get(lag + step, "") in cols
