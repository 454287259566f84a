"""Errors a user can fix themselves.

A :class:`KamError` is a user's mistake (a bad file, a bad parameter), not a bug: the CLI prints
its message as one paragraph and exits with code 2, without a traceback. Anything else that
escapes is a bug in kam-workbook and keeps its traceback.

Raised inside a notebook, every KamError (any subclass, wherever it is defined) shows as its
message and a line ending in :data:`USER_ERROR_TAG`; the runner reads that line to tell a user's
mistake from a crash, so the test is ``isinstance`` in the kernel, never the class's name.
"""

from __future__ import annotations

from collections.abc import Sequence


USER_ERROR_TAG = "kam: a user error, exit code"
"""Start of the last line a notebook shows for a :class:`KamError` (``[... exit code 2]``)."""


class KamError(Exception):
    """Base class for errors the user can fix; the message says how."""

    exit_code = 2

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this error in a notebook: the message, not a traceback,
        and the tag line the runner reads (IPython's hook for exceptions that format
        themselves)."""
        return [f"{type(self).__name__}: {self}", f"[{USER_ERROR_TAG} {self.exit_code}]"]


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


class Problems(KamError):
    """Several independent problems found at once (``kam validate`` lists them all).

    Parameters
    ----------
    problems : sequence of KamError
        Each problem; a :class:`Problems` among them is flattened into its problems.
    """

    def __init__(self, problems: Sequence[KamError]) -> None:
        flat: list[KamError] = []
        for p in problems:
            flat.extend(p.problems if isinstance(p, Problems) else [p])
        self.problems = flat
        super().__init__(self.report())

    def report(self, folder: str | None = None) -> str:
        """Every problem, grouped by file and then by column: what is wrong, the example rows
        and the fix. ``folder``: file names under it are shown relative to it."""
        groups: dict[str, list[KamError]] = {}
        for p in self.problems:
            file = getattr(p, "file", "") or "(engagement)"
            if folder and file.startswith(str(folder).rstrip("/") + "/"):
                file = file[len(str(folder).rstrip("/")) + 1:]
            groups.setdefault(file, []).append(p)
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in {len(groups)} "
                 f"file{'s' if len(groups) != 1 else ''}:"]
        for file, found in groups.items():
            lines.append(f"{file}")
            for p in sorted(found, key=lambda p: getattr(p, "column", None) or ""):
                if isinstance(p, InputError):
                    where = f"column '{p.column}'" if p.column else ""
                    if p.rows:
                        shown = ", ".join(str(r) for r in p.rows[: p.max_rows_shown])
                        more = len(p.rows) - p.max_rows_shown
                        where += f", row{'s' if len(p.rows) > 1 else ''} {shown}"
                        where += f" and {more} more" if more > 0 else ""
                    lines.append(f"  - {where + ': ' if where else ''}{p.problem} Fix: {p.fix}")
                else:
                    lines.append(f"  - {p}")
        return "\n".join(lines)
