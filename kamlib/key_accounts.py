"""Which accounts are key: the one rule every step uses, with its fallback.

In order of preference:

1. the ``key_accounts`` table of the selection step, when it has rows;
2. else the rows of ``selection_scores`` marked key: ``is_key`` true (missing counts as not
   key), or, in a table without ``is_key``, ``tier == "key"``;
3. else, only when the caller asks for it (``features`` given), the ``top_n`` accounts by
   ``revenue_12m`` (ties by account id). Revenue alone is not a key-account
   selection, so the source says so and callers tell the reader;
4. else no key accounts.

Foundation layer: pandas only, nothing of kamlib but the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from kamlib.errors import InputError
from kamlib.vocabulary import KEY

FROM_TABLE = "key_accounts"
FROM_SCORES = "selection_scores"
FROM_REVENUE = "revenue"
NO_SOURCE = "none"


@dataclass(frozen=True)
class KeyAccounts:
    """The key accounts and where the list came from.

    Attributes
    ----------
    rows : DataFrame
        The rows naming them (of ``key_accounts``, ``selection_scores`` or ``features``), with
        ``account_id`` as text; empty when there are none.
    source : str
        :data:`FROM_TABLE`, :data:`FROM_SCORES`, :data:`FROM_REVENUE` or :data:`NO_SOURCE`.
    """

    rows: pd.DataFrame
    source: str

    @property
    def ids(self) -> list[str]:
        """Account ids in the order of ``rows``."""
        return self.rows["account_id"].tolist() if len(self.rows) else []

    @property
    def from_selection(self) -> bool:
        """Whether the list is the selection step's (not the revenue fallback, not empty)."""
        return self.source in (FROM_TABLE, FROM_SCORES)


def _with_text_ids(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(account_id=df["account_id"].astype(str))


def flagged_key(selection_scores: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows of ``selection_scores`` marked key (rule 2 of the module)."""
    s = selection_scores
    if "is_key" in s.columns:
        flag = s["is_key"]
        return flag.astype(object).where(flag.notna(), False).astype(bool)
    if "tier" in s.columns:
        return s["tier"].astype(str).eq(KEY)
    return pd.Series(False, index=s.index)


def key_accounts(key_accounts: pd.DataFrame | None = None,
                 selection_scores: pd.DataFrame | None = None,
                 features: pd.DataFrame | None = None, top_n: int = 0) -> KeyAccounts:
    """The key accounts by the rule of the module docstring.

    Parameters
    ----------
    key_accounts, selection_scores : DataFrame, optional
        The selection step's tables (either may be missing).
    features : DataFrame, optional
        ``account_features`` (account_id, revenue_12m): only used for the fallback; without
        it there is no fallback.
    top_n : int
        Accounts the fallback takes.
    """
    if key_accounts is not None and len(key_accounts):
        return KeyAccounts(_with_text_ids(key_accounts), FROM_TABLE)
    if selection_scores is not None and len(selection_scores):
        mask = flagged_key(selection_scores)
        if mask.any():
            return KeyAccounts(_with_text_ids(selection_scores[mask.to_numpy()]), FROM_SCORES)
    if features is not None:
        missing = [c for c in ("account_id", "revenue_12m") if c not in features.columns]
        if missing:
            raise InputError("account_features", f"the column(s) {', '.join(missing)} are missing.",
                             "Rerun the step that writes 'account_features', or add the column(s).",
                             column=missing[0])
        rev = pd.to_numeric(features["revenue_12m"], errors="coerce").astype(float)
        top = (_with_text_ids(features).assign(_r=rev.to_numpy())
               .sort_values(["_r", "account_id"], ascending=[False, True], na_position="last")
               .head(top_n).drop(columns="_r"))
        return KeyAccounts(top, FROM_REVENUE)
    return KeyAccounts(pd.DataFrame({"account_id": pd.Series([], dtype=str)}), NO_SOURCE)


def key_account_ids(key_accounts_table: pd.DataFrame | None = None,
                    selection_scores: pd.DataFrame | None = None,
                    features: pd.DataFrame | None = None, top_n: int = 0) -> list[str]:
    """Ids of the key accounts (see :func:`key_accounts`)."""
    return key_accounts(key_accounts_table, selection_scores, features, top_n).ids


def is_key(account_ids: pd.Series, key_ids: Iterable[str]) -> pd.Series:
    """Boolean Series: whether each account id (compared as text) is among ``key_ids``."""
    return account_ids.astype(str).isin(set(map(str, key_ids)))


def in_tiers(selection_scores: pd.DataFrame, tiers: Iterable[str]) -> pd.Series:
    """Boolean mask of the rows of ``selection_scores`` whose ``tier`` is one of ``tiers``."""
    return selection_scores["tier"].astype(str).isin(list(tiers))
