"""Check each input table against the data contract, and account for every row.

Three kinds of problem, three outcomes:

* **The file is wrong** (a required column is missing, a whole column has the wrong type):
  :class:`~kamlib.errors.InputError` naming file, column, first rows and the fix.
* **A row is wrong** (a date that does not parse or lies in the future, a duplicate id, a value
  out of range, an invoice line for an account we do not know, a duplicated invoice line): the
  row is *set aside* with its reason and written to ``set_aside/<table>.csv``, unless more than
  ``max_set_aside_share`` of the table would be set aside -- then the export itself is broken
  and we stop with an :class:`InputError` rather than quietly analysing what is left.
* **It is data, not an error** (returns and credit notes, zero-value lines, accounts that never
  bought): kept, and counted in the notes of the data-quality report.

Every table gets a :class:`RowAccount`: rows read = rows used + rows set aside, with the count
of each reason. Small tables are checked in pandas (:func:`validate_table`); invoice lines are
checked with Ibis expressions on the engine (:func:`check_transactions`), so they never have to
fit in memory.

Reasons are written ``"<column>: <problem>"``. Two reasons are policy, not error, and do not
count toward ``max_set_aside_share``: ``"(row): blank"`` (an empty line) and
``"date: after as_of"`` (lines later than a chosen ``as_of``, kept out of the analysis).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.intake.contract import SELECTION_CRITERIA, TABLES, TRANSACTIONS, Column, Table
from kamlib.errors import InputError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

BLANK = "(row): blank"
AFTER_AS_OF = "date: after as_of"
POLICY_REASONS = frozenset({BLANK, AFTER_AS_OF})
"""Reasons that set a row aside on purpose; they never count as errors."""

NO_FUTURE = {("accounts", "relationship_start"), ("contacts", "last_contact"),
             ("transactions", "date")}
"""Date columns that cannot lie after the run date (contract ends may, so they are not here)."""

DEFAULT_MAX_SET_ASIDE_SHARE = 0.05

_TYPE_WORDS = {"int": "whole number", "float": "number", "date": "date (YYYY-MM-DD)",
               "bool": "true/false value", "list": "list", "str": "text"}

_FIXES = {
    "missing": "fill in the value in the export, or remove the rows",
    "not a": "correct the values in the export (dates as YYYY-MM-DD, numbers with '.' as "
             "decimal point and no thousands separator)",
    "in the future": "correct the dates (a typo in the year is the usual cause)",
    "duplicate": "export each row once (check the export's filters and joins)",
    "account set aside": "correct the account's row in the accounts table (its reason is in "
                         "set_aside/accounts.csv); its invoice lines then count again",
    "unknown account": "add the accounts to the accounts table, or check that the ids are "
                       "written the same way in both files (leading zeros, prefixes)",
    "out of range": "correct the values to the range the contract gives",
    "not one of": "use one of the allowed values listed in docs/data_contract.md",
    "unknown criterion": "use the criterion keys listed in docs/data_contract.md",
}


ACCOUNT_SET_ASIDE = "account_id: account set aside in the accounts table"
"""Reason for invoice lines of an account whose own row was set aside (not an unknown id)."""


def reason_column(reason: str) -> str:
    """The column a reason is about (``"date: not a date"`` -> ``"date"``)."""
    return reason.split(":", 1)[0]


@dataclass
class RowAccount:
    """Where every row of one input table went.

    Attributes
    ----------
    table, file : str
        Contract table name and the file it came from.
    rows_read, rows_used : int
        Data rows in the file, and rows kept for the analysis.
    reasons : dict[str, int]
        Rows set aside, by reason (``"<column>: <problem>"``).
    notes : list[str]
        Things that are data, not errors, counted (returns, zero lines, ...).
    first_rows : dict[str, list[int]]
        The first few row numbers set aside for each reason (1 = first data row).
    """

    table: str
    file: str
    rows_read: int
    rows_used: int
    reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    first_rows: dict[str, list[int]] = field(default_factory=dict)

    @property
    def rows_set_aside(self) -> int:
        return sum(self.reasons.values())

    @property
    def error_rows(self) -> int:
        """Rows set aside for a real problem (not blank lines or lines after as_of)."""
        return sum(n for r, n in self.reasons.items() if r not in POLICY_REASONS)

    @property
    def balanced(self) -> bool:
        """rows read = rows used + rows set aside."""
        return self.rows_read == self.rows_used + self.rows_set_aside

    def as_row(self) -> dict[str, Any]:
        """One row of the ``data_quality`` table."""
        return {
            "table": self.table,
            "file": self.file,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_set_aside": self.rows_set_aside,
            "set_aside_reasons": "; ".join(f"{r} ({n})" for r, n in sorted(self.reasons.items())),
            "notes": "; ".join(self.notes),
        }


def check_share(account: RowAccount, max_share: float) -> None:
    """Stop when more than ``max_share`` of a table's rows would be set aside for errors.

    Raises
    ------
    InputError
        Naming the most common reason, its column and first rows, and the fix.
    """
    if not 0 <= max_share <= 1:
        raise ParameterError(f"max_set_aside_share must lie between 0 and 1, not {max_share}.")
    if account.rows_read == 0 or account.error_rows <= max_share * account.rows_read:
        return
    errors = {r: n for r, n in account.reasons.items() if r not in POLICY_REASONS}
    top = max(sorted(errors), key=lambda r: errors[r])
    fix = next((f for key, f in _FIXES.items() if key in top.split(":", 1)[1]), "correct the rows")
    others = "; ".join(f"{r} ({n})" for r, n in sorted(errors.items()) if r != top)
    raise InputError(
        account.file,
        f"{account.error_rows} of {account.rows_read} rows "
        f"({_pct(account.error_rows / account.rows_read)}) would be set aside, more than "
        f"max_set_aside_share={max_share:g} allows; the most common problem is "
        f"'{top.split(': ', 1)[1]}' ({_rows(errors[top])})" + (f"; also {others}." if others else "."),
        f"{fix[0].upper()}{fix[1:]}; or, if losing these rows is acceptable, raise the "
        "max_set_aside_share parameter.",
        column=reason_column(top),
        rows=account.first_rows.get(top, []),
    )


def _pct(share: float) -> str:
    return f"{share:.1%}" if share >= 0.001 or share == 0 else f"{share:.3%}"


def _rows(n: int) -> str:
    return f"{n} row{'' if n == 1 else 's'}"


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


# Day-first and month-first layouts clients export dates in; tried only when no value of a
# column is ISO, and used only when exactly one layout reads (nearly) every value.
_DATE_LAYOUTS: dict[str, str] = {
    "%d/%m/%Y": "DD/MM/YYYY", "%m/%d/%Y": "MM/DD/YYYY", "%d.%m.%Y": "DD.MM.YYYY",
    "%d-%m-%Y": "DD-MM-YYYY", "%m-%d-%Y": "MM-DD-YYYY",
}


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


def read_non_iso_dates(raw: pd.Series, min_share: float = 0.95) -> tuple[pd.Series | None, str]:
    """Rewrite a column of DD/MM/YYYY-style dates as ISO text, when the layout is unambiguous.

    Returns ``(None, "")`` when some value is already ISO, when no layout reads at least
    ``min_share`` of the values, or when two layouts do (``03/04/2025`` could be March or April:
    guessing would move dates silently). Values the chosen layout cannot read stay as they were,
    so they are set aside as "not a date" like any other bad cell.
    """
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return None, ""
    text = _text(raw)
    present = text.notna()
    if not present.any():
        return None, ""
    if pd.to_datetime(text[present], errors="coerce", format="ISO8601").notna().any():
        return None, ""
    fits = {}
    for fmt, label in _DATE_LAYOUTS.items():
        parsed = pd.to_datetime(text[present], errors="coerce", format=fmt)
        if parsed.notna().mean() >= min_share:
            fits[label] = parsed
    if len(fits) != 1:
        return None, ""
    label, parsed = next(iter(fits.items()))
    out = text.astype(object).copy()
    good = parsed.notna()
    out.loc[good[good].index] = parsed[good].dt.strftime("%Y-%m-%d")
    return out, label


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

    text = _text(raw)
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


# ---------------------------------------------------------------------------------- parsing
def _text(s: pd.Series) -> pd.Series:
    """Values as trimmed text; empty -> missing; whole floats without '.0' (Parquet ids)."""
    import pandas as pd

    if pd.api.types.is_float_dtype(s.dtype):
        s = s.map(lambda v: None if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v)))
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = s.dt.strftime("%Y-%m-%d")
    out = s.astype("string").str.strip()
    return out.mask(out == "")


def _to_float(text: pd.Series) -> pd.Series:
    """Numbers, also written as fractions ("1/3": AHP judgements are often typed that way)."""
    import pandas as pd

    values = pd.to_numeric(text, errors="coerce")
    frac = text.str.fullmatch(r"\s*-?\d+(\.\d+)?\s*/\s*\d+(\.\d+)?\s*").fillna(False).astype(bool)
    if frac.any():
        parts = text[frac].str.split("/", n=1, expand=True).astype(float)
        values = values.copy()
        values.loc[frac] = (parts[0] / parts[1]).where(parts[1] != 0)
    return values.astype("float64")


def parse_column(raw: pd.Series, col: Column) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse one column by its contract type.

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
        text = _text(raw)
        present = text.notna()
        if col.type == "str":
            values = text
            bad = pd.Series(False, index=raw.index)
            if col.allowed:
                lowered = text.str.lower()
                bad = present & ~lowered.isin(col.allowed)
                values = lowered
        elif col.type in ("int", "float"):
            values = _to_float(text)
            bad = present & values.isna()
        elif col.type == "date":
            values = pd.to_datetime(text, errors="coerce", format="ISO8601")
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_localize(None)
            values = values.dt.normalize().astype("datetime64[us]")
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


# --------------------------------------------------------------------------- small tables
@dataclass
class Validated:
    """A clean table, its row account and the rows set aside."""

    frame: pd.DataFrame
    account: RowAccount
    set_aside: pd.DataFrame


def blank_rows(raw: pd.DataFrame) -> pd.Series:
    """True for rows with nothing in any column (missing, or only whitespace).

    Columns are tested one after the other on the rows still blank so far: the first filled
    column (an id, as a rule) rules out nearly every row, so the rest cost almost nothing.
    """
    import numpy as np
    import pandas as pd

    blank = np.ones(len(raw), dtype=bool)
    for c in raw.columns:
        if not blank.any():
            break
        rows = np.flatnonzero(blank)
        col = raw[c].iloc[rows]
        empty = col.isna().to_numpy(dtype=bool, copy=True)
        if pd.api.types.is_string_dtype(col.dtype) and col.dtype != object:
            text = ~empty
        elif col.dtype == object:
            text = ~empty & col.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        else:  # numbers, dates: a value is never blank
            text = np.zeros(len(col), dtype=bool)
        if text.any():
            empty[text] = col[text].astype("str").str.strip().eq("").to_numpy(dtype=bool)
        blank[rows] = empty
    return pd.Series(blank, index=raw.index)


def validate_table(
    raw: pd.DataFrame,
    table: Table | str,
    file: str | Path,
    *,
    known_accounts: pd.Index | list[str] | set[str] | None = None,
    today: dt.date | None = None,
    max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
) -> Validated:
    """Check a small table (accounts, contacts, assessments, AHP judgements).

    Parameters
    ----------
    raw : pandas.DataFrame
        From :func:`kamlib.intake.readers.read_table` (normalised headers, raw values).
    table : Table or str
        The contract table.
    file : str or Path
        Where the table came from (for messages and the report).
    known_accounts : collection of str, optional
        Valid account ids; rows of other tables that name another account are set aside.
    today : datetime.date, optional
        Dates after it are "in the future" (default: the run date).
    max_set_aside_share : float
        Largest share of rows that may be set aside before the table counts as broken.

    Returns
    -------
    Validated
        ``frame`` has exactly the contract columns (missing optional ones all-missing), in
        contract order, with parsed types; ``set_aside`` has ``row``, ``reason`` and the raw
        columns of each set-aside row.

    Raises
    ------
    InputError
        Missing required column, a whole column of the wrong type, too many rows set aside.
    """
    import pandas as pd

    table = TABLES[table] if isinstance(table, str) else table
    file = str(file)
    today = today or dt.date.today()
    check_columns(list(raw.columns), table, file)
    n = len(raw)
    rows = pd.RangeIndex(1, n + 1)
    reason = pd.Series(pd.NA, index=raw.index, dtype="object")

    def flag(mask: pd.Series, text: str) -> None:
        nonlocal reason
        reason = reason.mask(reason.isna() & mask.to_numpy(dtype=bool), text)

    flag(blank := blank_rows(raw), BLANK)
    clean: dict[str, pd.Series] = {}
    notes: list[str] = []
    for col in table.columns:
        if col.name not in raw.columns:
            clean[col.name] = pd.Series(None, index=raw.index, dtype=_empty_dtype(col))
            continue
        source = raw[col.name]
        if col.type == "date":
            rewritten, layout = read_non_iso_dates(source[~blank])
            if rewritten is not None:
                source = source.astype(object).copy()
                source.loc[rewritten.index] = rewritten
                notes.append(f"{col.name} read as {layout} (no value was YYYY-MM-DD, and only "
                             f"{layout} reads them all)")
        if col.type == "list" and col.allowed and col.name == "dmu_roles":
            source, role_notes = known_list_items(source, col.allowed, ROLE_SYNONYMS)
            notes.extend(role_notes)
        values, bad, present = parse_column(source, col)
        considered = ~blank
        if (present & considered).any() and not (present & considered & ~bad).any() and col.type != "str" and not col.allowed:
            bad_rows = list(rows[(bad & considered).to_numpy()])
            examples = ", ".join(repr(str(v)) for v in raw[col.name][bad & considered].head(3))
            raise InputError(
                file,
                f"no value in this column is a {_TYPE_WORDS[col.type]} (e.g. {examples}).",
                f"Check that the right column is exported as '{col.name}'"
                + (" and " + date_fix([str(v) for v in raw[col.name][bad & considered].head(5)])
                   if col.type == "date"
                   else " and write numbers with '.' as decimal point, without thousands separators."
                   if col.type in ("int", "float") else "."),
                column=col.name,
                rows=bad_rows,
            )
        if col.required:
            flag(~present, f"{col.name}: missing")
        word = "not one of " + "/".join(col.allowed) if col.allowed else f"not a {_TYPE_WORDS[col.type]}"
        problems = [(bad, word)]
        if col.type in ("int", "float"):
            low = values.astype("float64") < (col.minimum - 1e-3 if col.minimum is not None else float("-inf"))
            high = values.astype("float64") > (col.maximum + 1e-3 if col.maximum is not None else float("inf"))
            problems.append(((low | high).fillna(False).astype(bool), "out of range" + _range_text(col)))
        if col.type == "date" and (table.name, col.name) in NO_FUTURE:
            problems.append(((values > pd.Timestamp(today)).fillna(False).astype(bool), "in the future"))
        if table.name == "accounts" and not col.required:
            # An account row carries every invoice line of the account: setting it aside for a
            # typo in an optional cell (a wallet of '1.200.000') would drop the account and its
            # revenue from the analysis. The cell is left empty instead, and the notes say where.
            for mask, what in problems:
                hit = (mask & considered).to_numpy(dtype=bool)
                if hit.any():
                    shown = ", ".join(f"row {r}: {v!r}" for r, v in
                                      zip(list(rows[hit])[:3], raw[col.name][hit].astype(str).head(3)))
                    more = " ..." if hit.sum() > 3 else ""
                    notes.append(f"{col.name}: {int(hit.sum())} value(s) {what} left empty, the "
                                 f"account kept ({shown}{more})")
                    values = values.mask(pd.Series(hit, index=values.index))
        else:
            for mask, what in problems:
                flag(mask, f"{col.name}: {what}")
        clean[col.name] = values
    if table.name == "ahp_judgements":
        for c in ("criterion_a", "criterion_b"):
            clean[c] = clean[c].str.lower()
            flag(clean[c].notna() & ~clean[c].isin(SELECTION_CRITERIA), f"{c}: unknown criterion")
        flag((clean["criterion_a"] == clean["criterion_b"]).fillna(False), "criterion_b: same as criterion_a")
    if known_accounts is not None and "account_id" in clean and table.name != "accounts":
        # a hash lookup: pandas' isin on Arrow strings builds a Python object per known id
        known = pd.Index(pd.unique(pd.Series(known_accounts).dropna()))
        found = pd.Series(known.get_indexer(clean["account_id"]) >= 0, index=clean["account_id"].index)
        flag(clean["account_id"].notna() & ~found, "account_id: unknown account")
    if table.key:
        key = pd.DataFrame({k: clean[k] for k in table.key})
        ok = reason.isna()
        dup = pd.Series(False, index=raw.index)
        dup[ok] = key[ok].duplicated(keep="first")
        flag(dup, f"{'+'.join(table.key)}: duplicate")

    frame = pd.DataFrame(clean)[table.column_names]
    used = reason.isna().to_numpy()
    aside = raw.loc[~used].copy()
    aside.insert(0, "reason", reason[~used].astype("str"))
    aside.insert(0, "row", rows[~used])
    counts = reason[~used].value_counts().sort_index()
    account = RowAccount(
        table=table.name, file=file, rows_read=n, rows_used=int(used.sum()),
        reasons={str(k): int(v) for k, v in counts.items()},
        first_rows={str(r): list(aside.loc[aside["reason"] == r, "row"].head(5)) for r in counts.index},
    )
    header_at = int(raw.attrs.get("header_row", 1))
    if header_at > 1:
        notes.insert(0, f"header found on row {header_at} of the sheet; the {header_at - 1} "
                        f"title row(s) above it were skipped")
    account.notes.extend(notes)
    extra = [c for c in raw.columns if c not in table.column_names]
    if extra:
        account.notes.append(f"columns not in the contract, ignored: {', '.join(extra)}")
    check_share(account, max_set_aside_share)
    frame = frame.loc[used].reset_index(drop=True)
    return Validated(frame, account, aside.reset_index(drop=True))


def _range_text(col: Column) -> str:
    lo = "" if col.minimum is None else f"{col.minimum:g}"
    hi = "" if col.maximum is None else f"{col.maximum:g}"
    if lo and hi:
        return f" ({lo} to {hi})"
    return f" (at least {lo})" if lo else f" (at most {hi})"


def _empty_dtype(col: Column) -> str:
    return {"int": "Int64", "float": "float64", "date": "datetime64[us]", "bool": "boolean"}.get(col.type, "string")


# -------------------------------------------------------------------------- invoice lines
@dataclass
class TransactionCheck:
    """Invoice lines after the row checks.

    Attributes
    ----------
    lines : ibis.expr.types.Table
        Used lines: fixed schema, dated on or before ``as_of`` (lazy; nothing in memory).
    set_aside : ibis.expr.types.Table
        Set-aside lines with ``_row``, ``reason`` and the raw values.
    account : RowAccount
    as_of : datetime.date
    has_sites : bool
        Whether the file carries ``site_id``.
    summary : dict
        Counts for the report (returns, zero lines, currencies, dates).
    aggregates : pandas.DataFrame, optional
        :func:`kamlib.intake.features.account_aggregates` of ``lines`` at ``as_of``, one row per account
        with a used line: computed by the checking pass, so the feature build need not read the
        lines again (see :func:`kamlib.intake.features.account_features`).
    """

    lines: Any
    set_aside: Any
    account: RowAccount
    as_of: dt.date
    has_sites: bool
    summary: dict[str, Any]
    aggregates: Any = None


def parse_as_of(as_of: str | dt.date | None) -> dt.date | None:
    """``""`` or None -> None (use the data); ``"YYYY-MM-DD"`` -> a date; else ParameterError."""
    if as_of in (None, ""):
        return None
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise ParameterError(
            f"as_of must be a date written YYYY-MM-DD, or \"\" for the last valid invoice date; "
            f"got {as_of!r}."
        ) from None


def duplicate_key(present: list[str]) -> list[str]:
    """Columns that identify an invoice line: invoice_id + line_no, else every column given."""
    return ["invoice_id", "line_no"] if "line_no" in present else [
        c for c in TRANSACTIONS.column_names if c in present]


def window_duplicate_flag(t: ir.Table, present: list[str]) -> ir.Table:
    """Add ``_dup`` on an engine whose readers do not number lines (Spark reads files in
    parallel, with no line order): of the lines sharing a key, every one but the first in the
    order of all its values, by a window (Spark runs it as a partitioned sort).

    Where lines carry their file order (DuckDB), :func:`check_transactions` proves there are no
    duplicates in its pass instead, and only if that fails finds them by aggregation
    (:func:`duplicate_keys`) and flags them (:func:`flag_duplicates`): the copy kept is then the
    first in the file.
    """
    import ibis

    order = [t["_row"], *[t[c] for c in TRANSACTIONS.column_names if c in present]]
    rank = ibis.row_number().over(group_by=[t[c] for c in duplicate_key(present)], order_by=order)
    return t.mutate(_dup=rank > 0)


def duplicate_keys(t: ir.Table, present: list[str]) -> Any:
    """The keys (:func:`duplicate_key`) held by more than one line, with the first row holding
    each (``_keep``), as a small Arrow table; None if there are none. Two reads of the lines:
    keys whose hash repeats, then the exact keys among the candidate lines."""
    import ibis

    key = duplicate_key(present)
    h = key_hash(t, present)
    candidates = t.group_by(_h=h).aggregate(_n=t.count()).filter(lambda x: x._n > 1).select("_h")
    cand = candidates.to_pyarrow()
    if cand.num_rows == 0:
        return None
    sub = t.mutate(_h=h)
    sub = sub.filter(sub._h.isin(ibis.memtable(cand)._h))
    dups = (sub.group_by(key).aggregate(_n=sub.count(), _keep=sub._row.min())
            .filter(lambda x: x._n > 1).drop("_n").to_pyarrow())
    return dups if dups.num_rows else None


def flag_duplicates(t: ir.Table, dups: Any, present: list[str]) -> ir.Table:
    """Add ``_dup`` from :func:`duplicate_keys`: the line holds a repeated key after its first row."""
    import ibis

    key = duplicate_key(present)
    d = ibis.memtable(dups).rename({f"_k_{c}": c for c in key})
    joined = t.left_join(d, [t[c].identical_to(d[f"_k_{c}"]) for c in key])
    return joined.mutate(_dup=(joined._keep.notnull() & (joined._row > joined._keep)).fill_null(False)).drop(
        "_keep", *[f"_k_{c}" for c in key])


ACCOUNT_KEY = "_acc"
"""Column of the checked lines holding the account's integer key (its position among the known
accounts; null for an unknown or missing account). Grouping by it instead of the text
``account_id`` makes every per-account aggregation over the lines cheaper."""


def with_account_key(t: ir.Table, known_accounts: ir.Table) -> ir.Table:
    """Add :data:`ACCOUNT_KEY` to every line by one join with the known accounts.

    The unknown-account check needs that lookup anyway (it used to be an ``IN`` test); as a
    left join it also hands every line an integer key, which the feature build groups by
    instead of the text id. ``known_accounts`` has ``account_id`` (unique) and the key.
    """
    k = known_accounts.rename(_k_account="account_id")
    j = t.left_join(k, t.account_id == k._k_account)
    return j.select(*[j[c] for c in t.columns], j[ACCOUNT_KEY])


def line_checks(t: ir.Table, today: dt.date, present: list[str]) -> list[tuple[Any, str]]:
    """The checks an invoice line must pass on its own values, as ``(condition, reason)`` pairs.

    A line is set aside for the first condition that holds (a null condition does not hold);
    these come first, then those of :func:`context_checks` (see :func:`transaction_checks`).
    """
    import ibis

    from kamlib.intake.features import EXACT_LIMIT, within_limit

    def bad(c: str):  # None where the column needs no parsing (typed in the file): no check
        return t[f"_bad_{c}"] if f"_bad_{c}" in t.columns else None

    def too_large(c: str, where=True):
        # margin only counts where there is no cost: it is computed from cost otherwise
        return (where & ~within_limit(t[c]),
                f"{c}: {EXACT_LIMIT:,.0f} or more in size (no real invoice line is)")

    no_margin = t.cost.isnull() & t.margin.isnull()
    money_col = "cost" if "cost" in present else "margin"
    checks = [
        (t.account_id.isnull(), "account_id: missing"),
        (bad("date"), "date: not a date (YYYY-MM-DD)"),
        (t.date.isnull(), "date: missing"),
        (t.date > ibis.literal(today, type="date"), "date: in the future"),
        (bad("net_revenue"), "net_revenue: not a number"),
        (t.net_revenue.isnull(), "net_revenue: missing"),
        too_large("net_revenue"),
        (bad("quantity"), "quantity: not a number"),
        (t.quantity.isnull(), "quantity: missing"),
        too_large("quantity"),
        (bad("cost"), "cost: not a number"),
        too_large("cost"),
        (bad("margin"), "margin: not a number"),
        too_large("margin", t.cost.isnull()),
        (no_margin, f"{money_col}: missing (give cost or margin)"),
        (t.invoice_id.isnull(), "invoice_id: missing"),
        (bad("line_no"), "line_no: not a whole number"),
    ]
    return [(cond, text) for cond, text in checks if cond is not None]


def context_checks(t: ir.Table, present: list[str], aside_accounts: ir.Table | None = None, *,
                   after: dt.date | None = None) -> list[tuple[Any, str]]:
    """The checks that look beyond the line: its account is known, it is not a duplicate, it
    is not later than an explicit ``as_of``; as ``(condition, reason)`` pairs, in order.

    ``t`` carries the account key of :func:`with_account_key` and, when duplicates have been
    looked for, a ``_dup`` flag (:func:`flag_duplicates`, :func:`window_duplicate_flag`);
    without it there is no duplicate check here. ``after`` (an explicit ``as_of``) adds the policy reason
    :data:`AFTER_AS_OF`, checked last.
    """
    import ibis

    unknown = t[ACCOUNT_KEY].isnull()
    checks = []
    if aside_accounts is not None:
        checks.append((t.account_id.isin(aside_accounts.account_id) & unknown, ACCOUNT_SET_ASIDE))
    checks.append((unknown, "account_id: unknown account"))
    if "_dup" in t.columns:
        checks.append((t._dup, "invoice_id+line_no: duplicate invoice line" if "line_no" in present
                       else "invoice_id: duplicate invoice line (identical in every column)"))
    if after is not None:
        checks.append((t.date > ibis.literal(after, type="date"), AFTER_AS_OF))
    return checks


def transaction_checks(t: ir.Table, today: dt.date, present: list[str],
                       aside_accounts: ir.Table | None = None, *,
                       after: dt.date | None = None) -> list[tuple[Any, str]]:
    """Every check of an invoice line in order: :func:`line_checks`, then :func:`context_checks`."""
    return [*line_checks(t, today, present), *context_checks(t, present, aside_accounts, after=after)]


def reason_text(checks: list[tuple[Any, str]]) -> Any:
    """The reason a line is set aside (null = the line is used), from :func:`transaction_checks`."""
    import ibis

    return ibis.cases(*checks, else_=ibis.null().cast("string"))


def reason_code(checks: list[tuple[Any, str]]) -> Any:
    """As :func:`reason_text`, as a small integer: 0 = used, k = the k-th check's reason.

    The checking pass groups by it (with the account key), which is cheaper than the text."""
    import ibis

    return ibis.cases(*[(cond, k) for k, (cond, _) in enumerate(checks, 1)], else_=0).cast("int8")


def passes(checks: list[tuple[Any, str]]) -> Any:
    """True where no check holds: :func:`reason_text` is null, as plain boolean logic (what
    every later query filters the used lines with spares the engine the reason of each line)."""
    import ibis

    return ibis.and_(*[~cond.fill_null(False) for cond, _ in checks])


def latest_date(t: ir.Table, today: dt.date) -> dt.date | None:
    """The last invoice date on or before ``today`` (None if there is none): the guess at
    ``as_of`` the checking pass starts from. It reads the date column only."""
    import pandas as pd

    value = t.filter(t.date <= today).date.max().to_pandas()
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _accounting(parsed: list[str]) -> Any:
    """The row-accounting aggregates of the checking pass (per account and reason)."""

    def aggregates(t: ir.Table) -> dict[str, Any]:
        out = {
            "_n": t.count(),
            "_max_date": t.date.max(),
            "_min_date": t.date.min(),
            "_returns": t.count(where=t._rev < 0),
            "_zero": t.count(where=t._rev == 0),
            "_no_category": t.count(where=t._nocat),
        }
        for c in parsed:
            out[f"_bad__{c}"] = t.count(where=t[f"_bad_{c}"])
            out[f"_ok__{c}"] = t[c].count()
        return out

    return aggregates


def key_hash(t: ir.Table, present: list[str]) -> ir.IntegerValue:
    """A hash of each line's duplicate key (:func:`duplicate_key`): lines with the same key have
    the same hash, lines with different keys almost never do (a collision only makes the
    checking pass search for duplicates it does not find)."""
    import ibis

    if "line_no" in present:  # the invoice id's hash mixed with the number: cheaper than a struct's
        return t.invoice_id.hash() ^ t.line_no.fill_null(-1)
    return ibis.struct({c: t[c] for c in duplicate_key(present)}).hash()


def _checking_pass(t: ir.Table, known: ir.Table, *, today: dt.date, present: list[str],
                   aside_accounts: ir.Table | None, after: dt.date | None, as_of: dt.date,
                   parsed: list[str], prove: bool) -> tuple[pd.DataFrame, list[str]]:
    """The one pass over the lines (:func:`check_transactions`).

    Returns, per account and reason code (``_rc``: 0 = used, k = the k-th reason of the list
    returned alongside), the aggregates of :func:`kamlib.intake.features.account_aggregates` and the
    row accounting; with ``prove``, also ``_clashes`` (0 proves there is no duplicate key) and
    ``_shared`` (invoices whose orders were counted under one of several accounts: the pass
    must run again without ``prove``). With line numbers the proof is folded into the order
    counts (:func:`kamlib.intake.features.account_aggregates`, ``prove_line_keys``); without, it
    compares the lines with the distinct hashes of their key.

    Everything computed from a line alone -- its own checks, its margin and exact amounts, its
    windows -- is computed before the join with the accounts: DuckDB streams the join's result
    to every aggregation, so it is computed once per line; only the short code for the
    account, duplicate and as_of checks is evaluated by each aggregation.
    """
    import ibis

    from kamlib.intake.features import account_aggregates, line_values, with_margin

    t = with_margin(t)
    local = line_checks(t, today, present)
    j = with_account_key(t.mutate(**line_values(t, as_of), _rc0=reason_code(local)), known)
    context = context_checks(j, present, aside_accounts, after=after)
    code = ibis.cases((j._rc0 > 0, j._rc0),
                      *[(cond, len(local) + k) for k, (cond, _) in enumerate(context, 1)],
                      else_=0).cast("int8")
    by_number = prove and "line_no" in present
    out = account_aggregates(j.mutate(_rc=code), as_of, reason="_rc",
                             accounting=_accounting(parsed), prepared=True, keys=known,
                             prove_line_keys=by_number)
    if prove and not by_number:
        # no two lines share a key iff there are as many distinct key hashes as lines (a hash
        # collision can only make the test fail, never pass): exact, and one aggregation
        out = out.cross_join(j.aggregate(_clashes=j.count() - key_hash(j, present).nunique(),
                                         _shared=ibis.literal(0, type="int64")))
    return out.to_pandas(), [text for _, text in [*local, *context]]


def check_transactions(
    typed: ir.Table,
    *,
    file: str | Path,
    present: list[str],
    account_ids: list[str] | pd.Series,
    as_of: str | dt.date | None = None,
    today: dt.date | None = None,
    max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
    materialise: Any = None,
    aside_account_ids: list[str] | pd.Series | None = None,
    currency_range: tuple[str | None, str | None] | None = None,
) -> TransactionCheck:
    """Row checks on invoice lines and their accounting, in one pass that also aggregates
    the used lines per account (the feature build's costliest query).

    Reading every line is what costs at tens of millions of lines, so the checks, the row
    accounting and the per-account aggregates of :func:`kamlib.intake.features.account_aggregates`
    are one query, grouped by account and reason. Two things it needs are guessed first and
    confirmed by its result, so that a clean ledger is read once:

    * ``as_of`` (without an explicit one) is the last date of the used lines; the guess is the
      last date on or before ``today`` (a read of the date column). If every line of that day
      is set aside, the pass runs again with the right date.
    * duplicate invoice lines (on DuckDB, where lines carry their file order): the pass also
      proves there are none -- with line numbers, by one bit per line number in each invoice,
      inside the groupings that count orders; otherwise as many distinct key hashes as
      lines. If the proof fails (a duplicate, or an invoice whose line numbers it cannot tell
      apart, such as one of more than 61 lines) they are searched for (:func:`duplicate_keys`)
      and, if found, the pass runs again with them set aside. On Spark they are flagged
      before the pass (:func:`window_duplicate_flag`).

    Parameters
    ----------
    typed : ibis.expr.types.Table
        From :func:`kamlib.intake.engine.cast_transactions`.
    file : str or Path
        The invoice-lines file (for messages).
    present : list of str
        Contract columns the file has (:func:`kamlib.intake.engine.present_columns`).
    account_ids : sequence of str
        Ids of the clean accounts; lines for other ids are set aside.
    as_of : str or date, optional
        End of the analysis; ``""``/None = the last valid invoice date. Lines after an explicit
        ``as_of`` are set aside with the policy reason ``"date: after as_of"``.
    today : date, optional
        Lines dated after it are errors ("in the future"); default: the run date.
    max_set_aside_share : float
        See :func:`check_share`.
    aside_account_ids : sequence of str, optional
        Ids of accounts whose rows were set aside; their lines get their own reason, so the
        report does not call a known customer "unknown".
    materialise : callable, optional
        Table -> table that stores the lines once (:func:`kamlib.intake.engine.materialise`); without
        it every query re-reads the source, which is cheap for Parquet only.
    currency_range : tuple of str, optional
        The smallest and largest currency in the file, when known without reading every line
        (Parquet statistics; see :func:`load_inputs`). If they are equal, the used lines are in
        one currency; otherwise the currencies of the used lines are counted.

    Returns
    -------
    TransactionCheck
        Its ``aggregates`` are the per-account aggregates of the used lines at ``as_of``.

    Raises
    ------
    InputError
        A required column missing, a whole column of the wrong type, no valid line at all,
        more than one currency, too many lines set aside.
    """
    import numpy as np
    import pandas as pd

    file = str(file)
    today = today or dt.date.today()
    check_columns(present, TRANSACTIONS, file)
    if "cost" not in present and "margin" not in present:
        raise InputError(file, "the file has neither a 'cost' nor a 'margin' column.",
                         "Export the cost of goods of each line as 'cost' (or the gross margin as "
                         "'margin') so margins can be computed.", column="cost")
    explicit = parse_as_of(as_of)
    from kamlib.intake.engine import small_table

    ids = pd.Series(list(account_ids), dtype="str").drop_duplicates()
    known = small_table(typed, pd.DataFrame({"account_id": ids.to_numpy(),
                                             ACCOUNT_KEY: np.arange(len(ids), dtype="int32")}))
    aside_ids = None
    if aside_account_ids is not None and len(aside_account_ids):
        aside_ids = small_table(typed, pd.DataFrame(
            {"account_id": pd.Series(list(aside_account_ids), dtype="str").dropna().unique()}))
    t = typed.mutate(_nocat=typed.category.isnull() | typed.product_id.isnull(),
                     category=typed.category.coalesce("(none)"),
                     product_id=typed.product_id.coalesce("(none)"))
    if materialise is not None:
        # one read of the file; every later query (the pass, the other tables) reads the result
        t = materialise(t)
    numbered = t._find_backend(use_default=True).name == "duckdb"
    if not numbered:
        t = window_duplicate_flag(t, present)
    as_of_guess = explicit or latest_date(t, today) or today
    # one currency in the whole file (the usual case) is one currency in the used lines
    if currency_range is None:
        found = t.aggregate(lo=t.currency.min(), hi=t.currency.max()).to_pandas().iloc[0]
        currency_range = (found["lo"], found["hi"])
    parsed = [c.name for c in TRANSACTIONS.columns if f"_bad_{c.name}" in t.columns and c.name in present]

    def run(t: ir.Table, as_of_day: dt.date, prove: bool) -> tuple[pd.DataFrame, list[str]]:
        return _checking_pass(t, known, today=today, present=present, aside_accounts=aside_ids,
                              after=explicit, as_of=as_of_day, parsed=parsed, prove=prove)

    frame, texts = run(t, as_of_guess, prove=numbered)
    if numbered:
        dups = duplicate_keys(t, present) if int(frame["_clashes"].iloc[0]) else None
        if dups is not None:  # set them aside
            t = flag_duplicates(t, dups, present)
        if dups is not None or int(frame["_shared"].iloc[0]):  # and count again
            frame, texts = run(t, as_of_guess, prove=False)
    stats = _reason_stats(frame, texts, parsed)

    # a whole column of the wrong type is a file problem, not thousands of row problems
    for c in parsed:
        if stats[f"_bad__{c}"].sum() > 0 and stats[f"_ok__{c}"].sum() == 0:
            col = TRANSACTIONS.column(c)
            sample = t.filter(t[f"_bad_{c}"]).order_by("_row").limit(50).to_pandas()
            shown = sample[f"_raw_{c}"] if f"_raw_{c}" in sample.columns else sample[c]
            examples = list(dict.fromkeys(str(v) for v in shown.dropna()))[:3]
            eg = f" (e.g. {', '.join(repr(v) for v in examples)})" if examples else ""
            raise InputError(
                file, f"no value in this column is a {_TYPE_WORDS[col.type]}{eg}.",
                f"Check that the right column is exported as '{c}'"
                + (" and " + date_fix(examples, reads_layouts=False) if col.type == "date" else
                   " and write numbers with '.' as decimal point, without thousands separators."),
                column=c, rows=[int(r) for r in sample["_row"].dropna()][:3],
            )
    reasons = {str(r): int(n) for r, n in zip(stats["reason"], stats["_n"]) if r is not None}
    valid = stats[stats["reason"].isna()]
    if valid.empty:
        top = max(sorted(reasons), key=lambda r: reasons[r]) if reasons else None
        raise InputError(file, "no invoice line is usable" + (
            f"; the most common problem is '{top}' ({_rows(reasons[top])})." if top else "."),
            "Export the invoice lines again; see docs/data_contract.md.",
            column=reason_column(top) if top else None)
    used = valid.iloc[0]
    last_used = pd.Timestamp(used["_max_date"]).date()
    if not explicit and last_used != as_of_guess:
        # every line of the guessed day was set aside: the windows end at the last used day
        frame = run(t, last_used, prove=False)[0]
    as_of_date = explicit or last_used
    lines = with_account_key(t, known)
    checks = transaction_checks(lines, today, present, aside_ids, after=explicit)
    currency = currency_range[0] if pd.notna(currency_range[0]) else None
    if currency is not None and currency != currency_range[1]:
        ok = lines.filter(passes(checks))
        found = ok.aggregate(n=ok.currency.nunique(), lo=ok.currency.min(),
                             hi=ok.currency.max()).to_pandas().iloc[0]
        if int(found["n"]) > 1:
            raise InputError(
                file, f"the invoice lines are in {int(found['n'])} currencies "
                f"(e.g. {found['lo']} and {found['hi']}).",
                "Convert every line to one currency before the export (one currency per "
                "engagement).", column="currency")
        currency = found["lo"] if pd.notna(found["lo"]) else None
    rows_read = int(stats["_n"].sum())
    used_n = int(used["_n"])
    account = RowAccount(table="transactions", file=file, rows_read=rows_read, rows_used=used_n,
                         reasons=dict(sorted(reasons.items())))
    aside = lines.mutate(reason=reason_text(checks)).filter(lambda x: x.reason.notnull())
    if account.rows_set_aside:
        # the first five rows of every reason in one pass (not one query per reason)
        import ibis

        rank = ibis.row_number().over(group_by=aside.reason, order_by=aside._row)
        head = (aside.select("reason", "_row").mutate(_k=rank).filter(lambda x: x._k < 5)
                .to_pandas().sort_values(["reason", "_row"]))
        for r in account.reasons:
            account.first_rows[r] = [int(x) for x in head.loc[head["reason"] == r, "_row"].dropna()]
    returns, zero = int(used["_returns"]), int(used["_zero"])
    account.notes.append(f"{returns} return/credit-note lines (negative revenue) kept")
    account.notes.append(f"{zero} zero-value lines kept")
    no_cat = int(used["_no_category"])
    if no_cat:
        account.notes.append(f"{no_cat} lines without product or category kept as '(none)'")
    check_share(account, max_set_aside_share)
    per_account = frame[frame["_rc"] == 0]
    summary = {
        "lines_used": used_n,
        "first_date": pd.Timestamp(used["_min_date"]).date(),
        "last_date": last_used,
        "as_of": as_of_date,
        "return_lines": returns,
        "zero_lines": zero,
        "currency": currency,
        "accounts_buying": len(per_account),
    }
    # the set-aside file shows what the export said, not what we made of it
    shown = {c: aside[f"_raw_{c}"] if f"_raw_{c}" in aside.columns else aside[c] for c in present}
    aside = aside.select(row=aside._row, reason=aside.reason, **shown).order_by("row")
    features = [c for c in per_account.columns if not c.startswith("_")]
    return TransactionCheck(lines=lines.filter(passes(checks)), set_aside=aside,
                            account=account, as_of=as_of_date, has_sites="site_id" in present,
                            summary=summary,
                            aggregates=per_account.loc[:, features].reset_index(drop=True))


def _reason_stats(frame: pd.DataFrame, texts: list[str], parsed: list[str]) -> pd.DataFrame:
    """The checking pass's rows (per account and reason code) -> one row per reason (text;
    None for the used lines) with the accounting figures."""
    import pandas as pd

    sums = ["_n", "_returns", "_zero", "_no_category",
            *[f"_{kind}__{c}" for c in parsed for kind in ("bad", "ok")]]
    g = frame.groupby("_rc", sort=True)
    out = pd.concat([g[sums].sum(), g["_max_date"].max(), g["_min_date"].min()],
                    axis=1).reset_index()
    out["reason"] = pd.Series([None if rc == 0 else texts[int(rc) - 1] for rc in out["_rc"]],
                              index=out.index, dtype="object")
    return out


# ------------------------------------------------------------------------------- the report
def data_quality(accounts: list[RowAccount]) -> pd.DataFrame:
    """The ``data_quality`` table: one row per input table."""
    import pandas as pd

    cols = ["table", "file", "rows_read", "rows_used", "rows_set_aside", "set_aside_reasons", "notes"]
    return pd.DataFrame([a.as_row() for a in accounts], columns=cols)


def summary_text(accounts: list[RowAccount]) -> str:
    """A readable paragraph per table: where every row went."""
    parts = []
    for a in accounts:
        line = (f"{a.table}: {a.rows_read:,} rows read = {a.rows_used:,} used + "
                f"{a.rows_set_aside:,} set aside")
        if a.reasons:
            line += " (" + "; ".join(f"{r}: {n:,}" for r, n in sorted(a.reasons.items())) + ")"
        if a.notes:
            line += ". " + "; ".join(a.notes)
        parts.append(line + ".")
    return "\n".join(parts)


# ------------------------------------------------------------------------- the whole intake
SMALL_TABLES = ("accounts", "contacts", "assessments", "ahp_judgements")
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
SET_ASIDE_SHOWN = 10_000
"""Most set-aside rows per table listed in the ``set_aside`` result table (the CSV has all)."""


@dataclass
class IntakeResult:
    """Every input table loaded, checked and accounted for (see :func:`validate_engagement`).

    Attributes
    ----------
    tables : dict of str to DataFrame
        Clean small tables (accounts, contacts, assessments, ahp_judgements), anonymised when
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
    """

    tables: dict[str, Any]
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
        return data_quality(self.accounts)

    def to_text(self) -> str:
        """The data-quality report as text (``kam validate`` prints it)."""
        head = (f"Data quality (as_of {self.as_of.isoformat()}, engine {self.engine}"
                f"{', anonymised' if self.anonymised else ''}):")
        ok = all(a.balanced for a in self.accounts)
        tail = "Every row is accounted for." if ok else "ROW ACCOUNTING DOES NOT BALANCE."
        return "\n".join([head, summary_text(self.accounts), tail])

    def write_set_aside(self, folder: str | Path) -> pd.DataFrame:
        """Write ``<folder>/<table>.csv`` for each table with set-aside rows.

        Returns
        -------
        pandas.DataFrame
            The ``set_aside`` table: table, row, reason, values (the row as ``column=value``
            pairs), at most :data:`SET_ASIDE_SHOWN` rows per table.
        """
        import pandas as pd

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        frames = []
        for name, frame in self.set_aside.items():
            if frame is not None and len(frame):
                frame.to_csv(folder / f"{name}.csv", index=False)
                frames.append(_listing(name, frame.head(SET_ASIDE_SHOWN)))
        if self.transactions.account.rows_set_aside:
            aside = self.transactions.set_aside
            try:
                aside.to_csv(str(folder / "transactions.csv"))
            except Exception:  # a backend without a CSV writer: go through pandas
                aside.to_pandas().to_csv(folder / "transactions.csv", index=False)
            frames.append(_listing("transactions", aside.limit(SET_ASIDE_SHOWN).to_pandas()))
        cols = ["table", "row", "reason", "values"]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        out["row"] = out["row"].astype("Int64")
        return out[cols].astype({"table": "str", "reason": "str", "values": "str"})


def _listing(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    values = frame.drop(columns=["row", "reason"])
    text = values.astype("string").apply(
        lambda r: "; ".join(f"{k}={v}" for k, v in r.items() if not pd.isna(v)), axis=1)
    return pd.DataFrame({"table": table, "row": frame["row"].to_numpy(),
                         "reason": frame["reason"].astype("str").to_numpy(),
                         "values": text.to_numpy() if len(frame) else []})


def _empty_table(table: Table) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series([], dtype=_empty_dtype(c)) for c in table.columns})


def load_inputs(
    inputs: dict[str, str | Path | None],
    *,
    as_of: str = "",
    max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
    anonymise: bool = False,
    key: str = "",
    engine: str = "duckdb",
    memory_limit: str = "2GB",
    today: dt.date | None = None,
    con: Any = None,
    cache: bool | None = None,
) -> IntakeResult:
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
    cache : bool, optional
        Store the checked invoice lines in the engine once instead of re-checking the file for
        every query (about 3x faster for the sample); default: always for text (CSV, Excel:
        parsing is what costs, and DuckDB spills what does not fit in memory), for Parquet when
        the source is at most :data:`CACHE_MAX_BYTES` (a large Parquet ledger is re-scanned,
        which is cheaper than copying it).

    Returns
    -------
    IntakeResult

    Raises
    ------
    InputError
        Any file that breaks the contract (see the module docstring).
    """
    from kamlib.intake import engine as eng
    from kamlib.intake import readers

    today = today or dt.date.today()
    parse_as_of(as_of)
    if not 0 <= float(max_set_aside_share) <= 1:
        raise ParameterError(
            f"max_set_aside_share must lie between 0 and 1, not {max_set_aside_share}.")
    for name, table in TABLES.items():
        if table.required and not inputs.get(name):
            raise InputError(
                f"engagement.yml (inputs: {name})", f"no file is given for the {name} table.",
                f"Add '{name}: <file>' under inputs: in engagement.yml; 'kam new' writes an empty "
                f"template of every table.")
    tables: dict[str, Any] = {}
    set_aside: dict[str, Any] = {}
    accounts: list[RowAccount] = []
    files: dict[str, str] = {}
    known = None
    for name in SMALL_TABLES:
        path = inputs.get(name)
        if not path:
            tables[name] = _empty_table(TABLES[name])
            continue
        files[name] = str(path)
        raw = readers.read_table(path)
        if raw.empty and TABLES[name].required:
            raise InputError(str(path), "the file has a header but no rows.",
                             f"Export the {name} table with its rows; see docs/data_contract.md.")
        checked = validate_table(raw, name, path, known_accounts=known, today=today,
                                 max_set_aside_share=max_set_aside_share)
        tables[name], set_aside[name] = checked.frame, checked.set_aside
        accounts.append(checked.account)
        if name == "accounts":
            known = checked.frame["account_id"]
    if anonymise:
        from kamlib.intake.anonymise import Pseudonymiser, anonymise_tables

        pseudo = Pseudonymiser(key)
        tables = anonymise_tables(tables, key, pseudo)
        set_aside = anonymise_tables(set_aside, key, pseudo)

    path = inputs["transactions"]
    files["transactions"] = str(path)
    con = con or eng.connect(engine, memory_limit=memory_limit)
    raw = eng.read_transactions(con, path)
    present = eng.present_columns(raw)
    remote = "://" in str(path)  # a data lake's Parquet, read by Spark
    local_parquet = not remote and readers.file_kind(eng.source_files(path)[0]) == "parquet"
    # Parquet holds typed values: no whitespace stripping (see cast_transactions), and its
    # statistics tell which text columns have no empty value and whether there is one currency
    ranges = eng.text_ranges(raw) if local_parquet and con.name == "duckdb" else {}
    never_empty = [c for c, (lo, _) in ranges.items() if lo is not None and lo != ""]
    typed = eng.cast_transactions(raw, trim=not (remote or local_parquet), never_empty=never_empty)
    if cache is None:  # text is parsed once whatever its size (DuckDB spills what does not fit)
        cache = not remote and (not local_parquet or source_bytes(path) <= CACHE_MAX_BYTES)
    store = (lambda expr: eng.materialise(con, expr)) if cache else None
    numeric_ids = [c for c in ("account_id", "invoice_id", "product_id")
                   if c in raw.columns and raw[c].type().is_numeric()]
    try:
        with engine_errors(path):
            aside_acc = set_aside.get("accounts")
            aside_ids = (aside_acc["account_id"].astype("string").str.strip().dropna().tolist()
                         if aside_acc is not None and "account_id" in getattr(aside_acc, "columns", []) else None)
            tx = check_transactions(typed, file=path, present=present, account_ids=known,
                                    aside_account_ids=aside_ids, as_of=as_of, today=today,
                                    max_set_aside_share=max_set_aside_share, materialise=store,
                                    currency_range=ranges.get("currency"))
    except InputError as exc:
        if exc.column == "account_id" and "account_id" in numeric_ids:
            raise InputError(
                exc.file, exc.problem.rstrip(".") + "; the file stores account_id as numbers, so "
                "ids with leading zeros no longer match ('001' became '1').",
                "Export account_id as text (a string column in Parquet).",
                column=exc.column, rows=exc.rows) from None
        raise
    with engine_errors(path):
        buyers = tx.summary["accounts_buying"]
    if numeric_ids:
        tx.account.notes.append(
            f"{', '.join(numeric_ids)} stored as numbers in the file: leading zeros, if the ids had "
            "any, were lost before the export (export ids as text)")
    no_purchase = len(tables["accounts"]) - buyers
    accounts[0].notes.append(f"{no_purchase} accounts without purchases up to as_of kept")
    accounts.insert(1, tx.account)
    return IntakeResult(tables=tables, transactions=tx, accounts=accounts, set_aside=set_aside,
                        files=files, con=con, anonymised=bool(anonymise), engine=engine)


