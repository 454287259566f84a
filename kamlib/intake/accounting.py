"""Row accounting: where every row of an input table went, and when too many are set aside.

Every table gets a :class:`RowAccount`: rows read = rows used + rows set aside, with the count
of each reason. Reasons are written ``"<column>: <problem>"``. Two reasons are policy, not
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
AFTER_AS_OF = "date: after as_of"
POLICY_REASONS = frozenset({BLANK, AFTER_AS_OF})
"""Reasons that set a row aside on purpose; they never count as errors."""

ACCOUNT_SET_ASIDE = "account_id: account set aside in the accounts table"
"""Reason for invoice lines of an account whose own row was set aside (not an unknown id)."""

DEFAULT_MAX_SET_ASIDE_SHARE = 0.05

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
