"""The invoice lines on the engine: registering the file, and the one casting step.

:func:`read_transactions` registers the invoice-lines file with the engine (see
:mod:`kamlib.intake.engine`) lazily: CSV and Parquet are scanned by the engine itself; Excel is
read with pandas, which it is small enough for, and handed over. :func:`cast_transactions` turns
whatever the reader produced into one fixed schema, so the checks
(:mod:`kamlib.intake.checking_pass`) and the feature build (:mod:`kamlib.intake.features`) see
the same types on every backend and from every file format.

Everything after :func:`read_transactions` is a backend-agnostic Ibis expression: no
DuckDB-specific SQL, so the same code runs on Spark through Ibis's PySpark backend.
"""

from __future__ import annotations

import functools
import operator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.errors import InputError
from kamlib.intake.contract import TRANSACTIONS, Table
from kamlib.intake.mapping import Mapping, engine_values, expected_headers, file_names
from kamlib.intake.readers import (EXTENSIONS, check_file, file_kind, normalise_name,
                                   read_excel_text, sniff_csv, utf8_copy)
from kamlib.intake.formats import ISO, PLAIN
from kamlib.intake.reading_rules import (amount_value, cell_groups, clean_cell, date_value,
                                         fast_number, serial_date)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

IBIS_TYPES = {"str": "string", "int": "int64", "float": "float64", "date": "date", "bool": "boolean"}
"""Contract type -> Ibis type of the column after the casting step."""

ROW = "_row"
"""Column holding the line's row number in the file (1 = first data row), where known."""

TRIMMED = "_trimmed"
"""Column counting, per line, the text values the casting step trimmed of blanks (text
exports only): the data-quality report counts them."""


def read_transactions(con: BaseBackend, path: str | Path, *, encoding: str | None = None,
                      delimiter: str | None = None, sheet: int | str | None = None,
                      mapping: Mapping | None = None) -> ir.Table:
    """Register the invoice-lines file with the backend, lazily, with normalised headers.

    CSV is read with every column as text (``all_varchar``), so identifiers keep their leading
    zeros and a bad value in one line sets that line aside instead of failing the whole file;
    :func:`cast_transactions` parses the text. Parquet keeps its own types. Excel is read with
    pandas (as text) and handed over as an in-memory table.

    Parameters
    ----------
    con : ibis backend
        From :func:`connect`.
    path : str or Path
        A file, a folder of files (read as one table) or a glob such as ``lines_*.parquet``;
        on Spark also a remote URI (``s3a://...``, ``hdfs://...``).
    encoding, delimiter : str, optional
        For CSV; detected from the start of the file when not given
        (see :func:`kamlib.intake.readers.sniff_csv`).
    sheet : str or int, optional
        For Excel: the sheet (see :func:`kamlib.intake.readers.read_excel_text`).
    mapping : kamlib.intake.mapping.Mapping, optional
        The engagement's column and value mapping, applied here in the engine's read: mapped
        headers renamed to contract columns, mapped words of text columns substituted.

    Returns
    -------
    ibis.expr.types.Table
        Raw columns (contract names where the header matched), plus ``_row`` (the line's
        row number in the file, or in the files in name order) on DuckDB and for Excel.
    """
    import ibis

    remote = "://" in str(path)  # s3a://, hdfs://, abfss://...: only Spark reads these
    files = [str(path)] if remote else [str(f) for f in source_files(path)]
    kind = file_kind(Path(files[0])) if not remote or Path(str(path)).suffix else "parquet"
    duck = con.name == "duckdb"
    if remote and duck:
        raise InputError(str(path), "DuckDB here reads local files only.",
                         "Copy the files to a local folder, or run with engine: spark.")
    if kind == "csv":
        if (encoding is None or delimiter is None) and not remote:
            enc, delim = sniff_csv(Path(files[0]))
            encoding, delimiter = encoding or enc, delimiter or delim
        if duck:
            kwargs: dict[str, Any] = {"all_varchar": True, "delim": delimiter, "header": True}
            if encoding == "utf-16":
                kwargs["encoding"] = "utf-16"
            elif encoding not in ("utf-8", "utf-8-sig"):
                # DuckDB refuses Windows-1252's 0x80-0x9F block (euro sign, dashes, curly
                # quotes) even as Latin-1: it reads a UTF-8 copy, kept while ``con`` is open
                files = [str(utf8_copy(f, _copy_folder(con))) for f in files]
            t = con.read_csv(files if len(files) > 1 else files[0], **kwargs)
        else:
            # Every column as text, like DuckDB's all_varchar: the casting step parses them.
            spark_enc = {"utf-8-sig": "utf-8", "cp1252": "windows-1252",
                         "latin-1": "ISO-8859-1"}.get(encoding or "utf-8", encoding)
            t = _spark_view(con, con._session.read.csv(
                files, header=True, sep=delimiter or ",", inferSchema=False,
                encoding=spark_enc or "utf-8"))
    elif kind == "parquet":
        if not duck:
            t = _spark_view(con, con._session.read.parquet(*files))
        elif len(files) == 1:
            # The reader numbers rows itself (in parallel, unlike a window over the scan).
            t = con.read_parquet(files[0], file_row_number=True)
        else:
            t = con.read_parquet(files)
    else:  # excel: small enough for pandas (a sheet holds at most ~1M rows)
        frame = read_excel_text(Path(files[0]), sheet=sheet,
                                expected=expected_headers(TRANSACTIONS.name, mapping))
        t = ibis.memtable(frame)
    headers = [c for c in t.columns if c != "file_row_number"]
    mapped = file_names(headers, TRANSACTIONS.name, mapping, str(path))
    renames = {mapped.get(normalise_name(c), normalise_name(c)): c for c in headers}
    renames = {new: old for new, old in renames.items() if new != old}
    if renames:
        t = t.rename(renames)
    t = engine_values(t, TRANSACTIONS.name, mapping)
    if "file_row_number" in t.columns:
        t = t.rename({ROW: "file_row_number"}).mutate(**{ROW: ibis._[ROW] + 1})
    elif duck or kind == "excel":
        # Row numbers as the user sees them in the file. DuckDB keeps insertion order, so the
        # unordered row_number follows the file (files of a folder or glob in name order); on
        # Spark it would not (and would pull every line into one task), so rows stay unnumbered.
        t = t.mutate(**{ROW: ibis.row_number() + 1})
    return t

