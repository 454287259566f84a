"""Reading the cells of an input table by their contract type.

Readers (:mod:`kamlib.intake.readers`) hand over raw values: text for CSV and Excel, the file's
own types for Parquet. :func:`parse_column` parses one column by its contract type and says
which cells do not parse; :func:`known_list_items` reads CRM role names;
:func:`check_columns` stops when a required column is missing. Numbers and dates are read by
the regional-format rules of :mod:`kamlib.intake.formats`, the same the engine applies to the
invoice lines. Used by the small-table checks
(:mod:`kamlib.intake.tables`) and, for its column and date messages, the checking pass.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from kamlib.errors import InputError
from kamlib.intake.contract import Column, Table
from kamlib.intake.formats import (EXCEL_EPOCH, ISO, ISO_PREFIX, PLAIN, SERIAL_SHAPE,
                                   NumberFormat, layout_parts, read_amount)
from kamlib.intake.readers import UNICODE_SPACES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TYPE_WORDS = {"int": "whole number", "float": "number", "date": "date (YYYY-MM-DD)",
               "bool": "true/false value", "list": "list", "str": "text"}
"""Each contract type in the words a message uses ("no value in this column is a date")."""


def check_columns(columns: list[str], table: Table, file: str) -> None:
    """Raise :class:`InputError` when a required column is missing, suggesting close matches."""
    missing = [c for c in table.required_columns if c not in columns]
    if not missing:
        return
    col = missing[0]
    near = difflib.get_close_matches(col, columns, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    more = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
    raise InputError(
        file,
        f"the required column '{col}' is missing{more}. Columns found: "
        f"{', '.join(columns) if columns else '(none)'}.{hint}",
        f"Rename the column in the export to '{col}' (see docs/data_contract.md for every "
        f"column of the {table.name} table).",
        column=col,
    )


def date_fix(examples: list[str], reads_layouts: bool = True) -> str:
    """The fix for a column of dates we could not read, naming the layout the values look like."""
    import re

    looks = [e for e in examples if re.fullmatch(r"\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\s*", str(e))]
    if examples and len(looks) == len(examples):
        why = (", which are read only when one layout fits every value unambiguously"
               if reads_layouts else "")
        return ("write them as YYYY-MM-DD: these look like day/month/year or month/day/year "
                f"dates{why} (in Excel: Format Cells > Custom > yyyy-mm-dd, then save again).")
    return "write dates as YYYY-MM-DD."


ROLE_SYNONYMS: dict[str, str] = {
    "decision maker": "decider", "decision-maker": "decider", "economic buyer": "decider",
    "approver": "decider", "purchaser": "buyer", "procurement": "buyer", "end user": "user",
    "end-user": "user", "user buyer": "user", "technical buyer": "influencer",
    "specifier": "influencer", "recommender": "influencer",
}
"""Names CRMs and sales methods use for the six DMU roles (strategic-selling buyer types
included), read as the contract role. Anything else is dropped from the list, not guessed."""


def known_list_items(raw: pd.Series, allowed: tuple[str, ...],
                     synonyms: dict[str, str]) -> tuple[pd.Series, list[str]]:
    """Keep the allowed items of a ';'-separated list column, translating known synonyms.

    A contact whose roles read ``"sponsor; buyer"`` is still a buyer: setting the whole person
    aside for one label we do not use would lose a known contact. Returns the rewritten column
    and notes for the data-quality report (what was translated, what was dropped and where).
    """
    import pandas as pd

    text = as_text(raw)
    mapped: dict[str, int] = {}
    dropped: dict[str, list[int]] = {}
    out = []
    for i, v in enumerate(text):
        if v is pd.NA or v is None:
            out.append(None)
            continue
        keep = []
        for item in (x.strip().lower() for x in str(v).replace(",", ";").split(";")):
            if not item:
                continue
            if item in allowed:
                keep.append(item)
            elif item in synonyms:
                keep.append(synonyms[item])
                mapped[f"'{item}' as {synonyms[item]}"] = mapped.get(f"'{item}' as {synonyms[item]}", 0) + 1
            else:
                dropped.setdefault(item, []).append(i + 1)
        out.append(";".join(dict.fromkeys(keep)) or None)
    notes = []
    if mapped:
        notes.append(f"{raw.name} read " + ", ".join(f"{k} ({n})" for k, n in sorted(mapped.items())))
    if dropped:
        parts = [f"'{k}' (rows {', '.join(map(str, r[:5]))}{' ...' if len(r) > 5 else ''})"
                 for k, r in sorted(dropped.items())]
        notes.append(f"{raw.name}: not a role of {'/'.join(allowed)}, dropped from the list (the "
                     f"rows are kept): " + "; ".join(parts))
    return pd.Series(out, index=raw.index, dtype=object), notes


VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "role": {"kam": "key account manager", "account manager": "key account manager",
             "key account director": "key account manager", "sponsor": "executive sponsor",
             "executive": "executive sponsor", "customer service": "service",
             "technical support": "technical", "engineering": "technical",
             "controller": "finance", "supply chain": "logistics", "sales rep": "sales"},
    "topic": {"aims": "aim", "strategic aim": "aim", "goal": "aim", "objective": "aim",
              "value proposition": "value_proposition", "value-proposition": "value_proposition",
              "way of buying": "culture", "buying culture": "culture", "strengths": "strength",
              "weaknesses": "weakness", "opportunities": "opportunity", "threats": "threat"},
}
"""Names clients' sheets use for the allowed values of a one-value column (``account_team.role``,
``account_strategy.topic``), read as the contract's value; by column name."""


