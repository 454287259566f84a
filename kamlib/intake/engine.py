"""The query engine that reads invoice lines: an Ibis connection and the one casting step.

Invoice lines are the only input that can be too big for pandas, so they never become a
pandas DataFrame here. :func:`connect` opens an Ibis backend (DuckDB in-process by default),
:func:`read_transactions` registers the file with it lazily (CSV and Parquet are scanned by the
engine itself; Excel is read with pandas, which it is small enough for, and handed over), and
:func:`cast_transactions` turns whatever the reader produced into one fixed schema, so the
checks in :mod:`kamlib.intake.validation` and the feature build in :mod:`kamlib.intake.features` see the same
types on every backend and from every file format.

Everything after :func:`read_transactions` is a backend-agnostic Ibis expression: no
DuckDB-specific SQL, so the same code runs on Spark through Ibis's PySpark backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.intake.contract import TRANSACTIONS, Table
from kamlib.errors import InputError, KamError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

ENGINES = ("duckdb", "spark")
"""Engines the feature build runs on."""

IBIS_TYPES = {"str": "string", "int": "int64", "float": "float64", "date": "date", "bool": "boolean"}
"""Contract type -> Ibis type of the column after the casting step."""

ROW = "_row"
"""Column holding the line's row number in the file (1 = first data row), where known."""


DEFAULT_MEMORY_LIMIT = "2GB"
"""Memory budget of the feature build on DuckDB (the whole process stays about within it)."""

DUCKDB_SHARE = 0.7
"""Share of the memory budget given to DuckDB's buffer manager. The rest covers what DuckDB
allocates outside it (hash-table bookkeeping, Arrow results), Python, pandas and pyarrow: with
the whole budget DuckDB alone would end a 50M-line build slightly above it, and at 0.75 a 50M
build peaked at 1.86-1.98 GB (1.84-1.85 GB at 0.7, a few per cent slower)."""

SPARK_DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",  # dates and timestamps as written, whatever the host
    "spark.ui.showConsoleProgress": "false",  # no progress bars in notebook outputs and logs
}


def connect(engine: str = "duckdb", memory_limit: str = DEFAULT_MEMORY_LIMIT,
            threads: int | None = None, session: Any = None, *,
            temp_directory: str | Path | None = None,
            spark: dict[str, Any] | None = None) -> BaseBackend:
    """Open the backend that runs the feature build.

    Parameters
    ----------
    engine : {"duckdb", "spark"}
        ``"duckdb"`` (default) runs in this process, out of core: beyond ``memory_limit`` it
        spills to ``temp_directory``. ``"spark"`` runs on a SparkSession through Ibis's PySpark
        backend (``pip install "kam-workbook[spark]"``, Java 17+).
    memory_limit : str
        Memory budget on DuckDB, e.g. ``"2GB"`` or ``"500MB"`` (ignored by Spark). DuckDB's own
        limit is set to :data:`DUCKDB_SHARE` of it, so the process as a whole stays near it.
    threads : int, optional
        DuckDB worker threads; default: all cores.
    session : pyspark.sql.SparkSession, optional
        For ``engine="spark"``: an existing session to use (on a cluster, the one you have).
    temp_directory : str or Path, optional
        Where DuckDB spills; default a fresh folder in the system temp directory.
    spark : dict, optional
        For ``engine="spark"`` without ``session``: ``{"master": "local[4]", "app_name": ...,
        "conf": {"spark.executor.memory": "8g", ...}}`` (the ``spark:`` block of
        ``engagement.yml``). Default: ``local[*]``, or the session already running.

    Returns
    -------
    ibis.backends.BaseBackend

    Raises
    ------
    ParameterError
        Unknown engine, a memory limit DuckDB does not understand, Spark asked for but not
        installed.
    """
    if engine not in ENGINES:
        raise ParameterError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}.")
    if engine == "duckdb":
        return _connect_duckdb(memory_limit, threads, temp_directory)
    return _connect_spark(session, spark or {})


def memory_bytes(limit: str) -> int:
    """``"2GB"`` -> 2_000_000_000 (DuckDB's units: KB/MB/GB/TB are powers of 1000, KiB... of 1024).

    Raises
    ------
    ParameterError
        For anything else than a number followed by a unit.
    """
    import re

    units = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
             "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]i?b|b)\s*", str(limit).lower())
    if not m:
        raise ParameterError(
            f"memory_limit must be a size such as '2GB' or '500MB', not {limit!r}.")
    return int(float(m.group(1)) * units[m.group(2)])


