"""What an analysis step was given: the tables of earlier steps it reads, with their rows.

Segmentation and the account plans both report which of their input tables arrived (a step
run without an earlier one does what it can and says what it missed); this is that report,
written once. Foundation layer: pandas on first use, nothing of kamlib.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def rows_given(tables: Mapping[str, Any]) -> dict[str, int | None]:
    """Rows of each table by name; None for a table that was not given."""
    return {name: None if t is None else len(t) for name, t in tables.items()}


def availability(rows: Mapping[str, int | None], uses: Mapping[str, str]) -> pd.DataFrame:
    """One row per input table of ``uses`` (name -> what the step uses it for): ``table``,
    ``available``, ``rows`` (0 when not given) and ``used for``."""
    import pandas as pd

    return pd.DataFrame([{"table": name, "available": rows.get(name) is not None,
                          "rows": rows.get(name) or 0, "used for": use}
                         for name, use in uses.items()])
