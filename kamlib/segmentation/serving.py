"""Serving models with costs: what each way of serving accounts costs and brings, and which
accounts would be worth more served another way.

Each serving model (:data:`~kamlib.vocabulary.SERVING_MODELS`: key account manager, account
manager, inside sales, digital / distributor) has three parameters:

* **cost** per account a year (the people's or platform's cost divided by the accounts they
  carry);
* **capacity**: accounts one person can carry (0 = no limit, e.g. a web shop or a distributor);
  the ~40 customers per account manager is the common benchmark (KAM reference, serving
  models); the others are assumptions to set with the sales director;
* **margin factor**: the share of an account's margin the model keeps, relative to the most
  attentive one (a key-account manager holds and develops the business; self-service loses
  some). An assumption too: set it from the company's own experience of moving accounts.

An account's serving model today follows its selection tier
(:data:`~kamlib.vocabulary.TIER_DEFAULT_SERVING`). Its **net value a year** under a model ``m``
is ``margin x factor(m) / factor(today) - cost to serve - cost(m)``. A **move** is proposed
where another model's net value is higher by at least ``min_gain``; key accounts stay with
their key-account manager (the selection decides that; the CLV step flags those whose
investment ceiling does not pay for one). The moves are proposals for the resource plan, with
the staff each model needs before and after.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kamlib.errors import ParameterError
from kamlib.params import numbers_by_key
from kamlib.vocabulary import (
    KEY,
    SERVE_ACCOUNT_MANAGER,
    SERVE_DIGITAL,
    SERVE_INSIDE_SALES,
    SERVE_KAM,
    SERVING_MODELS,
    TIER_DEFAULT_SERVING,
)
from kamlib.formatting import money as fmt_money

DEFAULT_SERVING_COSTS: dict[str, float] = {
    SERVE_KAM: 20000.0, SERVE_ACCOUNT_MANAGER: 3500.0, SERVE_INSIDE_SALES: 600.0,
    SERVE_DIGITAL: 150.0}
"""Cost per account a year of each serving model (a key-account manager costing ~120 k a year
with 6 accounts, "a handful"; an account manager ~140 k with 40; inside sales ~90 k with 150; a platform or
distributor fee)."""

DEFAULT_SERVING_CAPACITY: dict[str, float] = {
    SERVE_KAM: 6.0, SERVE_ACCOUNT_MANAGER: 40.0, SERVE_INSIDE_SALES: 150.0, SERVE_DIGITAL: 0.0}
"""Accounts one person can carry (0 = no limit)."""

DEFAULT_MARGIN_FACTORS: dict[str, float] = {
    SERVE_KAM: 1.0, SERVE_ACCOUNT_MANAGER: 0.95, SERVE_INSIDE_SALES: 0.88, SERVE_DIGITAL: 0.8}
"""Share of an account's margin each model keeps, relative to a key-account manager."""

MODEL_COLUMNS = ["serving_model", "accounts", "revenue_12m", "margin_12m", "cost_to_serve",
                 "serving_cost", "net_profit", "cost_per_account", "capacity", "staff_needed",
                 "accounts_after_moves", "staff_after_moves", "net_profit_after_moves"]
"""Columns of the ``serving_models`` table."""

MOVE_COLUMNS = ["account_id", "name", "tier", "from_model", "to_model", "margin_12m",
                "net_value_now", "net_value_after", "gain"]
"""Columns of the ``serving_moves`` table."""


def _per_model(values: Mapping[str, float], name: str, defaults: Mapping[str, float]
               ) -> dict[str, float]:
    return numbers_by_key(values, name, {m: defaults[m] for m in SERVING_MODELS},
                          "serving models")


def check_serving(costs: Mapping[str, float], capacity: Mapping[str, float],
                  margin_factors: Mapping[str, float]) -> tuple[dict, dict, dict]:
    """The three per-model parameters with defaults filled in; ParameterError on unknown
    models, negative numbers or a margin factor of 0."""
    f = _per_model(margin_factors, "serving_margin_factors", DEFAULT_MARGIN_FACTORS)
    if min(f.values()) <= 0:
        raise ParameterError("serving_margin_factors must be > 0 for every serving model.")
    return (_per_model(costs, "serving_costs", DEFAULT_SERVING_COSTS),
            _per_model(capacity, "serving_capacity", DEFAULT_SERVING_CAPACITY), f)


def account_economics(features: pd.DataFrame, selection_scores: pd.DataFrame,
                      clv: pd.DataFrame | None) -> pd.DataFrame:
    """Per account: tier, serving model today, revenue and margin this year, cost to serve
    (the CLV step's, given or estimated; else the features'; else 0)."""
    f = features.assign(account_id=features["account_id"].astype(str)).set_index("account_id")
    s = selection_scores.assign(account_id=selection_scores["account_id"].astype(str))
    tier = s.drop_duplicates("account_id").set_index("account_id")["tier"].reindex(f.index)
    cost = pd.Series(np.nan, index=f.index)
    if clv is not None and "cost_to_serve" in clv.columns:
        c = clv.assign(account_id=clv["account_id"].astype(str)).drop_duplicates("account_id")
        cost = c.set_index("account_id")["cost_to_serve"].reindex(f.index).astype(float)
    if "cost_to_serve" in f.columns:
        cost = cost.fillna(pd.to_numeric(f["cost_to_serve"], errors="coerce"))
    out = pd.DataFrame({
        "name": f["name"] if "name" in f.columns else pd.Series(pd.NA, index=f.index),
        "tier": tier,
        "serving_model": tier.map(TIER_DEFAULT_SERVING),
        "revenue_12m": pd.to_numeric(f.get("revenue_12m", 0.0), errors="coerce"),
        "margin_12m": pd.to_numeric(f.get("margin_12m", 0.0), errors="coerce"),
        "cost_to_serve": cost.fillna(0.0),
    }, index=f.index)
    out[["revenue_12m", "margin_12m"]] = out[["revenue_12m", "margin_12m"]].fillna(0.0)
    return out[out["serving_model"].notna()]


