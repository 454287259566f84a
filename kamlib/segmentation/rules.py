"""Rule-based portfolio quadrants: value and growth cut at explicit thresholds.

An account is *high* on an axis when it lies strictly above the threshold, so ties (for example
every account with zero growth) fall on the low side: an account that does not grow faster than
the threshold is not a grower.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.errors import InputError, ParameterError
from kamlib.vocabulary import CORE, DEVELOPING, LAGGARD, SEGMENT_LABELS, SEGMENTS, STAR

__all__ = ["SEGMENTS", "SEGMENT_LABELS", "THRESHOLD_METHODS", "RuleSegmenter", "quadrant_names"]

THRESHOLD_METHODS: tuple[str, ...] = ("median", "quantile", "value")


def quadrant_names(high_value: np.ndarray, high_growth: np.ndarray) -> np.ndarray:
    """Segment names from two boolean arrays (high value?, high growth?)."""
    hv = np.asarray(high_value, dtype=bool)
    hg = np.asarray(high_growth, dtype=bool)
    return np.where(hv, np.where(hg, STAR, CORE), np.where(hg, DEVELOPING, LAGGARD))


class RuleSegmenter:
    """Quadrants of value x growth at explicit thresholds.

    Parameters
    ----------
    threshold_method : {"median", "quantile", "value"}
        ``"median"`` cuts both axes at the portfolio median, ``"quantile"`` at
        ``value_quantile`` / ``growth_quantile``, ``"value"`` at the given numbers.
    value_quantile, growth_quantile : float
        Quantiles in (0, 1) for ``threshold_method="quantile"``.
    value_threshold, growth_threshold : float, optional
        Thresholds in the units of the measures for ``threshold_method="value"``.

    Attributes
    ----------
    value_threshold_, growth_threshold_ : float
        The thresholds used.
    """

    def __init__(
        self,
        threshold_method: str = "median",
        value_quantile: float = 0.5,
        growth_quantile: float = 0.5,
        value_threshold: float | None = None,
        growth_threshold: float | None = None,
    ) -> None:
        self.threshold_method = threshold_method
        self.value_quantile = value_quantile
        self.growth_quantile = growth_quantile
        self.value_threshold = value_threshold
        self.growth_threshold = growth_threshold

    def _check(self) -> None:
        if self.threshold_method not in THRESHOLD_METHODS:
            raise ParameterError(
                f"threshold_method must be one of {', '.join(THRESHOLD_METHODS)}; "
                f"got {self.threshold_method!r}."
            )
        if self.threshold_method == "quantile":
            for name in ("value_quantile", "growth_quantile"):
                q = getattr(self, name)
                if not 0 < q < 1:
                    raise ParameterError(f"{name} must lie strictly between 0 and 1; got {q!r}.")
        if self.threshold_method == "value":
            for name in ("value_threshold", "growth_threshold"):
                t = getattr(self, name)
                if t is None or not np.isfinite(t):
                    raise ParameterError(
                        f"threshold_method='value' needs a finite {name}; got {t!r}."
                    )

    def fit(self, measures: pd.DataFrame) -> "RuleSegmenter":
        """Compute the thresholds from ``measures`` (columns value, growth)."""
        self._check()
        if len(measures) == 0 and self.threshold_method != "value":
            raise InputError(
                "account_features",
                "no account has revenue in the windows compared, so there is no portfolio to cut.",
                "check the transactions cover the last two years up to the as-of date.",
            )
        v = measures["value"].to_numpy(dtype=float)
        g = measures["growth"].to_numpy(dtype=float)
        if self.threshold_method == "median":
            self.value_threshold_ = float(np.median(v))
            self.growth_threshold_ = float(np.median(g))
        elif self.threshold_method == "quantile":
            self.value_threshold_ = float(np.quantile(v, self.value_quantile))
            self.growth_threshold_ = float(np.quantile(g, self.growth_quantile))
        else:
            self.value_threshold_ = float(self.value_threshold)  # type: ignore[arg-type]
            self.growth_threshold_ = float(self.growth_threshold)  # type: ignore[arg-type]
        return self

    def predict(self, measures: pd.DataFrame) -> np.ndarray:
        """Segment name of each row of ``measures``."""
        v = measures["value"].to_numpy(dtype=float)
        g = measures["growth"].to_numpy(dtype=float)
        return quadrant_names(v > self.value_threshold_, g > self.growth_threshold_)

    def fit_predict(self, measures: pd.DataFrame) -> np.ndarray:
        return self.fit(measures).predict(measures)
