"""The segmentation step's entry point: :func:`run`, called once by ``notebooks/30_segmentation.ipynb``.

Its keyword arguments are exactly the notebook's parameters, so the notebook passes them once
(``segmentation.run(features, ..., **step.params)``); its result gives every table the step
saves (:meth:`SegmentationResult.tables`) and what the notebook shows beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from kamlib.errors import ParameterError
from kamlib.segmentation import boundaries as _bounds
from kamlib.segmentation import segments as _segments
from kamlib.segmentation.clustering import ClusterSegmenter
from kamlib.segmentation.dpm import (
    DEFAULT_ATTRACTIVENESS_WEIGHTS,
    DEFAULT_STRENGTH_WEIGHTS,
    key_account_dpm,
)
from kamlib.segmentation.measures import compute_measures
from kamlib.segmentation.migration import migration_since_last_year
from kamlib.segmentation.rules import RuleSegmenter
from kamlib.segmentation.segments import METHODS_SHOWN
from kamlib.segmentation.strategy import portfolio_kpis, segment_summary
from kamlib import step_inputs
from kamlib.segmentation.serving import (
    DEFAULT_MARGIN_FACTORS,
    DEFAULT_SERVING_CAPACITY,
    DEFAULT_SERVING_COSTS,
    serving_economics,
)

TABLES: dict[str, str] = {
    "segments": "segment, coordinates and strategy per account",
    "segment_summary": "accounts, revenue, margin and key accounts per segment",
    "migration": "segment last year and this year per account",
    "migration_matrix": "transitions between segments",
    "dpm": "directional policy matrix of the key accounts",
    "dpm_factors": "DPM factor weights and data sources",
    "cluster_scores": "silhouette per number of clusters",
    "clusters": "clusters, their names and centres",
    "serving_models": "accounts, money, cost and staff per serving model, before and after the "
                      "proposed moves",
    "serving_moves": "accounts worth more served by another serving model, with the gain",
    "segment_boundaries": "value and growth thresholds (reused by the next run), noise bands, centres",
}
"""The tables the segmentation step saves, in the order :meth:`SegmentationResult.tables` gives them,
and what each holds."""

INPUTS: dict[str, str] = {
    "account_features": "value, growth and potential of every account (required)",
    "selection_scores": "which accounts are key: labels, key-account spread, the DPM",
    "clv": "value = customer lifetime value (value_measure='clv')",
    "assessments": "managers' scores for DPM attractiveness",
    "contacts": "relationship depth and attitude for DPM strength",
    "competitors": "the best competitor's strength at each key account (DPM relative strength)",
}
"""The tables :func:`run` reads, and what each is used for."""


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
    params : dict
        The settings that shaped the segments (with the k the clustering chose).
    inputs : dict
        Rows of each table of :data:`INPUTS` that :func:`run` was given (None: not given).
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
    serving_models: pd.DataFrame
    serving_moves: pd.DataFrame
    kpis: dict[str, float]
    boundaries: pd.DataFrame = field(default_factory=pd.DataFrame)
    params: dict[str, object] = field(default_factory=dict)
    inputs: dict[str, int | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the step saves, by name (see :data:`TABLES`; plain string column names)."""
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
            "serving_models": self.serving_models,
            "serving_moves": self.serving_moves,
            "segment_boundaries": self.boundaries,
        }

    def descriptions(self) -> dict[str, str]:
        """What each of :meth:`tables` holds, by name (the descriptions the run folder lists)."""
        return dict(TABLES)

    def availability(self) -> pd.DataFrame:
        """One row per input table: available?, rows, what it is used for."""
        return step_inputs.availability(self.inputs, INPUTS)

    def movers(self, n: int = 15) -> pd.DataFrame:
        """The accounts that changed segment, Stars slipping first, then by revenue."""
        if self.migration.empty:
            return self.migration
        cols = [c for c in ("account_id", "name", "is_key", "segment_prev", "segment", "direction",
                            "star_slipping", "revenue_prev", "revenue") if c in self.migration]
        return self.migration.loc[self.migration["moved"], cols].head(n).reset_index(drop=True)

    def notes_markdown(self) -> str:
        """The notes as a Markdown list."""
        return "\n".join(f"- {n}" for n in self.notes)


def _input_notes(selection_scores: pd.DataFrame | None, clv: pd.DataFrame | None,
                 segments: pd.DataFrame, value_measure: str, dpm_top_n: int) -> list[str]:
    """What a missing selection, or a CLV missing for some accounts, changes, in sentences."""
    notes = []
    if selection_scores is None:
        notes.append("No selection step results: key accounts are not marked; the DPM shows "
                     f"the {dpm_top_n} accounts of highest revenue (last 12 months) instead.")
    if value_measure == "clv" and clv is not None:
        n_miss = int((~segments["account_id"].isin(clv["account_id"].astype(str))).sum())
        if n_miss:
            notes.append(f"{n_miss} account(s) have no CLV; their value is taken as 0.")
    return notes


