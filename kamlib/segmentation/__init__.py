"""Portfolio segmentation: value x growth (Stars, Developing, Core, Laggards), strategy per
segment, McDonald's directional policy matrix and migration since last year.

One entry point, :func:`run` (the segmentation step, in :mod:`~kamlib.segmentation.entry`),
returning a :class:`~kamlib.segmentation.entry.SegmentationResult`. Its parts:
:mod:`~kamlib.segmentation.measures` (value, growth, potential),
:mod:`~kamlib.segmentation.rules` (quadrants at explicit thresholds),
:mod:`~kamlib.segmentation.clustering` (k-means / Gaussian mixture, k by silhouette, naming),
:mod:`~kamlib.segmentation.segments` (one window's segments table, rules and clusters side by side),
:mod:`~kamlib.segmentation.strategy` (strategies and portfolio KPIs),
:mod:`~kamlib.segmentation.migration` (last year's segments and the transitions), and
:mod:`~kamlib.segmentation.dpm` (directional policy matrix).
scikit-learn is imported only when clustering runs.
"""

from kamlib.segmentation.clustering import ClusterSegmenter, name_centroids
from kamlib.segmentation.dpm import directional_policy_matrix
from kamlib.segmentation.entry import SegmentationResult, run
from kamlib.segmentation.measures import compute_measures, log_growth, symmetric_growth
from kamlib.segmentation.migration import segment_migration, transition_matrix
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
    "run", "SegmentationResult", "ClusterSegmenter", "name_centroids", "DPM_BOXES",
    "DPM_STRATEGIES", "directional_policy_matrix", "compute_measures", "log_growth",
    "symmetric_growth", "segment_migration", "transition_matrix", "SEGMENT_LABELS", "SEGMENTS",
    "RuleSegmenter", "SEGMENT_STRATEGIES", "assign_strategy", "portfolio_kpis", "segment_summary",
    "portfolio_headline", "strategy_table",
]
