"""The CLV step's entry point: :func:`run`, called once by ``notebooks/20_clv.ipynb``.

:func:`run` fits the purchase model twice — on a calibration period, to check its forecasts
against the holdout that follows (:mod:`~kamlib.clv.holdout`), and on all data up to the
valuation date, for the CLV (:mod:`~kamlib.clv.purchase`) — plus Gamma-Gamma for value per
occasion and, for accounts on annual contracts, the sBG renewal model
(:mod:`~kamlib.clv.contracts`). Where a model cannot be fitted it falls back to the margin
multiple and says so. Its keyword arguments are exactly the notebook's parameters
(``clv.run(occasions, accounts, features, key_accounts=..., **step.params)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib import key_accounts as _ka
from kamlib.clv.contracts import value_contracts
from kamlib.clv.economics import (
    DEFAULT_COST_RATES,
    check_cost_rates,
    cost_to_serve,
    investment_ceiling,
    net_values,
    whale_curve,
    whale_summary,
)
from kamlib.clv.gammagamma import GammaGamma
from kamlib.clv.holdout import holdout_check
from kamlib.clv.prep import default_calibration_end, rfm_summary, unit_days
from kamlib.clv.purchase import (
    MIN_REPEAT_ACCOUNTS,
    MODELS,
    SUMMARY_COLUMNS,
    annual_value,
    purchase_clv,
)
from kamlib.clv.sbg import ShiftedBetaGeometric
from kamlib.clv.value import LOST_POPULATION, probably_lost
from kamlib.errors import ParameterError
from kamlib.formatting import money, money_interval, part_of, share

CLV_COLUMNS = ["account_id", "frequency", "recency", "T", "expected_purchases", "p_alive",
               "expected_value", "clv", "clv_low", "clv_high", "clv_param_low",
               "clv_param_high", "clv_uplift", "margin_12m", "cost_to_serve",
               "cost_to_serve_estimated", "net_profit_12m", "discounted_cost_to_serve",
               "net_clv", "investment_ceiling", "manager_cost", "covers_manager",
               "ceiling_to_cost", "time_unit", "horizon_years", "value_basis", "model"]
"""Columns of the ``clv`` table."""

NO_PURCHASES = "no purchases"
"""The ``model`` of accounts without a purchase occasion (their CLV is 0)."""


@dataclass
class CLVResult:
    """Everything the CLV notebook shows: output tables, fitted models and diagnostics.

    ``tables()`` gives the tables the step saves; ``key_ids`` are the key accounts (from the
    selection step's table, empty without it) and ``names`` the account names, for the
    figures and :meth:`headline`.
    """

    clv: pd.DataFrame
    model_summary: pd.DataFrame
    holdout: pd.DataFrame
    profitability: pd.DataFrame | None = None
    holdout_errors: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    tracking: pd.DataFrame | None = None
    purchase_model: object | None = None
    value_model: GammaGamma | None = None
    contract_model: ShiftedBetaGeometric | None = None
    calibration_end: pd.Timestamp | None = None
    as_of: pd.Timestamp | None = None
    time_unit: str = "week"
    horizon: float = 3.0
    interval_level: float = 0.90
    key_ids: list[str] = field(default_factory=list)
    names: pd.Series | None = None
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables the step saves, by name."""
        return {"clv": self.clv, "clv_model_summary": self.model_summary,
                "clv_holdout": self.holdout, "clv_profitability": self.profitability}

    def descriptions(self) -> dict[str, str]:
        """What each of :meth:`tables` holds, by name."""
        return {"clv": f"CLV per account over {self.horizon:g} years, time unit {self.time_unit}",
                "clv_model_summary": "model parameters, standard errors, diagnostics",
                "clv_holdout": "predicted vs actual holdout purchases per account, with "
                               "predictive intervals",
                "clv_profitability": "accounts by net profit this year (margin - cost to "
                                     "serve), cumulative: the whale curve"}

    @property
    def holdout_length(self) -> float | None:
        """Length of the holdout period in time units (None without a holdout check)."""
        return float(self.holdout["holdout_length"].iloc[0]) if len(self.holdout) else None

    def notes_markdown(self) -> str:
        """The notes as a Markdown bullet list, for the notebook."""
        return "\n".join(f"- {n}" for n in self.notes)

    def certainty_markdown(self) -> str:
        """How sure we are, in plain words: interval width, P(alive) and the holdout error."""
        c = self.clv[self.clv["clv"] > 0]
        lines = []
        if len(c):
            half = ((c["clv_high"] - c["clv_low"]) / 2 / c["clv"]).median()
            param = ((c["clv_param_high"] - c["clv_param_low"]) / 2 / c["clv"]).median()
            lines.append(
                f"- **A single account's future** is uncertain: half the accounts have a CLV "
                f"interval wider than ±{share(half)} (whether the account stays, how often it "
                f"buys, what it spends, and how its buying drifts). The model's parameters "
                f"alone would say ±{share(param)}: the average is well known, one account's fate "
                "is not.")
        lost, among = probably_lost(self.clv)
        if among:
            lines.append(
                f"- **Whether an account stays** is the larger risk: "
                f"{part_of(lost, among, LOST_POPULATION)} are probably lost already (P(alive) "
                "below 50 %), and their CLV is small for that reason.")
        if self.holdout_errors is not None:
            e = self.holdout_errors.set_index("measure")["value"]
            if "interval_coverage" in e:
                lines.append(
                    f"- **The intervals are honest** if about {share(self.interval_level)} of "
                    f"accounts land inside theirs: fitted up to {self.calibration_end.date()}, "
                    f"{share(e['interval_coverage'])} of the accounts' actual purchases in the "
                    "holdout fell inside their predictive interval.")
            direction = "fewer" if e["total_error_pct"] < 0 else "more"
            lines.append(
                f"- **A forecast of the whole business** can still miss: fitted up to "
                f"{self.calibration_end.date()}, the model forecast "
                f"{abs(e['total_error_pct']):.0f} % {direction} purchases than happened in the "
                "holdout. The model assumes each account keeps its buying rate; growth of "
                "accounts or of the market is not in it. Read CLVs as a ranking and an order of "
                "magnitude, with that error in mind.")
        return "\n".join(lines)

    def headline(self, top: int = 10) -> pd.DataFrame:
        """The key accounts (when known), else the ``top`` accounts by CLV, ready to read.

        Returns
        -------
        DataFrame
            account, P(alive), CLV and its interval as text (``'1.2 M–1.6 M'``), investment
            ceiling, cost to serve and their ratio; money rounded to whole units.
        """
        c = self.clv[self.clv["model"] != NO_PURCHASES]
        if self.key_ids:
            c = c[c["account_id"].isin(set(self.key_ids))].sort_values("clv", ascending=False)
        else:
            c = c.nlargest(top, "clv")
        out = pd.DataFrame({"account_id": c["account_id"].to_numpy()})
        if self.names is not None:
            out["name"] = c["account_id"].map(self.names).to_numpy()
        out["p_alive"] = c["p_alive"].to_numpy()
        out["model"] = c["model"].to_numpy()
        out["clv"] = c["clv"].to_numpy()
        out["clv_range"] = [money_interval(lo, hi) for lo, hi in zip(c["clv_low"], c["clv_high"])]
        out["net_clv"] = c["net_clv"].to_numpy()
        out["investment_ceiling"] = c["investment_ceiling"].to_numpy()
        out["cost_to_serve"] = c["cost_to_serve"].to_numpy()
        out["cost_estimated"] = c["cost_to_serve_estimated"].to_numpy()
        out["ceiling_to_cost"] = c["ceiling_to_cost"].to_numpy()
        out["covers_manager"] = c["covers_manager"].to_numpy()
        return out

    def whale(self) -> dict:
        """Where the cumulative net profit curve peaks and what the tail costs
        (:func:`~kamlib.clv.economics.whale_summary`)."""
        return whale_summary(self.profitability if self.profitability is not None
                             else pd.DataFrame(columns=["net_profit"]))

    def economics_markdown(self) -> str:
        """Net profit, the whale curve and the ceiling in plain words, for the notebook."""
        w = self.whale()
        c = self.clv
        est = int(c["cost_to_serve_estimated"].sum())
        lines = [
            f"- **Cost to serve** is given for {len(c) - est} accounts and estimated for "
            f"{est} by the activity rule (orders, lines, sites, returns, contract terms).",
            f"- **Net profit this year** is {money(w['total'])}. Sorted by net profit, the "
            f"cumulative curve peaks at {money(w['peak'])} "
            + (f"({share(w['peak_share'])} of the total) " if np.isfinite(w['peak_share']) else "")
            + f"after {w['peak_rank']} accounts; the {w['loss_accounts']} accounts that cost "
            f"more than they bring take {money(-w['loss'])} back.",
        ]
        key = c[c["account_id"].isin(set(self.key_ids))] if self.key_ids else c.iloc[:0]
        if len(key):
            short = int((~key["covers_manager"].astype(bool)).sum())
            lines.append(
                f"- **Investment ceiling**: {short} of {len(key)} key accounts have a ceiling "
                "below a dedicated manager's cost a year; serve them with a shared account "
                "manager or justify the manager on other grounds.")
        return "\n".join(lines)

    def overview(self) -> pd.DataFrame:
        """Mean, median and maximum of every numeric column of ``clv``."""
        return self.clv.describe().T[["mean", "50%", "max"]]


def run(
    occasions: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    features: pd.DataFrame | None = None,
    key_accounts: pd.DataFrame | None = None,
    *,
    time_unit: str = "week",
    calibration_end: str = "",
    horizon: float = 3.0,
    discount_rate: float = 0.10,
    value: str = "margin",
    model: str = "bgnbd",
    ceiling: str = "uplift",
    investment_share: float = 0.10,
    uplift_retention: float = 0.10,
    uplift_frequency: float = 0.05,
    programme_cost: float = 3000.0,
    manager_cost: float = 20000.0,
    cost_rates: Mapping[str, float] = DEFAULT_COST_RATES,
    n_bootstrap: int = 200,
    n_simulations: int = 1000,
    interval_level: float = 0.90,
    seed: int = 42,
) -> CLVResult:
    """Build the ``clv``, ``clv_model_summary`` and ``clv_holdout`` tables.

    Parameters
    ----------
    occasions : DataFrame
        ``purchase_occasions`` from intake: ``account_id, date, revenue, margin``.
    accounts : DataFrame, optional
        Intake ``accounts`` (``cost_to_serve``, ``contract_start``, ``contract_end``,
        ``relationship_start`` are used when present); accounts with a ``contract_start`` are
        valued by the sBG renewal model.
    features : DataFrame, optional
        Intake ``account_features``: lists every account (also those without purchases) and
        gives the valuation date ``as_of`` (default: the last occasion), ``cost_to_serve`` and
        the names.
    key_accounts : DataFrame, optional
        The selection step's ``key_accounts`` table; which accounts are key is decided by
        :mod:`kamlib.key_accounts` (no revenue fallback: without it, none are marked).
    time_unit : {"day", "week", "month"}
    calibration_end : str
        ISO date ending the calibration period of the holdout check; "" = the last 30 % of the
        observed span is holdout.
    horizon : float
        Years the CLV looks ahead.
    discount_rate : float
        Annual discount rate.
    value : {"margin", "revenue"}
        What a purchase occasion is worth.
    model : {"bgnbd", "paretonbd"}
    ceiling : {"uplift", "share"}
        ``"uplift"``: the investment ceiling a year is the CLV gain if a key-account programme
        cuts dropout by ``uplift_retention`` and raises purchase frequency by
        ``uplift_frequency``, spread over the horizon's years, minus the programme's cost
        ``programme_cost`` a year; ``"share"``:
        ``investment_share`` of CLV (see :mod:`kamlib.clv.economics`).
    investment_share, uplift_retention, uplift_frequency : float
    programme_cost : float
        The programme's own cost per key account a year (reviews, sponsor time, joint planning),
        net of which the uplift is a ceiling.
    manager_cost : float
        A dedicated key-account manager's cost per account a year: accounts whose ceiling does
        not cover it are flagged (``covers_manager``).
    cost_rates : mapping
        Rates of the activity-based cost-to-serve rule (``order, line, site, returns,
        contract``; missing ones take :data:`~kamlib.clv.economics.DEFAULT_COST_RATES`), used
        where the accounts table gives no ``cost_to_serve``.
    n_bootstrap : int
        Parameter draws for the parameter-only CLV interval ``clv_param_low/high``
        (0 = delta method).
    n_simulations : int
        Simulated futures per account (each with its own parameter draw) for the predictive
        intervals: ``clv_low/high`` and the holdout table's ``predicted_low/high``
        (:mod:`kamlib.clv.predictive`). 0 = no simulation: the CLV interval is the
        parameter-only one and the holdout has no intervals.
    interval_level : float
        Interval coverage.
    seed : int

    Returns
    -------
    CLVResult
    """
    _check_params(time_unit, horizon, discount_rate, value, model, investment_share, ceiling,
                  n_bootstrap, n_simulations,
                  {"programme_cost": programme_cost, "manager_cost": manager_cost})
    rates = check_cost_rates(dict(cost_rates))
    notes: list[str] = []
    occ, as_of = _occasions_up_to_valuation(occasions, features, notes)
    cal_end = _calibration_end(occ, calibration_end, as_of)
    notes.append(
        f"{occ['account_id'].nunique()} accounts with purchases up to {as_of.date()}; times in "
        f"{time_unit}s, CLV = discounted {value} over {horizon:g} years at {share(discount_rate)} "
        "a year.")
    rfm, _ = rfm_summary(occ, None, as_of, time_unit, value)
    fit = purchase_clv(rfm, occ, as_of, model=model, time_unit=time_unit, horizon=horizon,
                       discount_rate=discount_rate, value=value, n_bootstrap=n_bootstrap,
                       interval_level=interval_level, seed=seed,
                       uplift_retention=uplift_retention, uplift_frequency=uplift_frequency,
                       notes=notes, n_simulations=n_simulations,
                       drift_window=(as_of - cal_end).days / unit_days(time_unit))
    Model, label = MODELS[model]
    check = holdout_check(Model, label, occ, cal_end, as_of, time_unit, value,
                          MIN_REPEAT_ACCOUNTS, notes, interval_level, n_simulations, seed)
    summary = fit.summary + ([check.summary] if check.summary is not None else [])
    out = _every_account(rfm, fit.clv, accounts, features)
    sbg = None
    if accounts is not None:
        out, sbg, sbg_rows = value_contracts(
            out, _by_account(accounts), occ, as_of, value=value, horizon=horizon,
            discount_rate=discount_rate, n_bootstrap=n_bootstrap, seed=seed,
            interval_level=interval_level, uplift_retention=uplift_retention, notes=notes)
        summary += sbg_rows
    out = _economics(out, occ, as_of, accounts, features, value=value, horizon=horizon,
                     discount_rate=discount_rate, ceiling=ceiling,
                     investment_share=investment_share, programme_cost=programme_cost,
                     manager_cost=manager_cost, rates=rates)
    out = out.assign(time_unit=time_unit, horizon_years=float(horizon), value_basis=value)
    model_summary = (pd.concat(summary, ignore_index=True) if summary
                     else pd.DataFrame(columns=SUMMARY_COLUMNS))
    model_summary["time_unit"] = time_unit
    return CLVResult(
        clv=out.reset_index()[CLV_COLUMNS], model_summary=model_summary, holdout=check.table,
        profitability=whale_curve(out),
        holdout_errors=check.errors, calibration=check.calibration, tracking=check.tracking,
        purchase_model=fit.purchase_model, value_model=fit.value_model, contract_model=sbg,
        calibration_end=cal_end, as_of=as_of, time_unit=time_unit, horizon=horizon,
        interval_level=interval_level,
        key_ids=_ka.key_account_ids(key_accounts), names=_names(features), notes=notes,
    )


def _check_params(time_unit, horizon, discount_rate, value, model, investment_share, ceiling,
                  n_bootstrap, n_simulations=0, costs=None):
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
        raise ParameterError(f"ceiling must be 'uplift' or 'share', not {ceiling!r}.")
    if n_bootstrap < 0:
        raise ParameterError("n_bootstrap must be >= 0 (0 = delta-method intervals).")
    if n_simulations < 0:
        raise ParameterError("n_simulations must be >= 0 (0 = no predictive intervals).")
    for name, v in (costs or {}).items():
        if not (np.isfinite(v) and v >= 0):
            raise ParameterError(f"{name} is money a year and must be >= 0, got {v!r}.")


def _occasions_up_to_valuation(occasions: pd.DataFrame, features: pd.DataFrame | None,
                               notes: list[str]) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The occasions (text ids, dates at midnight) up to the valuation date, and that date:
    ``features.as_of``, else the last occasion."""
    occ = occasions.copy()
    occ["account_id"] = occ["account_id"].astype(str)
    occ["date"] = pd.to_datetime(occ["date"]).dt.normalize()
    as_of = None
    if features is not None and "as_of" in features.columns:
        as_of = pd.to_datetime(features["as_of"]).max()
    as_of = pd.Timestamp(as_of) if as_of is not None else occ["date"].max()
    dropped_future = int((occ["date"] > as_of).sum())
    if dropped_future:
        notes.append(f"{dropped_future} purchase occasions after the valuation date {as_of.date()} "
                     "were left out.")
    return occ[occ["date"] <= as_of], as_of


def _calibration_end(occ: pd.DataFrame, calibration_end: str, as_of: pd.Timestamp
                     ) -> pd.Timestamp:
    cal_end = pd.Timestamp(calibration_end) if calibration_end else default_calibration_end(occ)
    if not (occ["date"].min() < cal_end < as_of):
        raise ParameterError(
            f"calibration_end {cal_end.date()} must lie inside the data "
            f"({occ['date'].min().date()} .. {as_of.date()})."
        )
    return cal_end


def _by_account(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(account_id=table["account_id"].astype(str)).set_index("account_id")


def _names(features: pd.DataFrame | None) -> pd.Series | None:
    if features is None or "name" not in features.columns:
        return None
    return _by_account(features)["name"]


def _every_account(rfm: pd.DataFrame, purchase: pd.DataFrame, accounts: pd.DataFrame | None,
                   features: pd.DataFrame | None) -> pd.DataFrame:
    """One row per account of the occasions, the features or the accounts (indexed by
    account_id): its RFM summary and purchase-model CLV; 0 for accounts without purchases."""
    ids = rfm.index
    for table in (features, accounts):
        if table is not None:
            ids = ids.union(pd.Index(table["account_id"].astype(str)))
    out = pd.DataFrame(index=pd.Index(ids, name="account_id"))
    out = out.join(rfm[["frequency", "recency", "T"]]).join(purchase)
    none = out["model"].isna()
    out.loc[none, ["clv", "clv_low", "clv_high", "clv_param_low", "clv_param_high",
                   "clv_uplift", "expected_purchases"]] = 0.0
    out.loc[none, "model"] = NO_PURCHASES
    return out


def _economics(out: pd.DataFrame, occ: pd.DataFrame, as_of: pd.Timestamp,
               accounts: pd.DataFrame | None, features: pd.DataFrame | None, *, value: str,
               horizon: float, discount_rate: float, ceiling: str, investment_share: float,
               programme_cost: float, manager_cost: float, rates: dict) -> pd.DataFrame:
    """``out`` with cost to serve (given or estimated), net profit this year, net CLV, the
    investment ceiling and its ratio to the cost to serve (:mod:`kamlib.clv.economics`)."""
    out = out.join(cost_to_serve(out.index, occ, as_of, features, accounts, rates))
    if value == "revenue":
        out["revenue_12m"] = annual_value(occ, "revenue", as_of).reindex(out.index).fillna(0.0)
    out = out.join(net_values(out, value, horizon, discount_rate))
    out = out.join(investment_ceiling(out, ceiling, investment_share, programme_cost,
                                      manager_cost, horizon, discount_rate))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ceiling_to_cost"] = out["investment_ceiling"] / out["cost_to_serve"].where(
            out["cost_to_serve"] > 0)
    return out
