"""The CLV step in one call: from the intake tables to the ``clv`` output tables.

:func:`clv_tables` fits the purchase model twice — on a calibration period, to check its
forecasts against the holdout that follows, and on all data up to ``as_of``, for the CLV — plus
Gamma-Gamma for value per occasion and, for accounts on annual contracts, the sBG renewal
model. Where a model cannot be fitted it falls back to the margin multiple and says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib.clv.bgnbd import BGNBD
from kamlib.clv.gammagamma import GammaGamma
from kamlib.clv.holdout import (
    calibration_by_frequency,
    cumulative_tracking,
    error_summary,
    holdout_predictions,
)
from kamlib.clv.margin import margin_multiple
from kamlib.clv.paretonbd import ParetoNBD
from kamlib.clv.prep import (
    DAYS_PER_YEAR,
    default_calibration_end,
    rfm_summary,
    unit_days,
    units_per_year,
)
from kamlib.clv.sbg import ShiftedBetaGeometric
from kamlib.clv.value import clv_frame
from kamlib import key_accounts as _ka
from kamlib.errors import ParameterError
from kamlib.formatting import money, money_interval

MODELS = {"bgnbd": (BGNBD, "BG/NBD"), "paretonbd": (ParetoNBD, "Pareto/NBD")}
MIN_REPEAT_ACCOUNTS = 20
"""Fewer accounts with repeat purchases than this: no purchase model, margin multiple instead."""


@dataclass
class CLVResult:
    """Everything the CLV notebook shows: output tables, fitted models and diagnostics."""

    clv: pd.DataFrame
    model_summary: pd.DataFrame
    holdout: pd.DataFrame
    holdout_errors: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    tracking: pd.DataFrame | None = None
    purchase_model: object | None = None
    value_model: GammaGamma | None = None
    contract_model: ShiftedBetaGeometric | None = None
    calibration_end: pd.Timestamp | None = None
    as_of: pd.Timestamp | None = None
    time_unit: str = "week"
    notes: list[str] = field(default_factory=list)

    def notes_markdown(self) -> str:
        """The notes as a Markdown bullet list, for the notebook."""
        return "\n".join(f"- {n}" for n in self.notes)

    def certainty_markdown(self) -> str:
        """How sure we are, in plain words: interval width, P(alive) and the holdout error."""
        c = self.clv[self.clv["clv"] > 0]
        lines = []
        if len(c):
            half = ((c["clv_high"] - c["clv_low"]) / 2 / c["clv"]).median()
            lines.append(
                f"- **The model's parameters** are well pinned down: half the accounts have a CLV "
                f"interval narrower than ±{half:.0%}. The interval covers the uncertainty of "
                "the model's averages, not the fate of a single account.")
        pa = self.clv["p_alive"].dropna()
        if len(pa):
            lines.append(
                f"- **Whether an account stays** is the larger risk: {int((pa < 0.5).sum())} "
                f"accounts are probably lost already (P(alive) below 50 %), and their CLV is "
                "small for that reason.")
        if self.holdout_errors is not None:
            e = self.holdout_errors.set_index("measure")["value"]
            direction = "fewer" if e["total_error_pct"] < 0 else "more"
            lines.append(
                f"- **A forecast of the whole business** can still miss: fitted up to "
                f"{self.calibration_end.date()}, the model forecast "
                f"{abs(e['total_error_pct']):.0f} % {direction} purchases than happened in the "
                "holdout. The model assumes each account keeps its buying rate; growth of "
                "accounts or of the market is not in it. Read CLVs as a ranking and an order of "
                "magnitude, with that error in mind.")
        return "\n".join(lines)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables the step saves, by name."""
        return {"clv": self.clv, "clv_model_summary": self.model_summary,
                "clv_holdout": self.holdout}


def _check_params(time_unit, horizon, discount_rate, value, model, investment_share, ceiling,
                  n_bootstrap):
    unit_days(time_unit)
    if value not in ("margin", "revenue"):
        raise ParameterError(f"value must be 'margin' or 'revenue', not {value!r}.")
    if model not in MODELS:
        raise ParameterError(f"model must be one of {', '.join(MODELS)}, not {model!r}.")
    if not (0 < horizon <= 50):
        raise ParameterError(f"horizon is in years and must be in (0, 50], got {horizon!r}.")
    if not (0 <= discount_rate < 1):
        raise ParameterError(f"discount_rate is annual, in [0, 1), got {discount_rate!r}.")
    if not (0 <= investment_share <= 1):
        raise ParameterError(f"investment_share must be in [0, 1], got {investment_share!r}.")
    if ceiling not in ("share", "uplift"):
        raise ParameterError(f"ceiling must be 'share' or 'uplift', not {ceiling!r}.")
    if n_bootstrap < 0:
        raise ParameterError("n_bootstrap must be >= 0 (0 = delta-method intervals).")


