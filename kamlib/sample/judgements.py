"""Sample managers' judgements: criterion scores, top-10 lists and AHP pairwise comparisons.

Seven senior managers each know a different shortlist of accounts (the large ones, and the
ones in their own patch) and each has a bias: the CEO looks at billing and prestige, the sales
director at growth, the CFO at margin and cost to serve, the regional directors at their own
region, operations at multi-site complexity, strategy at fit with target segments. Asked for
"our 10 most important customers" they therefore name different accounts, as real management
teams do, which is the point the selection step teaches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.intake.contract import DEFAULT_CRITERIA, JUDGED_CRITERIA
from kamlib.sample import catalogue as cat

SAATY_RI = {3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49, 11: 1.51,
            12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}
"""Saaty's (1980) random index by matrix size."""
SAATY_SCALE = np.array([1 / k for k in range(9, 1, -1)] + list(range(1, 10)), float)
MISSING_SCORE_SHARE = 0.02
COMMON_BILLING = 1.0
"""Weight every manager gives to billing when naming important customers, before their bias."""
TASTE_NOISE = 0.45
"""Noise in each manager's view of an account when ranking their top 10."""


def _z(x) -> np.ndarray:
    x = np.asarray(x, float)
    x = np.where(np.isfinite(x), x, np.nanmean(x) if np.isfinite(x).any() else 0.0)
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def _rank_pct(x) -> np.ndarray:
    return pd.Series(np.asarray(x, float)).rank(pct=True).to_numpy()


