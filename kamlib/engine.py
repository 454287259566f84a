"""The query engine that reads invoice lines: an Ibis connection and the one casting step.

Invoice lines are the only input that can be too big for pandas, so they never become a
pandas DataFrame here. :func:`connect` opens an Ibis backend (DuckDB in-process by default),
:func:`read_transactions` registers the file with it lazily (CSV and Parquet are scanned by the
engine itself; Excel is read with pandas, which it is small enough for, and handed over), and
:func:`cast_transactions` turns whatever the reader produced into one fixed schema, so the
checks in :mod:`kamlib.validation` and the feature build in :mod:`kamlib.features` see the same
types on every backend and from every file format.

Everything after :func:`read_transactions` is a backend-agnostic Ibis expression: no
DuckDB-specific SQL, so the same code runs on Spark through Ibis's PySpark backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.contract import TRANSACTIONS, Table
from kamlib.errors import InputError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

ENGINES = ("duckdb", "spark")
"""Engines the feature build runs on."""

IBIS_TYPES = {"str": "string", "int": "int64", "float": "float64", "date": "date", "bool": "boolean"}
"""Contract type -> Ibis type of the column after the casting step."""

ROW = "_row"
"""Column holding the line's row number in the file (1 = first data row), where known."""


def connect(engine: str = "duckdb", memory_limit: str = "2GB", threads: int | None = None,
            session: Any = None) -> BaseBackend:
    """Open the backend that runs the feature build.

    Parameters
    ----------
    engine : {"duckdb", "spark"}
        ``"duckdb"`` (default) runs in this process and spills to disk beyond ``memory_limit``;
        ``"spark"`` uses an existing SparkSession (``session``) or starts a local one.
    memory_limit : str
        DuckDB's memory limit, e.g. ``"2GB"`` (ignored by Spark).
    threads : int, optional
        DuckDB worker threads; default: all cores.
    session : pyspark.sql.SparkSession, optional
        For ``engine="spark"``: the session to use.

    Returns
    -------
    ibis.backends.BaseBackend
    """
    if engine not in ENGINES:
        raise ParameterError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}.")
    import ibis

    if engine == "duckdb":
        config: dict[str, Any] = {"memory_limit": memory_limit}
        if threads:
            config["threads"] = int(threads)
        try:
            return ibis.duckdb.connect(**config)
        except Exception as exc:  # duckdb raises its own error for a bad setting
            raise ParameterError(
                f"DuckDB rejected memory_limit={memory_limit!r} ({exc}). Give a size such as '2GB'."
            ) from None
    if session is None:  # pragma: no cover - needs Java; the scale step covers Spark
        from pyspark.sql import SparkSession

        session = SparkSession.builder.master("local[2]").appName("kam-workbook").getOrCreate()
    return ibis.pyspark.connect(session)  # pragma: no cover


