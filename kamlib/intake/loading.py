"""Load every input table, check it against the data contract and account for every row.

:func:`load` does it for an engagement (``kam validate``, and the first half of
:func:`kamlib.intake.run`); :func:`load_inputs` for a plain mapping of contract table to file.
The small tables are read and checked in pandas (:mod:`kamlib.intake.tables`); the invoice
lines stay on the engine (:mod:`kamlib.intake.engine`, :mod:`kamlib.intake.ledger`) and are
checked in one pass (:mod:`kamlib.intake.checking_pass`). The result,
:class:`CheckedInputs`, holds the clean tables, the lines (lazily), and the row accounting
every later table and the data-quality report (:mod:`kamlib.intake.quality`) come from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kamlib.intake.engine as eng
import kamlib.intake.ledger as ledger
import kamlib.intake.quality as quality
from kamlib.errors import InputError, ParameterError
from kamlib.intake.accounting import (DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
                                      DEFAULT_MAX_SET_ASIDE_SHARE, RowAccount)
from kamlib.intake.checking_pass import TransactionCheck, check_transactions
from kamlib.intake.column_formats import detect_formats
from kamlib.intake.contract import PLAN_INPUTS, TABLES, Table
from kamlib.intake.engagement import table_formats, table_sheets
from kamlib.intake.formats import Recast, TableFormat
from kamlib.intake.line_checks import parse_as_of
from kamlib.intake.parsing import empty_dtype
from kamlib.intake.readers import file_kind, normalise_name, read_table
from kamlib.intake.tables import validate_table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SMALL_TABLES = ("accounts", "contacts", "assessments", "ahp_judgements", *PLAN_INPUTS)
"""The contract tables read into pandas (every table but the invoice lines), in reading order."""

CACHE_MAX_BYTES = 64 * 1024**2
"""Parquet sources up to this size (a few million lines) are checked once and kept in the
engine. Larger ones are re-scanned by each query: measured at 10M lines (171 MB), keeping them
took 1.9 GB of memory against 1.0 GB and made the account features slower, not faster."""


def source_bytes(path: str | Path) -> int:
    """Total size of a file, a folder of files or a glob."""
    path = Path(path)
    if any(ch in path.name for ch in "*?["):
        files = list(path.parent.glob(path.name))
    elif path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
    else:
        files = [path] if path.exists() else []
    return sum(p.stat().st_size for p in files)


@dataclass
class CheckedInputs:
    """Every input table loaded, checked and accounted for (see :func:`load`).

    Attributes
    ----------
    frames : dict of str to DataFrame
        Clean small tables (accounts, contacts, assessments, ahp_judgements and the optional
        plan inputs: opportunities, competitors, account_strategy, account_team), anonymised when
        asked; a table the engagement does not provide is an empty frame with contract columns.
    transactions : TransactionCheck
        The invoice lines, lazily on the engine (``transactions.lines`` are the used lines).
    accounts : list of RowAccount
        Row accounting per table, in contract order.
    set_aside : dict of str to DataFrame
        Set-aside rows of the small tables (transactions' are in ``transactions.set_aside``).
    files : dict of str to str
        The file each table came from.
    con : ibis backend
        The engine connection (keep it open while the lines are used).
    anonymised : bool
    engine : str
    """

    frames: dict[str, Any]
    transactions: TransactionCheck
    accounts: list[RowAccount]
    set_aside: dict[str, Any]
    files: dict[str, str]
    con: Any
    anonymised: bool = False
    engine: str = "duckdb"

    @property
    def as_of(self) -> dt.date:
        return self.transactions.as_of

    def data_quality(self) -> pd.DataFrame:
        """The ``data_quality`` table (one row per input table)."""
        return quality.data_quality(self.accounts)

    def to_text(self) -> str:
        """The data-quality report as text (``kam validate`` prints it)."""
        head = (f"Data quality (as_of {self.as_of.isoformat()}, engine {self.engine}"
                f"{', anonymised' if self.anonymised else ''}):")
        ok = all(a.balanced for a in self.accounts)
        tail = "Every row is accounted for." if ok else "ROW ACCOUNTING DOES NOT BALANCE."
        currency = self.transactions.summary.get("currency") or ""
        return "\n".join([head, quality.summary_text(self.accounts, currency), tail])

    def set_aside_table(self) -> pd.DataFrame:
        """The ``set_aside`` table (see :func:`kamlib.intake.quality.set_aside_table`)."""
        tx = self.transactions
        return quality.set_aside_table(self.set_aside, tx.set_aside, tx.account.rows_set_aside)

    def write_set_aside(self, folder: str | Path) -> pd.DataFrame:
        """Write ``<folder>/<table>.csv`` for each table with set-aside rows.

        Returns
        -------
        pandas.DataFrame
            The ``set_aside`` table (:meth:`set_aside_table`).
        """
        tx = self.transactions
        quality.write_set_aside(self.set_aside, tx.set_aside, tx.account.rows_set_aside, folder)
        return self.set_aside_table()


def _empty_table(table: Table) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series([], dtype=empty_dtype(c)) for c in table.columns})


def load_inputs(
    inputs: dict[str, str | Path | None],
    *,
    as_of: str = "",
    max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
    max_set_aside_revenue_share: float = DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
    anonymise: bool = False,
    key: str = "",
    engine: str = "duckdb",
    memory_limit: str = "2GB",
    today: dt.date | None = None,
    con: Any = None,
    cache: bool | None = None,
    formats: dict[str, TableFormat] | None = None,
    sheets: dict[str, int | str] | None = None,
    currency: str | None = "EUR",
    edited: Mapping[str, pd.DataFrame] | None = None,
) -> CheckedInputs:
    """Load and check every contract table; the invoice lines stay on the engine.

    Parameters
    ----------
    inputs : dict of str to path
        File per contract table; ``accounts`` and ``transactions`` are needed, tables the
        contract marks required (contacts, assessments) must be given too, others may be None.
    as_of : str
        ``"YYYY-MM-DD"``, or ``""`` for the last valid invoice date.
    max_set_aside_share : float
        Largest share of any table's rows that may be set aside (default 0.05).
    max_set_aside_revenue_share : float
        Largest share of the invoice lines' revenue that may be set aside (default 0.01;
        see :func:`kamlib.intake.accounting.check_revenue_share`).
    anonymise : bool
        Replace names by stable pseudonyms (see :mod:`kamlib.intake.anonymise`), keyed by ``key``.
    key : str
        The engagement name (the anonymisation key).
    engine, memory_limit : str
        See :func:`kamlib.intake.engine.connect`.
    today : date, optional
        Dates after it are in the future (default: the run date).
    con : ibis backend, optional
        Reuse an open connection instead of opening one.
    edited : mapping of str to DataFrame, optional
        Plan-input tables (:data:`~kamlib.intake.contract.PLAN_INPUTS`) the account team edited
        in the previous run's plan workbook, as read from its sheets (``attrs["source"]`` names
        the sheet). Each one replaces the engagement's file of that table and is checked the
        same way.
    cache : bool, optional
        Store the checked invoice lines in the engine once instead of re-checking the file for
        every query (about 3x faster for the sample); default: always for text (CSV, Excel:
        parsing is what costs, and DuckDB spills what does not fit in memory), for Parquet when
        the source is at most :data:`CACHE_MAX_BYTES` (a large Parquet ledger is re-scanned,
        which is cheaper than copying it).
    formats : dict of str to TableFormat, optional
        Per table, the regional format engagement.yml sets (``format:``; see
        :mod:`kamlib.intake.formats`); where it sets none, each column's is detected.
    sheets : dict of str to int or str, optional
        Per table, the Excel sheet to read (``sheet:``: a name or a 0-based index); default
        the sheet that holds the table's columns.
    currency : str, optional
        The engagement's currency: amount cells may carry its sign or code (``€ 12``,
        ``12 EUR``); a cell naming another currency sets its line aside.

    Returns
    -------
    CheckedInputs

    Raises
    ------
    InputError
        Any file that breaks the contract (see :mod:`kamlib.intake.tables` and
        :mod:`kamlib.intake.checking_pass`).
    """
    today = today or dt.date.today()
    parse_as_of(as_of)
    for name, value in (("max_set_aside_share", max_set_aside_share),
                        ("max_set_aside_revenue_share", max_set_aside_revenue_share)):
        if not 0 <= float(value) <= 1:
            raise ParameterError(f"{name} must lie between 0 and 1, not {value}.")
    for name, table in TABLES.items():
        if table.required and not inputs.get(name):
            raise InputError(
                f"engagement.yml (inputs: {name})", f"no file is given for the {name} table.",
                f"Add '{name}: <file>' under inputs: in engagement.yml; 'kam new' writes an empty "
                f"template of every table.")
    formats, sheets = formats or {}, sheets or {}
    frames, set_aside, accounts, files = _small_tables(inputs, today, max_set_aside_share,
                                                       edited or {}, formats, sheets, currency)
    known = frames["accounts"]["account_id"]
    if anonymise:
        from kamlib.intake.anonymise import Pseudonymiser, anonymise_tables

        pseudo = Pseudonymiser(key)
        frames = anonymise_tables(frames, key, pseudo)
        set_aside = anonymise_tables(set_aside, key, pseudo)
    path = inputs["transactions"]
    files["transactions"] = str(path)
    con = con or eng.connect(engine, memory_limit=memory_limit)
    tx = _invoice_lines(con, path, known, set_aside.get("accounts"),
                        as_of=as_of, today=today, max_set_aside_share=max_set_aside_share,
                        max_set_aside_revenue_share=max_set_aside_revenue_share, cache=cache,
                        table_format=formats.get("transactions"), currency=currency,
                        sheet=sheets.get("transactions"))
    with eng.engine_errors(path):
        buyers = tx.summary["accounts_buying"]
    no_purchase = len(frames["accounts"]) - buyers
    accounts[0].notes.append(f"{no_purchase} accounts without purchases up to as_of kept")
    accounts.insert(1, tx.account)
    return CheckedInputs(frames=frames, transactions=tx, accounts=accounts, set_aside=set_aside,
                         files=files, con=con, anonymised=bool(anonymise), engine=engine)


def _small_tables(inputs: dict[str, str | Path | None], today: dt.date,
                  max_set_aside_share: float, edited: Mapping[str, pd.DataFrame],
                  formats: dict[str, TableFormat], sheets: dict[str, int | str],
                  currency: str | None) -> tuple[dict, dict, list[RowAccount], dict]:
    """Read and check the small tables: clean frames, set-aside rows, row accounts and files
    (an ``edited`` plan input replaces the engagement's file of its table)."""
    frames: dict[str, Any] = {}
    set_aside: dict[str, Any] = {}
    accounts: list[RowAccount] = []
    files: dict[str, str] = {}
    known = None
    for name in SMALL_TABLES:
        path = inputs.get(name)
        if name in edited and name in PLAN_INPUTS:
            raw = _edited_sheet(edited[name])
            path = raw.attrs.get("source") or f"plan workbook, sheet {name}"
        elif not path:
            frames[name] = _empty_table(TABLES[name])
            continue
        else:
            raw = read_table(path, sheet=sheets.get(name),
                             expected=TABLES[name].required_columns)
        files[name] = str(path)
        if raw.empty and TABLES[name].required:
            raise InputError(str(path), "the file has a header but no rows.",
                             f"Export the {name} table with its rows; see docs/data_contract.md.")
        checked = validate_table(raw, name, path, known_accounts=known, today=today,
                                 max_set_aside_share=max_set_aside_share,
                                 table_format=formats.get(name), currency=currency)
        frames[name], set_aside[name] = checked.frame, checked.set_aside
        accounts.append(checked.account)
        if name == "accounts":
            known = checked.frame["account_id"]
    return frames, set_aside, accounts, files


def _edited_sheet(sheet: pd.DataFrame) -> pd.DataFrame:
    """A sheet of the plan workbook as a reader gives a file: headers normalised, values raw
    (text stays text; the checks parse it by the contract)."""
    raw = sheet.rename(columns=lambda c: normalise_name(str(c)))
    raw.attrs = dict(sheet.attrs)
    return raw


def _invoice_lines(con: Any, path: str | Path, known: pd.Series, aside_accounts: Any, *,
                   as_of: str, today: dt.date, max_set_aside_share: float,
                   max_set_aside_revenue_share: float, cache: bool | None,
                   table_format: TableFormat | None = None, currency: str | None = "EUR",
                   sheet: int | str | None = None) -> TransactionCheck:
    """Register the invoice lines with the engine, decide their columns' regional formats,
    cast them and run the checking pass (casting again if the pass shows a column's format
    differs from what its first lines showed)."""
    raw = ledger.read_transactions(con, path, sheet=sheet)
    present = ledger.present_columns(raw)
    remote = "://" in str(path)  # a data lake's Parquet, read by Spark
    local_parquet = not remote and file_kind(ledger.source_files(path)[0]) == "parquet"
    # Parquet holds typed values: no whitespace stripping (see cast_transactions), and its
    # statistics tell which text columns have no empty value and whether there is one currency
    ranges = ledger.text_ranges(raw) if local_parquet and con.name == "duckdb" else {}
    never_empty = [c for c, (lo, _) in ranges.items() if lo is not None and lo != ""]
    with eng.engine_errors(path):
        formats = detect_formats(raw, table_format, str(path), currency)
    if cache is None:  # text is parsed once whatever its size (DuckDB spills what does not fit)
        cache = not remote and (not local_parquet or source_bytes(path) <= CACHE_MAX_BYTES)
    store = (lambda expr: eng.materialise(con, expr)) if cache else None
    numeric_ids = [c for c in ("account_id", "invoice_id", "product_id")
                   if c in raw.columns and raw[c].type().is_numeric()]
    aside_ids = (aside_accounts["account_id"].astype("string").str.strip().dropna().tolist()
                 if aside_accounts is not None and "account_id" in getattr(aside_accounts, "columns", [])
                 else None)
    try:
        for attempt in range(2):
            typed = ledger.cast_transactions(raw, trim=not (remote or local_parquet),
                                             never_empty=never_empty, formats=formats)
            try:
                with eng.engine_errors(path):
                    tx = check_transactions(
                        typed, file=path, present=present, account_ids=known,
                        aside_account_ids=aside_ids, as_of=as_of, today=today,
                        max_set_aside_share=max_set_aside_share,
                        max_set_aside_revenue_share=max_set_aside_revenue_share,
                        materialise=store, currency_range=ranges.get("currency"),
                        formats=formats)
                break
            except Recast as change:  # the first lines held whole numbers only: cast again
                if attempt:
                    raise RuntimeError("the number formats changed twice") from None
                formats.numbers.update(change.numbers)
                formats.provisional.difference_update(change.numbers)
    except InputError as exc:
        if exc.column == "account_id" and "account_id" in numeric_ids:
            raise InputError(
                exc.file, exc.problem.rstrip(".") + "; the file stores account_id as numbers, so "
                "ids with leading zeros no longer match ('001' became '1').",
                "Export account_id as text (a string column in Parquet).",
                column=exc.column, rows=exc.rows) from None
        raise
    if numeric_ids:
        tx.account.notes.append(
            f"{', '.join(numeric_ids)} stored as numbers in the file: leading zeros, if the ids had "
            "any, were lost before the export (export ids as text)")
    return tx


def load(engagement: Any, *, as_of: str = "",
         max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
         max_set_aside_revenue_share: float = DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
         anonymise: bool = False, engine: str = "", memory_limit: str = "",
         edited: Mapping[str, pd.DataFrame] | None = None) -> CheckedInputs:
    """:func:`load_inputs` for an engagement: check its inputs (``kam validate``).

    Parameters
    ----------
    engagement : kamlib.intake.engagement.Engagement
        Its ``inputs`` name the files; its name keys the anonymisation. Its ``engagement.yml``
        may choose the engine (``engine: spark`` with a ``spark:`` block, or a ``duckdb:``
        block with ``memory_limit``, ``threads``, ``temp_directory``; see docs/scale.md).
    as_of, max_set_aside_share, max_set_aside_revenue_share, anonymise, edited :
        As :func:`load_inputs`.
    engine, memory_limit : str
        Override engagement.yml when not empty (default there: DuckDB with a 2GB budget).
    """
    settings = eng.engine_settings(engagement, engine=engine, memory_limit=memory_limit)
    con = eng.connect(**settings)
    where = (f"DuckDB in this process, memory budget {settings['memory_limit']}"
             if settings["engine"] == "duckdb" else f"Spark ({con._session.sparkContext.master})")
    print(f"Checking the inputs of '{engagement.name}' on {where}.", flush=True)
    inputs = {name: engagement.input_path(name) for name in TABLES}
    result = load_inputs(inputs, as_of=as_of, max_set_aside_share=max_set_aside_share,
                         max_set_aside_revenue_share=max_set_aside_revenue_share,
                         anonymise=anonymise, key=engagement.name, engine=settings["engine"],
                         memory_limit=settings["memory_limit"], con=con, edited=edited,
                         formats=table_formats(engagement), sheets=table_sheets(engagement),
                         currency=getattr(engagement, "currency", None) or "EUR")
    folder = Path(engagement.folder).resolve()
    for account in result.accounts:  # the report names files as engagement.yml does
        if account.table in (edited or {}):
            continue
        path = Path(account.file).resolve()
        if path.is_relative_to(folder):
            account.file = path.relative_to(folder).as_posix()
    return result
