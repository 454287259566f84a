"""The small-table checks: accounts, contacts, assessments and AHP judgements, in pandas.

Three kinds of problem, three outcomes:

* **The file is wrong** (a required column is missing, a whole column has the wrong type):
  :class:`~kamlib.errors.InputError` naming file, column, first rows and the fix.
* **A row is wrong** (a date that does not parse or lies in the future, a duplicate id, a value
  out of range, a row naming an account we do not know): the row is *set aside* with its reason
  (see :mod:`kamlib.intake.accounting`), unless more than ``max_set_aside_share`` of the table
  would be set aside -- then the export itself is broken and we stop.
* **It is data, not an error**: kept, and counted in the notes of the data-quality report.

An account row carries every invoice line of its account, so a bad *optional* cell of the
accounts table is left empty (and noted) rather than setting the account aside.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kamlib.errors import InputError
from kamlib.intake.accounting import (BLANK, DEFAULT_MAX_SET_ASIDE_SHARE, REPEATED_HEADER,
                                      RowAccount, check_share)
from kamlib.intake.contract import SELECTION_CRITERIA, TABLES, Column, Table
from kamlib.intake.formats import (COMMA, ISO, PLAIN, NumberFormat, TableFormat, amount_evidence,
                                   currency_tokens, date_evidence, decide_date, decide_number)
from kamlib.intake.parsing import (MAX_TEXT, ROLE_SYNONYMS, TYPE_WORDS, VALUE_SYNONYMS, as_text,
                                   check_columns, date_fix, empty_dtype, known_list_items,
                                   known_values, padded_count, parse_column)
from kamlib.intake.readers import normalise_name

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NO_FUTURE = {("accounts", "relationship_start"), ("contacts", "last_contact"),
             ("transactions", "date")}
"""Date columns that cannot lie after the run date (contract ends may, so they are not here)."""


@dataclass
class Validated:
    """A clean table, its row account and the rows set aside."""

    frame: pd.DataFrame
    account: RowAccount
    set_aside: pd.DataFrame


class _Reasons:
    """The reason each row of a table is set aside (missing while the row is used); the first
    reason flagged for a row is the one it keeps."""

    def __init__(self, index: pd.Index) -> None:
        import pandas as pd

        self.series = pd.Series(pd.NA, index=index, dtype="object")

    def flag(self, mask: pd.Series, text: str) -> None:
        self.series = self.series.mask(self.series.isna() & mask.to_numpy(dtype=bool), text)


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


def repeated_header_rows(raw: pd.DataFrame, table: Table) -> pd.Series:
    """True for rows that repeat the header (two exports pasted one below the other): every
    required column holds its own name, as a header would spell it (``Account ID``)."""
    import numpy as np
    import pandas as pd

    cols = [c for c in table.required_columns if c in raw.columns]
    out = np.full(len(raw), bool(cols))
    for c in cols:
        rows = np.flatnonzero(out)
        if not len(rows):
            break
        col = raw[c].iloc[rows]
        if not (pd.api.types.is_string_dtype(col.dtype) or col.dtype == object):
            out[:] = False
            break
        # a cheap vectorised test first (the name's first word is in the value), then the rule
        word = c.split("_")[0]
        maybe = col.astype("string").str.lower().str.contains(word, regex=False).fillna(False)
        hit = np.zeros(len(rows), dtype=bool)
        hit[maybe.to_numpy(dtype=bool)] = [normalise_name(v) == c for v in col[maybe.to_numpy(dtype=bool)]]
        out[rows] = hit
    return pd.Series(out, index=raw.index)


def _text_notes(raw: pd.DataFrame, clean: dict[str, pd.Series], table: Table) -> list[str]:
    """Cut overlong text to :data:`~kamlib.intake.parsing.MAX_TEXT` characters (in ``clean``)
    and count it, with the values trimmed of surrounding blanks; the notes say both."""
    notes, trimmed = [], {}
    for col in table.columns:
        if col.name not in raw.columns or col.type != "str":
            continue
        if n := padded_count(raw[col.name]):
            trimmed[col.name] = n
        values = clean[col.name]
        long = values.str.len() > MAX_TEXT
        if long.fillna(False).any():
            clean[col.name] = values.mask(long.fillna(False), values.str.slice(0, MAX_TEXT))
            notes.append(f"{col.name}: {int(long.sum())} value(s) longer than {MAX_TEXT} "
                         f"characters cut to {MAX_TEXT}")
    if trimmed:
        notes.append(f"{sum(trimmed.values())} value(s) trimmed of surrounding blanks ("
                     + ", ".join(f"{c} {n}" for c, n in trimmed.items()) + ")")
    return notes


def validate_table(
    raw: pd.DataFrame,
    table: Table | str,
    file: str | Path,
    *,
    known_accounts: pd.Index | list[str] | set[str] | None = None,
    today: dt.date | None = None,
    max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
    table_format: TableFormat | None = None,
    currency: str | None = "EUR",
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
    table_format : TableFormat, optional
        The table's ``format:`` block; where it sets nothing, each column's number format and
        date layout are decided from the column (:mod:`kamlib.intake.formats`).
    currency : str, optional
        The engagement's currency, whose sign or code number cells may carry.

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
    reasons = _Reasons(raw.index)
    reasons.flag(blank := blank_rows(raw), BLANK)
    reasons.flag(header := repeated_header_rows(raw, table), REPEATED_HEADER)
    blank = blank | header  # neither is data: no column check looks at them
    clean: dict[str, pd.Series] = {}
    notes: list[str] = []
    default = _table_number_default(raw.loc[~blank], table)
    for col in table.columns:
        if col.name not in raw.columns:
            clean[col.name] = pd.Series(None, index=raw.index, dtype=empty_dtype(col))
        else:
            clean[col.name] = _check_column(raw, col, table, file, blank=blank, today=today,
                                            reasons=reasons, notes=notes,
                                            table_format=table_format, currency=currency,
                                            default=default)
    notes.extend(_text_notes(raw, clean, table))
    if table.name == "opportunities":
        notes.extend(_probability_scale(clean, reasons))
    _check_rows(clean, table, reasons, known_accounts)
    return _set_aside(raw, pd.DataFrame(clean)[table.column_names], table, file, reasons,
                      notes, max_set_aside_share)


def _table_number_default(raw: pd.DataFrame, table: Table) -> NumberFormat | None:
    """Decimal comma when some number column of the table shows it and none shows a decimal
    point (a column of whole numbers and ``1.000`` then reads ``1.000`` as a thousand)."""
    import pandas as pd

    shown = set()
    for col in table.columns:
        if col.type in ("int", "float") and col.name in raw.columns and (
                pd.api.types.is_string_dtype(raw[col.name].dtype) or raw[col.name].dtype == object):
            ev = amount_evidence(as_text(raw[col.name]))
            shown |= {k for k in ("dot", "comma") if ev[k]}
    return COMMA if shown == {"comma"} else None


def _column_format(source: pd.Series, col: Column, table: Table, file: str,
                   given: TableFormat | None, notes: list[str],
                   default: NumberFormat | None = None) -> tuple[NumberFormat, str]:
    """The number format and date layout of a text column, set by ``format:`` or decided from
    the whole column (:mod:`kamlib.intake.formats`); the notes say any but the contract's."""
    import pandas as pd

    number, layout = PLAIN, ISO
    if not (pd.api.types.is_string_dtype(source.dtype) or source.dtype == object):
        return number, layout
    how = "format: in engagement.yml"
    if col.type in ("int", "float"):
        number = given.number() if given else None
        if number is None:
            number, how = decide_number(amount_evidence(as_text(source)), col.name, file,
                                        table=table.name, default=default), "detected from the column"
        if number != PLAIN:
            notes.append(f"{col.name}: numbers read with {number.label} ({how})")
    elif col.type == "date":
        layout = given.date if given and given.date else None
        if layout is None:
            layout, how = decide_date(date_evidence(as_text(source)), col.name, file,
                                      table=table.name), "detected from the column"
        if layout != ISO:
            notes.append(f"{col.name} read as {layout} ({how})")
    return number, layout


