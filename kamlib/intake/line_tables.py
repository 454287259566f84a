"""Intake's further tables from the invoice lines, in one pass: purchase occasions, account x
category x year and monthly revenue.

The checking pass (:mod:`kamlib.intake.checking_pass`) reads every line once for the checks, the
row accounting and the per-account features. The three further tables need finer groupings --
(account, purchase day) and (account, trailing year, category) -- so they take one more read of
the used lines, and only one: a single query groups the lines both ways (the engine scans them
once and feeds both groupings), derives the months from the days, and returns the three tables
as one result, ordered. Grouping is by the integer account key the checks attached
(:data:`~kamlib.intake.aggregates.ACCOUNT_KEY`, numbered in the order of the account ids, so
ordering by the key is ordering by the id); the text id is put back in pandas from the key.

Sums are exact (:func:`~kamlib.intake.aggregates.exact`): the days' decimal sums are summed
again for the months, so every figure is the same as summing the lines directly, on any
engine and in any order. The tables equal what :func:`kamlib.intake.features.purchase_occasions`,
:func:`~kamlib.intake.features.account_category_year` and
:func:`~kamlib.intake.features.monthly_revenue` give one query each (a test holds them to it).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kamlib.intake.aggregates import ACCOUNT_KEY, EXACT, windows, with_margin

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

OCCASIONS, CATEGORY_YEAR, MONTHS = 0, 1, 2
"""The ``_kind`` of each table's rows in the one result."""

_COLUMNS = {
    OCCASIONS: ("account_id", "date", "revenue", "margin", "n_lines"),
    CATEGORY_YEAR: ("account_id", "year", "category", "revenue", "margin", "quantity"),
    MONTHS: ("month", "revenue", "margin", "n_lines", "n_accounts"),
}
_NAMES = {OCCASIONS: "purchase_occasions", CATEGORY_YEAR: "account_category_year",
          MONTHS: "monthly_revenue"}


def line_tables(lines: ir.Table, as_of: dt.date,
                account_ids: pd.Series | None = None) -> dict[str, pd.DataFrame]:
    """``purchase_occasions``, ``account_category_year`` and ``monthly_revenue`` from one read
    of ``lines``.

    Parameters
    ----------
    lines : ibis.expr.types.Table
        Used invoice lines (fixed schema, dated on or before ``as_of``).
    as_of : datetime.date
        End of the last trailing 12-month window (the category years).
    account_ids : pandas.Series, optional
        The account id of each :data:`~kamlib.intake.aggregates.ACCOUNT_KEY`, by position, in
        sorted order (:attr:`kamlib.intake.checking_pass.TransactionCheck.account_ids`); the
        lines are then grouped by the key. Without it they are grouped by the text id.

    Returns
    -------
    dict of str to DataFrame
        The three tables, with the columns, types and row order of the one-table functions
        in :mod:`kamlib.intake.features`.
    """
    keyed = account_ids is not None and ACCOUNT_KEY in lines.columns
    parts = _collect(_one_query(lines, as_of, ACCOUNT_KEY if keyed else "account_id"))
    # each table's Arrow part is let go as soon as its frame is made
    return {_NAMES[kind]: _frame(parts.pop(kind), kind, account_ids if keyed else None)
            for kind in _NAMES}


def _one_query(lines: ir.Table, as_of: dt.date, acc: str) -> ir.Table:
    """The three tables as one Ibis expression: both groupings of the lines, the months from
    the days, one union (``_kind`` tells the tables apart; :func:`_split` orders them)."""
    import ibis

    lines = with_margin(lines)
    w0, w1, w2 = windows(lines, as_of)
    # The checks keep no line with an amount or quantity beyond EXACT_LIMIT (nor a margin
    # beyond twice it), so the used lines cast to EXACT as they are: no bound to test per line.
    base = lines.select(
        acc, "date", "category", _rev=lines.net_revenue.cast(EXACT),
        _mar=lines.margin.cast(EXACT), _qty=lines.quantity.cast(EXACT),
        _year=ibis.cases((w0, 0), (w1, 1), (w2, 2), else_=ibis.null("int8")).cast("int8"),
        _buy=lines.net_revenue > 0)
    days = base.group_by([acc, "date"]).aggregate(
        _rev=base._rev.sum(), _mar=base._mar.sum(), _n=base.count(),
        _buy=base.count(where=base._buy))
    years = base.filter(base._year.notnull())
    years = years.group_by([acc, "_year", "category"]).aggregate(
        _rev=years._rev.sum(), _mar=years._mar.sum(), _qty=years._qty.sum())
    months = days.group_by(_month=days.date.truncate("M")).aggregate(
        _rev=days._rev.sum(), _mar=days._mar.sum(), _n=days._n.sum(),
        _accounts=days[acc].nunique())
    types = {"_kind": "int8", "_acc": lines[acc].type(), "date": "date", "year": "int8",
             "category": "string", "revenue": "float64", "margin": "float64",
             "quantity": "float64", "n_lines": "int64", "n_accounts": "int64"}

    def rows(kind: int, t: ir.Table, **values: ir.Value) -> ir.Table:
        """``t`` as rows of the union: every column of ``types``, null where not given."""
        given = {"_kind": ibis.literal(kind), "revenue": t._rev, "margin": t._mar, **values}
        return t.select(**{c: (given[c] if c in given else ibis.null()).cast(ty)
                           for c, ty in types.items()})

    bought = days.filter(days._buy > 0)
    return ibis.union(
        rows(OCCASIONS, bought, _acc=bought[acc], date=bought.date, n_lines=bought._n),
        rows(CATEGORY_YEAR, years, _acc=years[acc], year=years._year, category=years.category,
            quantity=years._qty),
        rows(MONTHS, months, date=months._month, n_lines=months._n, n_accounts=months._accounts),
    )


