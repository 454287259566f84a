"""Shared look of every figure: :func:`apply_style` and one palette.

One module per concept adds the figures themselves (``figures/intake.py``,
``figures/selection.py``, ...). Each figure function takes DataFrames and returns a matplotlib
``Figure``; the notebook hands it to ``step.figure(name, fig)``. matplotlib is imported only
when a figure is drawn, so ``import kamlib.figures`` stays cheap.
"""

from __future__ import annotations

from kamlib import formatting
from kamlib.vocabulary import CORE, DEVELOPING, KEY, KEY_DEVELOPMENT, LAGGARD, LONG_TAIL, MANAGED, STAR

PALETTE: dict[str, str] = {
    "primary": "#1f4e79",   # our company / the main series
    "accent": "#e07b00",    # what the reader should look at
    "neutral": "#8c8c8c",   # context, the rest
    "light": "#d9e2ec",     # backgrounds, bands
    "good": "#2e7d32",
    "bad": "#c62828",
    # portfolio segments and selection tiers, so a colour means the same in every step
    STAR: "#e07b00",
    DEVELOPING: "#4e9a06",
    CORE: "#1f4e79",
    LAGGARD: "#8c8c8c",
    KEY: "#c0392b",
    KEY_DEVELOPMENT: "#e67e22",
    MANAGED: "#2c7fb8",
    LONG_TAIL: "#bdbdbd",
}
"""Named colours (colour-blind-safe pairs where two series are compared)."""

SEQUENCE: tuple[str, ...] = ("#1f4e79", "#e07b00", "#4e9a06", "#8e44ad", "#c62828", "#00838f",
                             "#6d4c41", "#8c8c8c")
"""Colours for categorical series, in order."""

DPI = 110


def apply_style() -> None:
    """Set matplotlib defaults for every figure of a run (called by ``Step.begin``)."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "figure.figsize": (8.0, 4.2),
        "figure.constrained_layout.use": True,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#e5e5e5",
        "grid.linewidth": 0.8,
        "axes.axisbelow": True,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 10,
        "font.size": 10,
        "legend.frameon": False,
        "axes.prop_cycle": mpl.cycler(color=list(SEQUENCE)),
        # names and categories come from the client's files: a '$' is a dollar sign, never
        # mathtext ('Acme $\\x$' would stop the figure, '$5 and $6' would print as math)
        "text.parse_math": False,
    })


money = formatting.money
"""Money labels: the project's one money format (:func:`kamlib.formatting.money`)."""


def money_axis(axis, currency: str = "") -> None:
    """Format a matplotlib axis (``ax.yaxis``) with :func:`money` labels."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: formatting.money(v, currency)))


def count_axis(axis) -> None:
    """Format a matplotlib axis with whole numbers, thousands separated."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: formatting.count(v)))



PAD_INCHES = 0.1
"""Margin kept around a figure's content in its PNG (matplotlib's ``savefig.pad_inches``)."""


def render_png(fig, dpi: float = DPI) -> bytes:
    """A figure as PNG bytes, drawn once, cropped to its content.

    ``savefig`` draws a figure twice when it has a layout engine or is saved with
    ``bbox_inches="tight"`` (a measuring pass, then the real one). Here the figure's own layout
    (constrained layout, if it has one) is solved once, its content's bounding box measured
    (text extents only, no drawing), and the figure drawn once on an Agg canvas and cropped to
    that box plus :data:`PAD_INCHES` (as ``bbox_inches="tight"`` would; the margin ends at the
    figure's edge). Content outside the figure (a long title beside a narrow axes, labels left
    of a hand-placed axes) is not cut off: the figure is then saved with that box as its
    bounding box, still one draw for a figure without a layout engine.
    """
    import io

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave

    original_canvas, original_dpi = fig.canvas, fig.dpi
    engine = fig.get_layout_engine()
    buffer = io.BytesIO()
    try:
        canvas = FigureCanvasAgg(fig)
        fig.dpi = dpi
        if engine is not None:
            engine.execute(fig)  # the layout, once
            fig.set_layout_engine("none")  # kept as solved: the draw does not solve it again
        content = fig.get_tightbbox(canvas.get_renderer())
        width, height = fig.get_size_inches()
        slack = 0.5 / dpi  # half a pixel
        if min(content.x0, content.y0) < -slack or content.x1 > width + slack \
                or content.y1 > height + slack:
            fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=content.padded(PAD_INCHES))
            return buffer.getvalue()
        canvas.draw()
        box = content.padded(PAD_INCHES)  # the margin stops at the figure's edge
        pixels = np.asarray(canvas.buffer_rgba())
        rows, cols = pixels.shape[:2]
        pixels = pixels[max(0, int(rows - round(box.y1 * dpi))):int(rows - round(box.y0 * dpi)),
                        max(0, int(round(box.x0 * dpi))):min(cols, int(round(box.x1 * dpi)))]
        imsave(buffer, pixels, format="png", dpi=dpi)
        return buffer.getvalue()
    finally:
        if engine is not None and fig.get_layout_engine() is not engine:
            fig.set_layout_engine(engine)
        fig.dpi = original_dpi
        fig.set_canvas(original_canvas)