def _check_column(raw: pd.DataFrame, col: Column, table: Table, file: str, *,
                  blank: pd.Series, today: dt.date, reasons: _Reasons,
                  notes: list[str], table_format: TableFormat | None = None,
                  currency: str | None = "EUR",
                  default: NumberFormat | None = None) -> pd.Series:
    """Parse one column of a small table, flag its bad rows and note what was read; returns
    its clean values."""
    import pandas as pd

    source = raw[col.name]
    number, layout = _column_format(source[~blank], col, table, file, table_format, notes,
                                    default)
    if col.type == "list" and col.allowed and col.name == "dmu_roles":
        source, role_notes = known_list_items(source, col.allowed, ROLE_SYNONYMS)
        notes.extend(role_notes)
    if col.type == "str" and col.allowed and col.name in VALUE_SYNONYMS:
        source, value_notes = known_values(source, VALUE_SYNONYMS[col.name])
        notes.extend(value_notes)
    tokens = tuple(currency_tokens(currency)) if currency else ()
    values, bad, present = parse_column(source, col, number, tokens, layout)
    considered = ~blank
    if (present & considered).any() and not (present & considered & ~bad).any() and col.type != "str" and not col.allowed:
        _no_value_parses(raw, col, file, bad & considered)
    if col.required:
        reasons.flag(~present, f"{col.name}: missing")
    word = "not one of " + "/".join(col.allowed) if col.allowed else f"not a {TYPE_WORDS[col.type]}"
    problems = [(bad, word)]
    if col.type in ("int", "float"):
        low = values.astype("float64") < (col.minimum - 1e-3 if col.minimum is not None else float("-inf"))
        high = values.astype("float64") > (col.maximum + 1e-3 if col.maximum is not None else float("inf"))
        problems.append(((low | high).fillna(False).astype(bool), "out of range" + _range_text(col)))
    if col.type == "date" and (table.name, col.name) in NO_FUTURE:
        problems.append(((values > pd.Timestamp(today)).fillna(False).astype(bool), "in the future"))
    if table.name != "accounts" or col.required:
        for mask, what in problems:
            reasons.flag(mask, f"{col.name}: {what}")
        return values
    # An account row carries every invoice line of the account: setting it aside for a typo in
    # an optional cell (a wallet of '1.200.000') would drop the account and its revenue from
    # the analysis. The cell is left empty instead, and the notes say where.
    rows = pd.RangeIndex(1, len(raw) + 1)
    for mask, what in problems:
        hit = (mask & considered).to_numpy(dtype=bool)
        if hit.any():
            shown = ", ".join(f"row {r}: {v!r}" for r, v in
                              zip(list(rows[hit])[:3], raw[col.name][hit].astype(str).head(3)))
            more = " ..." if hit.sum() > 3 else ""
            notes.append(f"{col.name}: {int(hit.sum())} value(s) {what} left empty, the "
                         f"account kept ({shown}{more})")
            values = values.mask(pd.Series(hit, index=values.index))
    return values


