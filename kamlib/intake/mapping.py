"""Column and value mapping: a client's headers and words, read as the data contract's.

A consultant cannot ask a client's IT department to rename every column of every export, so
``engagement.yml`` says once, per table, which client header is which contract column and which
client word is which contract value::

    columns:
      transactions:
        "Customer No.": account_id
        "Billing Date": date
        "Net Value": net_revenue
    values:
      contacts:
        seniority: {Leiter: manager, Sachbearbeiter: staff}
        dmu_roles: {Entscheider: decider, Einkäufer: buyer}

Headers are compared as :func:`kamlib.intake.readers.normalise_name` writes them (case, blanks,
no-break and other Unicode spaces, ``-``, ``.`` and ``/`` do not matter), values by
:func:`value_key` (case and blanks do not matter). The mapping is applied when a file is read:
the small tables in pandas (:func:`map_frame`), the invoice lines in the engine's read
(:func:`kamlib.intake.ledger.read_transactions` renames and substitutes in the Ibis table).

Problems with the mapping are :class:`~kamlib.errors.InputError` naming ``engagement.yml`` (an
unknown table, target column or target value, two headers for one column) or the file (a mapped
header the file does not have) and the fix; every problem of the mapping is listed at once.
Columns of the file that are neither in the contract nor mapped are kept and never an error
(the data-quality report lists them).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kamlib.errors import InputError
from kamlib.intake.contract import SELECTION_CRITERIA, TABLES, Column
from kamlib.intake.readers import normalise_name, plain_spaces

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

    import pandas as pd

CONFIG = "engagement.yml"

ENUMERATED: dict[tuple[str, str], tuple[str, ...]] = {
    ("ahp_judgements", "criterion_a"): SELECTION_CRITERIA,
    ("ahp_judgements", "criterion_b"): SELECTION_CRITERIA,
}
"""Text columns whose values the checks restrict without the contract's ``allowed`` (the AHP
criteria are keys of the selection catalogue)."""

UNMAPPED_PREFIX = "unmapped_"
"""A file's column that already bears a contract name another header is mapped to is kept
under this prefix (the mapping wins; the report lists the column as not in the contract)."""


def allowed_values(table: str, col: Column) -> tuple[str, ...] | None:
    """The values a contract column accepts, or ``None`` when it is free text or a number."""
    return col.allowed or ENUMERATED.get((table, col.name))


def value_key(value: Any) -> str:
    """A value as the value mapping compares it: Unicode spaces as blanks, runs of blanks as
    one, trimmed, case folded (``" Entscheider "`` and ``"ENTSCHEIDER"`` are one key)."""
    return re.sub(r"\s+", " ", plain_spaces(str(value))).strip().casefold()


@dataclass
class Mapping:
    """The ``columns:`` and ``values:`` of an engagement, checked.

    Attributes
    ----------
    columns : dict
        Table -> {normalised client header: contract column}.
    headers : dict
        Table -> {normalised client header: the header as engagement.yml writes it}.
    values : dict
        Table -> contract column -> {:func:`value_key` of the client's word: contract value}.
    """

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.columns or self.values)


def read_mapping(config: dict[str, Any], source: str = CONFIG) -> Mapping:
    """Check the ``columns:`` and ``values:`` settings of an engagement.yml.

    Raises
    ------
    InputError
        Naming ``source`` and listing every problem: an unknown table, an unknown target column,
        two client headers mapped to one column, a value mapping for a column that takes no
        words (dates) or with a target the column does not accept.
    """
    problems: list[str] = []
    mapping = Mapping()
    _read_columns(config.get("columns"), mapping, problems)
    _read_values(config.get("values"), mapping, problems)
    if problems:
        raise InputError(source, ("the mapping has problems: " if len(problems) > 1 else "")
                         + "; ".join(problems) + ".",
                         "correct these lines under columns: / values: (targets are the contract's "
                         "column names and values in docs/data_contract.md; 'kam map' proposes a "
                         "mapping).")
    return mapping


def lenient_mapping(config: dict[str, Any],
                    source: str = CONFIG) -> tuple[Mapping, InputError | None]:
    """The mapping's entries that are right, and the error listing the others (or ``None``):
    ``kam validate`` and ``kam map`` go on with the rest of a mapping that has a mistake."""
    try:
        return read_mapping(config, source), None
    except InputError as exc:
        error = exc
    mapping = Mapping()
    for key in ("columns", "values"):
        tables = config.get(key) if isinstance(config.get(key), dict) else {}
        for table, entries in tables.items():
            for name, value in (entries.items() if isinstance(entries, dict) else ()):
                try:
                    part = read_mapping({key: {table: {name: value}}}, source)
                except InputError:
                    continue
                for attr in ("columns", "headers", "values"):
                    for t, d in getattr(part, attr).items():
                        getattr(mapping, attr).setdefault(t, {}).update(d)
    return mapping, error


def _mapping_of(value: Any, where: str, problems: list[str]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where} should be a mapping ('client name: contract name' lines)")
        return {}
    return value


def _table_of(name: Any, problems: list[str], where: str) -> str | None:
    table = normalise_name(str(name))
    if table in TABLES:
        return table
    near = difflib.get_close_matches(table, list(TABLES), n=1)
    problems.append(f"{where}: unknown table '{name}'"
                    + (f" (did you mean '{near[0]}'?)" if near else f" (tables: {', '.join(TABLES)})"))
    return None


def _column_of(table: str, name: Any, problems: list[str], where: str) -> str | None:
    """The contract column ``name`` means (normalised; a singular of a list column such as
    ``dmu_role`` is its column), or None with a problem noted."""
    names = TABLES[table].column_names
    col = normalise_name(str(name)) if name is not None else ""
    if col in names:
        return col
    if col + "s" in names and TABLES[table].column(col + "s").type == "list":
        return col + "s"
    near = difflib.get_close_matches(col, names, n=2)
    hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
    problems.append(f"{where}: '{name}' is not a column of the {table} table{hint}")
    return None


def _tables(raw: Any, key: str, problems: list[str]) -> Iterator[tuple[str, str, dict]]:
    """(name as written, contract table, its entries) of each table under ``key``."""
    for table_name, entries in _mapping_of(raw, key, problems).items():
        table = _table_of(table_name, problems, key)
        entries = _mapping_of(entries, f"{key}: {table_name}", problems)
        if table is not None:
            yield table_name, table, entries


def _read_columns(raw: Any, mapping: Mapping, problems: list[str]) -> None:
    for table_name, table, pairs in _tables(raw, "columns", problems):
        by_target: dict[str, list[str]] = {}
        for header, target in pairs.items():
            where = f"columns: {table_name}: {header!r}"
            if not normalise_name(str(header)):
                problems.append(f"{where}: an empty header")
                continue
            col = _column_of(table, target, problems, where)
            if col is None:
                continue
            key = normalise_name(str(header))
            if key in mapping.columns.get(table, {}) and mapping.columns[table][key] != col:
                problems.append(f"{where}: the header is mapped twice (headers are compared "
                                "ignoring case and blanks)")
                continue
            mapping.columns.setdefault(table, {})[key] = col
            mapping.headers.setdefault(table, {})[key] = str(header)
            by_target.setdefault(col, []).append(str(header))
        for col, headers in by_target.items():
            if len(set(map(normalise_name, headers))) > 1:
                problems.append(f"columns: {table_name}: {' and '.join(repr(h) for h in headers)} "
                                f"are both mapped to '{col}' (keep one)")


def _read_values(raw: Any, mapping: Mapping, problems: list[str]) -> None:
    for table_name, table, columns in _tables(raw, "values", problems):
        for col_name, words in columns.items():
            where = f"values: {table_name}: {col_name}"
            col_key = _column_of(table, col_name, problems, where)
            words = _mapping_of(words, where, problems)
            if col_key is None:
                continue
            col = TABLES[table].column(col_key)
            if col.type == "date":
                problems.append(f"{where}: dates take no value mapping (see format: for date "
                                "layouts)")
                continue
            out = mapping.values.setdefault(table, {}).setdefault(col_key, {})
            for word, target in words.items():
                value, problem = _target_value(table, col, target)
                if problem:
                    problems.append(f"{where}: {word!r} -> {target!r}: {problem}")
                elif not value_key(word):
                    problems.append(f"{where}: an empty client value")
                else:
                    out[value_key(word)] = value


def _target_value(table: str, col: Column, target: Any) -> tuple[Any, str]:
    """The contract value a value mapping's target stands for, or a problem."""
    if target is None or (isinstance(target, str) and not target.strip()):
        return None, "no target value"
    allowed = allowed_values(table, col)
    if col.type in ("int", "float"):
        if isinstance(target, bool) or not isinstance(target, (int, float)):
            return None, f"{col.name} takes numbers"
        if col.type == "int" and float(target) != int(target):
            return None, f"{col.name} takes whole numbers"
        low = col.minimum if col.minimum is not None else float("-inf")
        high = col.maximum if col.maximum is not None else float("inf")
        if not low - 1e-9 <= float(target) <= high + 1e-9:
            return None, f"{col.name} lies between {low:g} and {high:g}"
        return target, ""
    if col.type == "bool":
        if not isinstance(target, bool):
            return None, f"{col.name} takes true or false"
        return ("true" if target else "false"), ""
    text = str(target).strip()
    if allowed:
        items = [i.strip().lower() for i in text.split(";")] if col.type == "list" else [text.lower()]
        wrong = [i for i in items if i not in allowed]
        if wrong or not items:
            return None, f"not a value of {col.name} (one of {', '.join(allowed)})"
        return ";".join(items), ""
    return text, ""


def file_names(headers: list[str], table: str, mapping: Mapping | None,
               file: str) -> dict[str, str]:
    """How to rename a file's columns: normalised header -> contract column.

    ``headers`` are the file's headers (normalised or not). A mapped header renames to its
    column; a column already bearing the name of a mapped target is kept as ``unmapped_<name>``
    (the mapping wins). Only the columns that change are returned.

    Raises
    ------
    InputError
        A mapped header the file does not have, naming the file, the header, the headers found
        and the fix; every missing header at once.
    """
    pairs = (mapping.columns.get(table) if mapping else None) or {}
    if not pairs:
        return {}
    found = {normalise_name(h) for h in headers}
    missing = [k for k in pairs if k not in found]
    if missing:
        written = mapping.headers[table]
        shown = [h for h in headers if not str(h).startswith("_")]
        near = {k: difflib.get_close_matches(k, sorted(found), n=1) for k in missing}
        hints = "".join(f" For '{written[k]}' did you mean '{near[k][0]}'?" for k in missing if near[k])
        raise InputError(
            file, f"the column mapping names the header(s) {', '.join(repr(written[k]) for k in missing)}, "
            f"which the file does not have. Headers found: {', '.join(map(str, shown)) or '(none)'}.{hints}",
            f"correct the header under columns: {table}: in engagement.yml (case, blanks and "
            "punctuation do not matter), or remove the line when the export has no such column.",
            column=", ".join(pairs[k] for k in missing))
    targets = set(pairs.values())
    renames = {}
    for h in found:
        if h in pairs:
            if pairs[h] != h:
                renames[h] = pairs[h]
        elif h in targets:
            renames[h] = UNMAPPED_PREFIX + h
    return renames


def column_notes(table: str, mapping: Mapping | None, columns: list[str]) -> list[str]:
    """The data-quality report's note on the columns the mapping renamed (``columns``: the
    table's columns after renaming)."""
    if not mapping or not mapping.columns.get(table):
        return []
    written = mapping.headers[table]
    pairs = [f"'{written[h]}' as {c}" for h, c in mapping.columns[table].items()]
    kept = [c for c in columns if c.startswith(UNMAPPED_PREFIX)]
    return [f"columns read by the mapping: {', '.join(pairs)}"
            + (f" ({', '.join(kept)}: the file's own column of that name, not used)" if kept else "")]


def map_frame(frame: pd.DataFrame, table: str, mapping: Mapping | None,
              file: str) -> tuple[pd.DataFrame, list[str]]:
    """A small table's raw frame with the mapping applied; and notes for the report.

    Columns are renamed (:func:`file_names`), then the values of mapped columns replaced
    (:func:`map_values`); ``frame.attrs`` are kept.
    """
    if not mapping:
        return frame, []
    renames = file_names(list(frame.columns), table, mapping, file)
    attrs = dict(frame.attrs)
    if renames:
        frame = frame.rename(columns=renames)
    notes = column_notes(table, mapping, list(frame.columns))
    for col, words in (mapping.values.get(table) or {}).items():
        if col in frame.columns and words:
            frame = frame.copy()
            frame[col], note = map_values(frame[col], TABLES[table].column(col), words)
            if note:
                notes.append(note)
    frame.attrs.update(attrs)
    return frame, notes


def map_values(raw: pd.Series, col: Column, words: dict[str, Any]) -> tuple[pd.Series, str]:
    """``raw`` with each value (each ``;``-item of a list column) the mapping names replaced by
    its contract value; values it does not name stay as they are (the checks judge them).

    Returns the new column (text) and a note counting what was replaced, or ``""``.
    """
    import pandas as pd

    def one(v: Any) -> str:
        if col.type != "list":
            return str(words.get(value_key(v), v))
        return ";".join(str(words.get(value_key(i), i)) for i in re.split(r"[;,]", str(v)))

    present = raw.dropna()
    distinct = present.value_counts()  # each distinct value is looked up once
    lookup = {v: one(v) for v in distinct.index}
    mapped = pd.Series(None, index=raw.index, dtype="object")
    mapped[present.index] = [lookup[v] for v in present]
    counts: dict[str, int] = {}
    for v, n in distinct.items():
        for key in ([value_key(i) for i in re.split(r"[;,]", str(v))] if col.type == "list"
                    else [value_key(v)]):
            if key in words:
                counts[key] = counts.get(key, 0) + int(n)
    note = ""
    if counts:
        shown = ", ".join(f"'{k}' as {words[k]} ({n})" for k, n in sorted(counts.items())[:8])
        more = " ..." if len(counts) > 8 else ""
        note = (f"{col.name}: {sum(counts.values())} value(s) read by the value mapping "
                f"({shown}{more})")
    return mapped, note


def engine_values(t: Any, table: str, mapping: Mapping | None) -> Any:
    """The invoice lines (an Ibis table) with the value mapping applied to their text columns,
    in the engine: a value whose trimmed, lower-case text the mapping names is replaced."""
    words_by_col = (mapping.values.get(table) if mapping else None) or {}
    changes = {}
    for col, words in words_by_col.items():
        if col in t.columns and words and t[col].type().is_string():
            key = t[col].strip().lower()
            changes[col] = key.substitute({k: str(v) for k, v in words.items()}, else_=t[col])
    return t.mutate(**changes) if changes else t


def expected_headers(table: str, mapping: Mapping | None) -> list[str]:
    """The headers a file of ``table`` must have, as :func:`normalise_name` spells them: the
    required columns, each under the client's header when the mapping names one (so the sheet
    of a workbook that holds the table is found by the client's headers too)."""
    by_column = {c: h for h, c in ((mapping.columns.get(table) if mapping else None) or {}).items()}
    return [by_column.get(c, c) for c in TABLES[table].required_columns]
