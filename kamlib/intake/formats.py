"""Regional formats of client exports: decimal marks, thousands separators, currency signs in
amount cells and date layouts -- the settings, the grammar and the per-column decision.

One definition serves both sides: the regular expressions below are written for RE2 (the
engines' regex) and Python's ``re`` alike, so the invoice lines are read by Ibis expressions
on the engine (:mod:`kamlib.intake.reading_rules`) and the small tables by pandas
(:mod:`kamlib.intake.parsing`) with the same rules.

**Amounts.** A column's decimal mark is decided from the whole column: a value such as
``12,5`` or ``1.234,50`` can only be a decimal comma, ``12.5`` or ``1,234.50`` only a decimal
point, ``1.234`` and ``1,234`` either (a thousand, or one with three decimals) and ``1234``
is the same number either way. A column with values of both kinds, or whose only separators
could be either, is refused with a how-to naming the ``format:`` setting of
``engagement.yml``; with that setting the values that do not fit it are set aside. Blanks and
apostrophes between groups of three digits (``1 234,50``, ``1'234.50``) are thousands
separators in every format. A currency sign or code before or after the number (``€ 12``,
``12 EUR``, ``$12``) is read when it is the table's currency; another currency sets the line
aside.

**Dates.** ISO dates (``2025-03-01``, also with a time and a time zone: the date as written,
``2025-03-01T23:30:00-05:00`` is 1 March), Excel serial numbers (``45717`` is 2025-03-01;
5-digit numbers, 1927 to 2173) and ``DD/MM/YYYY``, ``MM/DD/YYYY``, ``DD.MM.YYYY``,
``DD-MM-YYYY``, ``MM-DD-YYYY`` and ``YYYY/MM/DD``. Whether ``03/04/2025`` is March or April is
decided from the whole column (a day above 12 decides it); a column where no value decides it
is refused with a how-to naming ``format:``, except with dots, which no country writes
month-first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kamlib.errors import InputError
from kamlib.intake.readers import UNICODE_SPACES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FORMAT_KEYS = ("decimal", "thousands", "date")
"""Keys of a table's block under ``format:`` in engagement.yml."""

DECIMALS = (".", ",")
THOUSANDS = (",", ".", " ", "'", "")
"""Thousands separators a ``format:`` may name (``""``: none)."""

DATE_LAYOUTS = ("YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "DD-MM-YYYY",
                "MM-DD-YYYY", "YYYY/MM/DD")
"""Date layouts a ``format:`` may name (and the detection chooses from)."""

ISO = "YYYY-MM-DD"

# ------------------------------------------------------------------ the amount grammar
GROUP_SEPARATORS = " '"
"""Thousands separators of every format (never a decimal mark)."""

def number_pattern(decimal: str, thousands: str) -> str:
    """An unsigned number written with ``decimal`` and ``thousands`` (blanks and ``'`` between
    groups of three digits always count as thousands separators), as one regex."""
    d = "\\." if decimal == "." else decimal
    seps = "".join(dict.fromkeys(f"{thousands} '"))
    return (f"^([0-9]+({d}[0-9]*)?|{d}[0-9]+|[1-9][0-9]{{0,2}}([{seps}][0-9]{{3}})+"
            f"({d}[0-9]*)?)$")


DOT_NUMBER = number_pattern(".", ",")
"""An unsigned number with ``.`` as decimal point (``,`` blanks or ``'`` between groups)."""

COMMA_NUMBER = number_pattern(",", ".")
"""An unsigned number with ``,`` as decimal comma (``.`` blanks or ``'`` between groups)."""

SEPARATOR = r"[.,]"

CURRENCY_SIGNS: dict[str, tuple[str, ...]] = {
    "€": ("EUR",), "$": ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"), "US$": ("USD",),
    "£": ("GBP",), "¥": ("JPY", "CNY"), "₹": ("INR",), "FR.": ("CHF",), "SFR": ("CHF",),
    "KR": ("SEK", "NOK", "DKK"), "KR.": ("SEK", "NOK", "DKK"), "ZŁ": ("PLN",),
    "R$": ("BRL",), "₽": ("RUB",), "₺": ("TRY",), "₩": ("KRW",), "KČ": ("CZK",),
}
"""Currency signs written in amount cells, and the codes each may stand for."""

