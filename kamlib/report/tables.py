"""Tables for people: a DataFrame shown on a page or in a notebook, through kamlib.formatting.

Column titles are labels (``revenue_12m`` -> "Revenue (12 months)"), numbers are money, shares,
counts or plain numbers by the column (:func:`kamlib.formatting.column_kind`), dates are dates,
booleans yes/no, lists joined, a missing value "–". The pandas index is never a column unless
it means something (a named index, or labels that are not 0, 1, 2…), and an account id gets
the account's name beside it when the table has none. Long tables show their first rows and
say how many there are. Every value is escaped (names come from the client's files).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kamlib import formatting as fmt
from kamlib.report import pages

MAX_ROWS = 25
"""Rows a table shows on a page before it says "first 25 of N rows"."""

NAME_COLUMNS = ("name", "account_name", "account")
"""Columns that already name the account beside its id."""


def readable_frame(df: Any):
    """``df`` (a DataFrame or a Series) with its index as a column when it means something."""
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame(name=df.name if df.name is not None else "value")
    if isinstance(df.columns, pd.MultiIndex):
        df = df.copy()
        df.columns = [" ".join(str(p) for p in c if str(p)) for c in df.columns]
    index = df.index
    default = (isinstance(index, pd.RangeIndex) and index.name is None) or (
        index.name is None and not isinstance(index, pd.MultiIndex)
        and list(index) == list(range(len(index))))
    if default:
        return df.reset_index(drop=True)
    names = [n if n is not None else ("item" if i == 0 else f"item {i + 1}")
             for i, n in enumerate(index.names)]
    out = df.copy()
    out.index = out.index.set_names(names)
    return out.reset_index()


def with_names(df, names: Mapping[str, str] | None):
    """An ``account_id`` column gets an ``account`` column (the names) beside it."""
    if not names or "account_id" not in df.columns or any(c in df.columns for c in NAME_COLUMNS):
        return df
    out = df.copy()
    at = list(out.columns).index("account_id") + 1
    out.insert(at, "account", out["account_id"].map(lambda v: names.get(str(v), fmt.DASH)))
    return out


def _label_first(frame):
    """A first column of 0, 1, 2… (a cluster number) reads as row numbers: the first text
    column goes before it."""
    import pandas as pd

    if frame.shape[1] < 2 or len(frame) < 2:
        return frame
    first = frame.iloc[:, 0]
    if not (pd.api.types.is_integer_dtype(first.dtype) and list(first) == list(range(len(first)))):
        return frame
    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)
            or frame[c].dtype == object]
    if not text:
        return frame
    return frame[[text[0]] + [c for c in frame.columns if c != text[0]]]


def _column_cells(s, currency: str) -> tuple[list[str], bool]:
    """The column's cells as text, and whether it is numeric (right-aligned)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(s.dtype):
        return [fmt.cell(bool(v)) if not fmt.missing(v) else fmt.DASH for v in s], False
    numeric = pd.api.types.is_numeric_dtype(s.dtype)
    if numeric:
        kind = fmt.column_kind(s.name, s)
        if kind == "number" and pd.api.types.is_integer_dtype(s.dtype):
            kind = "count"
        return [fmt.cell(v, kind, currency) for v in s], True
    texts = [v for v in s if isinstance(v, str) and v.strip()]
    if (texts and all(_IDENTIFIER.fullmatch(v) for v in texts)
            and any(_CODE_NAME.fullmatch(v) for v in texts)):  # measure and column names
        return [fmt.label(v) if isinstance(v, str) and v.strip() else fmt.DASH for v in s], False
    return [_text_cell(v, currency) for v in s], False


_CODE_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


_DECIMAL = re.compile(r"-?\d+\.\d+")


def _text_cell(value: Any, currency: str) -> str:
    """A text cell; a number stored as text (``'28598737.29'``) is shown as a number."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return fmt.number(float(value))
    return fmt.cell(value, "number", currency)


def table_context(df: Any, *, currency: str = "", names: Mapping[str, str] | None = None,
                  max_rows: int | None = MAX_ROWS) -> dict[str, Any]:
    """What :func:`table_html` renders: headers, rows of cell text, and the note on length."""
    frame = _label_first(with_names(readable_frame(df), names))
    total = len(frame)
    shown = frame if max_rows is None or total <= max_rows else frame.head(max_rows)
    columns, numeric = [], []
    for col in shown.columns:
        cells, is_num = _column_cells(shown[col], currency)
        columns.append(cells)
        numeric.append(is_num)
    rows = [list(r) for r in zip(*columns)] if columns else []
    notes = []
    if len(shown) != total:
        notes.append(f"First {fmt.count(len(shown))} of {fmt.count(total)} rows; every row is "
                     "in results.xlsx.")
    if any(c == fmt.DASH for col in columns for c in col):
        notes.append(f"{fmt.DASH} marks a value that is missing or does not apply.")
    note = " ".join(notes)
    return {"headers": [fmt.label(c) for c in shown.columns], "numeric": numeric, "rows": rows,
            "note": note, "empty": total == 0}


def table_html(df: Any, *, currency: str = "", names: Mapping[str, str] | None = None,
               max_rows: int | None = MAX_ROWS) -> str:
    """``df`` as an HTML table for people (see the module docstring)."""
    return pages.render("table.html.j2", **table_context(df, currency=currency, names=names,
                                                         max_rows=max_rows))


def styler_html(styler: Any, *, currency: str = "", names: Mapping[str, str] | None = None) -> str:
    """A pandas Styler (colours, bars) for people: its own formats kept, column titles as
    labels, the index hidden, and the cells it left unformatted formatted like
    :func:`table_html` does."""
    import pandas as pd

    data = styler.data
    formats: dict[Any, Any] = {}
    for col in data.columns:
        s = data[col]
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            formats[col] = lambda v: fmt.cell(v)
    sty = styler.hide(axis="index")
    if formats:
        sty = sty.format(formats, escape="html", na_rep=fmt.DASH)
    sty = sty.relabel_index([fmt.label(c) for c in data.columns], axis="columns")
    return sty.to_html()
