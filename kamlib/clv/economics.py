"""Account economics: cost to serve, net profit, net CLV and the investment ceiling.

**Cost to serve** (activity-based). When the accounts table gives an account's ``cost_to_serve``
that figure is used; otherwise it is estimated from what the account made the company do in the
last 12 months, each activity at a rate (the ``cost_rates`` parameter, money per unit):

    cost to serve = order x orders + line x invoice lines + site x active delivery sites
                    + returns x returned value + contract x (1 if on negotiated contract terms)

``order`` prices order handling (entry, picking, invoicing, payment), ``line`` each line picked,
packed and invoiced, ``site`` the deliveries and service of one more site a year, ``returns`` the
handling and write-off per unit of returned value, ``contract`` the special service and terms of a
negotiated contract (price lists, reporting, reviews). The defaults (:data:`DEFAULT_COST_RATES`)
are placeholders of the right order for an industrial distributor, not facts about a client:
set them with the finance team. The account team's own time is not in it: it is the serving
model's cost (:mod:`kamlib.segmentation.serving`) and the dedicated manager's cost below.

**Net profit this year** = margin of the last 12 months - cost to serve. Sorted by it, the
cumulative net profit is the "whale curve": it rises above 100 % of the total and falls back
over the accounts that cost more than they bring.

**Net CLV** = discounted margin - discounted cost to serve over the CLV's horizon. Cost follows
activity, so the account's cost to serve is carried forward like its margin: discounted cost =
cost this year x (discounted margin / margin this year), the CLV's own multiple of a year.

**Investment ceiling** (``ceiling="uplift"``), a year: the discounted margin a key-account
programme adds over the horizon (fewer dropouts, more purchases; ``clv_uplift``), spread evenly
over the horizon's years (divided by the annuity of the horizon at the discount rate), minus the
programme's own cost per account a year; ``ceiling="share"`` keeps the flat share of CLV. An
account whose ceiling does not cover a dedicated manager's cost a year (``manager_cost``) is
flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.params import numbers_by_key

DEFAULT_COST_RATES: dict[str, float] = {
    "order": 25.0,
    "line": 2.5,
    "site": 400.0,
    "returns": 0.15,
    "contract": 1500.0,
}
"""Activity rates of the cost-to-serve rule (money per order, line, site, unit of returned value,
contract account per year)."""

def check_cost_rates(rates: dict) -> dict[str, float]:
    """The rates with defaults filled in; a ParameterError names an unknown or negative one."""
    return numbers_by_key(rates, "cost_rates", DEFAULT_COST_RATES, "activities")


def activity_last_year(occasions: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Orders (purchase occasions), invoice lines and margin per account in the 12 months up to
    ``as_of``."""
    d = pd.to_datetime(occasions["date"])
    recent = occasions[(d > as_of - pd.Timedelta(days=365)) & (d <= as_of)]
    lines = recent["n_lines"] if "n_lines" in recent.columns else pd.Series(1, index=recent.index)
    margin = recent["margin"] if "margin" in recent.columns else recent["revenue"] * np.nan
    g = recent.assign(_lines=lines, _margin=margin).groupby("account_id", observed=True)
    return pd.DataFrame({"orders": g.size(), "lines": g["_lines"].sum(),
                         "margin": g["_margin"].sum()})


def estimated_cost_to_serve(activity: pd.DataFrame, rates: dict[str, float]) -> pd.Series:
    """The activity-based rule (module docstring) on a table indexed by account with columns
    ``orders, lines, sites, returns, contract`` (missing values count as 0)."""
    a = activity.reindex(columns=["orders", "lines", "sites", "returns", "contract"])
    a = a.astype(float).fillna(0.0)
    return (rates["order"] * a["orders"] + rates["line"] * a["lines"]
            + rates["site"] * a["sites"] + rates["returns"] * a["returns"].clip(lower=0)
            + rates["contract"] * a["contract"].astype(float))


def cost_to_serve(index: pd.Index, occasions: pd.DataFrame, as_of: pd.Timestamp,
                  features: pd.DataFrame | None, accounts: pd.DataFrame | None,
                  rates: dict[str, float]) -> pd.DataFrame:
    """Cost to serve this year per account (indexed like ``index``): the accounts table's
    figure where given, else the activity-based estimate.

    Returns
    -------
    DataFrame
        ``cost_to_serve``, ``cost_to_serve_estimated`` (True where the rule gave it) and
        ``margin_12m`` (the margin of the last 12 months).
    """
    act = activity_last_year(occasions, as_of).reindex(index)
    given = pd.Series(np.nan, index=index)
    sites = pd.Series(np.nan, index=index)
    returns = pd.Series(0.0, index=index)
    contract = pd.Series(False, index=index)
    margin = act["margin"]
    for src in (features, accounts):
        if src is None:
            continue
        s = src.assign(account_id=src["account_id"].astype(str)).drop_duplicates("account_id")
        s = s.set_index("account_id").reindex(index)
        if "cost_to_serve" in s.columns:
            given = given.fillna(pd.to_numeric(s["cost_to_serve"], errors="coerce"))
        for col in ("n_active_sites_12m", "n_sites"):
            if col in s.columns:
                sites = sites.fillna(pd.to_numeric(s[col], errors="coerce"))
        if "returns_share" in s.columns and "revenue_12m" in s.columns:
            returned = (pd.to_numeric(s["returns_share"], errors="coerce")
                        * pd.to_numeric(s["revenue_12m"], errors="coerce").clip(lower=0))
            returns = returns.where(returns > 0, returned.fillna(0.0))
        if "margin_12m" in s.columns:
            margin = pd.to_numeric(s["margin_12m"], errors="coerce").fillna(margin)
        if "contract_start" in s.columns:
            contract = contract | pd.to_datetime(s["contract_start"], errors="coerce").notna()
    activity = pd.DataFrame({"orders": act["orders"], "lines": act["lines"],
                             "sites": sites.where(act["orders"].fillna(0) > 0, 0.0),
                             "returns": returns, "contract": contract})
    estimate = estimated_cost_to_serve(activity, rates)
    estimated = given.isna()
    return pd.DataFrame({"cost_to_serve": given.fillna(estimate),
                         "cost_to_serve_estimated": estimated,
                         "margin_12m": margin.fillna(0.0)}, index=index)