def _annual_value(occasions, value, as_of):
    """Value of each account's occasions in the 12 months up to as_of."""
    d = pd.to_datetime(occasions["date"])
    recent = occasions[(d > as_of - pd.Timedelta(days=365)) & (d <= as_of)]
    return recent.groupby("account_id", observed=True)[value].sum()


def _summary_rows(label, fitted, extra: dict) -> pd.DataFrame:
    s = fitted.summary().reset_index()
    s.insert(0, "model", label)
    s["note"] = ""
    rows = [{"model": label, "parameter": k, "estimate": float(v), "se": np.nan,
             "ci_low": np.nan, "ci_high": np.nan, "note": note}
            for k, (v, note) in extra.items()]
    return pd.concat([s, pd.DataFrame(rows)], ignore_index=True)


def _contract_clv(acc, annual, as_of, horizon, discount_rate, n_bootstrap, seed, level,
                  uplift_retention, notes):
    """sBG (or margin-multiple) CLV for accounts on annual contracts."""
    start = pd.to_datetime(acc.get("relationship_start", pd.Series(pd.NaT, index=acc.index)))
    start = start.fillna(pd.to_datetime(acc["contract_start"]))
    end = pd.to_datetime(acc.get("contract_end", pd.Series(pd.NaT, index=acc.index)))
    churned = end.notna() & (end <= as_of)
    stop = end.where(churned, as_of)
    years = ((stop - start).dt.days / DAYS_PER_YEAR).clip(lower=0)
    n_year = np.maximum(1, np.ceil(years.to_numpy() - 1e-9)).astype(int)  # current contract year
    periods = np.where(churned, n_year, n_year - 1)
    use = periods >= 1
    margin = annual.reindex(acc.index).fillna(0.0).to_numpy(float)
    remaining = np.where(churned, 0.0, n_year - years.to_numpy())  # rest of the current year
    H = int(round(horizon))
    out = pd.DataFrame(index=acc.index)
    model = None
    if use.sum() >= 10 and churned[use].any() and (~churned[use]).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ShiftedBetaGeometric().fit(periods[use], churned[use].to_numpy())
        renewals = np.maximum(n_year - 1, 0)

        def value(params, u=0.0):
            a, b = params
            if u:
                a, b = a * (1 - u), b + a * u
            pay = model.expected_payments(H, discount_rate, renewals, params=(a, b))
            return margin * (remaining + pay)

        theta = (model.params_["alpha"], model.params_["beta"])
        clv = np.where(churned, 0.0, value(theta))
        draws = model.sample_params(max(n_bootstrap, 200), seed=seed)
        sims = np.stack([value(tuple(d)) for d in draws])
        q = (1 - level) / 2
        out["clv"] = clv
        out["clv_low"] = np.where(churned, 0.0, np.quantile(sims, q, axis=0))
        out["clv_high"] = np.where(churned, 0.0, np.quantile(sims, 1 - q, axis=0))
        out["clv_uplift"] = np.where(churned, 0.0, value(theta, uplift_retention) - clv)
        out["p_alive"] = np.where(churned, 0.0, 1.0)
        out["model"] = "sBG (annual contract)"
        notes.append(
            f"{int((~churned).sum())} accounts on annual contracts valued with the sBG renewal "
            f"model (alpha={theta[0]:.3g}, beta={theta[1]:.3g}; next-year retention "
            f"{model.retention_rate(2):.0%} rising with tenure)."
        )
    else:
        renew = int(periods[~churned].clip(min=0).sum())
        lost = int(churned.sum())
        r = renew / (renew + lost) if renew + lost else 0.8
        mult = margin_multiple(min(r, 0.99), discount_rate, H)
        out["clv"] = np.where(churned, 0.0, margin * (remaining + mult))
        out["clv_low"] = out["clv"]
        out["clv_high"] = out["clv"]
        out["clv_uplift"] = np.where(
            churned, 0.0,
            margin * (margin_multiple(min(1 - (1 - r) * (1 - uplift_retention), 0.99),
                                      discount_rate, H) - mult))
        out["p_alive"] = np.where(churned, 0.0, 1.0)
        out["model"] = "margin multiple (annual contract)"
        notes.append(
            f"Too few contract renewals and churns to fit the sBG model: contract accounts use "
            f"the margin multiple with a pooled retention of {r:.0%}."
        )
    return out, model


