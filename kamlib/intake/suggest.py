"""``kam map``: propose a column and value mapping from a client's headers *and* contents.

For each input table, every contract column the file does not already have (under its own name
or by the engagement's mapping) is matched against the file's other headers:

* **by header**: the header is one of the column's names in English, German, French, Spanish or
  Dutch, SAP field names included (:data:`kamlib.intake.synonyms.SYNONYMS`), or close to one;
* **by content**, from a sample of the rows: a date column must hold dates, a number column
  numbers; a column whose values are the accounts table's ids is ``account_id``; a column of
  seniority levels or DMU roles (in the client's words) is that column; the only date column of
  the invoice lines is their date; a column of three-letter codes is the currency.

Each header goes to at most one column, best match first. The enumerated columns' words the
contract does not use are matched to its values (:data:`kamlib.intake.synonyms.VALUE_SYNONYMS`,
or a close spelling). :func:`suggest` returns what it found and what it could not place;
:mod:`kamlib.intake.mapping_file` writes it into engagement.yml for the consultant to confirm.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.intake.contract import TABLES, Column, Table
from kamlib.intake.mapping import Mapping, allowed_values, value_key
from kamlib.intake.readers import normalise_name
from kamlib.intake.synonyms import SYNONYMS, VALUE_SYNONYMS, word_key

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SAMPLE_ROWS = 5000
"""Rows of each file the contents are judged on (the start of a large ledger)."""

WORDS_NOT_NUMBERS = ("name", "industry", "region", "country", "title", "function",
                     "account_manager", "owner", "manager")
"""Text columns that never hold only numbers (ids and categories may)."""

PLACE_AT = 0.5
"""Lowest score at which a header is proposed for a column."""


@dataclass
class Placed:
    """A client header proposed for a contract column, and why."""

    header: str
    column: str
    why: str
    score: float


@dataclass
class TableSuggestion:
    """What :func:`suggest` proposes for one table."""

    table: str
    file: str
    columns: list[Placed] = field(default_factory=list)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)
    unplaced_optional: list[str] = field(default_factory=list)
    unknown_values: dict[str, list[str]] = field(default_factory=dict)
    unused_headers: list[str] = field(default_factory=list)
    problem: str = ""


def sample_frame(path: str | Path, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    """The first ``rows`` rows of a contract file as text, with the headers as written."""
    import io

    import pandas as pd

    from kamlib.intake.ledger import source_files
    from kamlib.intake.readers import (SNIFF_BYTES, decode, file_kind, read_excel_text,
                                       sniff_delimiter)

    path = source_files(path)[0]
    kind = file_kind(path)
    if kind == "excel":
        return read_excel_text(path).head(rows)
    if kind == "parquet":
        import pyarrow.parquet as pq

        batch = next(pq.ParquetFile(path).iter_batches(batch_size=rows), None)
        if batch is None:
            return pd.DataFrame({n: [] for n in pq.read_schema(path).names})
        return batch.to_pandas()
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES * 4)
    text, _ = decode(head, str(path), partial=True)
    text = text.lstrip("\ufeff")
    if len(head) == SNIFF_BYTES * 4:  # drop the last, possibly cut, line
        text = text[: text.rfind("\n") + 1]
    delim = sniff_delimiter(text.splitlines()[0] if text.strip() else "")
    return pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False,
                       nrows=rows, on_bad_lines="skip").replace({"": None})


@dataclass
class _Profile:
    """What a client column's sample holds."""

    dates: float = 0.0
    serials: float = 0.0
    numbers: float = 0.0
    ids: float = 0.0
    codes: float = 0.0
    values: list[str] = field(default_factory=list)
    n: int = 0


_NUMBER = re.compile(r"^\(?[-+]?[0-9][0-9.,' \u00a0\u202f]*\)?-?$|^[-+]?[.,][0-9]+$")
_CODE = re.compile(r"^[A-Za-z]{3}$")


def _profile(col: pd.Series, ids: set[str]) -> _Profile:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return _Profile(dates=1.0, n=int(col.notna().sum()))
    if pd.api.types.is_numeric_dtype(col.dtype) and col.dtype != bool:
        text = col.dropna().map(lambda v: str(int(v)) if float(v).is_integer() else str(v))
        prof = _Profile(numbers=1.0, n=len(text))
    else:
        text = col.dropna().astype(str).str.strip()
        text = text[text != ""]
        prof = _Profile(n=len(text))
        if not len(text):
            return prof
        prof.numbers = float(text.map(lambda v: bool(_NUMBER.match(v))).mean())
        prof.dates = _date_share(text)
        # Excel serial dates (45717 is 2025-03-01): five digits, 1927 to 2173
        prof.serials = float(text.str.fullmatch(r"[1-9][0-9]{4}(\.0+)?").fillna(False).mean())
        prof.codes = float(text.map(lambda v: bool(_CODE.match(v))).mean())
    if not len(text):
        return prof
    if ids:
        prof.ids = float(text.map(lambda v: v.strip().casefold() in ids).mean())
    prof.values = list(text.unique()[:200])
    return prof