def _no_value_parses(raw: pd.DataFrame, col: Column, file: str, bad: pd.Series) -> None:
    """A whole column of the wrong type is a file problem, not a row problem per row."""
    import pandas as pd

    rows = pd.RangeIndex(1, len(raw) + 1)
    examples = ", ".join(repr(str(v)) for v in raw[col.name][bad].head(3))
    raise InputError(
        file,
        f"no value in this column is a {TYPE_WORDS[col.type]} (e.g. {examples}).",
        f"Check that the right column is exported as '{col.name}'"
        + (" and " + date_fix([str(v) for v in raw[col.name][bad].head(5)])
           if col.type == "date"
           else " and write numbers with '.' as decimal point, without thousands separators."
           if col.type in ("int", "float") else "."),
        column=col.name,
        rows=list(rows[bad.to_numpy()]),
    )


def _check_rows(clean: dict[str, pd.Series], table: Table, reasons: _Reasons,
                known_accounts: pd.Index | list[str] | set[str] | None) -> None:
    """The checks across columns and tables: AHP criteria, known accounts, duplicate keys."""
    import pandas as pd

    if table.name == "ahp_judgements":
        for c in ("criterion_a", "criterion_b"):
            clean[c] = clean[c].str.lower()
            reasons.flag(clean[c].notna() & ~clean[c].isin(SELECTION_CRITERIA), f"{c}: unknown criterion")
        reasons.flag((clean["criterion_a"] == clean["criterion_b"]).fillna(False),
                     "criterion_b: same as criterion_a")
    if known_accounts is not None and "account_id" in clean and table.name != "accounts":
        # a hash lookup: pandas' isin on Arrow strings builds a Python object per known id
        known = pd.Index(pd.unique(pd.Series(known_accounts).dropna()))
        found = pd.Series(known.get_indexer(clean["account_id"]) >= 0, index=clean["account_id"].index)
        reasons.flag(clean["account_id"].notna() & ~found, "account_id: unknown account")
    if table.key:
        key = pd.DataFrame({k: clean[k] for k in table.key})
        ok = reasons.series.isna()
        dup = pd.Series(False, index=key.index)
        dup[ok] = key[ok].duplicated(keep="first")
        reasons.flag(dup, f"{'+'.join(table.key)}: duplicate")


def _set_aside(raw: pd.DataFrame, frame: pd.DataFrame, table: Table, file: str,
               reasons: _Reasons, notes: list[str], max_set_aside_share: float) -> Validated:
    """Split the checked table into used and set-aside rows, and account for them."""
    import pandas as pd

    n = len(raw)
    rows = pd.RangeIndex(1, n + 1)
    reason = reasons.series
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


def _probability_scale(clean: dict[str, pd.Series], reasons: _Reasons) -> list[str]:
    """Win probabilities as shares: a column with a value above 1 is read as percent (CRMs
    export 0-100), every value divided by 100; the note says so. Rows already set aside (a
    value out of 0-100) do not decide the scale."""
    p = clean["probability"]
    usable = p[reasons.series.isna()].dropna()
    if not len(usable) or usable.max() <= 1:
        return []
    clean["probability"] = p / 100
    return ["probability read as percent (a value above 1): every value divided by 100"]


def _range_text(col: Column) -> str:
    lo = "" if col.minimum is None else f"{col.minimum:g}"
    hi = "" if col.maximum is None else f"{col.maximum:g}"
    if lo and hi:
        return f" ({lo} to {hi})"
    return f" (at least {lo})" if lo else f" (at most {hi})"