def normalise_name(name: str) -> str:
    """Header as the contract spells it: trimmed, lower case, spaces and dashes as ``_``.

    ``" Account ID"`` becomes ``"account_id"``, so common export headers match without a mapping.
    """
    out = str(name).strip().lower().lstrip("\ufeff")
    for ch in " -./":
        out = out.replace(ch, "_")
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def read_transactions(con: BaseBackend, path: str | Path, *, encoding: str | None = None,
                      delimiter: str | None = None) -> ir.Table:
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
        The file.
    encoding, delimiter : str, optional
        For CSV; detected from the start of the file when not given
        (see :func:`kamlib.readers.sniff_csv`).

    Returns
    -------
    ibis.expr.types.Table
        Raw columns (contract names where the header matched), plus ``_row`` on DuckDB.
    """
    import ibis

    from kamlib import readers

    path = Path(path)
    readers.check_file(path)
    kind = readers.file_kind(path)
    duck = con.name == "duckdb"
    source = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
    if kind == "csv":
        if encoding is None or delimiter is None:
            first = sorted(path.parent.glob(path.name))[0] if "*" in path.name else path
            enc, delim = readers.sniff_csv(first)
            encoding, delimiter = encoding or enc, delimiter or delim
        if duck:
            kwargs: dict[str, Any] = {"all_varchar": True, "delim": delimiter, "header": True}
            if encoding == "utf-16":
                kwargs["encoding"] = "utf-16"
            elif encoding not in ("utf-8", "utf-8-sig"):
                # DuckDB reads Latin-1 natively; cp1252 differs from it only in the 0x80-0x9F
                # block (euro sign, curly quotes), which never occurs in ids, dates or numbers.
                kwargs["encoding"] = "latin-1"
            t = con.read_csv(source, **kwargs)
        else:  # pragma: no cover - Spark path, completed by the scale step
            t = con.read_csv(source, header=True, sep=delimiter, inferSchema=False)
    elif kind == "parquet":
        t = con.read_parquet(source)
    else:  # excel
        frame = readers.read_excel_text(path)
        t = ibis.memtable(frame)
    renames = {normalise_name(c): c for c in t.columns if normalise_name(c) != c}
    if renames:
        t = t.rename(renames)
    if duck or kind == "excel":
        # Row numbers as the user sees them in the file. DuckDB keeps insertion order, so the
        # unordered row_number follows the file; on Spark it would not, and rows stay unnumbered.
        t = t.mutate(**{ROW: ibis.row_number() + 1})
    return t


def cast_transactions(raw: ir.Table, table: Table = TRANSACTIONS) -> ir.Table:
    """The one casting step: raw invoice lines -> the fixed schema every later step relies on.

    Every contract column is present afterwards with its contract type (``account_id`` string,
    ``date`` date, numbers float64, ``line_no`` int64); a column the file lacks is all null.
    Text is trimmed and empty text becomes null. For each column that had to be parsed, a
    boolean ``_bad_<column>`` says the file had a value there that does not parse (so the row
    can be set aside with that reason), and for a column parsed from text ``_raw_<column>`` keeps
    the text as exported (for the set-aside file); ``_row`` is kept (null when the backend cannot
    number rows).

    Parameters
    ----------
    raw : ibis.expr.types.Table
        From :func:`read_transactions` (or any table with contract column names).
    table : kamlib.contract.Table
        The contract table (default: transactions).

    Returns
    -------
    ibis.expr.types.Table
    """
    import ibis

    cols: dict[str, Any] = {}
    flags: dict[str, Any] = {}
    for col in table.columns:
        target = IBIS_TYPES.get(col.type, "string")
        if col.name not in raw.columns:
            cols[col.name] = ibis.null().cast(target)
            continue
        src = raw[col.name]
        if src.type().is_string():
            src = src.strip()
            src = (src == "").ifelse(ibis.null().cast("string"), src)
            if target == "date":
                # "2024-03-01 00:00:00" (Excel via text) parses as a timestamp, then a date.
                value = src.try_cast("date").coalesce(src.try_cast("timestamp").cast("date"))
            elif target == "string":
                value = src
            else:
                value = src.try_cast(target)
        elif target == "string":
            value = src.cast("string")
        elif target == "date" and src.type().is_timestamp():
            value = src.cast("date")
        else:
            value = src.try_cast(target)
        cols[col.name] = value
        if target != "string":
            flags[f"_bad_{col.name}"] = src.notnull() & value.isnull()
            if src.type().is_string():
                flags[f"_raw_{col.name}"] = src  # shown as exported in set_aside/transactions.csv
    if ROW in raw.columns:
        cols[ROW] = raw[ROW].cast("int64")
    else:
        cols[ROW] = ibis.null().cast("int64")
    return raw.select(**cols, **flags)


def present_columns(raw: ir.Table, table: Table = TRANSACTIONS) -> list[str]:
    """Contract columns the file actually has (after header normalisation)."""
    return [c for c in table.column_names if c in raw.columns]


def wrap_engine_error(exc: Exception, file: str | Path) -> InputError:
    """Turn an engine's read error (bad encoding, ragged CSV) into an :class:`InputError`."""
    import re

    message = str(exc)
    line = re.search(r"Line:\s*(\d+)", message)
    rows = [int(line.group(1)) - 1] if line else None  # the engine counts the header as line 1
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return InputError(
            str(file), "the file holds bytes that are not valid UTF-8 (text in another encoding "
            "mixed into the export).",
            "Save the export as UTF-8 (Excel: 'CSV UTF-8'), or as Parquet.", rows=rows)
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return InputError(
        str(file),
        f"the engine could not read the file ({first[:300]}).",
        "Export it again as UTF-8 CSV with one header row and the same number of fields on every "
        "line, or as Parquet.",
        rows=rows,
    )