def _date_share(text: pd.Series) -> float:
    """Share of values that read as a date in some layout (ISO, day- or month-first, with
    ``/``, ``.`` or ``-``, with or without a time)."""
    import pandas as pd

    pattern = r"^\d{4}-\d{1,2}-\d{1,2}([ T].*)?$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}( .*)?$"
    looks = text.str.match(pattern).fillna(False).astype(bool)
    compact = text.str.fullmatch(r"(19|20)\d{6}").fillna(False).astype(bool)  # SAP's YYYYMMDD
    if compact.any():
        read = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce").notna()
        looks[read[read].index] = True
    return float(looks.mean())


def _header_score(header: str, table: str, column: str) -> tuple[float, str]:
    key = word_key(header)
    names = (column, *SYNONYMS.get(table, {}).get(column, ()))
    keys = {word_key(n) for n in names}
    if key in keys:
        return 1.0, f"header '{header}'"
    close = difflib.get_close_matches(key, sorted(keys), n=1, cutoff=0.85)
    if close:
        return 0.75, f"header '{header}' close to '{close[0]}'"
    long = [k for k in keys if len(k) >= 6 and (k in key)]
    if long:
        return 0.5, f"header '{header}' contains '{max(long, key=len)}'"
    return 0.0, ""


def _value_target(word: str, table: str, col: Column) -> str | None:
    """The contract value a client's word stands for, or None."""
    allowed = allowed_values(table, col) or ()
    key = value_key(word)
    if key in allowed:
        return key
    synonyms = {word_key(w): v for w, v in VALUE_SYNONYMS.get(col.name, {}).items()}
    wk = word_key(word)
    if wk in synonyms:
        return synonyms[wk]
    if allowed:
        close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.8)
        if close:
            return close[0]
    return None


def _items(values: list[str], col: Column) -> list[str]:
    if col.type != "list":
        return values
    return list(dict.fromkeys(i.strip() for v in values for i in re.split(r"[;,]", v) if i.strip()))


def _content_score(prof: _Profile, table: str, col: Column) -> tuple[float, str]:
    """(multiplier or bonus, reason) for a client column's content as contract column ``col``;
    a negative score rules the pair out."""
    if prof.n == 0:
        return 0.5, "no values in the sample"
    if col.type == "date":
        if prof.dates >= 0.8:
            return 0.3, f"{prof.dates:.0%} dates"
        return (0.1, f"{prof.serials:.0%} Excel serial dates") if prof.serials >= 0.9 else (-1, "")
    if col.type in ("int", "float"):
        if prof.dates >= 0.8:  # 02.03.2026 is digits and dots, but a date
            return -1, ""
        return (0.2, f"{prof.numbers:.0%} numbers") if prof.numbers >= 0.8 else (-1, "")
    if col.name == "account_id" and table != "accounts" and prof.ids:
        return (1.0 * prof.ids, f"{prof.ids:.0%} of values are ids of the accounts table")
    if col.name == "currency":
        return (0.6, "three-letter codes") if prof.codes >= 0.9 else (0.0, "")
    if allowed_values(table, col) or col.name in VALUE_SYNONYMS:
        items = _items(prof.values, col)
        known = [i for i in items if _value_target(i, table, col)] if items else []
        share = len(known) / len(items) if items else 0.0
        return (0.8 * share, f"{share:.0%} of its words are {col.name} values") if share >= 0.5 else (0.0, "")
    if prof.dates >= 0.9 or (prof.numbers >= 0.99 and col.name in WORDS_NOT_NUMBERS):
        return (-1, "")  # a column of dates is no id or text, one of numbers not a name
    return 0.0, ""


def _candidates(frame: pd.DataFrame, table: Table, open_cols: list[Column],
                headers: list[str], ids: set[str]) -> list[Placed]:
    profiles = {h: _profile(frame[h], ids) for h in headers}
    out: list[Placed] = []
    for col in open_cols:
        for h in headers:
            head, why_h = _header_score(h, table.name, col.name)
            content, why_c = _content_score(profiles[h], table.name, col)
            if content < 0:
                continue
            score = head + content if head else (content if content >= 0.6 else 0.0)
            if score >= PLACE_AT:
                why = "; ".join(w for w in (why_h, why_c) if w)
                out.append(Placed(h, col.name, why, score))
    out += _only_date(profiles, table, open_cols, headers, out)
    return out


