"""Invoice lines -> what we know about each account: the feature build.

This is the one step that reads every invoice line, so it is written as Ibis expressions that
any Ibis backend runs (DuckDB in-process by default, Spark for very large ledgers) and only the
per-account results become pandas DataFrames. The input is the table of *used* lines that
:func:`kamlib.intake.validation.check_transactions` leaves (fixed schema from
:func:`kamlib.intake.engine.cast_transactions`, every line dated on or before ``as_of``).

Time windows are trailing 12-month windows ending at ``as_of``: window 0 is
``(as_of - 1 year, as_of]``, window 1 the twelve months before it, window 2 the twelve before
that. Each column is defined in ``docs/data_contract.md``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

PASSTHROUGH = ("name", "industry", "region", "country", "n_sites", "employees", "wallet",
               "cost_to_serve", "account_manager")
"""Account columns copied into the feature table unchanged."""

FEATURE_COLUMNS = (
    "account_id", *PASSTHROUGH, "as_of",
    "revenue_12m", "revenue_prev_12m", "revenue_prev2_12m",
    "margin_12m", "margin_prev_12m", "margin_prev2_12m",
    "revenue_total", "margin_total", "quantity_12m", "margin_pct_12m",
    "growth_12m", "growth_prev_12m", "share_of_sales_12m",
    "n_orders", "n_orders_12m", "first_purchase", "last_purchase", "recency_days", "tenure_days",
    "avg_order_value", "n_categories", "n_products", "n_active_sites_12m", "months_active",
    "returns_share", "n_contacts", "n_functions",
)
"""Columns of ``account_features``, in order (the downstream contract)."""

_SUMS = ("revenue_12m", "revenue_prev_12m", "revenue_prev2_12m", "margin_12m", "margin_prev_12m",
         "margin_prev2_12m", "revenue_total", "margin_total", "quantity_12m")
_COUNTS = ("n_orders", "n_orders_12m", "n_categories", "n_products", "n_active_sites_12m",
           "months_active")


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` years earlier (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def window_bounds(as_of: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """``(as_of, as_of - 1y, as_of - 2y, as_of - 3y)``: window k is ``(bounds[k+1], bounds[k]]``."""
    return (as_of, years_before(as_of, 1), years_before(as_of, 2), years_before(as_of, 3))


def symmetric_growth(current: np.ndarray | pd.Series | float,
                     previous: np.ndarray | pd.Series | float) -> np.ndarray:
    """Symmetric growth ``(a - b) / ((|a| + |b|) / 2)``, 0 when both are 0.

    Unlike the percentage change ``a / b - 1`` it is defined for a zero base (a new account
    scores +2, a lost one -2), bounded in [-2, 2], and symmetric: growing 50 -> 100 and shrinking
    100 -> 50 score +0.67 and -0.67. For a negative base (a year of net credit notes) the sign
    still says whether revenue went up or down.

    Parameters
    ----------
    current, previous : array-like
        ``a`` (this period) and ``b`` (the period before).

    Returns
    -------
    numpy.ndarray of float
    """
    a = np.asarray(current, dtype=float)
    b = np.asarray(previous, dtype=float)
    denom = (np.abs(a) + np.abs(b)) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(denom > 0, (a - b) / np.where(denom > 0, denom, 1.0), 0.0)
    return np.clip(out, -2.0, 2.0)


EXACT = "decimal(18, 4)"
"""Type money and quantities are summed in: each line rounded to 1/10,000, then summed exactly.

Floating-point sums depend on the order rows arrive in, which differs between runs and engines
(parallel scans, hash partitions); decimal sums do not, so two runs give identical tables and
DuckDB and Spark agree exactly."""

EXACT_LIMIT = 1e12
"""Amounts and quantities of a line must lie strictly within +-EXACT_LIMIT: a line beyond it (an
export glitch such as ``1E+20``) is set aside by the checks (:func:`kamlib.intake.validation.line_checks`)
instead of failing the cast to :data:`EXACT` (which holds values below 10^14) for the whole
file. No real invoice line comes near it; a margin from amounts within it stays within twice it."""


def within_limit(value: ir.NumericValue, limit: float = EXACT_LIMIT) -> ir.BooleanValue:
    """Whether ``value`` lies strictly within +-``limit`` (null stays null). Written as two
    comparisons so that an engine can answer it from a file's statistics."""
    return (value < limit) & (value > -limit)


