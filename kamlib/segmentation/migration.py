"""How accounts moved between segments from last year's window to this year's.

:func:`migration_since_last_year` refits the method shown on the window that ended a year
earlier; :func:`segment_migration` and :func:`transition_matrix` compare the two years.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError
from kamlib.segmentation.clustering import ClusterSegmenter
from kamlib.segmentation.measures import compute_measures, window_available
from kamlib.segmentation.rules import RuleSegmenter
from kamlib.segmentation.segments import segment_window
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


MIGRATION_COLUMNS: list[str] = ["account_id", "segment_prev", "segment", "direction", "moved",
                                "star_slipping"]
"""Columns of an empty ``migration`` table (when last year cannot be segmented)."""


def _segment_shown(m: pd.DataFrame, method_shown: str, rules_kw: Mapping[str, Any],
                   cluster_kw: Mapping[str, Any], k: int | None) -> pd.Series:
    """The segment of the method shown, refitted on the window of ``m`` (clusters with ``k``)."""
    if method_shown == "rules":
        return segment_window(m, RuleSegmenter(**rules_kw), None)[0]
    return segment_window(m, RuleSegmenter(**rules_kw), ClusterSegmenter(k=k, **cluster_kw),
                          score=False)[1]


def migration_since_last_year(
    features: pd.DataFrame,
    m: pd.DataFrame,
    segments: pd.DataFrame,
    *,
    measures_kw: Mapping[str, Any],
    rules_kw: Mapping[str, Any],
    cluster_kw: Mapping[str, Any],
    k: int | None,
    method_shown: str,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last year's segment of every account next to this year's, and the transition counts.

    The method shown is refitted on the window that ended a year earlier (clusters with the
    ``k`` chosen this year). CLV has no history, so with ``value_measure="clv"`` both years are
    compared on margin. When last year cannot be segmented, both tables are empty and
    ``notes`` says why.

    Parameters
    ----------
    features : DataFrame
        ``account_features``.
    m, segments : DataFrame
        This year's measures (:func:`~kamlib.segmentation.measures.compute_measures`) and
        ``segments`` table, row for row.
    measures_kw, rules_kw, cluster_kw : mapping
        Keyword arguments of ``compute_measures`` (without ``lag``), of
        :class:`~kamlib.segmentation.rules.RuleSegmenter` and of
        :class:`~kamlib.segmentation.clustering.ClusterSegmenter` (without ``k``).
    k : int or None
        The number of clusters used this year (None when the rules are shown).
    method_shown : {"rules", "clustering"}
    notes : list of str
        Appended to: what was skipped or substituted.

    Returns
    -------
    migration, matrix : DataFrame
        :func:`segment_migration` with name, key mark, revenue and both years' coordinates,
        Stars slipping first; :func:`transition_matrix` of it.
    """
    window = measures_kw["growth_window_months"]
    if not window_available(features, window, lag=1):
        notes.append(f"Migration skipped: account_features has no window {window} "
                     "months before last year's, so last year's growth cannot be computed.")
        return pd.DataFrame(columns=MIGRATION_COLUMNS), pd.DataFrame()
    clv_value = measures_kw["value_measure"] == "clv"
    prev_kw = dict(measures_kw, value_measure="margin" if clv_value else measures_kw["value_measure"])
    if clv_value:
        notes.append("CLV has no history; migration compares margin segments of both years.")
    mp = compute_measures(features, lag=1, **prev_kw)
    ids = m["account_id"].to_numpy()
    try:
        prev = _segment_shown(mp, method_shown, rules_kw, cluster_kw, k)
        cur = (segments["segment"] if not clv_value else _segment_shown(
            compute_measures(features, lag=0, **prev_kw), method_shown, rules_kw, cluster_kw, k))
    except (ParameterError, InputError) as e:
        notes.append(f"Migration skipped: the previous window cannot be segmented ({e})")
        return pd.DataFrame(columns=MIGRATION_COLUMNS), pd.DataFrame()
    prev.index = ids
    migration = segment_migration(prev, pd.Series(np.asarray(cur, dtype=object), index=ids))
    extra = segments.set_index("account_id")[
        [c for c in ("name", "is_key", "revenue", "revenue_prev") if c in segments]]
    migration = migration.join(extra, on="account_id")
    migration["value_prev"] = mp["value"].to_numpy()
    migration["growth_prev"] = mp["growth"].to_numpy()
    migration["value"] = m["value"].to_numpy()
    migration["growth"] = m["growth"].to_numpy()
    migration = migration.sort_values(["star_slipping", "moved", "revenue"],
                                      ascending=[False, False, False]).reset_index(drop=True)
    return migration, transition_matrix(migration)
