"""The CLV of accounts on annual contracts: they renew or leave once a year, which the
shifted-beta-geometric (sBG) renewal model describes (Fader & Hardie 2007). With too few
renewals and churns to fit it, a margin multiple with the pooled retention rate stands in.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from kamlib.clv.margin import margin_multiple
from kamlib.clv.prep import DAYS_PER_YEAR
from kamlib.clv.purchase import annual_value, summary_rows
from kamlib.clv.sbg import ShiftedBetaGeometric
from kamlib.formatting import share as fmt_share


def value_contracts(clv: pd.DataFrame, accounts: pd.DataFrame, occasions: pd.DataFrame,
                    as_of: pd.Timestamp, *, value: str, horizon: float, discount_rate: float,
                    n_bootstrap: int, seed: int, interval_level: float, uplift_retention: float,
                    notes: list[str]
                    ) -> tuple[pd.DataFrame, ShiftedBetaGeometric | None, list[pd.DataFrame]]:
    """``clv`` (indexed by account_id) with the accounts that have a ``contract_start`` in
    ``accounts`` (indexed by account_id) valued by :func:`contract_clv`, the fitted sBG and
    its rows of ``clv_model_summary`` (None and none when it was not fitted)."""
    if "contract_start" not in accounts.columns:
        return clv, None, []
    con = accounts[pd.to_datetime(accounts["contract_start"]).notna()]
    if not len(con):
        return clv, None, []
    cclv, sbg = contract_clv(con, annual_value(occasions, value, as_of), as_of, horizon,
                             discount_rate, n_bootstrap, seed, interval_level, uplift_retention,
                             notes)
    # per-account model outputs may be float32 (memory at 1M accounts); pandas refuses
    # to write float64 contract values into them, so widen first
    clv = clv.astype({c: "float64" for c in cclv.columns
                      if c in clv.columns and clv[c].dtype == "float32"})
    for col in cclv.columns:
        clv.loc[cclv.index, col] = cclv[col]
    if sbg is None:
        return clv, None, []
    return clv, sbg, [summary_rows("sBG", sbg, {
        "log_likelihood": (sbg.log_likelihood_, ""),
        "accounts": (sbg.n_, "contract accounts with at least one renewal decision"),
    })]


def renewal_paths(draws: np.ndarray, renewals: np.ndarray, horizon: int, discount_rate: float,
                  seed: int) -> np.ndarray:
    """Discounted future payments of each account in one simulated future per sBG draw.

    Each simulation takes the account's own churn probability from its posterior given the
    ``renewals`` it has survived, theta ~ Beta(alpha, beta + renewals), and renews each year
    with probability 1 - theta up to ``horizon`` years: its payments are the discounted years
    before the first churn. The mean over simulations is :meth:`expected_payments`.

    Returns
    -------
    ndarray
        ``(n_draws, n_accounts)``.
    """
    rng = np.random.default_rng(seed)
    a, b = draws[:, :1], draws[:, 1:2]
    n = np.asarray(renewals, float)[None, :]
    theta = rng.beta(np.broadcast_to(a, (len(draws), n.shape[1])), b + n)
    years = np.minimum(rng.geometric(np.clip(theta, 1e-12, 1.0)) - 1, horizon)
    if discount_rate == 0:
        return years.astype(float)
    return -np.expm1(-years * np.log1p(discount_rate)) / discount_rate


def contract_clv(acc: pd.DataFrame, annual: pd.Series, as_of: pd.Timestamp, horizon: float,
                 discount_rate: float, n_bootstrap: int, seed: int, interval_level: float,
                 uplift_retention: float, notes: list[str]
                 ) -> tuple[pd.DataFrame, ShiftedBetaGeometric | None]:
    """sBG (or margin-multiple) CLV for the accounts ``acc`` (indexed by account_id), all on
    annual contracts; ``annual`` is each account's value in the last 12 months.

    Returns the CLV columns of ``clv`` for them and the fitted sBG (None when too few renewals
    and churns to fit it: the margin multiple with a pooled retention is used then).
    """
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
        q = (1 - interval_level) / 2
        out["clv"] = clv
        out["clv_param_low"] = np.where(churned, 0.0, np.quantile(sims, q, axis=0))
        out["clv_param_high"] = np.where(churned, 0.0, np.quantile(sims, 1 - q, axis=0))
        paths = margin * (remaining + renewal_paths(draws, renewals, H, discount_rate, seed + 2))
        out["clv_low"] = np.where(churned, 0.0, np.quantile(paths, q, axis=0))
        out["clv_high"] = np.where(churned, 0.0, np.quantile(paths, 1 - q, axis=0))
        out["clv_uplift"] = np.where(churned, 0.0, value(theta, uplift_retention) - clv)
        out["p_alive"] = np.where(churned, 0.0, 1.0)
        out["model"] = "sBG (annual contract)"
        notes.append(
            f"{int((~churned).sum())} accounts on annual contracts valued with the sBG renewal "
            f"model (alpha={theta[0]:.3g}, beta={theta[1]:.3g}; next-year retention "
            f"{fmt_share(model.retention_rate(2))} rising with tenure)."
        )
    else:
        renew = int(periods[~churned].clip(min=0).sum())
        lost = int(churned.sum())
        r = renew / (renew + lost) if renew + lost else 0.8
        mult = margin_multiple(min(r, 0.99), discount_rate, H)
        out["clv"] = np.where(churned, 0.0, margin * (remaining + mult))
        for col in ("clv_low", "clv_high", "clv_param_low", "clv_param_high"):
            out[col] = out["clv"]
        out["clv_uplift"] = np.where(
            churned, 0.0,
            margin * (margin_multiple(min(1 - (1 - r) * (1 - uplift_retention), 0.99),
                                      discount_rate, H) - mult))
        out["p_alive"] = np.where(churned, 0.0, 1.0)
        out["model"] = "margin multiple (annual contract)"
        notes.append(
            f"Too few contract renewals and churns to fit the sBG model: contract accounts use "
            f"the margin multiple with a pooled retention of {fmt_share(r)}."
        )
    return out, model
