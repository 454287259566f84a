"""The per-account aggregates of the invoice lines, shared by the checking pass and the features.

Reading every invoice line is what costs at tens of millions of lines, so the per-account sums
and counts are one query, written here once and used two ways:

* :func:`aggregates_by_reason` (and :func:`aggregates_by_reason_proving_line_keys`): inside the
  checking pass (:mod:`kamlib.intake.checking_pass`), over *every* line with its reason code, so
  the same read checks the lines, accounts for them and aggregates the used ones;
* :func:`account_aggregates`: over the used lines alone, when the feature build
  (:mod:`kamlib.intake.features`) has no aggregates from the pass.

Both give the same per-account figures for the used lines (a test holds them to it). Money and
quantities are summed exactly (:data:`EXACT`); time windows are trailing 12-month windows ending
at ``as_of``: window 0 is ``(as_of - 1 year, as_of]``, window 1 the twelve months before it,
window 2 the twelve before that.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

ACCOUNT_KEY = "_acc"
"""Column of the checked lines holding the account's integer key (its position among the known
accounts; null for an unknown or missing account). Grouping by it instead of the text
``account_id`` makes every per-account aggregation over the lines cheaper."""

REASON_CODE = "_rc"
"""Column of the lines in the checking pass holding the reason code: 0 for a used line, k for a
line set aside for the k-th reason."""

EXACT = "decimal(18, 4)"
"""Type money and quantities are summed in: each line rounded to 1/10,000, then summed exactly.

Floating-point sums depend on the order rows arrive in, which differs between runs and engines
(parallel scans, hash partitions); decimal sums do not, so two runs give identical tables and
DuckDB and Spark agree exactly."""

EXACT_LIMIT = 1e12
"""Amounts and quantities of a line must lie strictly within +-EXACT_LIMIT: a line beyond it (an
export glitch such as ``1E+20``) is set aside by the checks (:func:`kamlib.intake.line_checks.line_checks`)
instead of failing the cast to :data:`EXACT` (which holds values below 10^14) for the whole
file. No real invoice line comes near it; a margin from amounts within it stays within twice it."""

def within_limit(value: ir.NumericValue, limit: float = EXACT_LIMIT) -> ir.BooleanValue:
    """Whether ``value`` lies strictly within +-``limit`` (null stays null). Written as two
    comparisons so that an engine can answer it from a file's statistics."""
    return (value < limit) & (value > -limit)

def exact(value: ir.NumericValue, limit: float = 10 * EXACT_LIMIT) -> ir.NumericValue:
    """``value`` as :data:`EXACT`, null beyond +-``limit``. Every line is cast before the
    checks have set any aside, so a value the checks reject must not fail the cast; the
    default bound, ten times :data:`EXACT_LIMIT`, never touches a line the checks keep."""
    return within_limit(value, limit).ifelse(value, None).cast(EXACT)

def exact_sum(value, where=None):
    """Order-independent sum of a float column, returned as float64."""
    return exact(value).sum(where=where).cast("float64")

def with_margin(lines: ir.Table) -> ir.Table:
    """Line margin: ``net_revenue - cost`` where cost is given, else the ``margin`` column."""
    return lines.mutate(margin=(lines.net_revenue - lines.cost).coalesce(lines.margin))

