"""The whole segmentation step as one function: measures -> rules and clusters -> strategy,
summary, migration and the directional policy matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError
from kamlib.key_accounts import is_key, key_account_ids
from kamlib.segmentation.clustering import ClusterSegmenter
from kamlib.segmentation.dpm import directional_policy_matrix
from kamlib.segmentation.measures import compute_measures, window_available
from kamlib.segmentation.migration import segment_migration, transition_matrix
from kamlib.segmentation.rules import RuleSegmenter
from kamlib.segmentation.strategy import assign_strategy, portfolio_kpis, segment_summary

METHODS_SHOWN: tuple[str, ...] = ("rules", "clustering")


@dataclass
class SegmentationResult:
    """Everything the segmentation step produces.

    Attributes
    ----------
    segments : DataFrame
        One row per account (every account of ``account_features``).
    segment_summary : DataFrame
        KPIs per segment (see :func:`kamlib.segmentation.strategy.segment_summary`).
    migration : DataFrame
        One row per account: last year's and this year's segment (empty when the previous
        window is not available; ``notes`` says why).
    migration_matrix : DataFrame
        Transition counts, rows = last year (empty when there is no migration).
    dpm : DataFrame
        Directional policy matrix of the key accounts (may be empty).
    dpm_factors : DataFrame
        Weight and data source of each DPM factor.
    cluster_scores : DataFrame
        Silhouette (and inertia or BIC) per k tried.
    clusters : DataFrame
        Per cluster: label, segment name, size, median value and growth.
    ari : float
        Adjusted Rand index between the rule and the cluster segments (NaN if not clustered).
    thresholds : dict
        value and growth thresholds of the rules.
    kpis : dict
        Headline portfolio numbers (:func:`kamlib.segmentation.strategy.portfolio_kpis`).
    notes : list of str
        What was missing, set aside or substituted, in sentences for the reader.
    """

    segments: pd.DataFrame
    segment_summary: pd.DataFrame
    migration: pd.DataFrame
    migration_matrix: pd.DataFrame
    dpm: pd.DataFrame
    dpm_factors: pd.DataFrame
    cluster_scores: pd.DataFrame
    clusters: pd.DataFrame
    ari: float
    thresholds: dict[str, float]
    kpis: dict[str, float]
    params: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the result by name, ready to save (plain string column names)."""
        matrix = self.migration_matrix.copy()
        matrix.columns = [str(c) for c in matrix.columns]
        return {
            "segments": self.segments,
            "segment_summary": self.segment_summary,
            "migration": self.migration,
            "migration_matrix": matrix.reset_index() if len(matrix) else matrix,
            "dpm": self.dpm,
            "dpm_factors": self.dpm_factors,
            "cluster_scores": self.cluster_scores,
            "clusters": self.clusters,
        }

    def movers(self, n: int = 15) -> pd.DataFrame:
        """The accounts that changed segment, Stars slipping first, then by revenue."""
        if self.migration.empty:
            return self.migration
        cols = [c for c in ("account_id", "name", "is_key", "segment_prev", "segment", "direction",
                            "star_slipping", "revenue_prev", "revenue") if c in self.migration]
        return self.migration.loc[self.migration["moved"], cols].head(n).reset_index(drop=True)

    def notes_markdown(self, extra: list[str] | None = None) -> str:
        """The notes (after ``extra`` ones, e.g. from loading the inputs) as a Markdown list."""
        return "\n".join(f"- {n}" for n in [*(extra or []), *self.notes])


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


def _segment_window(m: pd.DataFrame, rules: RuleSegmenter, clusterer: ClusterSegmenter | None,
                    score: bool = True):
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


