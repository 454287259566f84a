"""The per-account segments of one window: rules and clusters side by side.

The segmentation step (:func:`kamlib.segmentation.run`) in its parts: :func:`check_features`
refuses an unusable ``account_features``, :func:`history_notes` says which accounts cannot be
segmented, :func:`segment_window` places the accounts of one window by rules and clusters,
:func:`segments_table` builds the ``segments`` table (with the key-account marks and the
strategy), and :func:`cluster_outputs` gives the agreement and the cluster tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError
from kamlib.key_accounts import is_key, key_account_ids
from kamlib.segmentation.clustering import ClusterSegmenter
from kamlib.segmentation.rules import RuleSegmenter
from kamlib.segmentation.strategy import assign_strategy

METHODS_SHOWN: tuple[str, ...] = ("rules", "clustering")

CLUSTER_THREADS: int | None = 1
"""Threads the clustering may use (read at each run; a benchmark may raise it)."""


def check_features(features: pd.DataFrame) -> None:
    """Refuse an ``account_features`` table without a unique ``account_id``."""
    if "account_id" not in features.columns:
        raise InputError("account_features", "there is no account_id column.",
                         "re-run the intake step (00_intake).", column="account_id")
    dup = features["account_id"].astype(str).duplicated()
    if dup.any():
        rows = list(np.flatnonzero(dup.to_numpy()) + 1)
        raise InputError("account_features", "account_id is not unique.",
                         "re-run intake; it writes one row per account.", column="account_id", rows=rows)


def history_notes(m: pd.DataFrame, growth_window_months: int) -> list[str]:
    """Notes on the accounts without history and on a growth that separates nobody.

    Raises :class:`InputError` when no account has any history at all.
    """
    months = 12 + growth_window_months
    n_hist = int(m["has_history"].sum())
    if n_hist == 0:
        raise InputError("account_features", "no account has any revenue in the last "
                         f"{months} months, so there is nothing to segment.",
                         "check the as-of date and that the transactions cover recent years.")
    notes = []
    n_none = len(m) - n_hist
    if n_none:
        notes.append(f"{n_none} account(s) bought nothing in the {months} months "
                     "compared; they are not segmented (segment empty, strategy 'reactivate or drop') "
                     "and do not move the thresholds or the clusters.")
    if m.loc[m["has_history"], "growth"].nunique() == 1:
        notes.append("Every account has the same growth, so growth separates nobody: all accounts "
                     "count as low growth (Core or Laggard).")
    return notes


def segment_window(m: pd.DataFrame, rules: RuleSegmenter, clusterer: ClusterSegmenter | None,
                   score: bool = True) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Rule segment, cluster segment, cluster id and cluster label of every account of ``m``.

    Accounts without history get NaN; ``clusterer`` None leaves the cluster columns empty.
    """
    hist = m["has_history"].to_numpy()
    mh = m[hist]
    seg_rule = pd.Series(np.nan, index=m.index, dtype=object)
    seg_rule[hist] = rules.fit_predict(mh)
    seg_cl = pd.Series(np.nan, index=m.index, dtype=object)
    cl_id = pd.Series(pd.NA, index=m.index, dtype="Int64")
    cl_label = pd.Series(np.nan, index=m.index, dtype=object)
    if clusterer is not None:
        clusterer.fit(mh, score=score)
        seg_cl[hist] = clusterer.segment_names(clusterer.labels_)
        cl_id[hist] = clusterer.labels_
        cl_label[hist] = np.asarray(clusterer.cluster_labels_, dtype=object)[clusterer.labels_]
    return seg_rule, seg_cl, cl_id, cl_label


def segment_current(m: pd.DataFrame, rules: RuleSegmenter, clusterer: ClusterSegmenter,
                    method_shown: str, notes: list[str]):
    """:func:`segment_window` on this year's window; clustering that cannot run is skipped
    (with a note) unless it is the method shown.

    Returns the four series of :func:`segment_window` and the clusterer (None when skipped).
    """
    try:
        return (*segment_window(m, rules, clusterer), clusterer)
    except ParameterError as e:
        if method_shown == "clustering":
            raise
        notes.append(f"Clustering skipped: {e}")
        return (*segment_window(m, rules, None), None)


def _selection_columns(ids: pd.Series, selection: pd.DataFrame | None) -> pd.DataFrame:
    out = pd.DataFrame({"is_key": False, "tier": pd.Series(np.nan, dtype=object)}, index=ids.index)
    if selection is None:
        return out
    sel = selection.assign(account_id=selection["account_id"].astype(str)).drop_duplicates("account_id")
    sel = sel.set_index("account_id")
    out["is_key"] = is_key(ids, key_account_ids(selection_scores=selection)).to_numpy()
    if "tier" in sel:
        out["tier"] = ids.map(sel["tier"]).to_numpy()
    if "score" in sel:
        out["selection_score"] = ids.map(sel["score"]).astype(float).to_numpy()
    return out


def segments_table(features: pd.DataFrame, m: pd.DataFrame, window, method: str,
                   method_shown: str, selection_scores: pd.DataFrame | None) -> pd.DataFrame:
    """The ``segments`` table: one row per account with its coordinates, both segments, the
    segment shown, the key-account marks and the strategy.

    ``window`` is what :func:`segment_window` returned; ``method`` says how ``segment`` was
    found (e.g. ``"rules (median)"``).
    """
    seg_rule, seg_cl, cl_id, cl_label = window
    ids = m["account_id"]
    seg = pd.DataFrame({"account_id": ids})
    if "name" in features.columns:
        seg["name"] = features["name"].to_numpy()
    for c in ("value", "growth", "potential", "revenue", "margin", "revenue_base"):
        seg[c] = m[c].to_numpy()
    seg = seg.rename(columns={"revenue_base": "revenue_prev"})
    seg["segment_rule"] = seg_rule.to_numpy()
    seg["segment_cluster"] = seg_cl.to_numpy()
    seg["cluster"] = cl_id.to_numpy()
    seg["cluster_label"] = cl_label.to_numpy()
    seg["segment"] = seg["segment_rule"] if method_shown == "rules" else seg["segment_cluster"]
    seg["method"] = method
    seg["has_history"] = m["has_history"].to_numpy()
    seg = pd.concat([seg, _selection_columns(ids, selection_scores).reset_index(drop=True)], axis=1)
    return assign_strategy(seg)


def cluster_outputs(seg: pd.DataFrame, m: pd.DataFrame, clusterer: ClusterSegmenter | None
                    ) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    """Adjusted Rand index of rules vs clusters, the silhouette per k, and the cluster table
    (NaN and empty tables when clustering was skipped)."""
    if clusterer is None:
        return (np.nan, pd.DataFrame(columns=["method", "k", "silhouette", "chosen"]),
                pd.DataFrame(columns=["cluster", "cluster_label", "segment", "n_accounts"]))
    from sklearn.metrics import adjusted_rand_score

    h = seg["has_history"]
    # integer codes: the score sorts its labels, and sorting strings is slow on 100k rows
    ari = float(adjusted_rand_score(pd.factorize(seg.loc[h, "segment_rule"])[0],
                                    pd.factorize(seg.loc[h, "segment_cluster"])[0]))
    return ari, clusterer.scores_, clusterer.centroid_table(m[m["has_history"]])