def _collect(query: ir.Table) -> dict[int, Any]:
    """The union's rows, streamed from the engine in batches, as one Arrow table per
    ``_kind`` holding that table's own columns only: neither the engine's copy of the whole
    result nor the union's null columns are ever held."""
    import numpy as np
    import pyarrow as pa

    from kamlib.intake.engine import RESULTS_SHARE, arrow_batches, memory_share

    columns = {kind: [_SOURCE.get(c, c) for c in cols] for kind, cols in _COLUMNS.items()}
    pieces: dict[int, list] = {kind: [] for kind in _NAMES}
    with memory_share(query, RESULTS_SHARE):
        reader = arrow_batches(query)
        for batch in reader:
            kinds = batch.column("_kind").to_numpy()
            for kind, held in pieces.items():
                rows = np.flatnonzero(kinds == kind)
                if len(rows):
                    held.append(batch.select(columns[kind]).take(rows))
    return {kind: pa.Table.from_batches(
                held, schema=pa.schema([reader.schema.field(c) for c in columns[kind]]))
            for kind, held in pieces.items()}


_SOURCE = {"account_id": "_acc", "month": "date"}
"""The union's column that holds each table column (the others have their own name)."""


def _frame(part: Any, kind: int, account_ids: pd.Series | None) -> pd.DataFrame:
    """One table's Arrow part -> its pandas frame, sorted as the one-table functions sort it:
    by integer keys and sorted codes in NumPy (cheaper than the engine's sort of the union),
    then one take of its rows."""
    import pandas as pd

    part = part.take(_order(part, kind, account_ids is not None))
    cols: dict[str, pd.Series] = {}
    for column in _COLUMNS[kind]:
        values = part.column(_SOURCE.get(column, column))
        if column == "account_id":
            cols[column] = (account_ids.take(values.to_numpy()).reset_index(drop=True)
                            if account_ids is not None else pd.Series(values.to_pandas(), dtype="str"))
        elif column in ("date", "month"):
            days = _day_numbers(values).astype("int64")
            cols[column] = pd.Series((days * 86_400_000_000).view("datetime64[us]"))
        elif column == "category":
            cols[column] = pd.Series(values.to_pandas(), dtype="str")
        else:
            cols[column] = pd.Series(values.to_numpy(), dtype=(
                "float64" if column in ("revenue", "margin", "quantity") else "int64"))
    return pd.DataFrame(cols)


def _order(part: Any, kind: int, keyed: bool) -> Any:
    """The row order of one table's part: occasions by account and day, category years by
    account, year and category, months by month. Integer account keys follow the ids' order;
    text ids and categories are ranked (sorted codes) first."""
    import numpy as np
    import pandas as pd

    def values(name: str, rank: bool = False):
        col = part.column(name)
        if name == "date":
            return _day_numbers(col)
        col = col.to_numpy()
        return pd.factorize(col, sort=True)[0] if rank else col

    if kind == MONTHS:
        keys = [values("date")]
    else:
        acc = values("_acc", rank=not keyed)
        keys = ([acc, values("date")] if kind == OCCASIONS
                else [acc, values("year"), values("category", rank=True)])
    return np.lexsort(keys[::-1])


def _day_numbers(values: Any) -> Any:
    """Days since 1970-01-01 (int32) of an Arrow date or timestamp column (an engine may give
    the months as timestamps)."""
    import pyarrow as pa

    if pa.types.is_timestamp(values.type):
        values = values.cast(pa.date32())
    return values.cast(pa.int32()).to_numpy()