def _dpm_notes(assessments: pd.DataFrame | None, contacts: pd.DataFrame | None,
               competitors: pd.DataFrame | None = None) -> list[str]:
    """Where the DPM falls back on proxies, in sentences."""
    notes = []
    if assessments is None:
        notes.append("No manager assessments: DPM attractiveness uses data proxies only "
                     "(growth and margin percentiles, neutral 5 for strategic fit).")
    if contacts is None:
        notes.append("No contacts table: DPM relationship depth uses the number of contacts, "
                     "attitude is neutral.")
    if competitors is None or not len(competitors):
        notes.append("No competitor scores: DPM relative strength compares us with an average "
                     "rival (score 5).")
    return notes


def _check_k(k: int, k_range: Sequence[int], n_accounts: int) -> None:
    """``k`` and ``k_range`` against the portfolio: a ParameterError naming the parameter
    (clustering that cannot run on the data is skipped with a note; a k no portfolio of this
    size allows is the user's to fix)."""
    if k < 0 or k == 1 or k > n_accounts:
        raise ParameterError(
            f"Parameter 'k' of 30_segmentation is {k!r}, but it must be 0 (choose k by "
            f"silhouette in k_range) or from 2 to the number of accounts ({n_accounts}). Fix: "
            "set segmentation.k in engagement.yml or -p segmentation.k to a value in that range.")
    if len(k_range) != 2 or not 2 <= k_range[0] <= k_range[1]:
        raise ParameterError(
            f"Parameter 'k_range' of 30_segmentation is {list(k_range)!r}, but it must be "
            "[low, high] with 2 <= low <= high. Fix: set segmentation.k_range to e.g. [2, 8].")


