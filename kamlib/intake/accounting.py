"""Row accounting: where every row of an input table went, and when too many are set aside.

Every table gets a :class:`RowAccount`: rows read = rows used + rows set aside, with the count
of each reason. The invoice lines also account for money (:class:`MoneyAccount`): revenue read
= revenue used + revenue set aside, per reason; a line whose amount cannot be read is counted,
its money unknown (never taken as zero), and :func:`check_revenue_share` stops the intake when
more than ``max_set_aside_revenue_share`` of the revenue would be set aside for errors. Reasons are written ``"<column>: <problem>"``. Two reasons are policy, not
error, and do not count toward ``max_set_aside_share``: ``"(row): blank"`` (an empty line) and
``"date: after as_of"`` (lines later than a chosen ``as_of``, kept out of the analysis). When
more than ``max_set_aside_share`` of a table would be set aside for errors, the export itself
is broken: :func:`check_share` stops with an :class:`~kamlib.errors.InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kamlib.errors import InputError, ParameterError

BLANK = "(row): blank"
REPEATED_HEADER = "(row): repeated header line"
"""A line that repeats the header (two exports concatenated): not data, like a blank line."""
AFTER_AS_OF = "date: after as_of"
POLICY_REASONS = frozenset({BLANK, REPEATED_HEADER, AFTER_AS_OF})
"""Reasons that set a row aside on purpose; they never count as errors."""

UNKNOWN_ACCOUNT = "account_id: unknown account"
"""Reason for invoice lines whose account id matches no account (not even by the id rules of
:mod:`kamlib.intake.reading_rules`)."""

ACCOUNT_SET_ASIDE = "account_id: account set aside in the accounts table"
"""Reason for invoice lines of an account whose own row was set aside (not an unknown id)."""

DEFAULT_MAX_SET_ASIDE_SHARE = 0.05
DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE = 0.01

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


def reason_column(reason: str) -> str:
    """The column a reason is about (``"date: not a date"`` -> ``"date"``)."""
    return reason.split(":", 1)[0]


@dataclass
class MoneyAccount:
    """Where the money of the invoice lines went (lines whose net revenue can be read).

    Attributes
    ----------
    revenue_used, margin_used : float
        Net revenue and margin of the used lines.
    revenue, margin : dict[str, float]
        Net revenue and margin of the set-aside lines, by reason (lines whose amount is known).
    size_used, size : float, dict[str, float]
        The same in absolute amounts (a credit note counts by its size): the set-aside share
        of revenue is taken of these, so credit notes set aside cannot hide invoices set aside.
    unknown : dict[str, int]
        Set-aside lines whose net revenue cannot be read (missing, not a number, absurd), by
        reason: their money is unknown, so it is in none of the sums.
    """

    revenue_used: float
    margin_used: float
    size_used: float
    revenue: dict[str, float] = field(default_factory=dict)
    margin: dict[str, float] = field(default_factory=dict)
    size: dict[str, float] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)

    @property
    def revenue_set_aside(self) -> float:
        return sum(self.revenue.values())

    @property
    def revenue_read(self) -> float:
        """Revenue of every line whose amount can be read: used + set aside."""
        return self.revenue_used + self.revenue_set_aside

    @property
    def margin_set_aside(self) -> float:
        return sum(self.margin.values())

    @property
    def margin_read(self) -> float:
        return self.margin_used + self.margin_set_aside

    @property
    def unknown_rows(self) -> int:
        return sum(self.unknown.values())

    def error_share(self) -> float:
        """Share of the revenue read (absolute amounts) set aside for errors (not policy)."""
        total = self.size_used + sum(self.size.values())
        errors = sum(v for r, v in self.size.items() if r not in POLICY_REASONS)
        return errors / total if total > 0 else 0.0


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
    money : MoneyAccount, optional
        Where the money went (the invoice lines only).
    """

    table: str
    file: str
    rows_read: int
    rows_used: int
    reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    first_rows: dict[str, list[int]] = field(default_factory=dict)
    money: MoneyAccount | None = None

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
            **money_row(self.money),
        }