def _copy_folder(con: BaseBackend) -> Path:
    """A folder for re-encoded copies of the inputs, removed with the connection."""
    import shutil
    import tempfile
    import weakref

    folder = getattr(con, "_kam_copies", None)
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="kam-utf8-"))
        con._kam_copies = folder
        weakref.finalize(con, shutil.rmtree, str(folder), True)
    return folder


def source_files(path: str | Path) -> list[Path]:
    """The files behind an input: the file itself, a glob's matches or a folder's data files.

    A folder (a data-lake table such as ``invoice_lines/year=2025/part-0.parquet``) contributes
    every Parquet, CSV or Excel file below it, in name order; all must be of one kind.

    Raises
    ------
    InputError
        Nothing matches, a file is empty, or the files are of different kinds.
    """
    path = Path(path)
    check_file(path)
    if any(ch in path.name for ch in "*?["):
        files = sorted(p for p in path.parent.glob(path.name) if p.is_file())
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file()
                       and p.suffix.lower() in EXTENSIONS and not p.name.startswith((".", "_")))
        if not files:
            raise InputError(str(path), "the folder holds no .parquet, .csv or .xlsx file.",
                             "Point inputs: transactions at the folder with the exported files.")
    else:
        return [path]
    kinds = {file_kind(f) for f in files}
    if len(kinds) > 1:
        raise InputError(str(path), f"the files are of different kinds ({', '.join(sorted(kinds))}).",
                         "Export every part in one format, or name one kind with a pattern such "
                         "as invoice_lines/*.parquet.")
    for f in files:
        check_file(f)
    return files

def _spark_view(con: BaseBackend, frame: Any) -> ir.Table:
    """Register a Spark DataFrame under a fresh name and return it as an Ibis table."""
    import uuid

    name = f"kam_read_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(name)
    return con.table(name)

MONEY = ("net_revenue", "cost", "margin")
"""Amount columns whose cells may carry a currency sign or code."""


