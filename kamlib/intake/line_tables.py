"""Intake's further tables from the invoice lines, in one pass: purchase occasions, account x
category x year and monthly revenue.

The checking pass (:mod:`kamlib.intake.checking_pass`) reads every line once for the checks, the
row accounting and the per-account features. The three further tables need finer groupings --
(account, purchase day) and (account, trailing year, category) -- so they take one more read of
the used lines, and only one: a single query groups the lines both ways (the engine scans them
once and feeds both groupings), derives the months from the days, and returns the three tables
as one result. Grouping is by the integer account key the checks attached
(:data:`~kamlib.intake.aggregates.ACCOUNT_KEY`, numbered in the order of the account ids, so
ordering by the key is ordering by the id); the text id is put back in pandas from the key.

The result is streamed in batches; each batch is cut into runs of one table (slices: the engine
emits each grouping's chunks apart) and each run's own columns are copied out to NumPy (text as
dictionary codes), so the batch, with the union's null columns, goes at once. Each table is
then ordered by one sort of its keys and row numbers packed into an int64 (:func:`_sorted`),
which also gives back the sorted keys: the account ids from the sorted keys, the dates from
day numbers, the categories from their sorted distinct values.

Sums are exact (:func:`~kamlib.intake.aggregates.exact`): the days' decimal sums are summed
again for the months, so every figure is the same as summing the lines directly, on any
engine and in any order. The tables equal what :func:`kamlib.intake.features.purchase_occasions`,
:func:`~kamlib.intake.features.account_category_year` and
:func:`~kamlib.intake.features.monthly_revenue` give one query each (a test holds them to it).
"""

from __future__ import annotations

import datetime as dt
import math
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
    # each table's pieces are let go as its frame is made
    return {_NAMES[kind]: _frame(parts.pop(kind), kind, account_ids if keyed else None)
            for kind in _NAMES}


def _one_query(lines: ir.Table, as_of: dt.date, acc: str) -> ir.Table:
    """The three tables as one Ibis expression: both groupings of the lines, the months from
    the days, one union (``_kind`` tells the tables apart; :func:`_frame` orders each)."""
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
    # The month as a date made from its year and month (truncating gives DuckDB a timestamp,
    # which turns the union's every date into one); the lines' count through DECIMAL(38, 0)
    # (DuckDB sums BIGINT into HUGEINT, and Ibis takes a cast to int64 for a no-op): both would
    # otherwise widen the whole union's column, not just the months'.
    months = days.group_by(_y=days.date.year(), _m=days.date.month()).aggregate(
        _rev=days._rev.sum(), _mar=days._mar.sum(),
        _n=days._n.sum().cast("decimal(38, 0)").cast("int64"), _accounts=days[acc].nunique())
    months = months.mutate(_month=ibis.date(months._y, months._m, 1))
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


def _collect(query: ir.Table) -> dict[int, dict[str, list]]:
    """The union's rows, streamed from the engine in batches, as pieces of each table's own
    columns: NumPy copies (integers, floats, day numbers) and dictionary-encoded text. Each
    batch is let go once its pieces are copied out, so neither the engine's copy of the whole
    result nor the union's null columns are ever held."""
    from kamlib.intake.engine import RESULTS_SHARE, arrow_batches, memory_share

    held: dict[int, dict[str, list]] = {kind: {c: [] for c in cols}
                                        for kind, cols in _COLUMNS.items()}
    with memory_share(query, RESULTS_SHARE):
        for batch in arrow_batches(query):
            for kind, rows in _runs(batch):
                for column, pieces in held[kind].items():
                    pieces.append(_piece(rows.column(_SOURCE.get(column, column)), column))
    return held


_SOURCE = {"account_id": "_acc", "month": "date"}
"""The union's column that holds each table column (the others have their own name)."""

_MAX_RUNS = 64
"""A batch with more runs of one ``_kind`` than this is split by masks rather than slices."""


def _runs(batch: Any) -> Any:
    """``(kind, rows)`` for each stretch of one table's rows in ``batch``. The engine emits each
    union branch's chunks apart, so a batch is one or a few runs: zero-copy slices."""
    import numpy as np
    import pyarrow as pa

    kinds = batch.column("_kind").to_numpy()
    edges = np.flatnonzero(kinds[1:] != kinds[:-1]) + 1
    if len(edges) > _MAX_RUNS:
        for kind in np.unique(kinds):
            yield int(kind), batch.filter(pa.array(kinds == kind))
        return
    bounds = [0, *edges.tolist(), len(kinds)]
    for start, stop in zip(bounds[:-1], bounds[1:]):
        if stop > start:
            yield int(kinds[start]), batch.slice(start, stop - start)


def _piece(values: Any, column: str) -> Any:
    """One column of a run, as a piece that holds nothing of the batch: text dictionary-encoded
    (codes and the run's distinct values), dates as day numbers, counts as int64 and amounts as
    float64 (whatever the engine widened them to), copied into NumPy."""
    import numpy as np
    import pyarrow as pa

    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return values.dictionary_encode()
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return np.array(_day_numbers(values), copy=True)
    if column in _FLOATS:
        values = values.cast(pa.float64())
    elif column.startswith("n_"):
        values = values.cast(pa.int64())
    return np.array(values.to_numpy(zero_copy_only=False), copy=True)


