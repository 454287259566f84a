"""Portfolio segmentation: value x growth (Stars, Developing, Core, Laggards), strategy per
segment, McDonald's directional policy matrix and migration since last year.

Modules: :mod:`~kamlib.segmentation.measures` (value, growth, potential),
:mod:`~kamlib.segmentation.rules` (quadrants at explicit thresholds),
:mod:`~kamlib.segmentation.clustering` (k-means / Gaussian mixture, k by silhouette, naming),
:mod:`~kamlib.segmentation.strategy` (strategies and portfolio KPIs),
:mod:`~kamlib.segmentation.dpm` (directional policy matrix),
:mod:`~kamlib.segmentation.migration` (transitions), and
:mod:`~kamlib.segmentation.portfolio` (the whole step: :func:`segment_portfolio`).
scikit-learn is imported only when clustering runs.
"""

from kamlib.segmentation.clustering import ClusterSegmenter, name_centroids
from kamlib.segmentation.dpm import directional_policy_matrix
from kamlib.segmentation.inputs import SegmentationInputs, gather_inputs
from kamlib.segmentation.measures import compute_measures, log_growth, symmetric_growth
from kamlib.segmentation.migration import segment_migration, transition_matrix
from kamlib.segmentation.portfolio import SegmentationResult, segment_portfolio
from kamlib.segmentation.rules import RuleSegmenter
from kamlib.segmentation.strategy import (
    SEGMENT_STRATEGIES,
    assign_strategy,
    portfolio_headline,
    portfolio_kpis,
    segment_summary,
    strategy_table,
)
from kamlib.vocabulary import DPM_BOXES, DPM_STRATEGIES, SEGMENT_LABELS, SEGMENTS

__all__ = [
    "ClusterSegmenter", "name_centroids", "DPM_BOXES", "DPM_STRATEGIES",
    "directional_policy_matrix", "compute_measures", "log_growth", "symmetric_growth",
    "segment_migration", "transition_matrix", "SegmentationResult", "segment_portfolio",
    "SEGMENT_LABELS", "SEGMENTS", "RuleSegmenter", "SEGMENT_STRATEGIES", "assign_strategy",
    "portfolio_kpis", "segment_summary", "SegmentationInputs", "gather_inputs",
    "portfolio_headline", "strategy_table",
]
