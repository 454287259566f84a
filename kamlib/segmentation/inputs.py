"""Gather the tables the segmentation step reads, and say which were missing.

Only ``account_features`` is required. The others make the result richer: ``selection_scores``
marks key accounts (labels, key-account spread, the DPM), ``clv`` is needed for
``value_measure="clv"``, ``assessments`` and ``contacts`` feed the DPM scores, and an optional
``competitors`` table (account_id, competitor_score 0-10) gives the DPM a real best competitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kamlib.errors import KamError

_USES = {
    "account_features": "value, growth and potential of every account (required)",
    "selection_scores": "which accounts are key: labels, key-account spread, the DPM",
    "clv": "value = customer lifetime value (value_measure='clv')",
    "assessments": "managers' scores for DPM attractiveness",
    "contacts": "relationship depth and attitude for DPM strength",
    "competitors": "best competitor's score for DPM relative strength",
}


@dataclass
class SegmentationInputs:
    """The tables found, by name (None when missing), and notes on tables that failed to load."""

    tables: dict[str, pd.DataFrame | None]
    notes: list[str] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`kamlib.segmentation.segment_portfolio`."""
        t = self.tables
        return {"features": t["account_features"], "clv": t.get("clv"),
                "selection": t.get("selection_scores"), "assessments": t.get("assessments"),
                "contacts": t.get("contacts"), "competitors": t.get("competitors")}

    def availability(self) -> pd.DataFrame:
        """One row per table: available?, rows, what it is used for."""
        return pd.DataFrame([
            {"table": name, "available": self.tables.get(name) is not None,
             "rows": len(self.tables[name]) if self.tables.get(name) is not None else 0,
             "used for": use}
            for name, use in _USES.items()
        ])


def gather_inputs(step: Any, value_measure: str = "revenue") -> SegmentationInputs:
    """Load what the segmentation step needs from the run folder.

    ``account_features`` (and ``clv`` when it is the value measure) are loaded with
    ``step.load``, which runs the earlier notebooks when the table is not there yet. The key
    account list is loaded the same way but is optional: when no selection step can produce
    it, the result says so instead of failing. The rest is used only if present
    (``step.has``).

    Parameters
    ----------
    step : kamlib.step.Step
        The running step.
    value_measure : str
        The value measure; ``"clv"`` makes the CLV table required.
    """
    tables: dict[str, pd.DataFrame | None] = {name: None for name in _USES}
    notes: list[str] = []
    tables["account_features"] = step.load("account_features")
    try:
        tables["selection_scores"] = step.load("selection_scores")
    except KamError:
        # No step wrote it (the selection notebook is absent or did not run): the segmentation
        # goes on without key accounts, and segment_portfolio's notes say what that changes.
        pass
    if value_measure == "clv" or step.has("clv"):
        tables["clv"] = step.load("clv")
    for name in ("assessments", "contacts", "competitors"):
        if step.has(name):
            tables[name] = step.load(name)
    # What a missing optional table changes is said by segment_portfolio's notes.
    return SegmentationInputs(tables, notes)