def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` years earlier (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)

def window_bounds(as_of: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """``(as_of, as_of - 1y, as_of - 2y, as_of - 3y)``: window k is ``(bounds[k+1], bounds[k]]``."""
    return (as_of, years_before(as_of, 1), years_before(as_of, 2), years_before(as_of, 3))

def windows(lines: ir.Table, as_of: dt.date) -> tuple[ir.BooleanValue, ...]:
    """Whether each line falls in trailing window 0, 1 and 2 (see :func:`window_bounds`)."""
    import ibis

    b0, b1, b2, b3 = (ibis.literal(b, type="date") for b in window_bounds(as_of))
    d = lines.date
    return (d > b1) & (d <= b0), (d > b2) & (d <= b1), (d > b3) & (d <= b2)

def line_values(lines: ir.Table, as_of: dt.date) -> dict[str, ir.Value]:
    """What :func:`account_aggregates` reads from each line, as expressions on ``lines``.

    Net revenue, margin and quantity as exact decimals (cast once per line, not once per sum:
    eleven casts per line cost more than the scan), the three window flags and the purchase
    flag. ``lines`` needs a ``margin`` column (:func:`with_margin`).
    """
    w0, w1, w2 = windows(lines, as_of)
    # Revenue beyond EXACT_LIMIT and margin beyond twice it (no line the checks keep comes
    # near either) are null: the money of such a line is unknown, not summed as set aside.
    return {"_rev": exact(lines.net_revenue, EXACT_LIMIT), "_mar": exact(lines.margin, 2 * EXACT_LIMIT),
            "_qty": exact(lines.quantity), "_w0": w0, "_w1": w1, "_w2": w2,
            "_buy": lines.net_revenue > 0}


def account_aggregates(lines: ir.Table, as_of: dt.date) -> ir.Table:
    """Per-account sums and counts over the used invoice lines, as one query.

    The sums, first and last purchase come from two groupings (:func:`_sums`): the lines by
    account, window and sign -- a handful of groups per account, so each line costs a few
    plain sums -- then those groups by account. Each distinct count is a group-by of the
    distinct values followed by a count per account, joined on the account: the same result as
    ``COUNT(DISTINCT ...)``, but engines run plain group-bys in parallel and spill them, while
    several distinct aggregates in one group-by keep a hash table per aggregate and group
    (Spark would also expand every line once per distinct aggregate). (Counting products and
    categories from one grouping of the lines by account, category and product measured
    slower than a grouping for each.)

    Parameters
    ----------
    lines : ibis.expr.types.Table
        The used invoice lines with a ``margin`` column (see :func:`with_margin`). Lines that
        carry :data:`ACCOUNT_KEY` (the checked lines do) are grouped by it.
    as_of : datetime.date
        End of the last trailing window.

    Returns
    -------
    ibis.expr.types.Table
        One row per account that has at least one line; sums are null where a window is
        empty, counts are 0 where the account has no purchase line.
    """
    # One table that every aggregation below reads: the engine scans the lines once and fans
    # the rows out (DuckDB streams it as a CTE), instead of once per aggregation.
    base = lines.mutate(**line_values(lines, as_of))
    # Group by the integer account key where the checks attached one: hashing and comparing an
    # int is cheaper than the text id, in each of the aggregations.
    acc = ACCOUNT_KEY if ACCOUNT_KEY in base.columns else "account_id"
    ids = {} if acc == "account_id" else {"account_id": base.account_id.arbitrary()}
    bought = base.filter(base._buy)
    out = _with_counts(_sums(base, [acc], ids), acc, bought, _orders(bought, acc))
    return out if acc == "account_id" else out.drop(acc)


def aggregates_by_reason(lines: ir.Table, keys: ir.Table,
                         accounting: dict[str, ir.Scalar]) -> ir.Table:
    """:func:`account_aggregates` inside the checking pass: over every line, by account and reason.

    The sums (and ``accounting``) are grouped by account *and* reason code, so the row checks
    account for every line in the same read that aggregates the used ones; the distinct counts
    read the used lines only, and are repeated on each row of their account. Each row also
    carries ``_max_date`` and ``_min_date`` (its group's last and first line) and ``_returns``
    and ``_zero`` (its lines with negative and zero revenue).

    Parameters
    ----------
    lines : ibis.expr.types.Table
        Every line, carrying the columns of :func:`line_values` (added before the checks' join
        with the accounts, so DuckDB, which streams a join's result to every aggregation below
        but repeats a plain projection in each, computes them once per line),
        :data:`ACCOUNT_KEY` and :data:`REASON_CODE`.
    keys : ibis.expr.types.Table
        ``account_id`` by :data:`ACCOUNT_KEY`: the known accounts the checks joined the lines
        with (the text id is looked up by the key at the end: carrying it through the sums as
        any value of its group cost a sixth of the query).
    accounting : dict of str to ibis scalar
        Further aggregates over ``lines`` for the same groups (the row accounting), each a
        count or a sum: they are summed again over the groups of :func:`_sums`.

    Returns
    -------
    ibis.expr.types.Table
        One row per account and reason code.
    """
    bought = _used_purchases(lines)
    sums = _sums(lines, [ACCOUNT_KEY, REASON_CODE], {}, accounting, row_accounting=True)
    return _named(_with_counts(sums, ACCOUNT_KEY, bought, _orders(bought, ACCOUNT_KEY)), keys)


def aggregates_by_reason_proving_line_keys(lines: ir.Table, keys: ir.Table,
                                           accounting: dict[str, ir.Scalar]) -> ir.Table:
    """:func:`aggregates_by_reason` for lines with ``line_no``, whose order counts also prove
    that no two lines (used or not) share ``invoice_id`` + ``line_no``.

    The verdict of :func:`_orders_proving_line_keys` is added to every row as the columns
    ``_clashes`` (0 proves there is no duplicate key) and ``_shared`` (invoices whose orders
    were counted under one of several accounts: count again with :func:`aggregates_by_reason`).
    The checking pass then needs no pass of its own over the keys.
    """
    bought = _used_purchases(lines)
    orders, verdict = _orders_proving_line_keys(lines, ACCOUNT_KEY,
                                                lines._buy & (lines[REASON_CODE] == 0))
    sums = _sums(lines, [ACCOUNT_KEY, REASON_CODE], {}, accounting, row_accounting=True)
    return _named(_with_counts(sums, ACCOUNT_KEY, bought, orders), keys).cross_join(verdict)


def _used_purchases(lines: ir.Table) -> ir.Table:
    """The used purchase lines of the checking pass (reason code 0, positive revenue)."""
    return lines.filter(lines._buy & (lines[REASON_CODE] == 0))


def _sums(base: ir.Table, groups: list[str], ids: dict[str, Any],
          extra: dict[str, Any] | None = None, row_accounting: bool = False) -> ir.Table:
    """Sums, first and last purchase per group of ``base`` (which carries the columns of
    :func:`line_values`), in two steps.

    The lines are first grouped by ``groups`` plus their window (0, 1, 2, or 3 for none), their
    purchase flag and the sign of their revenue: a handful of groups per account, each holding
    plain sums, counts and its first and last day. Those groups are then grouped by ``groups``,
    each figure taking the groups it needs (``revenue_12m`` those of window 0, ``gross_sales``
    the purchases, ``returns`` the negative ones). Grouping the lines once with a few plain
    aggregates costs half as much as one grouping with a filtered aggregate per figure, and
    the decimal sums of sums are the same exact numbers. ``ids`` and ``extra`` are aggregates
    of the lines: ``ids`` (any value of the group) are kept, ``extra`` (counts and sums) are
    summed again. With ``row_accounting``, also ``_max_date``, ``_min_date``, ``_returns`` and
    ``_zero`` (see :func:`aggregates_by_reason`).
    """
    import ibis

    extra = extra or {}
    window = ibis.cases((base._w0, 0), (base._w1, 1), (base._w2, 2), else_=3).cast("int8")
    g = base.group_by([*groups, window.name("_g_win"), base._buy.name("_g_buy"),
                       base._rev.sign().cast("int8").name("_g_sign")]).aggregate(
        _g_rev=base._rev.sum(), _g_mar=base._mar.sum(), _g_qty=base._qty.sum(),
        _g_lines=base.count(), _g_first=base.date.min(), _g_last=base.date.max(), **ids, **extra)

    def total(value: ir.NumericValue, where: ir.BooleanValue | None = None) -> ir.NumericValue:
        return value.sum(where=where).cast("float64")

    rows = {"_max_date": g._g_last.max(), "_min_date": g._g_first.min(),
            "_returns": g._g_lines.sum(where=g._g_sign == -1).fill_null(0),
            "_zero": g._g_lines.sum(where=g._g_sign == 0).fill_null(0)} if row_accounting else {}
    return g.group_by(groups).aggregate(
        **{name: g[name].arbitrary() for name in ids},
        revenue_12m=total(g._g_rev, g._g_win == 0),
        revenue_prev_12m=total(g._g_rev, g._g_win == 1),
        revenue_prev2_12m=total(g._g_rev, g._g_win == 2),
        margin_12m=total(g._g_mar, g._g_win == 0),
        margin_prev_12m=total(g._g_mar, g._g_win == 1),
        margin_prev2_12m=total(g._g_mar, g._g_win == 2),
        revenue_total=total(g._g_rev),
        margin_total=total(g._g_mar),
        quantity_12m=total(g._g_qty, g._g_win == 0),
        gross_sales=total(g._g_rev, g._g_buy),
        returns=total(-g._g_rev, g._g_sign == -1),
        first_purchase=g._g_first.min(where=g._g_buy),
        last_purchase=g._g_last.max(where=g._g_buy),
        **rows,
        **{name: g[name].sum() for name in extra},
    )


def _orders(bought: ir.Table, acc: str) -> ir.Table:
    """Orders per account: the distinct invoices of its purchase lines, and of those the ones
    with a purchase line in the last 12 months."""
    invoices = bought.group_by([acc, "invoice_id"]).aggregate(_in12=bought._w0.cast("int8").max())
    return invoices.group_by(acc).aggregate(
        n_orders=invoices.count(), n_orders_12m=invoices._in12.sum().cast("int64"))


def _with_counts(sums: ir.Table, acc: str, bought: ir.Table, orders: ir.Table) -> ir.Table:
    """``sums`` with the distinct counts per account joined on (0 where there are none):
    ``orders`` (:func:`_orders`), and the categories, products, months and sites of the
    last 12 months of the purchase lines ``bought``."""
    import ibis

    def per_account(t: ir.Table, name: str) -> ir.Table:
        return t.group_by(acc).aggregate(**{name: t.count()})

    months = bought.group_by([acc, (bought.date.year() * 12 + bought.date.month()).name("_m")]).aggregate()
    sites = bought.filter(bought._w0 & bought.site_id.notnull())
    sites = sites.group_by([acc, "site_id"]).aggregate()
    parts = [
        orders,
        per_account(bought.group_by([acc, "category"]).aggregate(), "n_categories"),
        per_account(bought.group_by([acc, "product_id"]).aggregate(), "n_products"),
        per_account(sites, "n_active_sites_12m"),
        per_account(months, "months_active"),
    ]
    # one chain of joins and one projection (a smaller expression compiles faster)
    chain = sums
    for part in parts:
        chain = chain.left_join(part, sums[acc] == part[acc])
    counts = {c: ibis.coalesce(part[c], 0) for part in parts for c in part.columns if c != acc}
    return chain.select(*[sums[c] for c in sums.columns], **counts)


def _named(out: ir.Table, keys: ir.Table) -> ir.Table:
    """``out`` with its account key replaced by the ``account_id`` that ``keys`` gives it."""
    named = out.left_join(keys, ACCOUNT_KEY)
    return named.select(keys.account_id,
                        *[out[c] for c in out.columns if c not in (ACCOUNT_KEY, "account_id")])


LINE_BITS = 61
"""Line numbers are told apart by their remainder modulo this prime (one bit each of a 64-bit
integer): numbers closer than 61 always differ in it, and so do up to 61 numbers in any step
that is not a multiple of 61 (1, 2, 3, ...; 10, 20, 30, ... as some ERPs number lines)."""

def _line_bit(line_no: ir.IntegerValue) -> ir.IntegerValue:
    """One bit per line number: ``1 << (line_no mod 61)`` (:data:`LINE_BITS`; a missing number
    is -1, as in the duplicate key). Lines whose bits differ have different numbers."""
    import ibis

    n = line_no.fill_null(-1)
    return ibis.literal(1, type="int64") << ((n % LINE_BITS + LINE_BITS) % LINE_BITS)

def _orders_proving_line_keys(base: ir.Table, acc: str, used_purchase: ir.BooleanValue):
    """The order counts of :func:`aggregates_by_reason`, computed so that the same grouping
    also proves that no two lines share ``invoice_id`` + ``line_no``.

    Every line -- used or not: a duplicate of a line set aside is still a duplicate -- is
    grouped by invoice, carrying whether the invoice holds a used purchase line (and one in
    the last 12 months), the smallest and largest account of those lines, and, per line, one
    bit for its line number (:func:`_line_bit`) as a sum and a bitwise or. Within an invoice,
    the sum of the bits equals their or exactly when no bit repeats, and then no line number
    repeats: that invoice has no duplicate line. An invoice whose numbers share a remainder
    modulo 61 (more than 61 lines, say) only fails the proof, and the caller then looks for
    duplicates line by line.

    Orders are counted per invoice under its account; an invoice with used purchase lines in
    two accounts (no known export does this) is counted under one only, and reported as
    ``_shared`` so the caller counts again the plain way.

    Returns ``(orders, verdict)``: orders per account (as :func:`_orders`) and a one-row table
    with ``_clashes`` (invoices not proven free of duplicates) and ``_shared``.
    """
    bit = _line_bit(base.line_no)
    # an invoice has a used purchase line iff its smallest account among them is not null
    # (used lines all have one): no flag of its own in the grouping's state
    inv = base.group_by("invoice_id").aggregate(
        _in12=base._w0.cast("int8").max(where=used_purchase),
        _acc_lo=base[acc].min(where=used_purchase), _acc_hi=base[acc].max(where=used_purchase),
        _distinct=(bit.sum() == bit.bit_or()))
    verdict = inv.aggregate(_clashes=inv.count(where=~inv._distinct),
                            _shared=inv.count(where=inv._acc_lo != inv._acc_hi))
    bought = inv.filter(inv._acc_lo.notnull())
    orders = bought.group_by(bought._acc_lo.name(acc)).aggregate(
        n_orders=bought.count(), n_orders_12m=bought._in12.sum().cast("int64"))
    return orders, verdict
