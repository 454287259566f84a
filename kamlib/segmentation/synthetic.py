"""Constructed portfolios whose right answer is known (tests, benchmark, teaching).

Each account is drawn around the centre of one segment: value (revenue) log-normal around a
high or a low level, growth normal around a high or a low rate. Revenue of the earlier windows is
solved from the symmetric growth, so the measures module recovers the growth exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.vocabulary import CORE, DEVELOPING, LAGGARD, STAR

# Segment -> (median revenue of the last 12 months, symmetric growth)
BLOB_CENTRES: dict[str, tuple[float, float]] = {
    STAR: (1_000_000.0, 0.5),
    DEVELOPING: (20_000.0, 0.5),
    CORE: (1_000_000.0, -0.4),
    LAGGARD: (20_000.0, -0.4),
}


def base_from_growth(current: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The earlier window's value that gives symmetric growth ``g`` (|g| < 2)."""
    return current * (2 - g) / (2 + g)


def synthetic_features(
    sizes: dict[str, int] | None = None,
    *,
    seed: int = 0,
    value_sd: float = 0.25,
    growth_sd: float = 0.08,
    prev_segments: dict[str, str] | None = None,
) -> pd.DataFrame:
    """An ``account_features``-like table of well-separated segment blobs.

    Parameters
    ----------
    sizes : dict
        Segment -> number of accounts (default 25 each).
    seed : int
        Random seed.
    value_sd, growth_sd : float
        Spread of log revenue and of growth within a blob.
    prev_segments : dict, optional
        Segment -> the segment its accounts were in a year earlier (default: the same). Only
        growth-side moves are modelled (Star <-> Core, Developing <-> Laggard): the previous
        window's growth is drawn around the previous segment's growth.

    Returns
    -------
    DataFrame
        account_id, name, true_segment, true_segment_prev, revenue_12m, revenue_prev_12m,
        revenue_prev2_12m, margin_12m, margin_prev_12m, margin_prev2_12m, growth_12m,
        growth_prev_12m, wallet, margin_pct_12m, employees, n_sites, n_contacts, n_functions.
    """
    sizes = sizes or {s: 25 for s in BLOB_CENTRES}
    prev_segments = prev_segments or {}
    rng = np.random.default_rng(seed)
    parts = []
    for seg, n in sizes.items():
        v0, g0 = BLOB_CENTRES[seg]
        pseg = prev_segments.get(seg, seg)
        pg0 = BLOB_CENTRES[pseg][1]
        g = rng.normal(g0, growth_sd, n).clip(-1.9, 1.9)
        rev = v0 * np.exp(rng.normal(0, value_sd, n))
        prev = base_from_growth(rev, g)
        # Last year's growth follows the previous segment's centre; the value level cannot jump
        # between blobs within bounded growth, so only growth-side moves are realistic.
        gp = rng.normal(pg0, growth_sd, n).clip(-1.9, 1.9)
        prev2 = base_from_growth(prev, gp)
        parts.append(pd.DataFrame({
            "true_segment": seg, "true_segment_prev": pseg, "revenue_12m": rev,
            "revenue_prev_12m": prev, "revenue_prev2_12m": prev2,
        }))
    df = pd.concat(parts, ignore_index=True)
    n = len(df)
    df.insert(0, "account_id", [f"A{i:06d}" for i in range(n)])
    df.insert(1, "name", [f"Account {i}" for i in range(n)])
    pct = rng.uniform(0.15, 0.35, n)
    for w in ("", "_prev", "_prev2"):
        df[f"margin{w}_12m"] = df[f"revenue{w}_12m"] * pct
    num = df["revenue_12m"] - df["revenue_prev_12m"]
    den = (df["revenue_12m"].abs() + df["revenue_prev_12m"].abs()) / 2
    df["growth_12m"] = num / den
    df["growth_prev_12m"] = (df["revenue_prev_12m"] - df["revenue_prev2_12m"]) / (
        (df["revenue_prev_12m"].abs() + df["revenue_prev2_12m"].abs()) / 2)
    df["wallet"] = df["revenue_12m"] * rng.uniform(1.2, 4.0, n)
    df.loc[rng.uniform(size=n) < 0.2, "wallet"] = np.nan
    df["margin_pct_12m"] = pct
    df["employees"] = rng.integers(10, 5000, n)
    df["n_sites"] = rng.integers(1, 20, n)
    df["n_contacts"] = rng.integers(0, 15, n)
    df["n_functions"] = rng.integers(0, 6, n)
    return df