_KEYS = {OCCASIONS: ("account_id", "date"), CATEGORY_YEAR: ("account_id", "year", "category"),
         MONTHS: ("month",)}
"""Each table's sort keys, in order (as the one-table functions sort it)."""

_FLOATS = ("revenue", "margin", "quantity")


def _frame(part: dict[str, list], kind: int, account_ids: pd.Series | None) -> pd.DataFrame:
    """One table's pieces -> its pandas frame, sorted as the one-table functions sort it. The
    sort keys come back from the sort itself (:func:`_sorted`); every other column is joined and
    put in order once, and its pieces are let go as it is made."""
    import numpy as np
    import pandas as pd

    keys, texts = [], {}
    for name in _KEYS[kind]:
        pieces = part.pop(name)
        if name == "category" or (name == "account_id" and account_ids is None):
            codes, texts[name] = _codes(pieces)
        else:
            codes = np.concatenate(pieces) if pieces else np.empty(0, np.int64)
        pieces.clear()
        keys.append(codes)
    order, keys = _sorted(keys)
    sorted_keys = dict(zip(_KEYS[kind], keys))
    cols: dict[str, Any] = {}
    joined = np.empty(len(order), np.int64)  # each further column joined here, then put in order
    for column in _COLUMNS[kind]:
        if column not in sorted_keys:
            pieces = part.pop(column)
            dtype = np.float64 if column in _FLOATS else np.int64
            if pieces:
                np.concatenate(pieces, out=joined.view(dtype))
            pieces.clear()
            cols[column] = np.take(joined.view(dtype), order, out=np.empty(len(order), dtype))
        elif column in texts:
            cols[column] = pd.Series(texts[column].take(sorted_keys[column]).to_pandas(),
                                     dtype="str")
        elif column == "account_id":
            cols[column] = pd.Series(account_ids.array.take(sorted_keys[column]), copy=False)
        elif column in ("date", "month"):
            days = sorted_keys[column]
            days *= 86_400_000_000
            cols[column] = days.view("datetime64[us]")
        else:
            cols[column] = sorted_keys[column]
    return pd.DataFrame(cols, copy=False)


def _codes(pieces: list) -> tuple[Any, Any]:
    """Dictionary-encoded text pieces -> (codes as int64, the sorted distinct values): code
    ``i`` is the ``i``-th value in sorted (code point) order, so codes sort as the text does."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pieces:
        return np.empty(0, np.int64), pa.array([], pa.string())
    values = pc.unique(pa.chunked_array([p.dictionary for p in pieces]))
    values = values.take(pc.array_sort_indices(values))
    codes = [pc.index_in(p.dictionary, value_set=values).to_numpy().astype(np.int64)
             .take(p.indices.to_numpy()) for p in pieces]
    pieces.clear()
    return np.concatenate(codes), values


_PACK_BITS = 63
"""Bits of the one int64 that :func:`_sorted` packs the keys and the row number into."""


def _sorted(keys: list) -> tuple[Any, list]:
    """The row order that sorts by ``keys`` (integer arrays, first key first; together they
    are unique in every table), and the keys in that order.

    The keys, offset to start at 0, and the row number are packed into one int64 (mixed radix)
    whenever they fit, and that is sorted as it is: several times faster than a lexsort, and
    the sorted keys are unpacked from it rather than gathered. Otherwise a lexsort."""
    import numpy as np

    n = len(keys[0])
    lows = [int(k.min()) if n else 0 for k in keys]
    spans = [int(k.max()) - low + 1 if n else 1 for k, low in zip(keys, lows)]
    row_bits = max(n - 1, 1).bit_length()
    if (math.prod(spans) - 1).bit_length() + row_bits > _PACK_BITS:
        order = np.lexsort(keys[::-1])
        return order, [k.take(order).astype(np.int64, copy=False) for k in keys]
    packed = np.zeros(n, np.int64)
    for k, low, span in zip(keys, lows, spans):
        packed *= span
        packed += k
        packed -= low
    keys.clear()
    packed <<= row_bits
    order = np.arange(n, dtype=np.int64)
    packed |= order
    packed.sort()
    np.bitwise_and(packed, (1 << row_bits) - 1, out=order)
    packed >>= row_bits
    out = []
    for low, span in zip(lows[:0:-1], spans[:0:-1]):  # the last key first; the first is left
        key = np.remainder(packed, span)
        key += low
        out.append(key)
        packed //= span
    packed += lows[0]
    return order, [packed, *out[::-1]]


def _day_numbers(values: Any) -> Any:
    """Days since 1970-01-01 (int32) of an Arrow date or timestamp column (an engine may give
    the months as timestamps)."""
    import pyarrow as pa

    if pa.types.is_timestamp(values.type):
        values = values.cast(pa.date32())
    return values.cast(pa.int32()).to_numpy()