_SIGN_TOKENS = "|".join(re.escape(s) for s in sorted(CURRENCY_SIGNS, key=len, reverse=True))

_TOKEN = f"{_SIGN_TOKENS}|[A-Z]{{3}}"
CELL = (f"(?i)^(\\()? *([+-])? *({_TOKEN})? *([+-])? *([0-9.,']+(?: [0-9.,']+)*) *({_TOKEN})? *"
        "(-)? *(\\))?$")
"""An amount cell, blanks trimmed, as one regex: groups 1 ``(``, 2 a sign, 3 a currency token,
4 a sign, 5 the number, 6 a currency token, 7 a trailing minus, 8 ``)``. The engine and pandas
both take a cell apart with it."""


def currency_tokens(code: str) -> list[str]:
    """The signs and the code that stand for ``code`` in an amount cell (upper case)."""
    code = code.strip().upper()
    return [code, *[s for s, codes in CURRENCY_SIGNS.items() if code in codes]]


# --------------------------------------------------------------------- the date grammar
LAYOUT_SHAPE = r"^([0-9]{1,2})([./-])([0-9]{1,2})[./-]([0-9]{4})$"
"""A date written day and month first in either order (``03/04/2025``, ``3.4.2025``)."""

YEAR_FIRST_SHAPE = r"^([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})$"
SERIAL_SHAPE = r"^[1-9][0-9]{4}(\.[0-9]+)?$"
"""An Excel serial date (days since 1899-12-30): 10000 to 99999, 1927 to 2173."""

ISO_PREFIX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?$"
EXCEL_EPOCH = "1899-12-30"


@dataclass(frozen=True)
class TableFormat:
    """A table's ``format:`` block: each key None where engagement.yml does not set it."""

    decimal: str | None = None
    thousands: str | None = None
    date: str | None = None

    def number(self) -> NumberFormat | None:
        """The number format the block sets, or None (decided from each column)."""
        if self.decimal is None and self.thousands is None:
            return None
        decimal = self.decimal or ("," if self.thousands == "." else ".")
        thousands = self.thousands if self.thousands is not None else (
            "." if decimal == "," else ",")
        return NumberFormat(decimal, thousands)


@dataclass(frozen=True)
class NumberFormat:
    """How a column writes numbers: its decimal mark and thousands separator."""

    decimal: str = "."
    thousands: str = ","

    @property
    def label(self) -> str:
        sep = {"": "none", " ": "blank", "'": "'"}.get(self.thousands, f"'{self.thousands}'")
        return f"decimal '{self.decimal}', thousands {sep}"


PLAIN = NumberFormat()
COMMA = NumberFormat(",", ".")


def parse_formats(config: Any, file: str) -> dict[str, TableFormat]:
    """The ``format:`` block of engagement.yml, checked: ``{table: TableFormat}``.

    Raises
    ------
    InputError
        An unknown table or key, or a value not among the allowed ones, naming them.
    """
    from kamlib.intake.contract import TABLES

    if config in (None, {}):
        return {}
    how = ("write e.g. format: {transactions: {decimal: \",\", thousands: \".\", date: "
           "\"DD.MM.YYYY\"}} (see docs/data_contract.md, Regional formats)")
    if not isinstance(config, dict):
        raise InputError(file, "'format' should be a mapping of table to settings.", how)
    out = {}
    for table, block in config.items():
        if table not in TABLES:
            raise InputError(file, f"format: unknown table '{table}'.",
                             f"name one of {', '.join(TABLES)}; {how}")
        if not isinstance(block, dict):
            raise InputError(file, f"format: {table} should be a mapping.", how)
        unknown = sorted(set(block) - set(FORMAT_KEYS))
        if unknown:
            raise InputError(file, f"format: {table}: unknown setting(s) {', '.join(unknown)}.",
                             f"use {', '.join(FORMAT_KEYS)}; {how}")
        values = {k: None if block.get(k) is None else str(block[k]) for k in FORMAT_KEYS}
        for key, allowed in (("decimal", DECIMALS), ("thousands", THOUSANDS),
                             ("date", DATE_LAYOUTS)):
            v = values[key]
            if v is not None and v not in allowed:
                shown = ", ".join(repr(a) for a in allowed)
                raise InputError(file, f"format: {table}: {key} {v!r} is not one of {shown}.",
                                 f"write one of {shown}; {how}")
        if values["decimal"] and values["decimal"] == values["thousands"]:
            raise InputError(file, f"format: {table}: decimal and thousands are both "
                             f"{values['decimal']!r}.", how)
        out[table] = TableFormat(**values)
    return out


