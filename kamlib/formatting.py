"""How numbers are written for people: the one formatter of pages, figures, workbooks and notebooks.

Result tables keep full precision; only these functions round, for display.

Money is written in one style everywhere: at most three significant digits on a k / M / bn
scale, a space before the scale and the currency::

    money(950)            -> '950'
    money(45_600)         -> '45.6 k'
    money(350_000, "EUR") -> '350 k EUR'
    money(1_234_567)      -> '1.2 M'
    money(999_950)        -> '1.0 M'      (not '1000 k': the scale follows the rounded value)
    money(-3_400_000)     -> '-3.4 M'
    money(None)           -> '–'

An interval is written on one scale, with more digits when its ends would otherwise read alike
(``money_interval(1.38e6, 1.42e6)`` -> ``'1.38 M–1.42 M'``, never ``'1.4 M–1.4 M'``).

Foundation layer: no pandas or numpy needed (pandas timestamps are accepted by :func:`date`).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any

DASH = "–"
"""What a missing value (None, NaN, NaT, infinite) is shown as."""

_SCALES: tuple[tuple[float, str], ...] = ((1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "bn"))
"""Money scales, smallest first: units, thousands, millions, billions."""

EXCEL_MONEY_FORMAT = "#,##0"
"""Excel number format of money cells (the cell keeps the exact amount)."""

EXCEL_DATE_FORMAT = "yyyy-mm-dd"
"""Excel number format of date cells."""

EXCEL_TEXT_AS_TEXT = {"strings_to_formulas": False, "strings_to_urls": False,
                      "strings_to_numbers": False}
"""xlsxwriter options of every workbook the project writes (``pd.ExcelWriter(...,
engine_kwargs={"options": EXCEL_TEXT_AS_TEXT})``): a text cell is written as text, never as
a formula, a hyperlink or a number -- names and free text come from the client's files
(``=HYPERLINK("http://...")``, ``=cmd|' /C calc'!A0``, ``+1+1``, ``@SUM(1)``). Numbers and
dates keep their own cell types."""


CSV_FORMULA_START = r"^[=+\-@\t\r]"
"""A CSV cell a spreadsheet runs as a formula starts with one of ``= + - @``, a tab or a CR
(CWE-1236) -- unless it is a number (a regular expression both Python and DuckDB read)."""

CSV_NUMBER = r"^[+-]?[0-9.,' ]*[0-9][0-9.,' ]*([eE][+-]?[0-9]+)?$"
"""A plain number as an export writes it (``-12.5``, ``-1.234,56``, ``+3e5``): no formula."""

_CSV_FORMULA, _CSV_NUMBER = re.compile(CSV_FORMULA_START), re.compile(CSV_NUMBER)


def csv_text(value: Any) -> Any:
    """``value`` as a CSV the workbook writes holds it: text a spreadsheet would run as a
    formula gets a leading apostrophe (``=cmd|' /C calc'!A0`` -> ``'=cmd|' /C calc'!A0``, which
    Excel and LibreOffice show as text); numbers, other text and non-text values stay as given."""
    if isinstance(value, str) and _CSV_FORMULA.match(value) and not _CSV_NUMBER.match(value):
        return "'" + value
    return value

_TERMINAL_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x09), *range(0x0B, 0x20), 0x7F,
                                                   *range(0x80, 0xA0)]}
_TERMINAL_CONTROLS |= {c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (but tab and newline) and the
    bidirectional overrides are shown as escapes (``\\x1b``, ``\\u202e``), so a client's name or
    id in a message can neither send the terminal an escape sequence nor turn the line round."""
    return str(text).translate(_TERMINAL_CONTROLS)