def _connect_duckdb(memory_limit: str, threads: int | None,
                    temp_directory: str | Path | None) -> BaseBackend:
    import tempfile

    import ibis

    budget = memory_bytes(memory_limit)
    if budget < 100 * 10**6:
        raise ParameterError(f"memory_limit {memory_limit!r} is too small; give at least '100MB'.")
    # Without a temp directory an in-memory DuckDB cannot spill and fails with "out of memory"
    # instead; the default (.tmp in the working directory) would litter the user's folder.
    temp = Path(temp_directory) if temp_directory else Path(tempfile.mkdtemp(prefix="kam-duckdb-"))
    temp.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "memory_limit": f"{max(1, int(budget * DUCKDB_SHARE) // 10**6)}MB",
        "temp_directory": str(temp),
    }
    if threads:
        config["threads"] = int(threads)
    try:
        con = ibis.duckdb.connect(**config)
    except Exception as exc:  # duckdb raises its own error for a bad setting
        raise ParameterError(
            f"DuckDB rejected the settings {config} ({exc}). Give memory_limit as e.g. '2GB'."
        ) from None
    try:  # the terminal progress bar would print into logs
        con.raw_sql("SET enable_progress_bar = false")
    except Exception:  # in Jupyter DuckDB refuses to touch it without ipywidgets: fine
        pass
    if not temp_directory:  # our own spill folder goes with the connection
        import shutil
        import weakref

        weakref.finalize(con, shutil.rmtree, str(temp), True)
    return con


def _connect_spark(session: Any, settings: dict[str, Any]) -> BaseBackend:
    import importlib.util

    import ibis

    if session is None:
        if importlib.util.find_spec("pyspark") is None:
            raise ParameterError(
                "engine: spark needs PySpark, which is not installed. Install the extra with "
                "pip install -e \".[spark]\" (and Java 17+), or use engine: duckdb.")
        from pyspark.sql import SparkSession

        unknown = sorted(set(settings) - {"master", "app_name", "conf"})
        if unknown:
            raise ParameterError(f"unknown spark setting(s) {', '.join(unknown)}; use master, "
                                 "app_name and conf (a mapping of Spark properties).")
        builder = SparkSession.builder.appName(str(settings.get("app_name") or "kam-workbook"))
        active = SparkSession.getActiveSession()
        master = settings.get("master") or (None if active else "local[*]")
        if master:
            builder = builder.master(str(master))
        conf = {**SPARK_DEFAULT_CONF, **{str(k): str(v) for k, v in (settings.get("conf") or {}).items()}}
        if str(master or "").startswith("local") and "spark.sql.shuffle.partitions" not in conf:
            conf["spark.sql.shuffle.partitions"] = "8"  # 200 tiny tasks cost more than they save
        for key, value in conf.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    return ibis.pyspark.connect(session)


