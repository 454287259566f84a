"""Why an account is, or is not, key: the words beside the numbers.

* ``held_back_by``: for an account that is not key, the criterion that cost it most against
  the key accounts: the largest ``weight x (mean normalised value of the key accounts - the
  account's)``. For a key account it is blank.
* ``why_not_key``: the override reason when management excluded it, else its rank against the
  list length, the score it lacked and the criterion that held it back.
* :func:`big_not_key`: the largest accounts by a value (revenue here; CLV in the review) that
  are not key, each with why, so that nobody is surprised in the board meeting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

BIG_ACCOUNTS = 10
"""How many of the largest accounts the "big but not key" review looks at."""

BIG_NOT_KEY_COLUMNS = ["account_id", "name", "revenue_rank", "revenue_12m", "rank", "score",
                       "tier", "override", "held_back_by", "why_not_key"]


def held_back_by(normalised: np.ndarray, weights: np.ndarray, is_key: np.ndarray,
                 labels: list[str]) -> list[str]:
    """The label of the criterion that separates each non-key account most from the key
    accounts (blank for the key accounts)."""
    if not is_key.any():
        return [""] * len(is_key)
    gap = (normalised[is_key].mean(axis=0)[None, :] - normalised) * weights[None, :]
    worst = gap.argmax(axis=1)
    return [("" if k or gap[i, worst[i]] <= 0 else labels[worst[i]])
            for i, k in enumerate(is_key)]


def why_not_key(scores: pd.DataFrame, n_key: int) -> list[str]:
    """One sentence per account that is not key (blank for key accounts)."""
    key_scores = scores.loc[scores["is_key"], "score"]
    cut = float(key_scores.min()) if len(key_scores) else float("nan")
    out = []
    used = ["is_key", "override", "override_reason", "key_by_criteria", "rank", "score",
            "held_back_by"]  # only these: the scores table has dozens of columns
    for row in scores[used].itertuples(index=False):
        if row.is_key:
            out.append("")
        elif row.override == "exclude":
            out.append(f"excluded by management: {row.override_reason}")
        elif row.key_by_criteria:
            out.append(f"rank {row.rank}, key on the criteria, but left the list to make room "
                       "for management's inclusions")
        else:
            held = f"; held back most by {row.held_back_by.lower()}" if row.held_back_by else ""
            out.append(f"rank {row.rank} (the list holds {n_key}); score {row.score:.3f} "
                       f"against {cut:.3f} for the last key account{held}")
    return out


def big_not_key(scores: pd.DataFrame, value: str = "revenue_12m", n: int = BIG_ACCOUNTS
                ) -> pd.DataFrame:
    """The ``n`` largest accounts by ``value`` that are not key, with why (largest first)."""
    s = scores.sort_values([value, "account_id"], ascending=[False, True], kind="stable")
    big = s.head(n)
    cols = [c for c in BIG_NOT_KEY_COLUMNS if c in s.columns]
    if value not in cols:
        cols.insert(3, value)
    return big.loc[~big["is_key"].astype(bool), cols].reset_index(drop=True)