def account_facts(accounts: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """What management can see about each account: revenue, growth, margin, sites ... (clean lines only)."""
    end = pd.Timestamp(cat.DATA_END)
    ok = lines["date"].notna() & (lines["date"] <= end)
    ln = lines[ok]
    last12 = ln["date"] > end - pd.DateOffset(years=1)
    prev12 = (ln["date"] > end - pd.DateOffset(years=2)) & ~last12
    by = ln.groupby("account_id")
    f = pd.DataFrame(index=accounts["account_id"])
    f["revenue_total"] = by["net_revenue"].sum()
    f["revenue_12m"] = ln[last12].groupby("account_id")["net_revenue"].sum()
    f["revenue_prev_12m"] = ln[prev12].groupby("account_id")["net_revenue"].sum()
    f["margin_12m"] = ln[last12].groupby("account_id")["margin"].sum()
    f = f.fillna(0.0)
    a, b = f["revenue_12m"], f["revenue_prev_12m"]
    den = (a.abs() + b.abs()) / 2
    f["growth"] = np.where(den > 0, (a - b) / den.where(den > 0, 1), 0.0)
    f["margin_pct"] = np.where(a > 0, f["margin_12m"] / a.where(a > 0, 1), np.nan)
    return f.reset_index()


def true_criteria(rng: np.random.Generator, accounts: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Each account's 'true' standing on the judged criteria (0-10) that managers perceive with bias."""
    n = len(accounts)
    pct = accounts["_pct"].to_numpy()
    log_size = np.log(accounts["_size"].to_numpy())
    industry = accounts["industry"].to_numpy()
    within_ind = pd.Series(log_size).groupby(industry).rank(pct=True).to_numpy()
    target = np.isin(industry, cat.TARGET_INDUSTRIES)
    tenure = (pd.Timestamp(cat.DATA_END) - accounts["relationship_start"]).dt.days.to_numpy() / 365.25
    sow = accounts["_sow"].to_numpy()
    contract = accounts["_is_contract"].to_numpy()
    margin = facts["margin_pct"].fillna(facts["margin_pct"].median()).to_numpy()
    crit = {
        "future_potential": 10 * _rank_pct(accounts["_growth"].to_numpy() + 0.6 * (1 - sow) + rng.normal(0, 0.15, n)),
        "industry_weight": 10 * (0.6 * within_ind + 0.4 * pct) + rng.normal(0, 0.6, n),
        "market_influence": 10 * (0.65 * pct + 0.35 * rng.random(n)) + 1.0 * target,
        "potential_profitability": 10 * _rank_pct(margin + 0.25 * (1 - sow) + rng.normal(0, 0.03, n)),
        "strategic_fit": 3.0 + 3.5 * target + 1.5 * pct + rng.normal(0, 1.3, n),
        "reciprocity": 4.5 + 1.5 * contract + 0.06 * np.minimum(tenure, 25) + rng.normal(0, 1.6, n),
        "specialised_service": 10 * _rank_pct(np.log(accounts["n_sites"].to_numpy()) + 0.5 * contract + rng.normal(0, 0.4, n)),
    }
    return pd.DataFrame({k: np.clip(v, 0, 10) for k, v in crit.items()})


def draw_assessments(rng: np.random.Generator, accounts: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Assessments table: per manager x known account, scores 0-10 and the top-10 rank."""
    n = len(accounts)
    facts = account_facts(accounts, lines)
    truth = true_criteria(rng, accounts, facts)
    region = accounts["region"].to_numpy()
    cts = accounts["cost_to_serve"].to_numpy()
    rev = facts["revenue_12m"].to_numpy()
    tenure = (pd.Timestamp(cat.DATA_END) - accounts["relationship_start"]).dt.days.to_numpy()
    alive = rev > 0
    signals = {
        "billing": _z(np.log(np.maximum(rev, 0) + 2_000)),
        "growth": _z(facts["growth"].to_numpy()),
        "margin": _z(facts["margin_pct"].to_numpy()),
        "sites": _z(np.log(accounts["n_sites"].to_numpy())),
        "cost_to_serve": _z(np.where(rev > 0, cts / np.maximum(rev, 1), np.nan)),
        "tenure": _z(np.log1p(tenure / 365.25)),
        **{c: _z(truth[c].to_numpy()) for c in JUDGED_CRITERIA},
    }
    visibility = _z(np.log(facts["revenue_total"].clip(lower=0).to_numpy() + 2_000))
    out = []
    for m in cat.SENIOR_MANAGERS:
        home = np.isin(region, m.home_regions).astype(float)
        k = int(min(n, max(min(n, 20), round(m.shortlist * n / 600))))
        vis = visibility + 2.2 * home + rng.normal(0, 0.5, n)
        known = np.sort(np.argsort(-vis, kind="stable")[:k])
        # Everyone thinks big accounts matter; each manager adds a personal bias on top.
        taste = COMMON_BILLING * signals["billing"]
        taste = taste + sum(w * (home if s == "home" else signals[s]) for s, w in m.taste.items())
        taste = taste + rng.normal(0, TASTE_NOISE, n)
        taste = np.where(alive, taste, -np.inf)  # nobody names a lost account
        pick = known[np.argsort(-taste[known], kind="stable")[: min(10, k)]]
        rank = np.full(n, np.nan)
        rank[pick] = np.arange(1, len(pick) + 1)
        halo = _z(np.where(np.isfinite(taste), taste, np.nan))[known]
        scores = {}
        for c in JUDGED_CRITERIA:
            s = truth[c].to_numpy()[known] + m.offset + 0.5 * halo + rng.normal(0, m.score_noise, k)
            s = np.clip(np.round(s), 0, 10)
            s[rng.random(k) < MISSING_SCORE_SHARE] = np.nan
            scores[c] = s
        out.append(
            pd.DataFrame(
                {
                    "manager": m.name,
                    "account_id": accounts["account_id"].to_numpy()[known],
                    **scores,
                    "top_rank": pd.array(rank[known], dtype="Int64"),
                }
            )
        )
    df = pd.concat(out, ignore_index=True)
    df["manager"] = df["manager"].astype("str")
    df["account_id"] = df["account_id"].astype("str")
    return df


def saaty_round(r: np.ndarray) -> np.ndarray:
    """Nearest value on Saaty's scale 1/9 .. 9 (rounded on the log scale of the integer side)."""
    r = np.asarray(r, float)
    up = np.clip(np.round(r), 1, 9)
    down = 1 / np.clip(np.round(1 / r), 1, 9)
    return np.where(r >= 1, up, down)


def consistency_ratio(matrix: np.ndarray) -> float:
    """Saaty's consistency ratio of a reciprocal matrix (random index for its size)."""
    n = matrix.shape[0]
    ri = SAATY_RI[n]
    lam = float(np.max(np.linalg.eigvals(matrix).real))
    return (lam - n) / (n - 1) / ri


def _matrix(values: np.ndarray, n: int) -> np.ndarray:
    a = np.ones((n, n))
    iu = np.triu_indices(n, 1)
    a[iu] = values
    a[(iu[1], iu[0])] = 1 / values
    return a


def draw_ahp(rng: np.random.Generator) -> pd.DataFrame:
    """Each manager's pairwise comparisons over DEFAULT_CRITERIA, from their priorities plus noise.

    Values are stored unrounded (1/3 as 0.333...), so that 1/9 is not read as below the scale.
    Consistent managers judge with small noise (redrawn until CR < 0.10); the inconsistent ones
    judge with more noise and a few reversed answers (redrawn until 0.15 < CR < 0.35), like a
    questionnaire filled in hurriedly.
    """
    crit = list(DEFAULT_CRITERIA)
    n = len(crit)
    iu = np.triu_indices(n, 1)
    out = []
    for m in cat.SENIOR_MANAGERS:
        w = np.array([m.priorities[c] for c in crit], float)
        ideal = (w[:, None] / w[None, :])[iu]
        for _ in range(500):
            if m.consistent:
                v = saaty_round(ideal * np.exp(rng.normal(0, 0.25, len(ideal))))
                ok = consistency_ratio(_matrix(v, n)) < 0.10
            else:
                noisy = ideal * np.exp(rng.normal(0, 0.45, len(ideal)))
                flip = rng.choice(len(ideal), max(3, round(len(ideal) / 15)), replace=False)
                noisy[flip] = 1 / noisy[flip]
                v = saaty_round(noisy)
                ok = 0.15 < consistency_ratio(_matrix(v, n)) < 0.35
            if ok:
                break
        out.append(pd.DataFrame({"manager": m.name, "criterion_a": np.array(crit)[iu[0]], "criterion_b": np.array(crit)[iu[1]], "value": v}))
    df = pd.concat(out, ignore_index=True)
    for c in ("manager", "criterion_a", "criterion_b"):
        df[c] = df[c].astype("str")
    return df
