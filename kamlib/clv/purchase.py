"""The purchase model's CLV, for accounts that buy when they like (no contract).

BG/NBD or Pareto/NBD says how often and how long each account keeps buying, Gamma-Gamma what
a purchase is worth; both are fitted on all data up to the valuation date. With fewer than
:data:`MIN_REPEAT_ACCOUNTS` accounts that bought twice there is nothing to fit: every account is
valued with the margin multiple instead, and a note says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib.clv.bgnbd import BGNBD
from kamlib.clv.gammagamma import GammaGamma
from kamlib.clv.margin import margin_multiple
from kamlib.clv.paretonbd import ParetoNBD
from kamlib.clv.predictive import rate_drift
from kamlib.clv.prep import units_per_year
from kamlib.clv.value import clv_frame
from kamlib.formatting import money

MODELS = {"bgnbd": (BGNBD, "BG/NBD"), "paretonbd": (ParetoNBD, "Pareto/NBD")}
"""The purchase models by the name the ``model`` parameter takes, with their labels."""

MIN_REPEAT_ACCOUNTS = 20
"""Fewer accounts with repeat purchases than this: no purchase model, margin multiple instead."""

SUMMARY_COLUMNS = ["model", "parameter", "estimate", "se", "ci_low", "ci_high", "note"]
"""Columns of the ``clv_model_summary`` table (before its ``time_unit``)."""


@dataclass
class PurchaseFit:
    """The CLV of every account in the RFM summary, and the models behind it.

    Attributes
    ----------
    clv : DataFrame
        Indexed by account_id: ``expected_purchases, p_alive, expected_value, clv, clv_low,
        clv_high`` (predictive), ``clv_param_low, clv_param_high`` (parameters only),
        ``clv_uplift, model``.
    purchase_model, value_model
        The fitted BG/NBD (or Pareto/NBD) and Gamma-Gamma; None where not fitted.
    summary : list of DataFrame
        Their rows of ``clv_model_summary``.
    """

    clv: pd.DataFrame
    purchase_model: object | None = None
    value_model: GammaGamma | None = None
    summary: list[pd.DataFrame] = field(default_factory=list)


def summary_rows(label: str, fitted, extra: dict) -> pd.DataFrame:
    """A fitted model's rows of ``clv_model_summary``: its parameters, then ``extra``
    (``{parameter: (value, note)}``: log-likelihood, accounts, diagnostics)."""
    s = fitted.summary().reset_index()
    s.insert(0, "model", label)
    s["note"] = ""
    rows = [{"model": label, "parameter": k, "estimate": float(v), "se": np.nan,
             "ci_low": np.nan, "ci_high": np.nan, "note": note}
            for k, (v, note) in extra.items()]
    return pd.concat([s, pd.DataFrame(rows)], ignore_index=True)


def annual_value(occasions: pd.DataFrame, value: str, as_of: pd.Timestamp) -> pd.Series:
    """Value of each account's occasions in the 12 months up to as_of."""
    d = pd.to_datetime(occasions["date"])
    recent = occasions[(d > as_of - pd.Timedelta(days=365)) & (d <= as_of)]
    return recent.groupby("account_id", observed=True)[value].sum()


