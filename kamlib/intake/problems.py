"""Every problem of every input table at once (``kam validate``).

:func:`kamlib.intake.load` stops at the first problem, which is right for a run but makes fixing
a client's exports a loop of one problem per attempt. :func:`check_all` loads the engagement
once; when that fails it checks each table on its own -- the mapping, every small table, the
invoice lines -- and returns all their problems as one :class:`~kamlib.errors.Problems`, grouped
by file and column in its report. The checks are independent where they can be: a table is
checked against the accounts that read, and the invoice lines even when the accounts table
does not read (then without the unknown-account check).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kamlib.errors import InputError, KamError, Problems
from kamlib.intake.accounting import (DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
                                      DEFAULT_MAX_SET_ASIDE_SHARE)
from kamlib.intake.contract import TABLES
from kamlib.intake.engagement import CONFIG_FILE
from kamlib.intake.mapping import Mapping, lenient_mapping


def check_all(engagement: Any, *, as_of: str = "",
              max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
              max_set_aside_revenue_share: float = DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
              anonymise: bool = False, engine: str = "", memory_limit: str = "",
              ) -> tuple[Any, Problems | None]:
    """Check an engagement's inputs; every problem of every table when there are any.

    Parameters are those of :func:`kamlib.intake.loading.load`.

    Returns
    -------
    checked, problems : CheckedInputs or None, Problems or None
        The checked inputs when nothing is wrong; else ``None`` and every problem found (its
        :meth:`~kamlib.errors.Problems.report` is one report grouped by file, then column).
    """
    from kamlib.intake.loading import load

    try:
        return load(engagement, as_of=as_of, max_set_aside_share=max_set_aside_share,
                    max_set_aside_revenue_share=max_set_aside_revenue_share,
                    anonymise=anonymise, engine=engine, memory_limit=memory_limit), None
    except KamError as exc:
        first = exc
    found = each_table(engagement, as_of=as_of, max_set_aside_share=max_set_aside_share,
                       max_set_aside_revenue_share=max_set_aside_revenue_share,
                       engine=engine, memory_limit=memory_limit)
    return None, _relative(Problems(found or [first]), engagement)


def _relative(problems: Problems, engagement: Any) -> Problems:
    """File names as engagement.yml writes them (relative to the engagement folder)."""
    root = str(engagement.folder).rstrip("/") + "/"
    for p in problems.problems:
        if isinstance(p, InputError) and p.file.startswith(root):
            p.file = p.file[len(root):]
    return Problems(problems.problems)


def _lenient_mapping(engagement: Any, found: list[KamError]) -> Mapping:
    """The engagement's mapping; its problems are added to ``found`` and the tables are read
    with the entries that are right."""
    mapping, problem = lenient_mapping(engagement.config, str(engagement.folder / CONFIG_FILE))
    if problem is not None:
        found.append(problem)
    return mapping


def _settings(engagement: Any, found: list[KamError]) -> tuple[dict, dict]:
    """engagement.yml's ``format:`` and ``sheet:``; a mistake in either is noted in ``found``
    and the tables are read without that setting."""
    from kamlib.intake.engagement import table_formats, table_sheets

    out = []
    for read in (table_formats, table_sheets):
        try:
            out.append(read(engagement))
        except KamError as exc:
            found.append(exc)
            out.append({})
    return out[0], out[1]


def each_table(engagement: Any, *, as_of: str, max_set_aside_share: float,
               max_set_aside_revenue_share: float, engine: str = "",
               memory_limit: str = "") -> list[KamError]:
    """Check each input table on its own; every problem found, in contract order."""
    import pandas as pd

    import kamlib.intake.engine as eng
    from kamlib.intake.loading import SMALL_TABLES, invoice_lines, read_small
    from kamlib.intake.tables import validate_table

    found: list[KamError] = []
    mapping = _lenient_mapping(engagement, found)
    formats, sheets = _settings(engagement, found)
    currency = getattr(engagement, "currency", None) or "EUR"
    inputs = {name: engagement.input_path(name) for name in TABLES}
    for name, table in TABLES.items():
        if table.required and not inputs.get(name):
            found.append(InputError(f"{CONFIG_FILE} (inputs: {name})",
                                    f"no file is given for the {name} table.",
                                    f"add '{name}: <file>' under inputs: in {CONFIG_FILE}."))
    today = dt.date.today()
    known = None
    for name in SMALL_TABLES:
        if not inputs.get(name):
            continue
        try:
            raw, _ = read_small(name, inputs[name], mapping, sheet=sheets.get(name))
            checked = validate_table(raw, name, inputs[name], known_accounts=known, today=today,
                                     max_set_aside_share=max_set_aside_share,
                                     table_format=formats.get(name), currency=currency)
        except KamError as exc:
            found.append(exc)
            continue
        if name == "accounts":
            known = checked.frame["account_id"]
    if inputs.get("transactions"):
        lenient = known is None  # accounts did not read: no unknown-account check
        try:
            settings = eng.engine_settings(engagement, engine=engine, memory_limit=memory_limit)
            con = eng.connect(**settings)
            invoice_lines(con, inputs["transactions"],
                          pd.Series([], dtype="string") if lenient else known, None,
                          as_of=as_of, today=today,
                          max_set_aside_share=1.0 if lenient else max_set_aside_share,
                          max_set_aside_revenue_share=1.0 if lenient else max_set_aside_revenue_share,
                          cache=False, mapping=mapping, table_format=formats.get("transactions"),
                          currency=currency, sheet=sheets.get("transactions"))
        except KamError as exc:
            found.append(exc)
    return found