def net_by_model(acc: pd.DataFrame, costs: dict, factors: dict) -> pd.DataFrame:
    """Net value a year of every account (rows) under every serving model (columns)."""
    now = acc["serving_model"].map(factors).to_numpy(float)
    margin = acc["margin_12m"].to_numpy(float)
    cols = {m: margin * factors[m] / now - acc["cost_to_serve"].to_numpy(float) - costs[m]
            for m in SERVING_MODELS}
    return pd.DataFrame(cols, index=acc.index)


def proposed_moves(acc: pd.DataFrame, costs: dict, factors: dict, min_gain: float
                   ) -> pd.DataFrame:
    """Accounts another model would serve at a higher net value (by ``min_gain`` or more), the
    largest gain first; key accounts stay with their key-account manager."""
    net = net_by_model(acc, costs, factors)
    best = net.idxmax(axis=1)
    now = net.to_numpy()[np.arange(len(net)), [SERVING_MODELS.index(m)
                                               for m in acc["serving_model"]]]
    after = net.max(axis=1).to_numpy()
    move = (after - now >= min_gain) & (best != acc["serving_model"]).to_numpy() \
        & (acc["tier"] != KEY).to_numpy()
    out = pd.DataFrame({
        "account_id": acc.index[move], "name": acc["name"].to_numpy()[move],
        "tier": acc["tier"].to_numpy()[move],
        "from_model": acc["serving_model"].to_numpy()[move], "to_model": best.to_numpy()[move],
        "margin_12m": acc["margin_12m"].to_numpy()[move], "net_value_now": now[move],
        "net_value_after": after[move], "gain": (after - now)[move]})
    return out.sort_values(["gain", "account_id"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)[MOVE_COLUMNS]


def _staff(accounts: pd.Series, capacity: dict) -> pd.Series:
    cap = pd.Series(capacity).reindex(accounts.index)
    return np.ceil(accounts / cap.where(cap > 0)).where(cap > 0, 0.0)


def serving_model_table(acc: pd.DataFrame, moves: pd.DataFrame, costs: dict, capacity: dict,
                        factors: dict) -> pd.DataFrame:
    """One row per serving model: accounts, money, cost, staff needed, before and after the
    proposed moves."""
    acc = acc.assign(serving_cost=acc["serving_model"].map(costs))
    g = acc.groupby("serving_model")
    t = pd.DataFrame({"accounts": g.size(), "revenue_12m": g["revenue_12m"].sum(),
                      "margin_12m": g["margin_12m"].sum(),
                      "cost_to_serve": g["cost_to_serve"].sum(),
                      "serving_cost": g["serving_cost"].sum()}).reindex(list(SERVING_MODELS))
    t = t.fillna(0.0)
    t["net_profit"] = t["margin_12m"] - t["cost_to_serve"] - t["serving_cost"]
    t["cost_per_account"] = pd.Series(costs)
    t["capacity"] = pd.Series(capacity)
    t["staff_needed"] = _staff(t["accounts"], capacity)
    after = acc["serving_model"].copy()
    after[moves["account_id"].to_numpy()] = moves["to_model"].to_numpy()
    t["accounts_after_moves"] = after.value_counts().reindex(t.index).fillna(0).astype(float)
    t["staff_after_moves"] = _staff(t["accounts_after_moves"], capacity)
    net_now = net_by_model(acc, costs, factors)
    chosen = net_now.to_numpy()[np.arange(len(acc)), [SERVING_MODELS.index(m) for m in after]]
    t["net_profit_after_moves"] = pd.Series(chosen, index=acc.index).groupby(after).sum() \
        .reindex(t.index).fillna(0.0)
    t["accounts"] = t["accounts"].astype(float)
    return t.rename_axis("serving_model").reset_index()[MODEL_COLUMNS]


def serving_economics(features: pd.DataFrame, selection_scores: pd.DataFrame | None,
                      clv: pd.DataFrame | None, costs: Mapping[str, float],
                      capacity: Mapping[str, float], margin_factors: Mapping[str, float],
                      min_gain: float, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``serving_models`` and ``serving_moves`` tables (empty without the selection's tiers,
    with a note); notes say what the moves add up to."""
    costs, capacity, factors = check_serving(costs, capacity, margin_factors)
    if min_gain < 0:
        raise ParameterError(f"serving_min_gain must be >= 0, got {min_gain!r}.")
    if selection_scores is None or "tier" not in selection_scores.columns:
        notes.append("Serving-model economics need the selection step's tiers "
                     "(10_selection): not computed.")
        return pd.DataFrame(columns=MODEL_COLUMNS), pd.DataFrame(columns=MOVE_COLUMNS)
    acc = account_economics(features, selection_scores, clv)
    moves = proposed_moves(acc, costs, factors, min_gain)
    table = serving_model_table(acc, moves, costs, capacity, factors)
    if len(moves):
        pairs = moves.groupby(["from_model", "to_model"]).size()
        text = "; ".join(f"{n} from {a} to {b}" for (a, b), n in pairs.items())
        notes.append(f"Serving models: moving {len(moves)} accounts ({text}) would add "
                     f"{fmt_money(moves['gain'].sum())} of net value a year.")
    else:
        notes.append("Serving models: no account would be worth more served another way.")
    return table, moves