def parse_sheets(config: Any, file: str) -> dict[str, int | str]:
    """The ``sheet:`` block of engagement.yml, checked: ``{table: sheet name or 0-based index}``."""
    from kamlib.intake.contract import TABLES

    if config in (None, {}):
        return {}
    if not isinstance(config, dict):
        raise InputError(file, "'sheet' should be a mapping of table to sheet.",
                         "write e.g. sheet: {transactions: \"Invoice lines\", accounts: 2} (a "
                         "sheet's name, or its position counting from 1).")
    out: dict[str, int | str] = {}
    for table, sheet in config.items():
        if table not in TABLES:
            raise InputError(file, f"sheet: unknown table '{table}'.",
                             f"name one of {', '.join(TABLES)}.")
        if isinstance(sheet, bool) or not isinstance(sheet, (int, str)) or (
                isinstance(sheet, int) and sheet < 1):
            raise InputError(file, f"sheet: {table}: {sheet!r} is not a sheet.",
                             "give the sheet's name, or its position counting from 1.")
        out[table] = sheet - 1 if isinstance(sheet, int) else sheet
    return out


# ------------------------------------------------------------------- amount decisions
def amount_pieces(text: str) -> tuple[str, bool, int, str]:
    """A cell's unsigned number (``""`` when it is not an amount), whether it is negative, how
    many sign marks it has (more than one is not read) and its currency token (upper case,
    ``""`` when none), by :data:`CELL`: Python's side of
    :func:`kamlib.intake.reading_rules.amount_value`."""
    m = _CELL.match(_UNICODE_SPACE.sub(" ", text).strip())
    if not m or bool(m.group(1)) != bool(m.group(8)) or (m.group(3) and m.group(6)):
        return "", False, 0, ""
    g = [m.group(i) or "" for i in range(9)]
    negative = bool(g[1]) or "-" in (g[2], g[4], g[7])
    marks = sum(1 for i in (1, 2, 4, 7) if g[i])
    return g[5], negative, marks, (g[3] or g[6]).upper()


def unsigned_core(text: str) -> str:
    """A cell's number without blanks, currency token and negative marks."""
    return amount_pieces(text)[0]


def read_amount(text: str, fmt: NumberFormat, tokens: list[str]) -> tuple[float | None, bool]:
    """One cell by the amount rules (:func:`kamlib.intake.reading_rules.amount_value`): its
    value (None if no rule reads it) and whether it names another currency than ``tokens``."""
    core, negative, marks, token = amount_pieces(text)
    number = None
    if re.search(number_pattern(fmt.decimal, fmt.thousands), core):
        seps = "".join(dict.fromkeys(fmt.thousands + " '"))
        digits = re.sub(f"[{seps}]", "", core)
        number = float(digits.replace(",", ".") if fmt.decimal == "," else digits)
    if token and token not in tokens:
        return None, number is not None
    if marks > 1 or number is None:
        return None, False
    return (-number if negative else number), False


