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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib import key_accounts as _ka
from kamlib.clv.contracts import value_contracts
from kamlib.clv.gammagamma import GammaGamma
from kamlib.clv.holdout import holdout_check
from kamlib.clv.prep import default_calibration_end, rfm_summary, unit_days
from kamlib.clv.purchase import MIN_REPEAT_ACCOUNTS, MODELS, SUMMARY_COLUMNS, purchase_clv
from kamlib.clv.sbg import ShiftedBetaGeometric
from kamlib.clv.value import LOST_POPULATION, probably_lost
from kamlib.errors import ParameterError
from kamlib.formatting import money_interval, part_of

CLV_COLUMNS = ["account_id", "frequency", "recency", "T", "expected_purchases", "p_alive",
               "expected_value", "clv", "clv_low", "clv_high", "clv_uplift",
               "investment_ceiling", "cost_to_serve", "ceiling_to_cost", "time_unit",
               "horizon_years", "value_basis", "model"]
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
    key_ids: list[str] = field(default_factory=list)
    names: pd.Series | None = None
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables the step saves, by name."""
        return {"clv": self.clv, "clv_model_summary": self.model_summary,
                "clv_holdout": self.holdout}

    def descriptions(self) -> dict[str, str]:
        """What each of :meth:`tables` holds, by name."""
        return {"clv": f"CLV per account over {self.horizon:g} years, time unit {self.time_unit}",
                "clv_model_summary": "model parameters, standard errors, diagnostics",
                "clv_holdout": "predicted vs actual holdout purchases per account"}

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
            lines.append(
                f"- **The model's parameters** are well pinned down: half the accounts have a CLV "
                f"interval narrower than ±{half:.0%}. The interval covers the uncertainty of "
                "the model's averages, not the fate of a single account.")
        lost, among = probably_lost(self.clv)
        if among:
            lines.append(
                f"- **Whether an account stays** is the larger risk: "
                f"{part_of(lost, among, LOST_POPULATION)} are probably lost already (P(alive) "
                "below 50 %), and their CLV is small for that reason.")
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
        out["p_alive"] = c["p_alive"].round(2).to_numpy()
        out["model"] = c["model"].to_numpy()
        out["clv"] = c["clv"].round(0).to_numpy()
        out["clv_range"] = [money_interval(lo, hi) for lo, hi in zip(c["clv_low"], c["clv_high"])]
        out["investment_ceiling"] = c["investment_ceiling"].round(0).to_numpy()
        out["cost_to_serve"] = c["cost_to_serve"].to_numpy()
        out["ceiling_to_cost"] = c["ceiling_to_cost"].round(2).to_numpy()
        return out

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
    ceiling: str = "share",
    investment_share: float = 0.10,
    uplift_retention: float = 0.10,
    uplift_frequency: float = 0.0,
    n_bootstrap: int = 200,
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
    ceiling : {"share", "uplift"}
        ``"share"``: the investment ceiling is ``investment_share`` of CLV; ``"uplift"``: the
        CLV gain if a key-account programme cuts dropout by ``uplift_retention`` and raises
        purchase frequency by ``uplift_frequency``.
    investment_share, uplift_retention, uplift_frequency : float
    n_bootstrap : int
        Parameter draws for the CLV interval (0 = delta method).
    interval_level : float
        Interval coverage.
    seed : int

    Returns
    -------
    CLVResult
    """
    _check_params(time_unit, horizon, discount_rate, value, model, investment_share, ceiling,
                  n_bootstrap)
    notes: list[str] = []
    occ, as_of = _occasions_up_to_valuation(occasions, features, notes)
    cal_end = _calibration_end(occ, calibration_end, as_of)
    notes.append(
        f"{occ['account_id'].nunique()} accounts with purchases up to {as_of.date()}; times in "
        f"{time_unit}s, CLV = discounted {value} over {horizon:g} years at {discount_rate:.0%} "
        "a year.")
    rfm, _ = rfm_summary(occ, None, as_of, time_unit, value)
    fit = purchase_clv(rfm, occ, as_of, model=model, time_unit=time_unit, horizon=horizon,
                       discount_rate=discount_rate, value=value, n_bootstrap=n_bootstrap,
                       interval_level=interval_level, seed=seed,
                       uplift_retention=uplift_retention, uplift_frequency=uplift_frequency,
                       notes=notes)
    Model, label = MODELS[model]
    check = holdout_check(Model, label, occ, cal_end, as_of, time_unit, value,
                          MIN_REPEAT_ACCOUNTS, notes)
    summary = fit.summary + ([check.summary] if check.summary is not None else [])
    out = _every_account(rfm, fit.clv, accounts, features)
    sbg = None
    if accounts is not None:
        out, sbg, sbg_rows = value_contracts(
            out, _by_account(accounts), occ, as_of, value=value, horizon=horizon,
            discount_rate=discount_rate, n_bootstrap=n_bootstrap, seed=seed,
            interval_level=interval_level, uplift_retention=uplift_retention, notes=notes)
        summary += sbg_rows
    out = _investment_ceiling(out, accounts, features, ceiling, investment_share)
    out = out.assign(time_unit=time_unit, horizon_years=float(horizon), value_basis=value)
    model_summary = (pd.concat(summary, ignore_index=True) if summary
                     else pd.DataFrame(columns=SUMMARY_COLUMNS))
    model_summary["time_unit"] = time_unit
    return CLVResult(
        clv=out.reset_index()[CLV_COLUMNS], model_summary=model_summary, holdout=check.table,
        holdout_errors=check.errors, calibration=check.calibration, tracking=check.tracking,
        purchase_model=fit.purchase_model, value_model=fit.value_model, contract_model=sbg,
        calibration_end=cal_end, as_of=as_of, time_unit=time_unit, horizon=horizon,
        key_ids=_ka.key_account_ids(key_accounts), names=_names(features), notes=notes,
    )


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
    out.loc[none, ["clv", "clv_low", "clv_high", "clv_uplift", "expected_purchases"]] = 0.0
    out.loc[none, "model"] = NO_PURCHASES
    return out


def _investment_ceiling(out: pd.DataFrame, accounts: pd.DataFrame | None,
                        features: pd.DataFrame | None, ceiling: str, investment_share: float
                        ) -> pd.DataFrame:
    """``out`` with ``cost_to_serve`` (features first, then accounts), the investment ceiling
    and the ceiling's ratio to the cost to serve."""
    cost = pd.Series(np.nan, index=out.index)
    for src in (features, accounts):
        if src is not None and "cost_to_serve" in src.columns:
            cost = cost.fillna(_by_account(src)["cost_to_serve"].astype(float))
    out["cost_to_serve"] = cost.reindex(out.index)
    if ceiling == "share":
        out["investment_ceiling"] = (investment_share * out["clv"]).clip(lower=0)
    else:
        out["investment_ceiling"] = out["clv_uplift"].clip(lower=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ceiling_to_cost"] = out["investment_ceiling"] / out["cost_to_serve"].where(
            out["cost_to_serve"] > 0)
    return out
