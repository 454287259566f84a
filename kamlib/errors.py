"""Errors a user can fix themselves.

A :class:`KamError` is a user's mistake (a bad file, a bad parameter), not a bug: the CLI prints
its message as one paragraph and exits with code 2, without a traceback. Anything else that
escapes is a bug in kam-workbook and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class KamError(Exception):
    """Base class for errors the user can fix; the message says how."""

    exit_code = 2


class ParameterError(KamError):
    """A parameter is unknown, misspelled or of the wrong type or range."""


class InputError(KamError):
    """An input file breaks the data contract.

    Parameters
    ----------
    file : str
        The file (or table name when there is no file) at fault.
    problem : str
        What is wrong, in one sentence.
    fix : str
        How to fix it, in one sentence.
    column : str, optional
        The column at fault.
    rows : sequence of int, optional
        Row numbers at fault, as the user sees them in the file (1 = first data row).
        Only the first few are printed.
    """

    max_rows_shown = 5

    def __init__(
        self,
        file: str,
        problem: str,
        fix: str,
        column: str | None = None,
        rows: Sequence[int] | None = None,
    ) -> None:
        self.file = str(file)
        self.problem = problem
        self.fix = fix
        self.column = column
        self.rows = list(rows) if rows is not None else []
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = self.file
        if self.column:
            where += f", column '{self.column}'"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[: self.max_rows_shown])
            more = len(self.rows) - self.max_rows_shown
            where += f", row{'s' if len(self.rows) > 1 else ''} {shown}"
            if more > 0:
                where += f" and {more} more"
        return f"{where}: {self.problem} Fix: {self.fix}"