def amount_evidence(values: pd.Series) -> dict[str, int]:
    """How many text values can only be a decimal point (``dot``), only a decimal comma
    (``comma``), or either with different values: ``either`` with a comma (``1,234``: the
    contract's ``.`` decimal point does not read it) and ``either_dot`` (``1.234``: read as
    the contract says unless the table shows decimal commas)."""
    text = values.dropna().astype("string")
    text = text[text.str.contains(SEPARATOR, regex=True)]
    if text.empty:
        return {"dot": 0, "comma": 0, "either": 0, "either_dot": 0}
    core = text.map(unsigned_core).astype("string")
    dot = core.map(lambda v: bool(_DOT.search(v))).astype(bool)
    comma = core.map(lambda v: bool(_COMMA.search(v))).astype(bool)  # not empty here
    has_comma = core.str.contains(",", regex=False).fillna(False).astype(bool)
    return {"dot": int((dot & ~comma).sum()), "comma": int((comma & ~dot).sum()),
            "either": int((dot & comma & has_comma).sum()),
            "either_dot": int((dot & comma & ~has_comma).sum())}


def decide_number(evidence: dict[str, int], column: str, file: str,
                  examples: dict[str, list[str]] | None = None, *,
                  table: str = "transactions", final: bool = True,
                  default: NumberFormat | None = None) -> NumberFormat | None:
    """The column's number format from its :func:`amount_evidence` (None: not decided yet,
    when ``final`` is false and only ambiguous values were seen).

    A column whose values decide nothing takes ``default`` (the format the table's other
    columns show), else the contract's ``.`` decimal point -- unless it holds values such as
    ``1,000`` that the contract's format does not read and nothing decides.

    Raises
    ------
    InputError
        Values of both kinds, or (``final``) only values that could be either.
    """
    examples = examples or {}
    if evidence["dot"] and evidence["comma"]:
        eg = [*examples.get("dot", [])[:2], *examples.get("comma", [])[:2]]
        raise number_refusal(file, column, table, eg, mixed=True)
    if evidence["comma"]:
        return COMMA
    if evidence["dot"]:
        return PLAIN
    if default is not None:
        return default
    if not evidence["either"]:
        return PLAIN
    if not final:
        return None
    raise number_refusal(file, column, table, examples.get("either", [])[:3], mixed=False)


def number_refusal(file: str, column: str, table: str, examples: list[str], *, mixed: bool,
                   rows: list[int] | None = None) -> InputError:
    """The error for a column whose decimal mark cannot be decided."""
    eg = ", ".join(repr(v) for v in examples)
    why = ("its values mix two formats: some use ',' as a thousands separator and others as a "
           "decimal comma ('.' likewise)" if mixed else "no value shows whether '.' or ',' is "
           "its decimal mark (1,000 could be a thousand or one, and so could 1.000)")
    return InputError(
        file, f"the amounts cannot be read unambiguously: {why}" + (f" (e.g. {eg})." if eg else "."),
        f"Say how the {table} table writes numbers in engagement.yml, e.g. format: {{{table}: "
        "{decimal: \",\", thousands: \".\"}} (values that do not fit are then set aside), or "
        "export the column with '.' as decimal point and without thousands separators.",
        column=column, rows=rows)


# --------------------------------------------------------------------- date decisions
def date_evidence(values: pd.Series) -> dict[str, Any]:
    """For the dates of a column: how many are ISO (``iso``), the separators of the others
    and how many of those have a first part above 12 (``day_first``) or a second one
    (``month_first``)."""
    text = values.dropna().astype("string").str.strip()
    parts = text.str.extract(LAYOUT_SHAPE)
    shaped = parts[0].notna()
    first = parts[0][shaped].astype(int)
    second = parts[2][shaped].astype(int)
    return {"separators": sorted(set(parts[1][shaped])), "shaped": int(shaped.sum()),
            "iso": sum(1 for v in text if _ISO.match(v)),
            "day_first": int((first > 12).sum()), "month_first": int((second > 12).sum()),
            "year_first": sum(1 for v in text if _YEAR_FIRST.search(v))}