def engine_settings(engagement: Any, engine: str = "", memory_limit: str = "") -> dict[str, Any]:
    """Keyword arguments for :func:`connect` from an engagement's ``engagement.yml``.

    ``engine: spark`` with a ``spark:`` block (``master``, ``app_name``, ``conf``) runs on
    Spark; a ``duckdb:`` block may set ``memory_limit``, ``threads`` and ``temp_directory``.
    Non-empty ``engine`` / ``memory_limit`` arguments (step parameters) win over the file.
    """
    config = dict(getattr(engagement, "config", None) or {})
    duck = dict(config.get("duckdb") or {})
    unknown = sorted(set(duck) - {"memory_limit", "threads", "temp_directory"})
    if unknown:
        raise ParameterError(f"unknown duckdb setting(s) {', '.join(unknown)} in engagement.yml; "
                             "use memory_limit, threads and temp_directory.")
    out: dict[str, Any] = {
        "engine": engine or str(config.get("engine") or "duckdb"),
        "memory_limit": memory_limit or str(duck.get("memory_limit") or DEFAULT_MEMORY_LIMIT),
        "threads": duck.get("threads"),
        "temp_directory": duck.get("temp_directory"),
        "spark": config.get("spark") or None,
    }
    return out


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
        A file, a folder of files (read as one table) or a glob such as ``lines_*.parquet``;
        on Spark also a remote URI (``s3a://...``, ``hdfs://...``).
    encoding, delimiter : str, optional
        For CSV; detected from the start of the file when not given
        (see :func:`kamlib.intake.readers.sniff_csv`).

    Returns
    -------
    ibis.expr.types.Table
        Raw columns (contract names where the header matched), plus ``_row`` (the line's
        row number in the file, or in the files in name order) on DuckDB and for Excel.
    """
    import ibis

    from kamlib.intake import readers

    remote = "://" in str(path)  # s3a://, hdfs://, abfss://...: only Spark reads these
    files = [str(path)] if remote else [str(f) for f in source_files(path)]
    kind = readers.file_kind(Path(files[0])) if not remote or Path(str(path)).suffix else "parquet"
    duck = con.name == "duckdb"
    if remote and duck:
        raise InputError(str(path), "DuckDB here reads local files only.",
                         "Copy the files to a local folder, or run with engine: spark.")
    if kind == "csv":
        if (encoding is None or delimiter is None) and not remote:
            enc, delim = readers.sniff_csv(Path(files[0]))
            encoding, delimiter = encoding or enc, delimiter or delim
        if duck:
            kwargs: dict[str, Any] = {"all_varchar": True, "delim": delimiter, "header": True}
            if encoding == "utf-16":
                kwargs["encoding"] = "utf-16"
            elif encoding not in ("utf-8", "utf-8-sig"):
                # DuckDB reads Latin-1 natively; cp1252 differs from it only in the 0x80-0x9F
                # block (euro sign, curly quotes), which never occurs in ids, dates or numbers.
                kwargs["encoding"] = "latin-1"
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
        frame = readers.read_excel_text(Path(files[0]))
        t = ibis.memtable(frame)
    renames = {normalise_name(c): c for c in t.columns
               if normalise_name(c) != c and c != "file_row_number"}
    if renames:
        t = t.rename(renames)
    if "file_row_number" in t.columns:
        t = t.rename({ROW: "file_row_number"}).mutate(**{ROW: ibis._[ROW] + 1})
    elif duck or kind == "excel":
        # Row numbers as the user sees them in the file. DuckDB keeps insertion order, so the
        # unordered row_number follows the file (files of a folder or glob in name order); on
        # Spark it would not (and would pull every line into one task), so rows stay unnumbered.
        t = t.mutate(**{ROW: ibis.row_number() + 1})
    return t


def source_files(path: str | Path) -> list[Path]:
    """The files behind an input: the file itself, a glob's matches or a folder's data files.

    A folder (a data-lake table such as ``invoice_lines/year=2025/part-0.parquet``) contributes
    every Parquet, CSV or Excel file below it, in name order; all must be of one kind.

    Raises
    ------
    InputError
        Nothing matches, a file is empty, or the files are of different kinds.
    """
    from kamlib.intake import readers

    path = Path(path)
    readers.check_file(path)
    if any(ch in path.name for ch in "*?["):
        files = sorted(p for p in path.parent.glob(path.name) if p.is_file())
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file()
                       and p.suffix.lower() in readers.EXTENSIONS and not p.name.startswith((".", "_")))
        if not files:
            raise InputError(str(path), "the folder holds no .parquet, .csv or .xlsx file.",
                             "Point inputs: transactions at the folder with the exported files.")
    else:
        return [path]
    kinds = {readers.file_kind(f) for f in files}
    if len(kinds) > 1:
        raise InputError(str(path), f"the files are of different kinds ({', '.join(sorted(kinds))}).",
                         "Export every part in one format, or name one kind with a pattern such "
                         "as invoice_lines/*.parquet.")
    for f in files:
        readers.check_file(f)
    return files


def _spark_view(con: BaseBackend, frame: Any) -> ir.Table:
    """Register a Spark DataFrame under a fresh name and return it as an Ibis table."""
    import uuid

    name = f"kam_read_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(name)
    return con.table(name)


def cast_transactions(raw: ir.Table, table: Table = TRANSACTIONS, *, trim: bool = True,
                      never_empty: Iterable[str] = ()) -> ir.Table:
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
    table : kamlib.intake.contract.Table
        The contract table (default: transactions).
    trim : bool
        Strip surrounding whitespace from text. Needed for text exports (CSV, Excel), where
        ``" A001"`` must match ``A001``; Parquet carries typed values, and stripping every string
        of every line was the costliest part of the Parquet feature build (DuckDB's whitespace
        trim is several times slower than the scan), so :func:`kamlib.intake.validation.load_inputs`
        turns it off there. Empty text becomes null either way.
    never_empty : iterable of str
        Text columns known to hold no empty text (see :func:`text_ranges`): the test for it,
        a comparison per line and column, is left out.

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
            if trim:
                src = _strip_padded(src)
            if trim or col.name not in never_empty:
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
        elif src.type().is_boolean() and target != "boolean":
            # engines read true/false as 1/0: an amount exported as a flag is not a number
            value = ibis.null().cast(target)
        else:
            value = src.try_cast(target)
        cols[col.name] = value
        if target != "string" and _cast_can_fail(src.type(), target):
            flags[f"_bad_{col.name}"] = src.notnull() & value.isnull()
            if src.type().is_string():
                flags[f"_raw_{col.name}"] = src  # shown as exported in set_aside/transactions.csv
    if ROW in raw.columns:
        cols[ROW] = raw[ROW].cast("int64")
    else:
        cols[ROW] = ibis.null().cast("int64")
    return raw.select(**cols, **flags)


def text_ranges(raw: ir.Table, table: Table = TRANSACTIONS) -> dict[str, tuple[Any, Any]]:
    """The smallest and largest value of each text contract column of ``raw``, by column.

    Meant for Parquet, whose files carry these per row group: DuckDB answers from those
    statistics without reading the lines (a file written without statistics is scanned). A
    smallest value other than ``""`` proves the column holds no empty text (see
    :func:`cast_transactions`); equal bounds of ``currency``, one currency (see
    :func:`kamlib.intake.validation.check_transactions`). A column with no value has ``(None, None)``.
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


def small_table(like: ir.Table, frame: Any) -> ir.Table:
    """A small pandas table (known account ids, say) on the backend of ``like``.

    DuckDB takes it as an Ibis memtable. On Spark it becomes a uniquely named temporary view:
    Ibis names memtables after their content and drops the view when *a* memtable object of
    that name is garbage-collected, which can pull it from under a second, identical one that a
    later query still uses (seen as TABLE_OR_VIEW_NOT_FOUND when one session runs two intakes).
    """
    import uuid

    import ibis

    backend = like._find_backend(use_default=True)
    if backend.name != "pyspark":
        return ibis.memtable(frame)
    name = f"kam_small_{uuid.uuid4().hex[:12]}"
    backend._session.createDataFrame(frame).createOrReplaceTempView(name)
    return backend.table(name)


def _strip_padded(text: ir.StringValue) -> ir.StringValue:
    """``text`` without surrounding whitespace, stripping only values that start or end with a
    blank or a tab: the engines' whitespace trim is several times slower than these prefix
    tests, and almost no value needs it (the CSV reader has already split off line breaks)."""
    padded = (text.startswith(" ") | text.endswith(" ") | text.startswith("\t")
              | text.endswith("\t"))
    return padded.ifelse(text.strip(), text)


def materialise(con: BaseBackend, expr: ir.Table) -> ir.Table:
    """Compute ``expr`` once and keep the result in the engine (a temporary table).

    DuckDB keeps it in memory up to ``memory_limit`` and spills the rest to disk.
    """
    import uuid

    if con.name == "duckdb":
        return con.create_table(f"kam_lines_{uuid.uuid4().hex[:12]}", expr, temp=True)
    return expr.cache()  # pragma: no cover - Spark


def present_columns(raw: ir.Table, table: Table = TRANSACTIONS) -> list[str]:
    """Contract columns the file actually has (after header normalisation)."""
    return [c for c in table.column_names if c in raw.columns]


def wrap_engine_error(exc: Exception, file: str | Path) -> KamError | None:
    """The user's side of an engine error met while working on ``file``, or None for a fault of
    our own (it keeps its traceback).

    * the file cannot be read (bad encoding, ragged CSV, a broken or mismatched Parquet file;
      DuckDB's I/O and invalid-input errors, and whatever Spark or Arrow raise): an
      :class:`InputError` naming the file and, where the engine says, the line;
    * DuckDB ran out of memory (it could not spill: the temporary folder is full, or an
      operation cannot spill): a :class:`ParameterError` naming the settings to change;
    * any other DuckDB error (an internal error, a query the engine rejects): None.
    """
    import re

    message = str(exc)
    kind = type(exc).__name__
    if type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb"):
        if kind == "OutOfMemoryException":
            first = message.strip().splitlines()[0] if message.strip() else kind
            return ParameterError(
                f"DuckDB ran out of memory while working on {file} ({first[:200]}). Give it a "
                "larger budget (engagement.yml: duckdb: memory_limit: 4GB, or -p "
                "intake.memory_limit=4GB), and check that its spill folder (duckdb: "
                "temp_directory) has free disk space of about the ledger's uncompressed size.")
        if kind not in ("IOException", "HTTPException", "InvalidInputException"):
            return None
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
