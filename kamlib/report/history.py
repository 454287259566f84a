"""The portfolio history page: the trend lines of every run so far and the early warnings.

Rendered from ``templates/history.html.j2`` through :mod:`kamlib.report.pages`; numbers are
formatted by :mod:`kamlib.formatting`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kamlib.formatting import DASH, date, share
from kamlib.report.pages import png_data_uri, render, stylesheet
from kamlib.report.summary import _table
from kamlib.vocabulary import LAGGARD, SEGMENT_LABELS, STAR

_SHARES = ("star_revenue_share", "laggard_revenue_share", "plan_completion")


def _history_rows(history: pd.DataFrame) -> pd.DataFrame:
    h = history.copy()
    h["as_of"] = [date(v) for v in pd.to_datetime(h["as_of"])]
    for c in _SHARES:
        h[c] = [share(v) for v in h[c]]
    return h.rename(columns=lambda c: c.replace("_", " "))


def history_page(history: pd.DataFrame, warnings: pd.DataFrame, figure: Any, *,
                 client: str = "", run: str = "") -> str:
    """The page's HTML: ``history`` (``portfolio_history``), ``warnings``
    (``early_warnings``) and the trend figure (a matplotlib Figure or a PNG's path)."""
    n = len(history)
    last = history.iloc[-1] if n else None
    lead = ("The first run: the history starts here and grows by one point at each quarterly "
            "rerun with the previous run as the baseline." if n < 2 else
            f"{n} runs from {date(history['as_of'].iloc[0])} to "
            f"{date(history['as_of'].iloc[-1])}: {SEGMENT_LABELS[STAR]} now hold "
            f"{share(last['star_revenue_share'])} of revenue (first run "
            f"{share(history['star_revenue_share'].iloc[0])}), {SEGMENT_LABELS[LAGGARD]} "
            f"{share(last['laggard_revenue_share'])}.")
    w = warnings.copy()
    for c in ("before", "after", "change"):
        w[c] = [f"{v:.2f}" if abs(v) < 1.5 else f"{v:.0f}" for v in w[c]]
    return render("history.html.j2", css=stylesheet("summary.css"), client=client, run=run,
                  stars=SEGMENT_LABELS[STAR], laggards=SEGMENT_LABELS[LAGGARD],
                  runs=n, as_of=DASH if last is None else date(last["as_of"]),
                  lead=lead, figure=png_data_uri(figure), history=_table(_history_rows(history)),
                  warnings=_table(w))