def decide_date(evidence: dict[str, Any], column: str, file: str, *, table: str = "transactions",
                final: bool = True) -> str | None:
    """The column's date layout from :func:`date_evidence` (ISO when no value needs another,
    or when no fewer values are ISO than in another layout: those are set aside; None
    when ``final`` is false and the day and month could be either).

    Raises
    ------
    InputError
        Two separators, values that are day-first and others month-first, or (``final``) no
        value deciding between ``DD/MM`` and ``MM/DD``.
    """
    seps = evidence["separators"]
    if not evidence["shaped"]:
        return "YYYY/MM/DD" if evidence.get("year_first") else ISO
    if evidence.get("iso", 0) >= evidence["shaped"]:
        return ISO  # a few odd values in an ISO column: set aside as not a date, not guessed
    how = (f"say how the {table} table writes dates in engagement.yml, e.g. format: "
           f"{{{table}: {{date: \"DD/MM/YYYY\"}}}}, or export them as YYYY-MM-DD (these look "
           "like day/month/year or month/day/year dates; in Excel: Format Cells > Custom > "
           "yyyy-mm-dd).")
    if len(seps) > 1:
        raise InputError(file, f"the dates are written in several layouts (separators "
                         f"{' and '.join(repr(s) for s in seps)}).", how, column=column)
    sep = seps[0]
    day, month = evidence["day_first"], evidence["month_first"]
    if day and month:
        raise InputError(file, "some dates are day-first (a first part above 12) and others "
                         "month-first (a second part above 12).", how, column=column)
    if day or (sep == "." and not month):
        return f"DD{sep}MM{sep}YYYY"
    if month:
        return f"MM{sep}DD{sep}YYYY"
    if not final:
        return None
    raise InputError(file, f"no date shows whether it is DD{sep}MM{sep}YYYY or MM{sep}DD{sep}"
                     f"YYYY (no day is above 12: 03{sep}04{sep}2025 could be March or April).",
                     how, column=column)


def layout_parts(layout: str) -> tuple[str, str] | None:
    """``("DM" or "MD" or "YMD", separator)`` of a non-ISO layout; None for ISO."""
    if layout == ISO:
        return None
    if layout.startswith("YYYY"):
        return "YMD", layout[4]
    return ("DM" if layout.startswith("DD") else "MD"), layout[2]


_UNICODE_SPACE = re.compile(f"[{UNICODE_SPACES}]")
_CELL = re.compile(CELL)
_DOT, _COMMA, _YEAR_FIRST, _ISO = (re.compile(p) for p in (DOT_NUMBER, COMMA_NUMBER,
                                                            YEAR_FIRST_SHAPE, ISO_PREFIX))


@dataclass
class ColumnFormats:
    """How each text column of the invoice lines is read, as decided before the pass.

    ``numbers`` (amount column -> :class:`NumberFormat`) and ``dates`` (date column ->
    layout); ``given`` names the columns whose format engagement.yml sets (their values that do
    not fit are set aside, never re-decided), ``provisional`` those whose first lines decided
    nothing (plain numbers): the pass counts their values that could be either, and the
    column is decided from all of its values afterwards. ``tokens``: the currency signs and
    code an amount cell may carry (the engagement's currency).
    """

    numbers: dict[str, NumberFormat]
    dates: dict[str, str]
    given: set[str]
    provisional: set[str]
    tokens: list[str]

    def notes(self) -> list[str]:
        """The data-quality notes on formats read other than the contract's."""
        out = [f"{c}: numbers read with {f.label} ({'format: in engagement.yml' if c in self.given else 'detected from the column'})"
               for c, f in self.numbers.items() if f != PLAIN]
        out += [f"{c}: dates read as {layout} ({'format: in engagement.yml' if c in self.given else 'detected from the column'})"
                for c, layout in self.dates.items() if layout != ISO]
        return out


class Recast(Exception):
    """Raised by the checking pass when the whole column shows another number format than
    its first lines did: the lines are cast again with ``numbers`` (rare: a ledger whose first
    lines hold whole numbers only)."""

    def __init__(self, numbers: dict[str, NumberFormat]) -> None:
        super().__init__(f"recast {sorted(numbers)}")
        self.numbers = numbers