def missing(value: Any) -> bool:
    """Whether ``value`` has nothing to show: None, NaN, NaT, pandas NA, +-inf or ''."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        f = float(value)
    except (TypeError, ValueError):
        try:  # pandas NA / NaT refuse float() or compare oddly
            return bool(value != value)
        except (TypeError, ValueError):
            return True
    return not math.isfinite(f)


def _scaled(a: float, extra: int = 0) -> tuple[str, str]:
    """Number text and scale suffix of a non-negative amount (``extra`` more decimals)."""
    i = 0
    while i + 1 < len(_SCALES) and a >= _SCALES[i + 1][0]:
        i += 1
    while True:
        div, unit = _SCALES[i]
        v = a / div
        decimals = (0 if i == 0 or round(v, 1) >= 100 else 1) + extra
        text = f"{v:,.{decimals}f}"
        if round(v, decimals) >= 1000 and i + 1 < len(_SCALES):
            i += 1  # 999 950 is 1.0 M, not 1000 k
            continue
        return text, unit


def _join(number: str, unit: str, currency: str) -> str:
    return " ".join(p for p in (number, unit, currency) if p)


def _signed(value: float, text: str) -> str:
    return "-" + text if value < 0 and any(c in "123456789" for c in text) else text


def money(value: Any, currency: str = "") -> str:
    """An amount of money, e.g. ``'1.2 M EUR'`` (see the module docstring for the rule)."""
    if missing(value):
        return DASH
    x = float(value)
    number, unit = _scaled(abs(x))
    return _join(_signed(x, number), unit, currency)


def money_interval(low: Any, high: Any, currency: str = "") -> str:
    """An interval of money on one scale: ``'1.2 M–1.6 M EUR'``.

    Both ends use the scale of the larger one; when they would read alike, a digit is added
    (up to three), so an interval never looks like a single value.
    """
    if missing(low) or missing(high):
        return DASH
    lo, hi = float(low), float(high)
    big = max(abs(lo), abs(hi))
    _, unit = _scaled(big)
    div = dict((u, d) for d, u in _SCALES)[unit]
    for extra in range(4):
        # decimals as the larger end gets them, plus ``extra``
        base = 0 if not unit or round(big / div, 1) >= 100 else 1
        texts = [_signed(v, f"{abs(v) / div:,.{base + extra}f}") for v in (lo, hi)]
        if texts[0] != texts[1] or lo == hi:
            break
    else:  # ends closer than a thousandth of the scale: whole units
        return _join(f"{lo:,.0f}–{hi:,.0f}", "", currency)
    return _join(f"{_join(texts[0], unit, '')}–{_join(texts[1], unit, '')}", "", currency)


def share(value: Any, signed: bool = False, digits: int = 0) -> str:
    """A share or a change as a percentage: ``'45%'``, ``'+12%'`` (``signed``).

    A signed change above +300 % is written ``'>+300%'``: from almost nothing, a percentage
    would mislead.
    """
    if missing(value):
        return DASH
    x = float(value)
    if signed and x > 3:
        return ">+300%"
    return f"{x:+.{digits}%}" if signed else f"{x:.{digits}%}"


def count(value: Any, word: str = "", plural: str = "") -> str:
    """A whole number with thousands separated: ``'1,234'``; ``count(1, "account")`` ->
    ``'1 account'``, ``count(3, "account")`` -> ``'3 accounts'``."""
    if missing(value):
        return DASH
    n = float(value)
    text = f"{n:,.0f}"
    if not word:
        return text
    return f"{text} {word if abs(n) == 1 else (plural or word + 's')}"


def part_of(n: Any, total: Any, population: str, digits: int = 0) -> str:
    """A count with its denominator named: ``part_of(67, 504, "accounts of the purchase model")``
    -> ``'67 of 504 accounts of the purchase model (13%)'``. Every count a page states relative to
    a whole goes through here, so two pages cannot mean different wholes by the same words."""
    if missing(n) or missing(total):
        return DASH
    pct = f" ({share(float(n) / float(total), digits=digits)})" if float(total) else ""
    return f"{count(n)} of {count(total)} {population}{pct}"


def _dated(value: Any, layout: str) -> str:
    if missing(value):
        return DASH
    if isinstance(value, str):
        value = _dt.date.fromisoformat(value[:10])
    return format(value, layout).lstrip("0")


def date(value: Any) -> str:
    """A date as ``'30 Sep 2026'`` (the month in words: no day/month ambiguity)."""
    return _dated(value, "%d %b %Y")


def month(value: Any) -> str:
    """A month as ``'September 2026'`` (a plan's quarter, a review's month)."""
    return _dated(value, "%B %Y")


def number(value: Any) -> str:
    """One number in a notebook table: thousands separated, a sensible number of decimals.

    pandas formats a whole column alike, so one tiny p-value turns every number in it into
    scientific notation; this formats each value on its own (``pd.options.display.float_format``).
    """
    if missing(value):
        return DASH
    x = float(value)
    size = abs(x)
    if size == 0 or size >= 1000 or (x == round(x) and size < 1e15):
        return f"{x:,.0f}"  # a whole number (7 managers) shows no decimals
    if size >= 1:
        return f"{x:,.2f}"
    if size >= 0.001:
        return f"{x:.3f}"
    return "< 0.001" if x > 0 else "> -0.001"  # never scientific notation for a reader


def hours(value: Any) -> str:
    """Hours of work: ``'1,250'`` (whole hours)."""
    return count(value)


# ---------------------------------------------------------------- tables for people
_WORDS = {"id": "ID", "ids": "IDs", "pct": "%", "clv": "CLV", "dpm": "DPM", "ahp": "AHP",
          "cr": "CR", "ri": "RI", "kam": "KAM", "dmu": "DMU", "se": "SE", "ci": "CI",
          "topsis": "TOPSIS", "p": "P", "12m": "(12 months)", "24m": "(24 months)",
          "prev": "previous", "prev2": "two years before", "avg": "average", "str": "strength:",
          "attr": "attractiveness:", "contrib": "contribution:", "h": "health:", "raw": "raw",
          "fivep": "5P:", "n": "number of", "min": "minimum", "max": "maximum", "abs": "absolute",
          "t": "T"}
LABELS = {
    "account_id": "Account ID", "name": "Name", "n": "Count", "k": "k",
    "revenue_12m": "Revenue (12 months)", "margin_12m": "Margin (12 months)",
    "margin_pct_12m": "Margin rate (12 months)", "growth_12m": "Growth (12 months)",
    "share_of_sales_12m": "Share of our sales (12 months)", "p_alive": "P(alive)",
    "p_key": "P(key)", "is_key": "Key account", "n_key": "Key accounts",
    "n_accounts": "Accounts", "share_accounts": "% of accounts", "share_revenue": "% of revenue",
    "share_margin": "% of margin", "share_key": "% of key accounts", "cr": "Consistency ratio",
    "dpm_box": "DPM box", "dpm_strategy": "DPM strategy", "clv_low": "CLV, low end",
    "clv_high": "CLV, high end", "ci_low": "Interval, low end", "ci_high": "Interval, high end",
}
"""Column titles that the word rule (:func:`label`) would not get right."""

_MONEY_WORDS = {"revenue", "margin", "clv", "amount", "potential", "wallet", "price", "sales",
                "spend", "ceiling", "investment", "uplift", "cost"}
_MONEY_IF_QUALIFIED = {"value"}
"""``value`` alone is any number (a metric's value); ``order_value``, ``value_median`` are money."""
_SHARE_WORDS = {"share", "pct", "rate", "growth", "p", "probability", "utilisation", "coverage",
                "adoption", "weight", "returns"}
_NOT_MONEY = {"n", "rank", "days", "hours", "score", "scaled", "centroid", "split", "measure",
              "basis", "rows", "to"}


def label(name: Any) -> str:
    """A column's title for people: ``'revenue_12m'`` -> ``'Revenue (12 months)'``,
    ``'n_contacts'`` -> ``'Number of contacts'``, ``'account_id'`` -> ``'Account ID'``.

    Known titles come from :data:`LABELS`; other names are split at ``_`` and the words
    mapped (abbreviations spelt as people write them). A name that is not snake_case (a
    manager's name used as a column) stays as it is.
    """
    text = str(name)
    if text in LABELS:
        return LABELS[text]
    if "_" not in text and not text.islower():
        return text
    words = [_WORDS.get(w, w) for w in text.split("_") if w]
    out = " ".join(words).replace(": ", ": ").strip() or text
    return out[:1].upper() + out[1:]


def column_kind(name: Any, values: Any = None) -> str:
    """How a numeric column is shown: ``'money'``, ``'share'``, ``'count'`` or ``'number'``,
    from its name's words (and, for a share, values that stay within -10..10)."""
    parts = str(name).lower().split("_")
    words = set(parts)
    scores = (parts[0] in {"contrib", "raw", "str", "attr", "h", "score"}  # scores, not shares
              or bool(words & {"scaled", "centroid"}))
    if words & _SHARE_WORDS and not words & {"hours", "days", "n", "rank"} and not scores:
        if values is None or _within(values, 10.0):
            return "share"
    money = words & _MONEY_WORDS or (words & _MONEY_IF_QUALIFIED and len(parts) > 1)
    if money and not words & _NOT_MONEY and not words & _SHARE_WORDS:
        return "money"
    if words & {"n", "count", "rows", "days", "rank"} or str(name).startswith("n_"):
        return "count"
    return "number"


def _within(values: Any, limit: float) -> bool:
    for v in values:
        if not missing(v) and abs(float(v)) > limit:
            return False
    return True


def cell(value: Any, kind: str = "number", currency: str = "") -> str:
    """One table cell for people: money, share, count, number, a date, yes/no, text or a list
    (joined with ``'; '``); a missing value is :data:`DASH`."""
    if isinstance(value, (list, tuple, set)):
        return "; ".join(cell(v, kind, currency) for v in value) or DASH
    if hasattr(value, "tolist") and not isinstance(value, str) and getattr(value, "ndim", 0):
        return cell(value.tolist(), kind, currency)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if missing(value):
        return DASH
    if isinstance(value, (_dt.date, _dt.datetime)) or hasattr(value, "to_pydatetime"):
        return date(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell(v, kind, currency)}" for k, v in value.items())
    if not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        return str(value)
    return {"money": lambda v: money(v, currency), "share": lambda v: share(v, digits=1),
            "count": count}.get(kind, number)(value)


__all__ = ["DASH", "LABELS", "cell", "column_kind", "label", "part_of", "EXCEL_DATE_FORMAT", "EXCEL_MONEY_FORMAT", "EXCEL_TEXT_AS_TEXT", "CSV_FORMULA_START", "CSV_NUMBER", "csv_text", "printable", "count", "date", "hours",
           "missing", "money", "money_interval", "number", "share"]
