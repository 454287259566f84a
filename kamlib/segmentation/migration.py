"""How accounts moved between segments from last year's window to this year's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.vocabulary import NOT_SEGMENTED, SEGMENTS, STAR
from kamlib.vocabulary import SEGMENT_RANK as _RANK  # number of "high" axes


def segment_migration(previous: pd.Series, current: pd.Series) -> pd.DataFrame:
    """One row per account: last year's segment, this year's, and what the move means.

    Parameters
    ----------
    previous, current : Series
        Segment per account (index = account_id); NaN = not segmented (no history then).

    Returns
    -------
    DataFrame
        account_id, segment_prev, segment, moved, direction ("up", "down", "sideways", "same",
        "new" when there was no segment last year, "lapsed" when there is none now),
        star_slipping (a Star last year that is not one now).
    """
    idx = current.index.union(previous.index)
    prev = previous.reindex(idx).astype(object)
    cur = current.reindex(idx).astype(object)
    # Work on small integer codes (-1 = not segmented): comparisons of strings are slow.
    cats = pd.Index(list(_RANK))
    cp = cats.get_indexer(prev.to_numpy())
    cc = cats.get_indexer(cur.to_numpy())
    ranks = np.array(list(_RANK.values()))
    rp = np.where(cp >= 0, ranks[cp], -1)
    rc = np.where(cc >= 0, ranks[cc], -1)
    direction = np.select(
        [(cp < 0) & (cc < 0), cp < 0, cc < 0, cp == cc, rc > rp, rc < rp],
        ["none", "new", "lapsed", "same", "up", "down"], default="sideways",
    )
    out = pd.DataFrame({
        "account_id": idx.astype(str),
        "segment_prev": prev.where(prev.notna(), NOT_SEGMENTED).to_numpy(),
        "segment": cur.where(cur.notna(), NOT_SEGMENTED).to_numpy(),
        "direction": direction,
    })
    out["moved"] = out["segment_prev"] != out["segment"]
    out["star_slipping"] = (out["segment_prev"] == STAR) & (out["segment"] != STAR)
    return out


def transition_matrix(migration: pd.DataFrame) -> pd.DataFrame:
    """Counts of accounts: rows = last year's segment, columns = this year's."""
    cats = list(SEGMENTS)
    if (migration[["segment_prev", "segment"]] == NOT_SEGMENTED).any().any():
        cats.append(NOT_SEGMENTED)
    m = pd.crosstab(
        pd.Categorical(migration["segment_prev"], categories=cats),
        pd.Categorical(migration["segment"], categories=cats),
        dropna=False,
    )
    m.index.name = "segment_prev"
    m.columns.name = "segment"
    return m.astype(int)