def clv_tables(
    occasions: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    features: pd.DataFrame | None = None,
    *,
    time_unit: str = "week",
    calibration_end: str = "",
    as_of: str | pd.Timestamp | None = None,
    horizon: float = 3.0,
    discount_rate: float = 0.10,
    value: str = "margin",
    model: str = "bgnbd",
    investment_share: float = 0.10,
    ceiling: str = "share",
    uplift_retention: float = 0.10,
    uplift_frequency: float = 0.0,
    n_bootstrap: int = 200,
    level: float = 0.90,
    seed: int = 0,
    use_contracts: bool = True,
) -> CLVResult:
    """Build the ``clv``, ``clv_model_summary`` and ``clv_holdout`` tables.

    Parameters
    ----------
    occasions : DataFrame
        ``purchase_occasions`` from intake: ``account_id, date, revenue, margin``.
    accounts : DataFrame, optional
        Intake ``accounts`` (``cost_to_serve``, ``contract_start``, ``contract_end``,
        ``relationship_start`` are used when present).
    features : DataFrame, optional
        Intake ``account_features``: lists every account (also those without purchases) and
        gives ``as_of`` and ``cost_to_serve``.
    time_unit : {"day", "week", "month"}
    calibration_end : str
        ISO date ending the calibration period of the holdout check; "" = the last 30 % of the
        observed span is holdout.
    as_of : date, optional
        Valuation date; default ``features.as_of`` or the last occasion.
    horizon : float
        Years the CLV looks ahead.
    discount_rate : float
        Annual discount rate.
    value : {"margin", "revenue"}
        What a purchase occasion is worth.
    model : {"bgnbd", "paretonbd"}
    investment_share : float
        ``ceiling="share"``: the investment ceiling is this share of CLV.
    ceiling : {"share", "uplift"}
        ``"uplift"``: the ceiling is the CLV gain if a key-account programme cuts dropout by
        ``uplift_retention`` and raises purchase frequency by ``uplift_frequency``.
    n_bootstrap : int
        Parameter draws for the CLV interval (0 = delta method).
    level : float
        Interval coverage.
    seed : int
    use_contracts : bool
        Value accounts with ``contract_start`` by the sBG renewal model.
    """
    _check_params(time_unit, horizon, discount_rate, value, model, investment_share, ceiling,
                  n_bootstrap)
    notes: list[str] = []
    occ = occasions.copy()
    occ["account_id"] = occ["account_id"].astype(str)
    occ["date"] = pd.to_datetime(occ["date"]).dt.normalize()
    if as_of is None and features is not None and "as_of" in features.columns:
        as_of = pd.to_datetime(features["as_of"]).max()
    as_of = pd.Timestamp(as_of) if as_of is not None else occ["date"].max()
    dropped_future = int((occ["date"] > as_of).sum())
    occ = occ[occ["date"] <= as_of]
    if dropped_future:
        notes.append(f"{dropped_future} purchase occasions after the valuation date {as_of.date()} "
                     "were left out.")
    cal_end = pd.Timestamp(calibration_end) if calibration_end else default_calibration_end(occ)
    if not (occ["date"].min() < cal_end < as_of):
        raise ParameterError(
            f"calibration_end {cal_end.date()} must lie inside the data "
            f"({occ['date'].min().date()} .. {as_of.date()})."
        )
    Model, label = MODELS[model]
    notes.append(
        f"{occ['account_id'].nunique()} accounts with purchases up to {as_of.date()}; times in "
        f"{time_unit}s, CLV = discounted {value} over {horizon:g} years at {discount_rate:.0%} "
        "a year.")

    # -- full-period fit for the CLV -----------------------------------------------------------
    rfm, _ = rfm_summary(occ, None, as_of, time_unit, value)
    n_rep = int((rfm["frequency"] > 0).sum())
    summary_parts = []
    pm = gg = None
    if n_rep >= MIN_REPEAT_ACCOUNTS:
        pm = Model().fit(rfm["frequency"], rfm["recency"], rfm["T"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                gg = GammaGamma().fit(rfm["frequency"], rfm["monetary_value"])
            except ValueError as e:
                notes.append(f"Gamma-Gamma not fitted ({e}); observed average values used.")
        for w in caught:
            notes.append(str(w.message))
        cf = clv_frame(rfm, pm, gg, time_unit, horizon, discount_rate, n_bootstrap, level, seed,
                       uplift_retention, uplift_frequency)
        value_label = "Gamma-Gamma" if gg is not None and gg.fallback_ is None else "observed mean value"
        cf["model"] = f"{label} + {value_label}"
        summary_parts.append(_summary_rows(label, pm, {
            "log_likelihood": (pm.log_likelihood_, "maximised"),
            "accounts": (pm.n_, f"fitted up to {as_of.date()}"),
            "converged": (float(pm.converged_), "1 = optimiser converged"),
        }))
        if gg is not None:
            chk = gg.assumption_check()
            notes.append(chk["message"])
            summary_parts.append(_summary_rows("Gamma-Gamma", gg, {
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
    else:
        notes.append(f"Only {n_rep} accounts bought more than once: no purchase model, every "
                     "account is valued with the margin multiple.")
        annual = _annual_value(occ, value, as_of)
        prev = occ[(occ["date"] > as_of - pd.Timedelta(days=730))
                   & (occ["date"] <= as_of - pd.Timedelta(days=365))]["account_id"].unique()
        r = float(np.isin(prev, annual.index).mean()) if len(prev) else 0.8
        mult = margin_multiple(min(r, 0.99), discount_rate, horizon)
        cf = pd.DataFrame(index=rfm.index)
        cf["expected_purchases"] = np.nan
        cf["p_alive"] = np.nan
        cf["expected_value"] = rfm["monetary_value"]
        cf["clv"] = annual.reindex(rfm.index).fillna(0.0) * mult
        cf["clv_low"] = cf["clv_high"] = cf["clv"]
        cf["clv_uplift"] = 0.0
        cf["model"] = "margin multiple"

    # -- holdout check: the same model fitted on the calibration period ------------------------
    holdout = pd.DataFrame(columns=["account_id", "frequency", "predicted", "actual"])
    errors = calib = tracking = None
    rfm_cal, split = rfm_summary(occ, cal_end, as_of, time_unit, value)
    if int((rfm_cal["frequency"] > 0).sum()) >= MIN_REPEAT_ACCOUNTS:
        m_cal = Model().fit(rfm_cal["frequency"], rfm_cal["recency"], rfm_cal["T"])
        pred = holdout_predictions(m_cal, rfm_cal)
        errors = error_summary(pred)
        calib = calibration_by_frequency(pred)
        tracking = cumulative_tracking(m_cal, rfm_cal, occ, split)
        holdout = pred.reset_index()
        holdout["calibration_end"] = cal_end
        holdout["holdout_length"] = split.holdout_length
        holdout["time_unit"] = time_unit
        e = errors.set_index("measure")["value"]
        notes.append(
            f"Holdout check: fitted up to {cal_end.date()}, the model predicted "
            f"{e['predicted_total']:.0f} purchase occasions in the next "
            f"{split.holdout_length:.0f} {time_unit}s; {e['actual_total']:.0f} happened "
            f"({e['total_error_pct']:+.1f} %)."
        )
        summary_parts.append(pd.DataFrame({
            "model": f"{label} holdout", "parameter": errors["measure"],
            "estimate": errors["value"], "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
            "note": f"calibration to {cal_end.date()}",
        }))

    # -- all accounts, contracts, ceiling -------------------------------------------------------
    ids = rfm.index
    if features is not None:
        ids = ids.union(pd.Index(features["account_id"].astype(str)))
    if accounts is not None:
        ids = ids.union(pd.Index(accounts["account_id"].astype(str)))
    out = pd.DataFrame(index=pd.Index(ids, name="account_id"))
    out = out.join(rfm[["frequency", "recency", "T"]]).join(cf)
    none = out["model"].isna()
    out.loc[none, ["clv", "clv_low", "clv_high", "clv_uplift", "expected_purchases"]] = 0.0
    out.loc[none, "model"] = "no purchases"

    acc = None
    if accounts is not None:
        acc = accounts.copy()
        acc["account_id"] = acc["account_id"].astype(str)
        acc = acc.set_index("account_id")
    sbg = None
    if use_contracts and acc is not None and "contract_start" in acc.columns:
        con = acc[pd.to_datetime(acc["contract_start"]).notna()]
        if len(con):
            annual = _annual_value(occ, value, as_of)
            cclv, sbg = _contract_clv(con, annual, as_of, horizon, discount_rate, n_bootstrap,
                                      seed, level, uplift_retention, notes)
            # per-account model outputs may be float32 (memory at 1M accounts); pandas refuses
            # to write float64 contract values into them, so widen first
            out = out.astype({c: "float64" for c in cclv.columns
                              if c in out.columns and out[c].dtype == "float32"})
            for col in cclv.columns:
                out.loc[cclv.index, col] = cclv[col]
            if sbg is not None:
                summary_parts.append(_summary_rows("sBG", sbg, {
                    "log_likelihood": (sbg.log_likelihood_, ""),
                    "accounts": (sbg.n_, "contract accounts with at least one renewal decision"),
                }))

    cost = pd.Series(np.nan, index=out.index)
    for src in (features, accounts):
        if src is not None and "cost_to_serve" in src.columns:
            cost = cost.fillna(src.assign(account_id=src["account_id"].astype(str))
                               .set_index("account_id")["cost_to_serve"].astype(float))
    out["cost_to_serve"] = cost.reindex(out.index)
    if ceiling == "share":
        out["investment_ceiling"] = (investment_share * out["clv"]).clip(lower=0)
    else:
        out["investment_ceiling"] = out["clv_uplift"].clip(lower=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ceiling_to_cost"] = out["investment_ceiling"] / out["cost_to_serve"].where(
            out["cost_to_serve"] > 0)
    out["time_unit"] = time_unit
    out["horizon_years"] = float(horizon)
    out["value_basis"] = value
    cols = ["frequency", "recency", "T", "expected_purchases", "p_alive", "expected_value",
            "clv", "clv_low", "clv_high", "clv_uplift", "investment_ceiling", "cost_to_serve",
            "ceiling_to_cost", "time_unit", "horizon_years", "value_basis", "model"]
    out = out[cols].reset_index()
    model_summary = (pd.concat(summary_parts, ignore_index=True) if summary_parts
                     else pd.DataFrame(columns=["model", "parameter", "estimate", "se",
                                                "ci_low", "ci_high", "note"]))
    model_summary["time_unit"] = time_unit
    return CLVResult(
        clv=out, model_summary=model_summary, holdout=holdout, holdout_errors=errors,
        calibration=calib, tracking=tracking, purchase_model=pm, value_model=gg,
        contract_model=sbg, calibration_end=cal_end, as_of=as_of, time_unit=time_unit,
        notes=notes,
    )


def key_account_ids(step) -> list[str] | None:
    """Ids of the key accounts if the selection step has run in this run folder, else None.

    Uses ``step.has`` so that the CLV notebook never triggers the selection step itself; which
    accounts are key is decided by :mod:`kamlib.key_accounts` (no revenue fallback).
    """
    if not step.has("selection_scores"):
        return None
    table = step.load("key_accounts") if step.has("key_accounts") else None
    return _ka.key_account_ids(table, step.load("selection_scores"))


def headline(result: CLVResult, top: int = 10, names: pd.Series | None = None,
             key_accounts: list[str] | None = None) -> pd.DataFrame:
    """The accounts worth most (or the key accounts, when known), ready to read.

    Parameters
    ----------
    result : CLVResult
    top : int
        Number of accounts (the key accounts are all shown when given).
    names : Series, optional
        Account names indexed by account_id.
    key_accounts : list of str, optional
        Ids from :func:`key_account_ids`; the table then lists them.

    Returns
    -------
    DataFrame
        account, P(alive), CLV and its interval as text (``'1.2 M–1.6 M'``), investment
        ceiling, cost to serve and their ratio; money rounded to whole units.
    """
    c = result.clv[result.clv["model"] != "no purchases"]
    if key_accounts:
        c = c[c["account_id"].isin(set(key_accounts))].sort_values("clv", ascending=False)
    else:
        c = c.nlargest(top, "clv")
    out = pd.DataFrame({"account_id": c["account_id"].to_numpy()})
    if names is not None:
        out["name"] = c["account_id"].map(names).to_numpy()
    out["p_alive"] = c["p_alive"].round(2).to_numpy()
    out["model"] = c["model"].to_numpy()
    out["clv"] = c["clv"].round(0).to_numpy()
    out["clv_range"] = [money_interval(lo, hi) for lo, hi in zip(c["clv_low"], c["clv_high"])]
    out["investment_ceiling"] = c["investment_ceiling"].round(0).to_numpy()
    out["cost_to_serve"] = c["cost_to_serve"].to_numpy()
    out["ceiling_to_cost"] = c["ceiling_to_cost"].round(2).to_numpy()
    return out
