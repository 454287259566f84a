"""Figures to PNG drawn once (kamlib.figures.render_png), as Step.figure and the pages use it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from kamlib.figures import PAD_INCHES, render_png
from kamlib.report.pages import png_data_uri


def _figure(layout: str, title: str = "Revenue") -> Figure:
    fig = Figure(figsize=(6, 4.5), dpi=110, layout=layout)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [3, 1, 2])
    ax.set_xlabel("month")
    ax.set_ylabel("revenue")
    ax.set_title(title, loc="left")
    return fig


def _counting_draws(fig: Figure) -> list[int]:
    calls: list[int] = []
    draw = fig.draw

    def counted(renderer):
        calls.append(1)
        return draw(renderer)

    fig.draw = counted
    return calls


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


@pytest.mark.parametrize("layout", ["constrained", "none"])
def test_a_figure_inside_its_canvas_is_drawn_once_and_looks_as_saved_tight(layout):
    fig = _figure(layout)
    calls = _counting_draws(fig)
    png = render_png(fig, dpi=110)
    assert len(calls) == 1
    tight = io.BytesIO()
    _figure(layout).savefig(tight, format="png", dpi=110, bbox_inches="tight")
    ours, theirs = _pixels(png), _pixels(tight.getvalue())
    # the same content; only the margin may be narrower, where it would pass the figure's edge
    margin = 2 * PAD_INCHES * 110
    assert all(t - margin - 1 <= o <= t + 1 for o, t in zip(ours.shape[:2], theirs.shape[:2]))
    assert ours.shape[0] <= 4.5 * 110 + 1 and ours.shape[1] <= 6 * 110 + 1
    assert ours.std() > 10  # something drawn, not a blank canvas

@pytest.mark.parametrize("layout", ["constrained", "none"])
def test_content_outside_the_figure_is_not_cut_off(layout):
    long_title = "A title much longer than the axes it stands on, running well past the edge of the figure"
    fig = _figure(layout, long_title)
    calls = _counting_draws(fig)
    png = render_png(fig, dpi=110)
    assert len(calls) == (1 if layout == "none" else 2)  # constrained: savefig measures first
    width = Image.open(io.BytesIO(png)).size[0]
    assert width > 6 * 110  # widened to the title, as bbox_inches="tight" would
    tight = io.BytesIO()
    _figure(layout, long_title).savefig(tight, format="png", dpi=110, bbox_inches="tight")
    assert abs(width - Image.open(tight).size[0]) <= 1


def test_the_figure_keeps_its_canvas_dpi_and_layout():
    fig = _figure("constrained")
    canvas, engine = fig.canvas, fig.get_layout_engine()
    render_png(fig, dpi=60)
    render_png(_figure("constrained", "x" * 200), dpi=60)
    assert fig.canvas is canvas and fig.dpi == 110 and fig.get_layout_engine() is engine


def test_png_data_uri_draws_a_figure_once():
    fig = _figure("constrained")
    calls = _counting_draws(fig)
    assert png_data_uri(fig).startswith("data:image/png;base64,")
    assert len(calls) == 1


@pytest.mark.parametrize("category", ["Acme $\\undefinedcmd$", "a $\\frac{1}{$ b", "Price $5 and $6"])
def test_a_dollar_in_the_clients_text_is_a_dollar_not_mathtext(category):
    """Categories and names reach figures as tick labels and annotations: with the project's
    style a '$' is text (mathtext would stop the figure or print the name as a formula)."""
    import matplotlib
    import pandas as pd

    from kamlib.figures import apply_style
    from kamlib.figures.planning import whitespace_by_category

    with matplotlib.rc_context():
        apply_style()
        whitespace = pd.DataFrame({"category": [category, "Bolts"], "potential": [5e4, 2e4],
                                   "account_id": ["A1", "A2"]})
        fig = whitespace_by_category(whitespace, currency="EUR")
        assert render_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
        labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
        assert category in labels