def run(
    features: pd.DataFrame,
    clv: pd.DataFrame | None = None,
    selection_scores: pd.DataFrame | None = None,
    assessments: pd.DataFrame | None = None,
    contacts: pd.DataFrame | None = None,
    competitors: pd.DataFrame | None = None,
    last_plan: object | None = None,
    *,
    baseline: str = "",
    reuse_boundaries: bool = True,
    value_measure: str = "revenue",
    growth_measure: str = "symmetric",
    growth_window_months: int = 12,
    threshold_method: str = "median",
    value_quantile: float = 0.5,
    growth_quantile: float = 0.5,
    value_threshold: float = 50000.0,
    growth_threshold: float = 0.0,
    cluster_method: str = "kmeans",
    k: int = 4,
    k_range: Sequence[int] = (2, 8),
    use_potential: bool = False,
    method_shown: str = "rules",
    seed: int = 42,
    dpm_attractiveness_weights: Mapping[str, float] = DEFAULT_ATTRACTIVENESS_WEIGHTS,
    dpm_strength_weights: Mapping[str, float] = DEFAULT_STRENGTH_WEIGHTS,
    dpm_attractiveness_split: float | str = "median",
    dpm_top_n: int = 25,
    serving_costs: Mapping[str, float] = DEFAULT_SERVING_COSTS,
    serving_capacity: Mapping[str, float] = DEFAULT_SERVING_CAPACITY,
    serving_margin_factors: Mapping[str, float] = DEFAULT_MARGIN_FACTORS,
    serving_min_gain: float = 1000.0,
) -> SegmentationResult:
    """Segment the portfolio by value x growth, side by side with rules and clusters.

    Parameters
    ----------
    features : DataFrame
        ``account_features`` from intake (required).
    clv, selection_scores, assessments, contacts : DataFrame, optional
        Tables of other steps when available: ``clv`` (needed for ``value_measure="clv"``),
        ``selection_scores`` (is_key, tier, score: key accounts are labelled and get the DPM),
        ``assessments`` and ``contacts`` (DPM scores). What a missing one changes is in
        ``notes``.
    competitors : DataFrame, optional
        Intake's ``competitors`` (``account_id``, ``strength``): the DPM compares us with the
        strongest one recorded at each account, else with an average rival (5).
    last_plan : Baseline, optional
        The baseline run as :meth:`kamlib.runner.Step.load_baseline` reads it; its
        ``segment_boundaries`` table (in ``.tables``) holds the thresholds and the cluster
        centres to reuse.
    baseline : str
        Where ``last_plan`` was read from (not read here).
    reuse_boundaries : bool
        With a baseline, cut value and growth at the thresholds it stored (so segment counts
        can move from run to run) instead of recomputing them (``threshold_method``), and
        assign the accounts to the nearest of the cluster centres it stored (in its scaling)
        instead of refitting the clusters -- unless the features, the cluster method or a fixed
        ``k`` differ from the stored ones (a note says why they are refitted).
    value_measure, growth_measure, growth_window_months
        See :func:`kamlib.segmentation.measures.compute_measures`.
    threshold_method, value_quantile, growth_quantile, value_threshold, growth_threshold
        See :class:`kamlib.segmentation.rules.RuleSegmenter`.
    cluster_method, k, k_range, use_potential, seed
        See :class:`kamlib.segmentation.clustering.ClusterSegmenter`.
    method_shown : {"rules", "clustering"}
        Which method fills ``segment`` (and drives strategy, summary and migration).
    dpm_attractiveness_weights, dpm_strength_weights : mapping
        DPM factor weights adding up to 100.
    dpm_attractiveness_split : "median" or float
        Where DPM attractiveness counts as high (see
        :func:`kamlib.segmentation.dpm.directional_policy_matrix`).
    dpm_top_n : int
        Without a selection step, the DPM shows the ``dpm_top_n`` accounts of highest revenue.
    serving_costs, serving_capacity, serving_margin_factors : mapping
        Per serving model: cost per account a year, accounts per person (0 = no limit) and the
        share of margin it keeps (see :mod:`kamlib.segmentation.serving`).
    serving_min_gain : float
        Net value a year a move to another serving model must add to be proposed.

    Returns
    -------
    SegmentationResult
    """
    if method_shown not in METHODS_SHOWN:
        raise ParameterError(f"method_shown must be 'rules' or 'clustering'; got {method_shown!r}.")
    _segments.check_features(features)
    measures_kw = dict(value_measure=value_measure, growth_measure=growth_measure,
                       growth_window_months=growth_window_months, clv=clv)
    m = compute_measures(features, lag=0, **measures_kw)
    notes = _segments.history_notes(m, growth_window_months)
    rules_kw = dict(threshold_method=threshold_method, value_quantile=value_quantile,
                    growth_quantile=growth_quantile, value_threshold=value_threshold,
                    growth_threshold=growth_threshold)
    measure_names = {"value": value_measure, "growth": growth_measure}
    stored = _bounds.reuse(last_plan, reuse_boundaries, measure_names, rules_kw, notes)
    _check_k(k, k_range, len(features))
    reused = _bounds.reuse_centres(last_plan, reuse_boundaries, measure_names, cluster_method, k,
                                   use_potential, method_shown, notes) or (None, None)
    cluster_kw = dict(method=cluster_method, k_range=tuple(k_range), seed=seed,
                      use_potential=use_potential, n_threads=_segments.CLUSTER_THREADS,
                      centres=reused[0])
    rules = RuleSegmenter(**rules_kw)  # the thresholds may be the baseline's
    *window, clusterer = _segments.segment_current(m, rules, ClusterSegmenter(k=k, **cluster_kw),
                                                   method_shown, notes)
    k_used = clusterer.k_ if clusterer is not None else None
    method = f"rules ({threshold_method})" if method_shown == "rules" else f"{cluster_method} (k={k_used})"
    seg = _segments.segments_table(features, m, window, method, method_shown, selection_scores)
    seg["value_measure"] = value_measure
    notes += _input_notes(selection_scores, clv, seg, value_measure, dpm_top_n)
    ari, cluster_scores, clusters = _segments.cluster_outputs(seg, m, clusterer)
    migration, matrix = migration_since_last_year(
        features, m, seg, measures_kw=measures_kw, rules_kw=rules_kw, cluster_kw=cluster_kw,
        k=k_used if method_shown == "clustering" else None, method_shown=method_shown, notes=notes)
    thresholds = {"value": rules.value_threshold_, "growth": rules.growth_threshold_}
    migration, boundaries = _bounds.settle(migration, thresholds, stored, threshold_method,
                                           features, measure_names,
                                           clusterer.state() if method_shown == "clustering"
                                           and clusterer is not None else None, reused[1], notes)
    dpm, dpm_factors = key_account_dpm(
        features, seg, selection_given=selection_scores is not None, top_n=dpm_top_n,
        assessments=assessments, contacts=contacts,
        attractiveness_weights=dpm_attractiveness_weights, strength_weights=dpm_strength_weights,
        attractiveness_split=dpm_attractiveness_split, notes=notes, competitors=competitors)
    notes += _dpm_notes(assessments, contacts, competitors)
    summary = segment_summary(seg)
    serving, moves = serving_economics(features, selection_scores, clv, serving_costs,
                                       serving_capacity, serving_margin_factors,
                                       serving_min_gain, notes)
    given = {"account_features": features, "selection_scores": selection_scores, "clv": clv,
             "assessments": assessments, "contacts": contacts, "competitors": competitors}
    return SegmentationResult(
        segments=seg, segment_summary=summary, migration=migration, migration_matrix=matrix,
        dpm=dpm, dpm_factors=dpm_factors, cluster_scores=cluster_scores, clusters=clusters,
        ari=ari, thresholds=thresholds, boundaries=boundaries,
        serving_models=serving, serving_moves=moves,
        kpis=portfolio_kpis(summary),
        params=dict(value_measure=value_measure, growth_measure=growth_measure,
                    growth_window_months=growth_window_months, threshold_method=threshold_method,
                    cluster_method=cluster_method, k=k, k_chosen=k_used,
                    method_shown=method_shown, seed=seed),
        inputs=step_inputs.rows_given(given),
        notes=notes,
    )