def cast_transactions(raw: ir.Table, table: Table = TRANSACTIONS, *, trim: bool = True,
                      never_empty: Iterable[str] = (), formats: Any = None) -> ir.Table:
    """The one casting step: raw invoice lines -> the fixed schema every later step relies on.

    Every contract column is present afterwards with its contract type (``account_id`` string,
    ``date`` date, numbers float64, ``line_no`` int64); a column the file lacks is all null.
    Text is trimmed and empty text becomes null. For each column that had to be parsed, a
    boolean ``_bad_<column>`` says the file had a value there that does not parse (so the row
    can be set aside with that reason), and for a column parsed from text ``_raw_<column>`` keeps
    the text as exported (for the set-aside file); ``_row`` is kept (null when the backend cannot
    number rows). Amounts the plain cast cannot read are read by the amount rules
    (:func:`kamlib.intake.reading_rules.amount_value`), and ``_alt_<column>`` says which were;
    with ``trim``, :data:`TRIMMED` counts the values of the line that were trimmed.

    Parameters
    ----------
    raw : ibis.expr.types.Table
        From :func:`read_transactions` (or any table with contract column names).
    table : kamlib.intake.contract.Table
        The contract table (default: transactions).
    trim : bool
        Strip surrounding whitespace from text. Needed for text exports (CSV, Excel), where
        ``" A001"`` must match ``A001``; Parquet carries typed values, and stripping every string
        of every line was the costliest part of the Parquet feature build (DuckDB's whitespace
        trim is several times slower than the scan), so
        :func:`kamlib.intake.loading.load_inputs` turns it off there. Empty text becomes null either way.
    never_empty : iterable of str
        Text columns known to hold no empty text (see :func:`text_ranges`): the test for it,
        a comparison per line and column, is left out.
    formats : kamlib.intake.formats.ColumnFormats, optional
        The number format and date layout of each text column
        (:func:`kamlib.intake.column_formats.detect_formats`); default: the contract's
        (``.`` decimals, ISO dates). Money cells naming another currency than its ``tokens``
        get ``_fx_<column>``.

    Returns
    -------
    ibis.expr.types.Table
    """
    import ibis

    cols: dict[str, Any] = {}
    flags: dict[str, Any] = {}
    padded: list[Any] = []
    text: dict[str, str] = {}  # contract column -> its target type, parsed from text below
    for col in table.columns:
        target = IBIS_TYPES.get(col.type, "string")
        if col.name not in raw.columns:
            cols[col.name] = ibis.null().cast(target)
            continue
        src = raw[col.name]
        if src.type().is_string():
            if trim:
                src, was_padded = _strip_padded(src)
                padded.append(was_padded)
            if trim or col.name not in never_empty:
                src = (src == "").ifelse(ibis.null().cast("string"), src)
            if target == "string":
                cols[col.name] = src
            else:  # parsed in the stages below, from the text as exported
                cols[col.name] = ibis.null().cast(target)
                flags[f"_raw_{col.name}"] = src  # shown as exported in set_aside/transactions.csv
                text[col.name] = target
            continue
        if target == "string":
            value = src.cast("string")
        elif target == "date" and src.type().is_timestamp():
            value = src.cast("date")
        elif target == "date" and src.type().is_numeric():  # Excel serial dates as numbers
            value = serial_date(src.cast("float64"))
        elif src.type().is_boolean() and target != "boolean":
            # engines read true/false as 1/0: an amount exported as a flag is not a number
            value = ibis.null().cast(target)
        else:
            value = src.try_cast(target)
        cols[col.name] = value
        if target != "string" and _cast_can_fail(src.type(), target):
            flags[f"_bad_{col.name}"] = src.notnull() & value.isnull()
    cols[ROW] = raw[ROW].cast("int64") if ROW in raw.columns else ibis.null().cast("int64")
    if padded:
        counts = [p.cast("int8") for p in padded]
        flags[TRIMMED] = functools.reduce(operator.add, counts[1:], counts[0]).cast("int8")
    order = [*cols, *[k for k in flags if not k.startswith("_raw_")]]
    t = raw.select(**cols, **flags)
    if text:
        t = _parse_text(t, text, formats)
        order += [f for c in text for f in (f"_alt_{c}", f"_fx_{c}", f"_bad_{c}", f"_raw_{c}")
                  if f in t.columns]
    return t.select(*order)