def segment_portfolio(
    features: pd.DataFrame,
    *,
    clv: pd.DataFrame | None = None,
    selection: pd.DataFrame | None = None,
    assessments: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    competitors: pd.DataFrame | None = None,
    value_measure: str = "revenue",
    growth_measure: str = "symmetric",
    growth_window_months: int = 12,
    log_offset: float | None = None,
    threshold_method: str = "median",
    value_quantile: float = 0.5,
    growth_quantile: float = 0.5,
    value_threshold: float | None = None,
    growth_threshold: float | None = None,
    cluster_method: str = "kmeans",
    k: int = 4,
    k_range: Sequence[int] = (2, 8),
    seed: int = 0,
    silhouette_sample: int = 2000,
    use_potential: bool = False,
    n_threads: int | None = 1,
    method_shown: str = "rules",
    dpm_attractiveness_weights: Mapping[str, float] | None = None,
    dpm_strength_weights: Mapping[str, float] | None = None,
    dpm_top_n: int = 25,
    dpm_attractiveness_split: float | str = "median",
) -> SegmentationResult:
    """Segment the portfolio by value x growth, side by side with rules and clusters.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` from intake.
    clv, selection, assessments, contacts, competitors : DataFrame, optional
        Tables of other steps when available: ``clv`` (needed for ``value_measure="clv"``),
        ``selection_scores`` (is_key, tier: key accounts are labelled and get the DPM),
        ``assessments`` and ``contacts`` (DPM scores), ``competitors`` (DPM relative strength).
    value_measure, growth_measure, growth_window_months, log_offset
        See :func:`kamlib.segmentation.measures.compute_measures`.
    threshold_method, value_quantile, growth_quantile, value_threshold, growth_threshold
        See :class:`kamlib.segmentation.rules.RuleSegmenter`.
    cluster_method, k, k_range, seed, silhouette_sample, use_potential, n_threads
        See :class:`kamlib.segmentation.clustering.ClusterSegmenter`.
    method_shown : {"rules", "clustering"}
        Which method fills ``segment`` (and drives strategy, summary and migration).
    dpm_attractiveness_weights, dpm_strength_weights : mapping, optional
        DPM factor weights adding up to 100 (defaults in :mod:`kamlib.segmentation.dpm`).
    dpm_top_n : int
        Without a selection step, the DPM shows the ``dpm_top_n`` accounts of highest value.
    dpm_attractiveness_split : "median" or float
        Where DPM attractiveness counts as high (see
        :func:`kamlib.segmentation.dpm.directional_policy_matrix`).

    Returns
    -------
    SegmentationResult
    """
    if method_shown not in METHODS_SHOWN:
        raise ParameterError(f"method_shown must be 'rules' or 'clustering'; got {method_shown!r}.")
    if "account_id" not in features.columns:
        raise InputError("account_features", "there is no account_id column.",
                         "re-run the intake step (00_intake).", column="account_id")
    dup = features["account_id"].astype(str).duplicated()
    if dup.any():
        rows = list(np.flatnonzero(dup.to_numpy()) + 1)
        raise InputError("account_features", "account_id is not unique.",
                         "re-run intake; it writes one row per account.", column="account_id", rows=rows)
    notes: list[str] = []
    mkw = dict(value_measure=value_measure, growth_measure=growth_measure,
               growth_window_months=growth_window_months, clv=clv, log_offset=log_offset)
    m = compute_measures(features, lag=0, **mkw)
    n_hist = int(m["has_history"].sum())
    if n_hist == 0:
        raise InputError("account_features", "no account has any revenue in the last "
                         f"{12 + growth_window_months} months, so there is nothing to segment.",
                         "check the as-of date and that the transactions cover recent years.")
    n_none = len(m) - n_hist
    if n_none:
        notes.append(f"{n_none} account(s) bought nothing in the {12 + growth_window_months} months "
                     "compared; they are not segmented (segment empty, strategy 'reactivate or drop') "
                     "and do not move the thresholds or the clusters.")
    if m.loc[m["has_history"], "growth"].nunique() == 1:
        notes.append("Every account has the same growth, so growth separates nobody: all accounts "
                     "count as low growth (Core or Laggard).")
    rules_kw = dict(threshold_method=threshold_method, value_quantile=value_quantile,
                    growth_quantile=growth_quantile, value_threshold=value_threshold,
                    growth_threshold=growth_threshold)
    cl_kw = dict(method=cluster_method, k_range=tuple(k_range), seed=seed,
                 silhouette_sample=silhouette_sample, use_potential=use_potential,
                 n_threads=n_threads)
    rules = RuleSegmenter(**rules_kw)
    clusterer: ClusterSegmenter | None = ClusterSegmenter(k=k, **cl_kw)
    try:
        seg_rule, seg_cl, cl_id, cl_label = _segment_window(m, rules, clusterer)
    except ParameterError as e:
        if method_shown == "clustering":
            raise
        notes.append(f"Clustering skipped: {e}")
        clusterer = None
        seg_rule, seg_cl, cl_id, cl_label = _segment_window(m, rules, None)

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
    seg["method"] = (
        f"rules ({threshold_method})" if method_shown == "rules"
        else f"{cluster_method} (k={clusterer.k_})"  # type: ignore[union-attr]
    )
    seg["has_history"] = m["has_history"].to_numpy()
    seg = pd.concat([seg, _selection_columns(ids, selection).reset_index(drop=True)], axis=1)
    if selection is None:
        notes.append("No selection step results: key accounts are not marked; the DPM shows "
                     f"the {dpm_top_n} accounts of highest value instead.")
    seg = assign_strategy(seg)
    seg["value_measure"] = value_measure
    if value_measure == "clv" and clv is not None:
        n_miss = int((~ids.isin(clv["account_id"].astype(str))).sum())
        if n_miss:
            notes.append(f"{n_miss} account(s) have no CLV; their value is taken as 0.")

    ari = np.nan
    if clusterer is not None:
        from sklearn.metrics import adjusted_rand_score

        h = seg["has_history"]
        # integer codes: the score sorts its labels, and sorting strings is slow on 100k rows
        ari = float(adjusted_rand_score(pd.factorize(seg.loc[h, "segment_rule"])[0],
                                        pd.factorize(seg.loc[h, "segment_cluster"])[0]))
        cluster_scores = clusterer.scores_
        clusters = clusterer.centroid_table(m[m["has_history"]])
    else:
        cluster_scores = pd.DataFrame(columns=["method", "k", "silhouette", "chosen"])
        clusters = pd.DataFrame(columns=["cluster", "cluster_label", "segment", "n_accounts"])

    # Migration: the same method, refitted on the window that ended a year earlier.
    migration = pd.DataFrame(columns=["account_id", "segment_prev", "segment", "direction", "moved",
                                      "star_slipping"])
    matrix = pd.DataFrame()
    if window_available(features, growth_window_months, lag=1):
        prev_kw = dict(mkw, value_measure="margin" if value_measure == "clv" else value_measure)
        if value_measure == "clv":
            notes.append("CLV has no history; migration compares margin segments of both years.")
        mp = compute_measures(features, lag=1, **prev_kw)
        mc = m if value_measure != "clv" else compute_measures(features, lag=0, **prev_kw)
        try:
            if method_shown == "rules":
                prev = _segment_window(mp, RuleSegmenter(**rules_kw), None)[0]
                cur = seg["segment"] if value_measure != "clv" else _segment_window(
                    mc, RuleSegmenter(**rules_kw), None)[0]
            else:
                k_used = clusterer.k_  # type: ignore[union-attr]
                prev = _segment_window(mp, RuleSegmenter(**rules_kw),
                                       ClusterSegmenter(k=k_used, **cl_kw), score=False)[1]
                cur = seg["segment"] if value_measure != "clv" else _segment_window(
                    mc, RuleSegmenter(**rules_kw), ClusterSegmenter(k=k_used, **cl_kw), score=False)[1]
            prev.index = ids.to_numpy()
            cur = pd.Series(np.asarray(cur, dtype=object), index=ids.to_numpy())
            migration = segment_migration(prev, cur)
            extra = seg.set_index("account_id")[
                [c for c in ("name", "is_key", "revenue", "revenue_prev") if c in seg]]
            migration = migration.join(extra, on="account_id")
            migration["value_prev"] = mp["value"].to_numpy()
            migration["growth_prev"] = mp["growth"].to_numpy()
            migration["value"] = m["value"].to_numpy()
            migration["growth"] = m["growth"].to_numpy()
            migration = migration.sort_values(["star_slipping", "moved", "revenue"],
                                              ascending=[False, False, False]).reset_index(drop=True)
            matrix = transition_matrix(migration)
        except (ParameterError, InputError) as e:
            notes.append(f"Migration skipped: the previous window cannot be segmented ({e})")
    else:
        notes.append(f"Migration skipped: account_features has no window {growth_window_months} "
                     "months before last year's, so last year's growth cannot be computed.")

    # DPM for the key accounts (or the top accounts by value without a selection).
    if selection is not None:
        key_ids = seg.loc[seg["is_key"], "account_id"].tolist()
    else:
        key_ids = seg.sort_values("value", ascending=False)["account_id"].head(dpm_top_n).tolist()
    if key_ids:
        dpm, dpm_factors = directional_policy_matrix(
            features, key_ids, assessments=assessments, contacts=contacts, competitors=competitors,
            attractiveness_weights=dpm_attractiveness_weights, strength_weights=dpm_strength_weights,
            attractiveness_split=dpm_attractiveness_split,
        )
        dpm = dpm.merge(seg[["account_id", "segment", "is_key"]], on="account_id", how="left")
    else:
        notes.append("The selection step marked no key account, so there is no DPM.")
        dpm = pd.DataFrame(columns=["account_id", "name", "attractiveness", "relative_strength",
                                    "dpm_box"])
        dpm_factors = pd.DataFrame(columns=["axis", "factor", "weight", "source"])
    if assessments is None:
        notes.append("No manager assessments: DPM attractiveness uses data proxies only "
                     "(growth and margin percentiles, neutral 5 for strategic fit).")
    if contacts is None:
        notes.append("No contacts table: DPM relationship depth uses the number of contacts, "
                     "attitude is neutral.")
    if competitors is None:
        notes.append("No competitor scores: DPM relative strength compares us with an average "
                     "rival (score 5).")

    summary = segment_summary(seg)
    return SegmentationResult(
        segments=seg, segment_summary=summary, migration=migration, migration_matrix=matrix,
        dpm=dpm, dpm_factors=dpm_factors, cluster_scores=cluster_scores, clusters=clusters,
        ari=ari,
        thresholds={"value": rules.value_threshold_, "growth": rules.growth_threshold_},
        kpis=portfolio_kpis(summary),
        params=dict(value_measure=value_measure, growth_measure=growth_measure,
                    growth_window_months=growth_window_months, threshold_method=threshold_method,
                    cluster_method=cluster_method, k=k,
                    k_chosen=clusterer.k_ if clusterer is not None else None,
                    method_shown=method_shown, seed=seed),
        notes=notes,
    )