def _only_date(profiles: dict[str, _Profile], table: Table, open_cols: list[Column],
               headers: list[str], found: list[Placed]) -> list[Placed]:
    """The table's one required date column, when exactly one client column holds dates."""
    dates = [c for c in open_cols if c.type == "date" and c.required]
    date_headers = [h for h in headers if profiles[h].dates >= 0.9]
    if len(dates) == 1 and len(date_headers) == 1 and not any(p.column == dates[0].name for p in found):
        return [Placed(date_headers[0], dates[0].name, "the only column of dates", 0.6)]
    return []


def suggest_table(table: Table, frame: pd.DataFrame, file: str, mapping: Mapping | None,
                  ids: set[str]) -> TableSuggestion:
    """Propose a mapping of one table's file (``frame``: a sample with headers as written)."""
    result = TableSuggestion(table.name, file)
    mapped = (mapping.columns.get(table.name) if mapping else None) or {}
    headers = [str(h) for h in frame.columns]
    have = {mapped.get(normalise_name(h), normalise_name(h)) for h in headers}
    free = [h for h in headers if normalise_name(h) not in mapped and normalise_name(h) not in table.column_names]
    open_cols = [c for c in table.columns if c.name not in have]
    taken_h: set[str] = set()
    taken_c: set[str] = set()
    for p in sorted(_candidates(frame, table, open_cols, free, ids), key=lambda p: -p.score):
        if p.header in taken_h or p.column in taken_c:
            continue
        taken_h.add(p.header)
        taken_c.add(p.column)
        result.columns.append(p)
    result.columns.sort(key=lambda p: table.column_names.index(p.column))
    result.unplaced = [c.name for c in open_cols if c.required and c.name not in taken_c]
    result.unplaced_optional = [c.name for c in open_cols if not c.required and c.name not in taken_c]
    result.unused_headers = [h for h in free if h not in taken_h]
    _suggest_values(result, table, frame, mapping, mapped)
    return result


def _suggest_values(result: TableSuggestion, table: Table, frame: pd.DataFrame,
                    mapping: Mapping | None, mapped: dict[str, str]) -> None:
    """Value suggestions for the enumerated (and known free-text) columns of ``table``."""
    source = {mapped.get(normalise_name(h), normalise_name(h)): h for h in frame.columns}
    source.update({p.column: p.header for p in result.columns})
    given = (mapping.values.get(table.name) if mapping else None) or {}
    for col in table.columns:
        if col.name not in source or not (allowed_values(table.name, col) or col.name in VALUE_SYNONYMS):
            continue
        allowed = allowed_values(table.name, col) or ()
        words = _items([str(v) for v in frame[source[col.name]].dropna().unique()], col)
        for word in words:
            key = value_key(word)
            if not key or key in given.get(col.name, {}) or key in allowed:
                continue
            target = _value_target(word, table.name, col)
            if target and target != word:
                result.values.setdefault(col.name, {})[word] = target
            elif not target and allowed:
                result.unknown_values.setdefault(col.name, []).append(word)


def suggest(engagement: Any) -> list[TableSuggestion]:
    """Propose a column and value mapping for every input table of an engagement.

    The accounts table is read first: its ids tell which column of the other tables holds
    account ids. A file that cannot be read gives a suggestion with its ``problem``.
    """
    from kamlib.errors import KamError
    from kamlib.intake.engagement import CONFIG_FILE
    from kamlib.intake.mapping import lenient_mapping

    mapping, problem = lenient_mapping(engagement.config, CONFIG_FILE)
    ids: set[str] = set()
    out = []
    if problem is not None:  # the entries that are right still count
        out.append(TableSuggestion("engagement", CONFIG_FILE, problem=problem.problem))
    for name, table in TABLES.items():
        path = engagement.input_path(name)
        if path is None:
            continue
        shown = _shown(path, engagement.folder)
        try:
            frame = sample_frame(path, rows=SAMPLE_ROWS if name == "transactions" else 10**6)
        except (KamError, OSError, ValueError) as exc:
            out.append(TableSuggestion(name, shown, problem=str(exc)))
            continue
        result = suggest_table(table, frame, shown, mapping, ids)
        out.append(result)
        if name == "accounts":
            ids = _account_ids(frame, result, mapping)
    return out


def _account_ids(frame: pd.DataFrame, result: TableSuggestion, mapping: Mapping | None) -> set[str]:
    mapped = (mapping.columns.get("accounts") if mapping else None) or {}
    for h in frame.columns:
        if mapped.get(normalise_name(h), normalise_name(h)) == "account_id":
            break
    else:
        h = next((p.header for p in result.columns if p.column == "account_id"), None)
    if h is None:
        return set()
    return {str(v).strip().casefold() for v in frame[h].dropna()}


def _shown(path: Path, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    except ValueError:
        return str(path)
