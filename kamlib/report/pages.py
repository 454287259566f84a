"""How the report builds HTML: Jinja2 templates from ``kamlib/report/templates``, autoescaped.

Every value a template shows is escaped unless it is :class:`markupsafe.Markup` (built here with
``Markup(...).format(...)``, which escapes its arguments, or :func:`escape`): account, contact
and manager names come from client files. Numbers are formatted before they reach a template, by
:mod:`kamlib.formatting`. Pages are self-contained (CSS and figures inline) so they can be
mailed and printed as they are.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

__all__ = ["Markup", "escape", "environment", "render", "stylesheet", "png_data_uri"]


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one template environment of the report pages."""
    return jinja2.Environment(loader=jinja2.PackageLoader("kamlib.report", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)


@lru_cache(maxsize=None)
def stylesheet(name: str) -> str:
    """The text of ``templates/<name>`` (a page's CSS, inlined into the page)."""
    return resources.files("kamlib.report").joinpath(f"templates/{name}").read_text(encoding="utf-8")


def png_data_uri(fig: Any) -> str:
    """A figure as a ``data:`` URI: a matplotlib Figure, PNG bytes or a PNG file's path."""
    if isinstance(fig, (bytes, bytearray)):
        data = bytes(fig)
    elif isinstance(fig, (str, Path)):
        data = Path(fig).read_bytes()
    else:
        from kamlib.figures import render_png

        data = render_png(fig, dpi=110)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