def purchase_clv(rfm: pd.DataFrame, occasions: pd.DataFrame, as_of: pd.Timestamp, *,
                 model: str, time_unit: str, horizon: float, discount_rate: float, value: str,
                 n_bootstrap: int, interval_level: float, seed: int, uplift_retention: float,
                 uplift_frequency: float, notes: list[str], n_simulations: int = 1000,
                 drift_window: float = 26.0) -> PurchaseFit:
    """CLV of the accounts in ``rfm`` (see the module docstring); notes go to ``notes``.

    The predictive intervals use ``n_simulations`` simulated futures per account and the rate
    drift measured over windows of ``drift_window`` time units (the holdout's length).
    """
    n_rep = int((rfm["frequency"] > 0).sum())
    if n_rep < MIN_REPEAT_ACCOUNTS:
        notes.append(f"Only {n_rep} accounts bought more than once: no purchase model, every "
                     "account is valued with the margin multiple.")
        return PurchaseFit(_margin_multiple_clv(rfm, occasions, as_of, value, discount_rate,
                                                horizon))
    Model, label = MODELS[model]
    pm = Model().fit(rfm["frequency"], rfm["recency"], rfm["T"])
    gg = _value_model(rfm, notes)
    drift = rate_drift(occasions, as_of, time_unit, drift_window) if n_simulations > 0 else 0.0
    cf = clv_frame(rfm, pm, gg, time_unit, horizon, discount_rate, n_bootstrap, interval_level,
                   seed, uplift_retention, uplift_frequency, n_simulations=n_simulations,
                   drift=drift)
    value_label = ("Gamma-Gamma" if gg is not None and gg.fallback_ is None
                   else "observed mean value")
    cf["model"] = f"{label} + {value_label}"
    summary = [summary_rows(label, pm, {
        "log_likelihood": (pm.log_likelihood_, "maximised"),
        "accounts": (pm.n_, f"fitted up to {as_of.date()}"),
        "converged": (float(pm.converged_), "1 = optimiser converged"),
        "rate_drift": (drift, "variance of the accounts' rate drift in the predictive intervals"),
    })]
    if gg is not None:
        chk = gg.assumption_check()
        notes.append(chk["message"])
        summary.append(summary_rows("Gamma-Gamma", gg, {
            "log_likelihood": (gg.log_likelihood_, ""),
            "accounts": (gg.n_, "accounts with repeat occasions of positive value"),
            "freq_value_correlation": (chk["correlation"], chk["message"]),
            "population_mean_value": (gg.population_mean_, f"{value} per occasion"),
        }))
    once = (rfm["frequency"] == 0) & (rfm["T"] > units_per_year(time_unit))
    if model == "bgnbd" and once.any():
        notes.append(
            f"{int(once.sum())} accounts bought once, more than a year ago, and never again. "
            "BG/NBD lets an account drop out only after a repeat purchase, so their P(alive) "
            "is 1; their low purchase rate keeps their CLV small "
            f"({money(cf.loc[once[once].index, 'clv'].sum())} together). Pareto/NBD "
            "(model paretonbd) lets their P(alive) fall with the silence."
        )
    return PurchaseFit(cf, pm, gg, summary)


def _value_model(rfm: pd.DataFrame, notes: list[str]) -> GammaGamma | None:
    """Gamma-Gamma on the repeat occasions' values; None (and a note) when it cannot be fitted,
    and every warning of the fit as a note."""
    gg = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gg = GammaGamma().fit(rfm["frequency"], rfm["monetary_value"])
        except ValueError as e:
            notes.append(f"Gamma-Gamma not fitted ({e}); observed average values used.")
    for w in caught:
        notes.append(str(w.message))
    return gg


def _margin_multiple_clv(rfm: pd.DataFrame, occasions: pd.DataFrame, as_of: pd.Timestamp,
                         value: str, discount_rate: float, horizon: float) -> pd.DataFrame:
    """Last year's value times the margin multiple, with the share of the year before's
    buyers who bought again as the retention rate (0.8 without a year before)."""
    annual = annual_value(occasions, value, as_of)
    prev = occasions[(occasions["date"] > as_of - pd.Timedelta(days=730))
                     & (occasions["date"] <= as_of - pd.Timedelta(days=365))]["account_id"].unique()
    r = float(np.isin(prev, annual.index).mean()) if len(prev) else 0.8
    mult = margin_multiple(min(r, 0.99), discount_rate, horizon)
    cf = pd.DataFrame(index=rfm.index)
    cf["expected_purchases"] = np.nan
    cf["p_alive"] = np.nan
    cf["expected_value"] = rfm["monetary_value"]
    cf["clv"] = annual.reindex(rfm.index).fillna(0.0) * mult
    cf["clv_low"] = cf["clv_high"] = cf["clv_param_low"] = cf["clv_param_high"] = cf["clv"]
    cf["clv_uplift"] = 0.0
    cf["model"] = "margin multiple"
    return cf
