"""The query engine that reads invoice lines: an Ibis connection, and its errors.

Invoice lines are the only input that can be too big for pandas, so they never become a
pandas DataFrame. :func:`connect` opens an Ibis backend (DuckDB in-process by default, Spark
for very large ledgers); :mod:`kamlib.intake.ledger` registers the file with it lazily and
casts it to the contract's types, so the checks and the feature build see the same types on
every backend and from every file format. :func:`engine_errors` turns what the engine raises
about a file or its memory into a clear :class:`~kamlib.errors.KamError`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.errors import InputError, KamError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

ENGINES = ("duckdb", "spark")
"""Engines the feature build runs on."""

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
        Where DuckDB spills; default a fresh ``kam-duckdb-*`` folder in the system temp
        directory, removed with the connection (when it is garbage-collected or the process
        exits). Under ``kam run`` the system temp directory is the run's own (``TMPDIR``), which
        the runner removes when the run ends, however it ends: a killed kernel leaves nothing.
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
    if not temp_directory:  # our own spill folder goes with the connection (a killed kernel's
        # cannot: kam run gives its kernels a temp folder of the run's, see runner.faults)
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

def materialise(con: BaseBackend, expr: ir.Table) -> ir.Table:
    """Compute ``expr`` once and keep the result in the engine (a temporary table).

    DuckDB keeps it in memory up to ``memory_limit`` and spills the rest to disk.
    """
    import uuid

    if con.name == "duckdb":
        return con.create_table(f"kam_lines_{uuid.uuid4().hex[:12]}", expr, temp=True)
    return expr.cache()  # pragma: no cover - Spark

PASS_SHARE = 0.35
"""Share of the memory budget DuckDB keeps while the checking pass groups the invoice lines
(:mod:`kamlib.intake.checking_pass`). Its groupings (by invoice, by account and product, ...)
grow with the ledger and DuckDB fills whatever limit it has before it spills them. Measured on
the benchmark's ledgers (10M lines, 3M invoices; 50M, 15M): at 10M the pass fits this share
(peak of the whole intake 0.96 GB against 1.12 GB at :data:`DUCKDB_SHARE`, CPU no higher);
at 50M it spills, at the same CPU time as with the larger share. A ledger whose groupings
need more spills them too, for a few seconds more CPU."""

RESULTS_SHARE = 0.25
"""Share of the memory budget DuckDB keeps while intake's further tables come back
(:func:`kamlib.intake.line_tables.line_tables`): their groupings spill beyond it, so that the
Arrow batches and pandas frames they become (about 1 GB at 50M lines) fit the rest."""


@contextlib.contextmanager
def memory_share(expr: ir.Table, share: float):
    """Within the block, DuckDB (if it runs ``expr``) keeps ``share`` of the memory budget
    instead of :data:`DUCKDB_SHARE`; its own limit is restored after."""
    backend = expr._find_backend(use_default=True)
    if backend.name != "duckdb":  # pragma: no cover - Spark
        yield
        return
    limit = backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    smaller = max(1, int(memory_bytes(limit) * share / DUCKDB_SHARE) // 10**6)
    backend.raw_sql(f"SET memory_limit = '{smaller}MB'")
    try:
        yield
    finally:
        backend.raw_sql(f"SET memory_limit = '{limit}'")


def arrow_batches(expr: ir.Table, rows: int = 1_000_000) -> Any:
    """The result of ``expr`` as a ``pyarrow.RecordBatchReader``, streamed from the engine in
    batches of about ``rows`` rows (nothing holds the whole result). On DuckDB it reads the
    query's result stream itself (Ibis 12's ``to_pyarrow_batches`` calls a method DuckDB 2.0
    no longer has); other engines use Ibis's."""
    backend = expr._find_backend(use_default=True)
    if backend.name != "duckdb":  # pragma: no cover - Spark
        return expr.to_pyarrow_batches(chunk_size=rows)
    backend._run_pre_execute_hooks(expr)  # registers the in-memory tables it reads
    return backend.con.sql(backend.compile(expr)).to_arrow_reader(rows)


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


@contextlib.contextmanager
def engine_errors(file: str | Path):
    """Turn the engine's errors about the file (bad bytes deep in a CSV, ragged lines, a broken
    Parquet file) or its memory into a :class:`KamError` (see
    :func:`wrap_engine_error`).

    Only errors raised by the engine's modules are translated, and of DuckDB's only those a
    file or the memory budget can cause; anything else is a bug and keeps its traceback.
    """
    try:
        yield
    except Exception as exc:
        module = type(exc).__module__ or ""
        if module.split(".")[0] in ("duckdb", "_duckdb", "pyspark", "py4j", "pyarrow"):
            wrapped = wrap_engine_error(exc, file)
            if wrapped is not None:
                raise wrapped from None
        raise