def _exact(value: ir.NumericValue) -> ir.NumericValue:
    """``value`` as :data:`EXACT`, null where it does not fit. Every line is cast before the
    checks have set any aside, so a value the checks reject must not fail the cast; the bound,
    ten times :data:`EXACT_LIMIT`, never touches a line the checks keep."""
    return within_limit(value, 10 * EXACT_LIMIT).ifelse(value, None).cast(EXACT)


def _sum(value, where=None):
    """Order-independent sum of a float column, returned as float64."""
    return _exact(value).sum(where=where).cast("float64")


def with_margin(lines: ir.Table) -> ir.Table:
    """Line margin: ``net_revenue - cost`` where cost is given, else the ``margin`` column."""
    return lines.mutate(margin=(lines.net_revenue - lines.cost).coalesce(lines.margin))


def _windows(lines: ir.Table, as_of: dt.date):
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
    w0, w1, w2 = _windows(lines, as_of)
    return {"_rev": _exact(lines.net_revenue), "_mar": _exact(lines.margin),
            "_qty": _exact(lines.quantity), "_w0": w0, "_w1": w1, "_w2": w2,
            "_buy": lines.net_revenue > 0}


def account_aggregates(lines: ir.Table, as_of: dt.date, *, reason: str | None = None,
                       accounting: Callable[[ir.Table], dict[str, Any]] | None = None,
                       prepared: bool = False, keys: ir.Table | None = None,
                       prove_line_keys: bool = False) -> ir.Table:
    """Per-account sums and counts over the invoice lines, as one query.

    Sums, first and last purchase come from one aggregation per account. Each distinct count
    is a group-by of the distinct values followed by a count per account, joined on the
    account: the same result as ``COUNT(DISTINCT ...)``, but engines run plain group-bys in
    parallel and spill them, while several distinct aggregates in one group-by keep a hash
    table per aggregate and group (Spark would also expand every line once per distinct
    aggregate). Orders, months and active sites share one grouping: the purchase lines are
    first reduced to their (account, invoice, date, site) combinations -- about one per
    invoice -- and each count reads those instead of every line. (Reducing them to their
    (account, product, category) combinations for products and categories was measured
    slower than counting each from the lines.)

    Parameters
    ----------
    lines : ibis.expr.types.Table
        Invoice lines with a ``margin`` column (see :func:`with_margin`); normally the used
        lines. With ``reason``, every line, each with its reason code.
    as_of : datetime.date
        End of the last trailing window.
    reason : str, optional
        Name of an integer column of ``lines``: 0 for a used line, otherwise the code of the
        reason it is set aside. The sums are then grouped by account *and* reason, and the
        distinct counts read the used lines only; this lets the row checks account for every
        line in the same pass that builds the features (see
        :func:`kamlib.intake.validation.check_transactions`).
    accounting : callable, optional
        ``lines -> {name: aggregate}``: further aggregates for the same groups (the row
        accounting). It receives the lines with the columns of :func:`line_values`.
    prepared : bool
        ``lines`` already carry the columns of :func:`line_values` for this ``as_of``. The
        checking pass adds them before its join with the accounts, so that DuckDB, which
        streams a join's result to every aggregation below but repeats a plain projection in
        each, computes them once per line.
    keys : ibis.expr.types.Table, optional
        ``account_id`` by account key (``_acc``), for lines that carry the key: the known
        accounts the checks joined the lines with.
    prove_line_keys : bool
        With ``reason``, on lines with ``line_no``: count the orders in groupings that also
        prove that no two lines (used or not) share ``invoice_id`` + ``line_no``
        (:func:`_orders_proving_line_keys`), and add its verdict as the columns ``_clashes``
        and ``_shared`` to every row. The checking pass then needs no pass of its own over
        the keys.

    Returns
    -------
    ibis.expr.types.Table
        One row per account that has at least one line (per account and reason with
        ``reason``); sums are null where a window is empty, counts are 0 where the account has
        no purchase line. With ``reason``, the counts of an account are repeated on each of its
        rows and describe its used lines.
    """
    import ibis

    # Group by the integer account key the checks attached (kamlib.intake.validation.ACCOUNT_KEY)
    # where there is one: hashing and comparing an int is cheaper than the text id, in each of
    # the aggregations below. The text id is looked up by the key afterwards where the key
    # table is given (carrying it through the sums as any value of its group cost a sixth of
    # the query).
    acc = "_acc" if "_acc" in lines.columns else "account_id"
    # One table that every aggregation below reads: the engine scans and checks the lines once
    # and fans the rows out (DuckDB streams it as a CTE), instead of once per aggregation.
    base = lines if prepared else lines.mutate(**line_values(lines, as_of))
    rev, mar, buy = base._rev, base._mar, base._buy

    def total(value: ir.NumericValue, where: ir.BooleanValue | None = None) -> ir.NumericValue:
        return value.sum(where=where).cast("float64")

    groups = [acc] if reason is None else [acc, reason]
    ids = {} if acc == "account_id" or keys is not None else {"account_id": base.account_id.arbitrary()}
    sums = base.group_by(groups).aggregate(
        **ids,
        revenue_12m=total(rev, base._w0),
        revenue_prev_12m=total(rev, base._w1),
        revenue_prev2_12m=total(rev, base._w2),
        margin_12m=total(mar, base._w0),
        margin_prev_12m=total(mar, base._w1),
        margin_prev2_12m=total(mar, base._w2),
        revenue_total=total(rev),
        margin_total=total(mar),
        quantity_12m=total(base._qty, base._w0),
        gross_sales=total(rev, buy),
        returns=total(-rev, rev < 0),
        first_purchase=base.date.min(where=buy),
        last_purchase=base.date.max(where=buy),
        **(accounting(base) if accounting is not None else {}),
    )
    bought = base.filter(buy if reason is None else buy & (base[reason] == 0))

    def per_account(t: ir.Table, name: str) -> ir.Table:
        return t.group_by(acc).aggregate(**{name: t.count()})

    # (account, invoice, date, site): an invoice has one date and site as a rule, so this is
    # about one row per invoice; the exact counts below do not rely on that rule
    verdict = None
    if prove_line_keys:
        visits, orders, verdict = _orders_proving_line_keys(base, acc, buy & (base[reason] == 0))
    else:
        visits = bought.group_by([acc, "invoice_id", "date", "site_id"]).aggregate(
            _in12=bought._w0.cast("int8").max())
        invoices = visits.group_by([acc, "invoice_id"]).aggregate(_in12=visits._in12.max())
        orders = invoices.group_by(acc).aggregate(
            n_orders=invoices.count(), n_orders_12m=invoices._in12.sum().cast("int64"))
    months = visits.group_by([acc, (visits.date.year() * 12 + visits.date.month()).name("_m")]).aggregate()
    sites = visits.filter((visits._in12 == 1) & visits.site_id.notnull())
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
    out = chain.select(*[sums[c] for c in sums.columns], **counts)
    if acc != "account_id":
        if keys is None:
            out = out.drop(acc)
        else:
            named = out.left_join(keys, acc)
            out = named.select(keys.account_id,
                               *[out[c] for c in out.columns if c not in (acc, "account_id")])
    return out if verdict is None else out.cross_join(verdict)


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
    """The order counts of :func:`account_aggregates`, computed so that the same groupings
    also prove that no two lines share ``invoice_id`` + ``line_no``.

    Every line -- used or not: a duplicate of a line set aside is still a duplicate -- is
    grouped by (account, invoice, date, site) as for the order counts, carrying whether the
    group holds a used purchase line and, per line, one bit for its line number
    (:func:`_line_bit`) as a sum and a bitwise or. Those groups are grouped again by invoice.
    Within an invoice, the sum of the bits equals their or exactly when no bit repeats, and
    then no line number repeats: that invoice has no duplicate line. An invoice whose numbers
    share a remainder modulo 61 (more than 61 lines, say) only fails the proof, and the caller
    then looks for duplicates line by line.

    Orders are counted per invoice under its account; an invoice with used purchase lines in
    two accounts (no known export does this) is counted under one only, and reported as
    ``_shared`` so the caller counts again the plain way.

    Returns ``(visits, orders, verdict)``: the used purchase visits (``_in12`` as in the plain
    path), orders per account, and a one-row table with ``_clashes`` (invoices not proven free
    of duplicates) and ``_shared``.
    """
    ok = used_purchase.cast("int8")
    bit = _line_bit(base.line_no)
    groups = base.group_by([acc, "invoice_id", "date", "site_id"]).aggregate(
        _ok=ok.max(), _in12=(ok * base._w0.cast("int8")).max(),
        _bits=bit.sum(), _or=bit.bit_or())
    inv = groups.group_by("invoice_id").aggregate(
        _ok=groups._ok.max(), _in12=groups._in12.max(),
        _acc_lo=groups[acc].min(where=groups._ok == 1),
        _acc_hi=groups[acc].max(where=groups._ok == 1),
        _distinct=(groups._bits.sum() == groups._or.bit_or()))
    verdict = inv.aggregate(_clashes=inv.count(where=~inv._distinct),
                            _shared=inv.count(where=inv._acc_lo != inv._acc_hi))
    bought = inv.filter(inv._ok == 1)
    orders = bought.group_by(bought._acc_lo.name(acc)).aggregate(
        n_orders=bought.count(), n_orders_12m=bought._in12.sum().cast("int64"))
    visits = groups.filter(groups._ok == 1)
    return visits, orders, verdict


