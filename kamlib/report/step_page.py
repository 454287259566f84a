"""A step notebook's page: its prose, tables and figures without code, in the report's look.

The executed notebook is read cell by cell: markdown becomes HTML, each output its richest
form (HTML tables, PNG and SVG figures, markdown, then text). Printed text is wrapped, never
cut; error output and warnings (stderr) stay out (they are for the analyst, in the notebook),
and so do the classroom's cells (:data:`TEACHING_TAGS`).
The page uses the executive summary's stylesheet and ``step.css``, so every page of a run
looks alike and prints on A4.
"""

from __future__ import annotations

import ast
import datetime as dt
from typing import Any

from kamlib.formatting import date as fmt_date
from kamlib.report import pages

_RICH = ("text/html", "image/png", "image/svg+xml", "image/jpeg", "text/markdown", "text/plain")


def _markdown(text: str) -> str:
    from nbconvert.filters import markdown2html

    return markdown2html(text)


def _plain(text: str) -> str:
    """Text output as people read it: a quoted string shown without its quotes."""
    stripped = text.strip()
    if stripped[:1] in "'\"" and stripped[-1:] == stripped[:1]:
        try:
            value = ast.literal_eval(stripped)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, str):
            return value
    return text


def _output(out: dict[str, Any]) -> dict[str, str] | None:
    """One output of a code cell as a block of the page (None: not shown)."""
    kind = out.get("output_type")
    if kind == "stream":
        if out.get("name") == "stderr" or not str(out.get("text", "")).strip():
            return None
        return {"kind": "text", "body": str(out["text"]).rstrip()}
    if kind not in ("display_data", "execute_result"):
        return None  # errors: the runner reports them
    data = out.get("data", {})
    for mime in _RICH:
        if mime not in data:
            continue
        body = data[mime]
        body = "".join(body) if isinstance(body, list) else str(body)
        if mime == "text/html":
            return {"kind": "html", "body": pages.Markup(body)}
        if mime in ("image/png", "image/jpeg"):
            return {"kind": "img", "body": f"data:{mime};base64,{body.strip()}"}
        if mime == "image/svg+xml":
            return {"kind": "html", "body": pages.Markup(body)}
        if mime == "text/markdown":
            return {"kind": "html", "body": pages.Markup(_markdown(body))}
        return {"kind": "text", "body": _plain(body)}
    return None


TEACHING_TAGS = frozenset({"exercises", "learning-objectives"})
"""Cells tagged for the classroom (the trainer's exercises and learning objectives, with their
``kam run`` commands): they stay in the notebook and are left out of the run's page."""


def blocks(nb: Any) -> list[dict[str, Any]]:
    """The page's blocks, in the notebook's order: markdown, then each cell's outputs."""
    out: list[dict[str, Any]] = []
    for cell in nb.cells:
        if TEACHING_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.get("cell_type") == "markdown" and cell.get("source", "").strip():
            out.append({"kind": "html", "body": pages.Markup(_markdown(cell["source"]))})
        elif cell.get("cell_type") == "code":
            out += [b for b in (_output(o) for o in cell.get("outputs", [])) if b]
    return out


def step_page(nb: Any, *, title: str, client: str = "", run: str = "",
              anonymised: bool = False) -> str:
    """The HTML page of one executed step notebook (an ``nbformat`` node)."""
    return pages.render("step.html.j2", css=pages.stylesheet("summary.css") + pages.stylesheet("step.css"),
                        title=title, client=client, run=run, blocks=blocks(nb),
                        today=fmt_date(dt.date.today()), anonymised=anonymised)