@contextlib.contextmanager
def engine_errors(file: str | Path):
    """Turn the engine's errors about the file (bad bytes deep in a CSV, ragged lines, a broken
    Parquet file) or its memory into a :class:`KamError` (see
    :func:`kamlib.intake.engine.wrap_engine_error`).

    Only errors raised by the engine's modules are translated, and of DuckDB's only those a
    file or the memory budget can cause; anything else is a bug and keeps its traceback.
    """
    from kamlib.intake.engine import wrap_engine_error

    try:
        yield
    except Exception as exc:
        module = type(exc).__module__ or ""
        if module.split(".")[0] in ("duckdb", "_duckdb", "pyspark", "py4j", "pyarrow"):
            wrapped = wrap_engine_error(exc, file)
            if wrapped is not None:
                raise wrapped from None
        raise


def validate_engagement(engagement: Any, *, as_of: str = "",
                        max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
                        anonymise: bool = False, engine: str = "",
                        memory_limit: str = "") -> IntakeResult:
    """:func:`load_inputs` for an engagement (``kam validate`` and the intake notebook).

    Parameters
    ----------
    engagement : kamlib.intake.engagement.Engagement
        Its ``inputs`` name the files; its name keys the anonymisation. Its ``engagement.yml``
        may choose the engine (``engine: spark`` with a ``spark:`` block, or a ``duckdb:``
        block with ``memory_limit``, ``threads``, ``temp_directory``; see docs/scale.md).
    engine, memory_limit : str
        Override engagement.yml when not empty (default there: DuckDB with a 2GB budget).
    """
    from kamlib.intake import engine as eng

    settings = eng.engine_settings(engagement, engine=engine, memory_limit=memory_limit)
    con = eng.connect(**settings)
    where = (f"DuckDB in this process, memory budget {settings['memory_limit']}"
             if settings["engine"] == "duckdb" else f"Spark ({con._session.sparkContext.master})")
    print(f"Checking the inputs of '{engagement.name}' on {where}.", flush=True)
    inputs = {name: engagement.input_path(name) for name in TABLES}
    result = load_inputs(inputs, as_of=as_of, max_set_aside_share=max_set_aside_share,
                         anonymise=anonymise, key=engagement.name, engine=settings["engine"],
                         memory_limit=settings["memory_limit"], con=con)
    folder = Path(engagement.folder).resolve()
    for account in result.accounts:  # the report names files as engagement.yml does
        path = Path(account.file).resolve()
        if path.is_relative_to(folder):
            account.file = path.relative_to(folder).as_posix()
    return result
