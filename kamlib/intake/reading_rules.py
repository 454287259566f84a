"""The documented rules that read invoice-line values a plain cast cannot: amounts written with
thousands separators or as accounting negatives, ids that differ from the accounts table only
by surrounding blanks or case, and currency codes in any case.

Each rule is an Ibis expression evaluated in the engine's pass over the lines, and only on the
values that need it: a clean export pays nothing for them (an amount is first cast as it is;
the rules read only the values that cast fails on). What a rule reads is counted in the
data-quality report; what no rule reads unambiguously is set aside or refused with its reason
(see ``docs/data_contract.md``, "Reading rules").

* **Amounts** (:func:`amount_value`): ``(123.45)`` and ``123.45-`` are -123.45; thousands
  separators between groups of three digits and a currency sign or code of the engagement's
  currency are read, in the column's number format (``1,234.50`` with a decimal point,
  ``1.234,50`` with a decimal comma): :mod:`kamlib.intake.formats` holds the rules, and
  :mod:`kamlib.intake.column_formats` decides each column's format from all its values
  (a column whose ``,`` or ``.`` could be read either way is refused).
* **Dates** (:func:`date_value`): ISO, the column's layout (``DD.MM.YYYY``...), a
  timestamp's date as written, Excel serial numbers.
* **Account ids** (:func:`account_aliases`): an id that matches no account as written but
  exactly one account once blanks (Unicode spaces included) are trimmed and case is ignored is
  that account; ids matching several accounts that way are set aside with their own reason.
* **Currency codes** (:func:`currency_code`): trimmed and upper case, so ``EUR``, ``eur`` and
  `` EUR`` are one currency.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kamlib.errors import InputError
from kamlib.intake.formats import (CELL, ISO, PLAIN, SERIAL_SHAPE, NumberFormat,
                                   layout_parts, number_pattern)
from kamlib.intake.readers import UNICODE_SPACES

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

_BLANKS = f"[\\s{UNICODE_SPACES}]"
LEADING_BLANKS = f"^{_BLANKS}+"
TRAILING_BLANKS = f"{_BLANKS}+$"

AMBIGUOUS_ID = "account_id: unknown account (matches several accounts when case is ignored)"
"""Reason of lines whose id differs from more than one known account only by case or blanks."""


def strip_blanks(text: ir.StringValue) -> ir.StringValue:
    """``text`` without surrounding blanks, no-break and other Unicode spaces included."""
    return text.re_replace(LEADING_BLANKS, "").re_replace(TRAILING_BLANKS, "")


def clean_cell(text: ir.StringValue) -> ir.StringValue:
    """A cell as :data:`~kamlib.intake.formats.CELL` reads it: Unicode spaces as blanks,
    trimmed."""
    return strip_blanks(text).re_replace(f"[{UNICODE_SPACES}]", " ")


def cell_groups(cell: ir.StringValue) -> dict[int, Any]:
    """The groups of :data:`~kamlib.intake.formats.CELL` in a cleaned cell (:func:`clean_cell`),
    by number (``""`` where a group is empty or the cell is not an amount)."""
    return {i: cell.re_extract(CELL, i) for i in range(1, 9)}


def amount_pieces(g: dict[int, Any]) -> tuple[Any, Any, Any, Any]:
    """A cell's unsigned number (``""`` when it is not an amount), whether it is negative, how
    many sign marks it has and its currency token (upper case, ``""`` when none), from its
    :func:`cell_groups` (Python's side: :func:`kamlib.intake.formats.amount_pieces`)."""
    ok = ((g[1] != "") == (g[8] != "")) & ((g[3] == "") | (g[6] == ""))
    core = ok.ifelse(g[5], "")
    negative = (g[1] != "") | (g[2] == "-") | (g[4] == "-") | (g[7] == "-")
    marks = sum(((g[i] != "").cast("int8") for i in (2, 4, 7)), (g[1] != "").cast("int8"))
    return core, negative, marks, (g[3] + g[6]).upper()


def number_value(core: ir.StringValue, fmt: NumberFormat) -> ir.FloatingValue:
    """An unsigned number written in ``fmt`` (null if it is not)."""
    import ibis

    seps = "".join(dict.fromkeys(f"{fmt.thousands} '"))
    digits = core.re_replace(f"[{seps}]", "")
    if fmt.decimal == ",":
        digits = digits.replace(",", ".")
    ok = core.re_search(number_pattern(fmt.decimal, fmt.thousands))
    return ok.ifelse(digits, ibis.null().cast("string")).try_cast("float64")


def amount_value(groups: dict[int, Any], fmt: NumberFormat = PLAIN,
                 tokens: list[str] | None = None) -> tuple[Any, Any]:
    """An amount the column's plain reading cannot read, by the amount rules (null if none
    reads it), and whether the cell names another currency than ``tokens``.

    ``(123.45)`` and ``123.45-`` (accounting and SAP negatives) are -123.45; ``1,234.50`` is
    1234.50 in a column with ``.`` as decimal point, ``1.234,50`` in one with ``,``; a currency
    sign or code before or after the number (``€ 12``, ``12 EUR``) is read when it is in
    ``tokens`` (a number with another currency's is null, and flagged). Surrounding Unicode
    spaces are ignored (``groups`` are the :func:`cell_groups` of the :func:`clean_cell` of the
    text). Which format a column is read in is decided for the whole column
    (:mod:`kamlib.intake.column_formats`).
    """
    import ibis

    core, negative, marks, token = amount_pieces(groups)
    number = number_value(core, fmt)
    known = (token == "") | token.isin(tokens or [])
    value = ibis.cases((marks > 1, ibis.null().cast("float64")),
                       (~known, ibis.null().cast("float64")),
                       (negative, -number), else_=number)
    return value, (~known & number.notnull())


def fast_number(src: ir.StringValue, fmt: NumberFormat) -> ir.FloatingValue:
    """The common case of a column's format, cheaply: a plain cast for ``.`` decimals; for
    ``,`` decimals ``.`` thousands taken off (only where they group three digits) and the
    comma read as a point. Everything else goes to :func:`amount_value`."""
    import ibis

    if fmt.decimal == ".":
        return src.try_cast("float64")
    none = ibis.null().cast("string")
    if fmt.thousands == ".":
        grouped = src.re_search(GROUPED_COMMA).ifelse(src.replace(".", ""), none)
        text = src.contains(".").ifelse(grouped, src)
    else:
        text = src.contains(".").ifelse(none, src)
    return text.replace(",", ".").try_cast("float64")


GROUPED_COMMA = r"^-?[1-9][0-9]{0,2}(\.[0-9]{3})+(,[0-9]*)?$"
"""A signed decimal-comma number with ``.`` between groups of three digits."""

def date_value(src: ir.StringValue, layout: str = ISO) -> ir.DateValue:
    """A date column's value by the date rules: ISO (also with a time and a time zone: the
    date as written), the column's layout (``DD/MM/YYYY``...), an Excel serial number."""
    import ibis

    none = ibis.null().cast("date")
    # only text with a dash is cast as an ISO date: Spark's cast reads '45366' as the year 45366
    dashed = src.contains("-")
    iso = dashed.ifelse(src.try_cast("date"), none)
    stamped = ((src.length() > 10) & src.substr(10, 1).isin(["T", " "])).ifelse(
        src.substr(0, 10).try_cast("date"), none)
    serial = src.re_search(SERIAL_SHAPE).ifelse(serial_date(src.try_cast("float64")), none)
    forms = [stamped, serial]
    parts = layout_parts(layout)
    if parts is not None:
        forms.insert(0, _layout_date(src, *parts))
    forms += [dashed.ifelse(src.try_cast("timestamp").cast("date"), none),
              dashed.ifelse(strip_blanks(src).try_cast("date"), none)]
    return iso.coalesce(*forms)


def serial_date(days: ir.NumericValue) -> ir.DateValue:
    """An Excel serial date (days since 1899-12-30, the time of day dropped) as a date; null
    outside 10000-99999 (1927 to 2173), which no invoice date in a serial column is."""
    import ibis

    ok = (days >= 10000) & (days < 100000)
    return ok.ifelse(ibis.date(1899, 12, 30) + days.floor().cast("int32").as_interval("D"),
                     ibis.null().cast("date")).cast("date")


def _layout_date(src: ir.StringValue, order: str, sep: str) -> ir.DateValue:
    """A date written in a day-month-year, month-day-year or year/month/day layout."""
    if order == "YMD":
        return src.replace(sep, "-").try_cast("date")
    fixed = (src.length() == 10) & (src.substr(2, 1) == sep) & (src.substr(5, 1) == sep)
    q = "\\." if sep == "." else sep
    shape = f"^([0-9]{{1,2}}){q}([0-9]{{1,2}}){q}([0-9]{{4}})$"
    a = fixed.ifelse(src.substr(0, 2), src.re_extract(shape, 1))
    b = fixed.ifelse(src.substr(3, 2), src.re_extract(shape, 2))
    y = fixed.ifelse(src.substr(6, 4), src.re_extract(shape, 3))
    day, month = (a, b) if order == "DM" else (b, a)
    return (y + "-" + month.lpad(2, "0") + "-" + day.lpad(2, "0")).try_cast("date")


def currency_code(currency: ir.StringValue) -> ir.StringValue:
    """The currency code as the report writes it: trimmed, upper case."""
    return strip_blanks(currency).upper()


def id_key(value: Any) -> str:
    """An id compared ignoring blanks around it (Unicode spaces included) and case."""
    return trim_text(str(value)).casefold()


def account_aliases(unknown: pd.DataFrame, known: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Ids of invoice lines that match an account only once blanks and case are ignored.

    Parameters
    ----------
    unknown : pandas.DataFrame
        ``account_id`` (as the lines write it) and ``n`` (its lines) of the ids that matched
        no account as written.
    known : pandas.DataFrame
        ``account_id`` and the integer account key of the known accounts.

    Returns
    -------
    aliases : pandas.DataFrame
        ``account_id`` as written, the key and ``_canon`` (the account's id) for each id that
        matches exactly one account (an id that matches once trimmed is taken before ignoring
        case).
    found : dict
        ``trimmed`` and ``case`` (lines matched each way), ``ambiguous`` (the ids matching
        several accounts, for their own reason) and ``examples`` (a few pairs for the report).
    """
    import pandas as pd

    key_col = [c for c in known.columns if c != "account_id"][0]
    ids = known["account_id"].astype(str)
    trimmed = ids.map(trim_text)
    folded = ids.map(id_key)
    by_trim = pd.Series(range(len(ids))).groupby(trimmed.to_numpy()).agg(list).to_dict()
    by_fold = pd.Series(range(len(ids))).groupby(folded.to_numpy()).agg(list).to_dict()
    rows, ambiguous, examples = [], [], []
    found = {"trimmed": 0, "case": 0}
    for raw, n in zip(unknown["account_id"].astype(str), unknown["n"].astype(int)):
        hit = by_trim.get(trim_text(raw), [])
        how = "trimmed"
        if len(hit) != 1:
            hit, how = by_fold.get(id_key(raw), []), "case"
        if len(hit) == 1:
            i = hit[0]
            rows.append((raw, known[key_col].iloc[i], ids.iloc[i]))
            found[how] += n
            if len(examples) < 3:
                examples.append(f"{raw!r} as {ids.iloc[i]!r}")
        elif len(hit) > 1:
            ambiguous.append(raw)
    aliases = pd.DataFrame(rows, columns=["account_id", key_col, "_canon"])
    aliases[key_col] = aliases[key_col].astype(known[key_col].dtype)
    return aliases, {**found, "ambiguous": ambiguous, "examples": examples}


def trim_text(value: str) -> str:
    """``value`` without surrounding blanks, Unicode spaces included (Python's side of
    :func:`strip_blanks`)."""
    return _EDGES.sub("", value)


_EDGES = re.compile(f"^{_BLANKS}+|{_BLANKS}+$")