def annuity(years: float, discount_rate: float) -> float:
    """Present value of 1 a year for ``years`` years, paid mid-year."""
    t = np.arange(int(np.ceil(years))) + 0.5
    w = np.minimum(years - np.floor(t), 1.0)
    return float((w * (1 + discount_rate) ** -t).sum())


def net_values(out: pd.DataFrame, value: str, horizon: float, discount_rate: float
               ) -> pd.DataFrame:
    """``net_profit_12m``, ``discounted_margin``, ``discounted_cost_to_serve`` and ``net_clv``.

    ``out`` needs ``clv``, ``cost_to_serve``, ``margin_12m`` and, for ``value="revenue"``,
    ``revenue_12m`` (the CLV is then converted to margin at this year's margin rate). The
    discounted cost follows the CLV's multiple of this year's margin; an account without
    margin this year but with a CLV carries its cost over the horizon's annuity.
    """
    margin = out["margin_12m"].astype(float)
    clv = out["clv"].astype(float)
    if value == "revenue":
        rev = out["revenue_12m"].astype(float)
        rate = (margin / rev.where(rev > 0)).fillna(0.0)
        clv = clv * rate
    with np.errstate(divide="ignore", invalid="ignore"):
        multiple = (clv / margin.where(margin > 0)).fillna(
            annuity(horizon, discount_rate) * (clv > 0))
    cost = out["cost_to_serve"].astype(float).fillna(0.0)
    return pd.DataFrame({"net_profit_12m": margin - cost, "discounted_margin": clv,
                         "discounted_cost_to_serve": cost * multiple,
                         "net_clv": clv - cost * multiple}, index=out.index)


def investment_ceiling(out: pd.DataFrame, ceiling: str, investment_share: float,
                       programme_cost: float, manager_cost: float, horizon: float,
                       discount_rate: float) -> pd.DataFrame:
    """``investment_ceiling`` and ``manager_cost`` (a year) and ``covers_manager`` (the ceiling
    covers a dedicated manager's cost)."""
    if ceiling == "share":
        ceil = (investment_share * out["clv"]).clip(lower=0)
    else:
        a = annuity(horizon, discount_rate)
        ceil = (out["clv_uplift"].fillna(0.0) / a - programme_cost).clip(lower=0)
    return pd.DataFrame({"investment_ceiling": ceil, "manager_cost": float(manager_cost),
                         "covers_manager": ceil >= manager_cost}, index=out.index)


def whale_curve(out: pd.DataFrame) -> pd.DataFrame:
    """Accounts sorted by net profit this year, with the cumulative net profit and its share of
    the total (the ``clv_profitability`` table); accounts without margin and cost are left out."""
    d = out[(out["margin_12m"] != 0) | (out["cost_to_serve"].fillna(0) > 0)]
    d = d.reset_index().sort_values(["net_profit_12m", "account_id"],
                                    ascending=[False, True], kind="stable")
    total = d["net_profit_12m"].sum()
    cum = d["net_profit_12m"].cumsum()
    return pd.DataFrame({
        "rank": np.arange(1, len(d) + 1),
        "account_id": d["account_id"].to_numpy(),
        "margin_12m": d["margin_12m"].to_numpy(float),
        "cost_to_serve": d["cost_to_serve"].to_numpy(float),
        "net_profit": d["net_profit_12m"].to_numpy(float),
        "cumulative_net_profit": cum.to_numpy(float),
        "cumulative_share": (cum / total).to_numpy(float) if total else np.nan,
        "accounts_share": np.arange(1, len(d) + 1) / max(len(d), 1),
    })


def whale_summary(curve: pd.DataFrame) -> dict:
    """Where the whale curve peaks and what the tail costs.

    Returns
    -------
    dict
        ``accounts``, ``total`` (net profit), ``peak`` (cumulative net profit at its maximum),
        ``peak_share`` (of the total), ``peak_rank``, ``loss_accounts`` (net profit < 0) and
        ``loss`` (their summed net profit, negative).
    """
    if not len(curve):
        return {"accounts": 0, "total": 0.0, "peak": 0.0, "peak_share": np.nan,
                "peak_rank": 0, "loss_accounts": 0, "loss": 0.0}
    i = int(np.argmax(curve["cumulative_net_profit"].to_numpy()))
    neg = curve["net_profit"] < 0
    total = float(curve["net_profit"].sum())
    peak = float(curve["cumulative_net_profit"].iloc[i])
    return {"accounts": len(curve), "total": total, "peak": peak,
            "peak_share": peak / total if total > 0 else np.nan,
            "peak_rank": int(curve["rank"].iloc[i]), "loss_accounts": int(neg.sum()),
            "loss": float(curve.loc[neg, "net_profit"].sum())}
