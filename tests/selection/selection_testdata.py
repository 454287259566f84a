"""Constructed intake tables for the selection tests (no sample company needed)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from kamlib.intake.contract import DEFAULT_CRITERIA, JUDGED_CRITERIA


def features(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rev = rng.lognormal(11, 1.2, n)
    rev[:3] = 0.0  # accounts without purchases in the last year
    prev = rev * rng.lognormal(0, 0.3, n)
    margin_pct = np.where(rev > 0, rng.uniform(0.1, 0.4, n), np.nan)
    cost = rng.uniform(0.02, 0.2, n) * np.maximum(rev, 1000)
    cost[5:10] = np.nan  # unknown cost to serve
    return pd.DataFrame({
        "account_id": [f"A{i:04d}" for i in range(n)],
        "name": [f"Account {i}" for i in range(n)],
        "employees": rng.integers(5, 20000, n).astype(float),
        "n_sites": rng.integers(1, 40, n),
        "quantity_12m": rev / rng.uniform(10, 50, n),
        "revenue_12m": rev,
        "share_of_sales_12m": rev / rev.sum(),
        "growth_12m": np.divide(rev - prev, (rev + prev) / 2, out=np.zeros(n),
                                where=(rev + prev) > 0),
        "margin_pct_12m": margin_pct,
        "n_functions": rng.integers(0, 6, n),
        "cost_to_serve": cost,
        "n_orders_12m": rng.integers(0, 60, n),
    })


MANAGERS = ["Ana", "Ben", "Cleo", "Dev"]


def assessments(feats: pd.DataFrame, seed: int = 1, top_n: int = 10,
                managers: list[str] = MANAGERS, coverage: float = 0.5) -> pd.DataFrame:
    """Each manager assesses a random half of the accounts (the 15 biggest always) and lists a
    top 10 from noisy perceptions of revenue."""
    rng = np.random.default_rng(seed)
    n = len(feats)
    big = np.argsort(-feats["revenue_12m"].to_numpy())[:15]
    rows = []
    for m in managers:
        seen = set(big) | set(np.flatnonzero(rng.random(n) < coverage))
        perceived = np.log1p(feats["revenue_12m"].to_numpy()) + rng.normal(0, 1.0, n)
        seen_idx = np.array(sorted(seen))
        top = seen_idx[np.argsort(-perceived[seen_idx])[:top_n]]
        rank_of = {int(i): r + 1 for r, i in enumerate(top)}
        for i in seen_idx:
            row = {"manager": m, "account_id": feats["account_id"].iloc[i]}
            for c in JUDGED_CRITERIA:
                row[c] = float(np.clip(np.round(rng.normal(5, 2) + perceived[i] / 5 - 2), 0, 10))
            row["top_rank"] = rank_of.get(int(i), np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def judgements(criteria=DEFAULT_CRITERIA, managers: list[str] = MANAGERS, seed: int = 2,
               noise: float = 0.3) -> pd.DataFrame:
    """Pairwise comparisons from a common true weight vector plus per-manager noise,
    rounded to Saaty's scale."""
    rng = np.random.default_rng(seed)
    true = rng.dirichlet(np.full(len(criteria), 3.0))
    scale = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7,
                      8, 9])
    rows = []
    for m in managers:
        w = true * np.exp(rng.normal(0, noise, len(criteria)))
        for i, j in itertools.combinations(range(len(criteria)), 2):
            ratio = w[i] / w[j]
            v = scale[np.argmin(np.abs(np.log(scale) - np.log(ratio)))]
            rows.append({"manager": m, "criterion_a": criteria[i], "criterion_b": criteria[j],
                         "value": float(v)})
    return pd.DataFrame(rows)