MONEY_COLUMNS = ("revenue_read", "revenue_used", "revenue_set_aside", "revenue_unknown_rows",
                 "margin_read", "margin_used", "margin_set_aside", "revenue_set_aside_reasons")
"""The money columns of the ``data_quality`` table (empty for the tables without money)."""


def money_row(money: MoneyAccount | None) -> dict[str, Any]:
    """The :data:`MONEY_COLUMNS` of one ``data_quality`` row (missing values without money)."""
    if money is None:
        return {c: None for c in MONEY_COLUMNS}
    return {
        "revenue_read": money.revenue_read, "revenue_used": money.revenue_used,
        "revenue_set_aside": money.revenue_set_aside, "revenue_unknown_rows": money.unknown_rows,
        "margin_read": money.margin_read, "margin_used": money.margin_used,
        "margin_set_aside": money.margin_set_aside,
        "revenue_set_aside_reasons": "; ".join(money_reason_text(money)),
    }


def money_reason_text(money: MoneyAccount, amount: Any = None) -> list[str]:
    """``"<reason>: <revenue>"`` per reason with money set aside, with the lines whose amount
    is unknown (``amount`` formats the money; default: two decimals)."""
    amount = amount or (lambda v: f"{v:.2f}")
    out = []
    for r in sorted(set(money.revenue) | set(money.unknown)):
        if r == REPEATED_HEADER:
            continue  # a header line holds no money
        n = money.unknown.get(r, 0)
        unknown = f"{n:,} line{'' if n == 1 else 's'} of unknown amount" if n else ""
        if r in money.revenue and (money.revenue[r] or not n):
            out.append(f"{r}: {amount(money.revenue[r])}" + (f" + {unknown}" if n else ""))
        else:
            out.append(f"{r}: {unknown}")
    return out


def check_revenue_share(account: RowAccount, max_share: float) -> None:
    """Stop when more than ``max_share`` of the invoice lines' revenue would be set aside for
    errors (absolute amounts, lines whose amount is known; see :class:`MoneyAccount`).

    Raises
    ------
    InputError
        Naming the file, the reason that sets aside the most revenue, its share and the fix.
    """
    if not 0 <= max_share <= 1:
        raise ParameterError(
            f"max_set_aside_revenue_share must lie between 0 and 1, not {max_share}.")
    money = account.money
    if money is None or money.error_share() <= max_share:
        return
    errors = {r: v for r, v in money.size.items() if r not in POLICY_REASONS and v}
    top = max(sorted(errors), key=lambda r: errors[r])
    total = money.size_used + sum(money.size.values())
    fix = next((f for key, f in _FIXES.items() if key in top.split(":", 1)[1]), "correct the rows")
    raise InputError(
        account.file,
        f"{_pct(money.error_share())} of the revenue read would be set aside, more than "
        f"max_set_aside_revenue_share={max_share:g} allows; the most is set aside for "
        f"'{top.split(': ', 1)[1]}' ({_pct(errors[top] / total)} of the revenue, "
        f"{rows_text(account.reasons.get(top, 0))}).",
        f"{fix[0].upper()}{fix[1:]}; or, if losing this revenue is acceptable, raise the "
        "max_set_aside_revenue_share parameter.",
        column=reason_column(top),
        rows=account.first_rows.get(top, []),
    )


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
        f"'{top.split(': ', 1)[1]}' ({rows_text(errors[top])})" + (f"; also {others}." if others else "."),
        f"{fix[0].upper()}{fix[1:]}; or, if losing these rows is acceptable, raise the "
        "max_set_aside_share parameter.",
        column=reason_column(top),
        rows=account.first_rows.get(top, []),
    )


def _pct(share: float) -> str:
    return f"{share:.1%}" if share >= 0.001 or share == 0 else f"{share:.3%}"


def rows_text(n: int) -> str:
    """``"1 row"``, ``"2 rows"``."""
    return f"{n} row{'' if n == 1 else 's'}"
