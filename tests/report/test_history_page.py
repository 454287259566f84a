"""The portfolio history page and its trend figure."""

import pandas as pd

from kamlib.figures.portfolio import history_figure
from kamlib.report.history import history_page
from kamlib.review.history import early_warnings, history_row, portfolio_history


def _history(n):
    seg = pd.DataFrame({"segment": ["Star", "Laggard"], "revenue": [70.0, 30.0]})
    health = pd.DataFrame({"account_id": ["a"], "score": [80.0], "band": ["green"]})
    acts = pd.DataFrame({"review": ["done", "overdue"]})
    h = None
    for i, day in enumerate(["2026-03-31", "2026-06-30", "2026-09-30"][:n]):
        h = portfolio_history(h, history_row(pd.Timestamp(day), 20 + i, seg, health,
                                             acts if i else None, pd.DataFrame({"x": []})))
    return h


def test_the_page_shows_every_run_and_escapes_the_warning_names():
    warn = early_warnings(None, None, pd.DataFrame({"account_id": ["a"], "score": [80.0], "band": ["green"]}),
                          pd.DataFrame({"account_id": ["a"], "score": [50.0], "band": ["amber"]}),
                          pd.Series({"a": "<script>alert(1)</script> & Co"}))
    h = _history(3)
    fig = history_figure(h)
    assert len(fig.axes) == 4  # three panels and the early-warning bars
    html = history_page(h, warn, fig, client="Acme <b>", run="r3")
    assert "3 run(s)" in html and "31 Mar 2026 to 30 Sep 2026" in html  # dates by the formatter
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "Acme &lt;b&gt;" in html
    assert "health fell" in html and "50%" in html  # plan completion, formatted


def test_a_first_run_says_the_history_starts_here():
    h = _history(1)
    html = history_page(h, early_warnings(None, None, None, None), history_figure(h))
    assert "the history starts here" in html
    assert "there is no earlier run to compare with yet" in html