def known_values(raw: pd.Series, synonyms: dict[str, str]) -> tuple[pd.Series, list[str]]:
    """Translate known synonyms of a one-value column (any case, blanks around); returns the
    column and a note of what was read as what (other values are left for the allowed check)."""
    text = as_text(raw)
    lowered = text.str.lower().str.replace(r"\s+", " ", regex=True)
    hit = lowered.isin(list(synonyms)).fillna(False).astype(bool)
    if not hit.any():
        return raw, []
    counts = lowered[hit].value_counts().sort_index()
    note = (f"{raw.name} read " + ", ".join(f"'{k}' as {synonyms[k]} ({n})" for k, n in counts.items()))
    return text.mask(hit, lowered[hit].map(synonyms)), [note]


_SPACES = f"[{UNICODE_SPACES}]"

MAX_TEXT = 300
"""Longest text a cell of a small table keeps, in characters: a name or title is far shorter;
a longer value (a whole document pasted into a CRM field) is cut to this length and counted in
the data-quality report, so no later step carries megabytes per account."""


def padded_count(raw: pd.Series) -> int:
    """How many text values of ``raw`` have blanks (Unicode spaces included) around them."""
    import pandas as pd

    if not (pd.api.types.is_string_dtype(raw.dtype) or raw.dtype == object):
        return 0
    text = raw.dropna().astype("string")
    stripped = text.str.strip()  # Unicode whitespace, the no-break spaces included
    return int(((stripped.str.len() != text.str.len()) & (stripped != "")).sum())


def as_text(s: pd.Series) -> pd.Series:
    """Values as trimmed text; empty -> missing; whole floats without '.0' (Parquet ids);
    no-break and other Unicode spaces read as blanks."""
    import pandas as pd

    if pd.api.types.is_float_dtype(s.dtype):
        s = s.map(lambda v: None if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v)))
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = s.dt.strftime("%Y-%m-%d")
    out = s.astype("string")
    if out.str.contains(_SPACES, regex=True).any():  # no-break and other Unicode spaces: blanks
        out = out.str.replace(_SPACES, " ", regex=True)
    out = out.str.strip()
    return out.mask(out == "")


def _to_float(text: pd.Series, fmt: NumberFormat = PLAIN,
              tokens: tuple[str, ...] = ()) -> tuple[pd.Series, pd.Series]:
    """Numbers, also written as fractions ("1/3": AHP judgements are often typed that way) or
    by the amount rules in the column's format (:func:`kamlib.intake.formats.read_amount`);
    and which cells name another currency than ``tokens``."""
    import pandas as pd

    if fmt.decimal == ".":
        values = pd.to_numeric(text, errors="coerce")
    else:
        values = pd.Series(float("nan"), index=text.index)
    foreign = pd.Series(False, index=text.index)
    rest = text.notna() & values.isna()
    if rest.any():
        read = [read_amount(v, fmt, list(tokens)) for v in text[rest]]
        values = values.astype("float64").copy()
        values.loc[rest] = [float("nan") if v is None else v for v, _ in read]
        foreign.loc[rest] = [f for _, f in read]
    frac = text.str.fullmatch(r"\s*-?\d+(\.\d+)?\s*/\s*\d+(\.\d+)?\s*").fillna(False).astype(bool)
    if frac.any():
        parts = text[frac].str.split("/", n=1, expand=True).astype(float)
        values = values.copy()
        values.loc[frac] = (parts[0] / parts[1]).where(parts[1] != 0)
    return values.astype("float64"), foreign