def _parse_text(t: ir.Table, text: dict[str, str], formats: Any) -> ir.Table:
    """Parse the text columns of the casting step (:func:`cast_transactions`), in stages that
    name each step's result, so no engine expression repeats another: the column's plain
    reading (its format's common case), then the amount rules on the cells that misses only
    (:func:`kamlib.intake.reading_rules.amount_value`), then the flags."""
    import ibis

    stage: dict[str, Any] = {}
    for c, target in text.items():
        raw = t[f"_raw_{c}"]
        if target == "date":
            stage[c] = date_value(raw, formats.dates.get(c, ISO) if formats else ISO)
        elif target == "float64":
            plain = fast_number(raw, formats.numbers.get(c, PLAIN) if formats else PLAIN)
            stage[c] = plain
            stage[f"_cell_{c}"] = (plain.isnull() & raw.notnull()).ifelse(
                clean_cell(raw), ibis.null().cast("string"))
        else:
            stage[c] = raw.try_cast(target)
    t = t.mutate(**stage)
    amounts = [c for c, target in text.items() if target == "float64"]
    if amounts:  # the parts of each cell the plain reading missed, named once
        t = t.mutate(**{f"_g{i}_{c}": g for c in amounts
                        for i, g in cell_groups(t[f"_cell_{c}"]).items()})
    rules: dict[str, Any] = {}
    for c in amounts:
        fmt = formats.numbers.get(c, PLAIN) if formats else PLAIN
        groups = {i: t[f"_g{i}_{c}"] for i in range(1, 9)}
        rules[f"_rule_{c}"], foreign = amount_value(groups, fmt,
                                                    formats.tokens if formats else None)
        if c in MONEY:
            rules[f"_fx_{c}"] = t[f"_cell_{c}"].notnull().ifelse(foreign, False)
    if rules:
        t = t.mutate(**rules)
    final: dict[str, Any] = {}
    for c, target in text.items():
        if target == "float64":
            rule = t[f"_rule_{c}"]
            final[c] = t[c].coalesce(rule)  # the amount rules, where needed
            final[f"_alt_{c}"] = t[c].isnull() & rule.notnull()
            final[f"_bad_{c}"] = t[f"_raw_{c}"].notnull() & t[c].isnull() & rule.isnull()
        else:
            final[f"_bad_{c}"] = t[f"_raw_{c}"].notnull() & t[c].isnull()
    return t.mutate(**final)

def text_ranges(raw: ir.Table, table: Table = TRANSACTIONS) -> dict[str, tuple[Any, Any]]:
    """The smallest and largest value of each text contract column of ``raw``, by column.

    Meant for Parquet, whose files carry these per row group: DuckDB answers from those
    statistics without reading the lines (a file written without statistics is scanned). A
    smallest value other than ``""`` proves the column holds no empty text (see
    :func:`cast_transactions`); equal bounds of ``currency``, one currency (see
    :func:`kamlib.intake.checking_pass.check_transactions`). A column with no value has
    ``(None, None)``.
    """
    import pandas as pd

    cols = [c for c in table.column_names if c in raw.columns and raw[c].type().is_string()]
    if not cols:
        return {}
    row = raw.aggregate(**{f"lo_{c}": raw[c].min() for c in cols},
                        **{f"hi_{c}": raw[c].max() for c in cols}).to_pandas().iloc[0]
    return {c: tuple(None if pd.isna(row[f"{end}_{c}"]) else str(row[f"{end}_{c}"])
                     for end in ("lo", "hi")) for c in cols}

def _cast_can_fail(source: Any, target: str) -> bool:
    """Whether casting a column of type ``source`` to ``target`` can fail for some value.

    A typed column that only widens (a Parquet int32 line number, a decimal amount, a
    timestamp date) gets no ``_bad_`` flag: the flag would be false on every line and the checks
    would still test it on every line.
    """
    if source.is_string():
        return True
    if target == "date":
        return not (source.is_date() or source.is_timestamp())
    if target == "float64":
        return not (source.is_integer() or source.is_floating() or source.is_decimal())
    if target == "int64":
        return not source.is_integer() or str(source).rstrip("!") == "uint64"
    return True

def _strip_padded(text: ir.StringValue) -> tuple[ir.StringValue, ir.BooleanValue]:
    """``text`` without surrounding whitespace, and whether it had any; stripping only values
    that start or end with a blank or a tab: the engines' whitespace trim is several times
    slower than these prefix tests, and almost no value needs it (the CSV reader has already
    split off line breaks)."""
    padded = (text.startswith(" ") | text.endswith(" ") | text.startswith("\t")
              | text.endswith("\t"))
    return padded.ifelse(text.strip(), text), padded

def present_columns(raw: ir.Table, table: Table = TRANSACTIONS) -> list[str]:
    """Contract columns the file actually has (after header normalisation)."""
    return [c for c in table.column_names if c in raw.columns]