def contact_counts(contacts: pd.DataFrame | None) -> pd.DataFrame:
    """``n_contacts`` and ``n_functions`` (distinct functions) per account."""
    import pandas as pd

    if contacts is None or contacts.empty:
        return pd.DataFrame({"account_id": pd.Series([], dtype="str"),
                             "n_contacts": pd.Series([], dtype="int64"),
                             "n_functions": pd.Series([], dtype="int64")})
    g = contacts.groupby("account_id", sort=True)
    return pd.DataFrame({"n_contacts": g.size(), "n_functions": g["function"].nunique()}).reset_index()


def account_features(lines: ir.Table, accounts: pd.DataFrame, as_of: dt.date,
                     contacts: pd.DataFrame | None = None, has_sites: bool = True, *,
                     aggregates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``account_features`` table: one row per account, including those with no purchases.

    Parameters
    ----------
    lines : ibis.expr.types.Table
        Used invoice lines (fixed schema, dated on or before ``as_of``).
    accounts : pandas.DataFrame
        Clean accounts table (contract columns); every account gets a row.
    as_of : datetime.date
        Reference date: end of the last trailing 12-month window.
    contacts : pandas.DataFrame, optional
        Clean contacts table, for ``n_contacts`` and ``n_functions``.
    has_sites : bool
        Whether the invoice lines carry a ``site_id``; if not, ``n_active_sites_12m`` is NaN.
    aggregates : pandas.DataFrame, optional
        :func:`account_aggregates` of ``lines`` at ``as_of``, when already computed: the row
        checks compute them in their pass over the lines (``TransactionCheck.aggregates``), and
        passing them spares a second read of every line.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FEATURE_COLUMNS`, sorted by ``account_id``. Sums are 0 for accounts
        without lines; ratios that are undefined (no sales) are NaN.
    """
    import pandas as pd

    agg = (account_aggregates(with_margin(lines), as_of).to_pandas() if aggregates is None
           else aggregates.copy())
    agg["account_id"] = agg["account_id"].astype("str")
    out = accounts.loc[:, ["account_id", *[c for c in PASSTHROUGH if c in accounts.columns]]].copy()
    for c in PASSTHROUGH:
        if c not in out.columns:
            out[c] = np.nan
    out = out.merge(agg, on="account_id", how="left", validate="one_to_one")
    for c in (*_SUMS, "gross_sales", "returns"):
        out[c] = out[c].astype("float64").fillna(0.0)
    for c in _COUNTS:
        out[c] = out[c].fillna(0).astype("int64")
    if not has_sites:
        out["n_active_sites_12m"] = np.nan
    as_of_ts = pd.Timestamp(as_of)
    out["as_of"] = as_of_ts
    for c in ("first_purchase", "last_purchase"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[us]")
    out["as_of"] = out["as_of"].astype("datetime64[us]")
    rev12 = out["revenue_12m"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["margin_pct_12m"] = np.where(rev12 != 0, out["margin_12m"] / np.where(rev12 != 0, rev12, 1), np.nan)
        total12 = rev12.sum()
        out["share_of_sales_12m"] = rev12 / total12 if total12 != 0 else 0.0
        out["avg_order_value"] = np.where(out["n_orders"] > 0,
                                          out["gross_sales"] / out["n_orders"].clip(lower=1), np.nan)
        out["returns_share"] = np.where(out["gross_sales"] > 0,
                                        out["returns"] / out["gross_sales"].where(out["gross_sales"] > 0, 1), np.nan)
    out["growth_12m"] = symmetric_growth(out["revenue_12m"], out["revenue_prev_12m"])
    out["growth_prev_12m"] = symmetric_growth(out["revenue_prev_12m"], out["revenue_prev2_12m"])
    out["recency_days"] = (as_of_ts - out["last_purchase"]).dt.days.astype("float64")
    out["tenure_days"] = (as_of_ts - out["first_purchase"]).dt.days.astype("float64")
    counts = contact_counts(contacts)
    out = out.merge(counts, on="account_id", how="left")
    for c in ("n_contacts", "n_functions"):
        out[c] = out[c].fillna(0).astype("int64")
    return out.loc[:, list(FEATURE_COLUMNS)].sort_values("account_id", ignore_index=True)


def account_category_year(lines: ir.Table, as_of: dt.date) -> pd.DataFrame:
    """Revenue, margin and quantity per account, trailing year (0, 1, 2) and category.

    Returns
    -------
    pandas.DataFrame
        account_id, year, category, revenue, margin, quantity; only combinations with lines.
    """
    import ibis

    lines = with_margin(lines)
    w0, w1, w2 = _windows(lines, as_of)
    year = ibis.cases((w0, 0), (w1, 1), (w2, 2), else_=ibis.null().cast("int64"))
    t = lines.mutate(year=year).filter(lambda t: t.year.notnull())
    out = t.group_by(["account_id", "year", "category"]).aggregate(
        revenue=_sum(t.net_revenue), margin=_sum(t.margin), quantity=_sum(t.quantity)
    ).to_pandas()
    out["account_id"] = out["account_id"].astype("str")
    out["year"] = out["year"].astype("int64")
    out["category"] = out["category"].astype("str")
    return out.sort_values(["account_id", "year", "category"], ignore_index=True)


def purchase_occasions(lines: ir.Table) -> pd.DataFrame:
    """One row per account and day with a purchase; same-day invoice lines merged.

    A day counts when it has at least one line with positive net revenue; its ``revenue`` and
    ``margin`` are the net of every line that day (a same-day return reduces it). Days with only
    credit notes are not purchase occasions (their value still counts in ``revenue_total``).

    Returns
    -------
    pandas.DataFrame
        account_id, date, revenue, margin, n_lines.
    """
    lines = with_margin(lines)
    out = (
        lines.group_by(["account_id", "date"])
        .aggregate(revenue=_sum(lines.net_revenue), margin=_sum(lines.margin),
                   n_lines=lines.count(), n_buy=(lines.net_revenue > 0).sum())
        .filter(lambda t: t.n_buy > 0)
        .drop("n_buy")
        .to_pandas()
    )
    return _tidy_dates(out, ["account_id", "date"])


def monthly_revenue(lines: ir.Table) -> pd.DataFrame:
    """Net revenue, margin and number of lines and buying accounts per calendar month."""
    lines = with_margin(lines)
    t = lines.mutate(month=lines.date.truncate("M"))
    out = t.group_by("month").aggregate(
        revenue=_sum(t.net_revenue), margin=_sum(t.margin), n_lines=t.count(),
        n_accounts=t.account_id.nunique(),
    ).to_pandas()
    return _tidy_dates(out, ["month"])


def _tidy_dates(out: pd.DataFrame, sort: list[str]) -> pd.DataFrame:
    import pandas as pd

    for c in out.columns:
        if c in ("date", "month"):
            out[c] = pd.to_datetime(out[c]).astype("datetime64[us]")
        elif c == "account_id":
            out[c] = out[c].astype("str")
        elif c.startswith("n_"):
            out[c] = out[c].astype("int64")
    return out.sort_values(sort, ignore_index=True)


def feature_tables(intake, progress: bool = True) -> dict[str, pd.DataFrame]:
    """Every table the intake step writes from the invoice lines, from a checked intake.

    Parameters
    ----------
    intake : kamlib.intake.validation.IntakeResult
        From :func:`kamlib.intake.validation.validate_engagement` / ``load_inputs``.
    progress : bool
        Print a line per table as it is done, with the engine and the time it took (each is
        one pass over the invoice lines; at tens of millions of lines, each takes a while).

    Returns
    -------
    dict of str to DataFrame
        ``account_features``, ``account_category_year``, ``purchase_occasions``,
        ``monthly_revenue`` and ``transactions_summary``.
    """
    import time

    from kamlib.intake.validation import engine_errors

    tx = intake.transactions
    steps = {
        "account_features": lambda: account_features(
            tx.lines, intake.tables["accounts"], tx.as_of, intake.tables.get("contacts"),
            tx.has_sites, aggregates=tx.aggregates),
        "account_category_year": lambda: account_category_year(tx.lines, tx.as_of),
        "purchase_occasions": lambda: purchase_occasions(tx.lines),
        "monthly_revenue": lambda: monthly_revenue(tx.lines),
    }
    out: dict[str, pd.DataFrame] = {}
    lines_used = tx.summary.get("lines_used", 0)
    with engine_errors(intake.files.get("transactions", "transactions")):
        for i, (name, build) in enumerate(steps.items(), 1):
            start = time.perf_counter()
            out[name] = build()
            if progress:
                print(f"[{i}/{len(steps)}] {name}: {len(out[name]):,} rows from {lines_used:,} "
                      f"invoice lines on {intake.engine} in {time.perf_counter() - start:.1f} s",
                      flush=True)
    out["transactions_summary"] = transactions_summary(tx.summary, out["account_features"],
                                                       engine=intake.engine)
    return out


def transactions_summary(summary: dict, features: pd.DataFrame, engine: str = "duckdb") -> pd.DataFrame:
    """The ``transactions_summary`` table: what the used invoice lines cover, metric by metric."""
    import pandas as pd

    f = features
    buyers = int((f["n_orders"] > 0).sum())
    top = f["revenue_12m"].sort_values(ascending=False)
    total12 = float(top.sum())
    n_top = max(1, int(round(0.2 * len(f))))
    rows = [
        ("as_of", summary["as_of"].isoformat(), "end of the last 12-month window"),
        ("first_date", summary["first_date"].isoformat(), "first invoice date used"),
        ("last_date", summary["last_date"].isoformat(), "last invoice date used"),
        ("lines_used", f"{summary['lines_used']}", "invoice lines in the analysis"),
        ("return_lines", f"{summary['return_lines']}", "lines with negative revenue (kept)"),
        ("zero_lines", f"{summary['zero_lines']}", "lines with zero revenue (kept)"),
        ("accounts", f"{len(f)}", "accounts in the account master"),
        ("accounts_buying", f"{buyers}", "accounts with at least one purchase"),
        ("accounts_buying_12m", f"{int((f['n_orders_12m'] > 0).sum())}", "accounts buying in the last 12 months"),
        ("revenue_12m", f"{total12:.2f}", "net revenue, last 12 months"),
        ("revenue_prev_12m", f"{float(f['revenue_prev_12m'].sum()):.2f}", "net revenue, the 12 months before"),
        ("margin_12m", f"{float(f['margin_12m'].sum()):.2f}", "gross margin, last 12 months"),
        ("top20pct_share_12m", f"{(float(top.head(n_top).sum()) / total12 if total12 else 0.0):.4f}",
         "share of 12-month revenue from the largest 20% of accounts"),
        ("currency", str(summary.get("currency") or ""), "currency of the invoice lines"),
        ("engine", engine, "engine that read the invoice lines"),
    ]
    return pd.DataFrame(rows, columns=["metric", "value", "meaning"]).astype("str")


def pareto_curve(features: pd.DataFrame, value: str = "revenue_12m") -> pd.DataFrame:
    """Cumulative share of ``value`` against the share of accounts, largest accounts first.

    Returns
    -------
    pandas.DataFrame
        ``account_share`` (0..1], ``value_share`` (cumulative), ``account_id``.
    """
    import pandas as pd

    ordered = features.sort_values([value, "account_id"], ascending=[False, True])
    v = ordered[value].clip(lower=0).to_numpy(dtype=float)
    total = v.sum()
    n = len(v)
    return pd.DataFrame({
        "account_id": ordered["account_id"].to_numpy(),
        "account_share": np.arange(1, n + 1) / max(n, 1),
        "value_share": np.cumsum(v) / total if total > 0 else np.zeros(n),
    })