def parse_column(raw: pd.Series, col: Column, number: NumberFormat = PLAIN,
                 tokens: tuple[str, ...] = (), layout: str = ISO,
                 ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse one column by its contract type.

    Numbers are read in ``number`` (the column's format, see :mod:`kamlib.intake.formats`);
    a cell naming another currency than ``tokens`` is bad. Dates are ISO (a time and a time
    zone after the date are dropped: the date as written), Excel serial numbers, or written
    in ``layout``.

    Returns
    -------
    values : pandas.Series
        Parsed values (``str`` text, ``Int64``, ``float64``, ``datetime64``, ``boolean``).
    bad : pandas.Series of bool
        The cell had a value that does not parse, or is not an allowed value.
    present : pandas.Series of bool
        The cell had a value.
    """
    import numpy as np
    import pandas as pd

    if col.type in ("date",) and pd.api.types.is_datetime64_any_dtype(raw.dtype):
        values = raw.dt.normalize().astype("datetime64[us]")
        present = raw.notna()
        return values, pd.Series(False, index=raw.index), present
    if col.type in ("int", "float") and pd.api.types.is_numeric_dtype(raw.dtype) and raw.dtype != bool:
        values = raw.astype("float64")
        present = raw.notna()
        bad = pd.Series(False, index=raw.index)
    else:
        text = as_text(raw)
        present = text.notna()
        if col.type == "str":
            values = text
            bad = pd.Series(False, index=raw.index)
            if col.allowed:
                lowered = text.str.lower()
                bad = present & ~lowered.isin(col.allowed)
                values = lowered
        elif col.type in ("int", "float"):
            values, _ = _to_float(text, number, tokens)
            bad = present & values.isna()
        elif col.type == "date":
            values = read_dates(text, layout)
            bad = present & values.isna()
        elif col.type == "bool":
            mapping = {"true": True, "yes": True, "1": True, "y": True, "false": False,
                       "no": False, "0": False, "n": False}
            values = text.str.lower().map(mapping).astype("boolean")
            bad = present & values.isna()
        elif col.type == "list":
            items = text.str.lower().str.split(r"\s*[;,]\s*", regex=True)
            allowed = set(col.allowed or ())
            bad = present & items.map(
                lambda xs: bool(allowed) and isinstance(xs, list) and any(x and x not in allowed for x in xs))
            values = items.map(lambda xs: ";".join(x for x in xs if x) if isinstance(xs, list) else None)
            values = values.astype("string").mask(values.isna() | (values == ""))
        else:  # pragma: no cover - the contract has no other types
            raise ValueError(f"unknown contract type {col.type!r}")
    if col.type == "int":
        whole = values.isna() | np.isclose(values, np.round(values))
        bad = bad | (present & ~whole.astype(bool))
        values = values.where(~bad).round().astype("Int64")
    bad = bad.fillna(False).astype(bool)
    return values, bad, present.astype(bool)


def read_dates(text: pd.Series, layout: str = ISO) -> pd.Series:
    """Dates by the date rules (:mod:`kamlib.intake.formats`), as ``datetime64[us]``: ISO
    (a time and time zone after it dropped: the date as written), Excel serial numbers and,
    for other values, ``layout``."""
    import re

    import pandas as pd

    shaped = text.map(lambda v: isinstance(v, str) and bool(_ISO_PREFIX.match(v)))
    values = pd.to_datetime(text.where(shaped).str.slice(0, 10), errors="coerce",
                            format="%Y-%m-%d")
    serial = text.map(lambda v: isinstance(v, str) and bool(_SERIAL.match(v))) & values.isna()
    if serial.any():
        days = pd.to_numeric(text[serial]).astype("float64") // 1
        values.loc[serial] = pd.Timestamp(EXCEL_EPOCH) + pd.to_timedelta(days, unit="D")
    parts = layout_parts(layout)
    rest = text.notna() & values.isna() & ~serial
    if parts is not None and rest.any():
        order, sep = parts
        fmt = ("%Y" + sep + "%m" + sep + "%d" if order == "YMD" else
               sep.join(["%d", "%m", "%Y"] if order == "DM" else ["%m", "%d", "%Y"]))
        ok = text[rest].map(lambda v: bool(re.fullmatch(r"[0-9./-]+", v)))
        values.loc[rest] = pd.to_datetime(text[rest].where(ok), errors="coerce", format=fmt)
    return values.dt.normalize().astype("datetime64[us]")


_ISO_PREFIX = __import__("re").compile(ISO_PREFIX)
_SERIAL = __import__("re").compile(SERIAL_SHAPE)


def empty_dtype(col: Column) -> str:
    """The pandas dtype of an empty column of contract type ``col.type``."""
    return {"int": "Int64", "float": "float64", "date": "datetime64[us]", "bool": "boolean"}.get(col.type, "string")
