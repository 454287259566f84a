"""Invoice lines -> what we know about each account: the feature build.

The tables intake writes from the invoice lines: ``account_features`` (one row per account),
``account_category_year``, ``purchase_occasions``, ``monthly_revenue`` and
``transactions_summary``. They are written as Ibis expressions that any Ibis backend runs
(DuckDB in-process by default, Spark for very large ledgers) and only the per-account results
become pandas DataFrames. The input is the table of *used* lines that
:func:`kamlib.intake.checking_pass.check_transactions` leaves (fixed schema from
:func:`kamlib.intake.ledger.cast_transactions`, every line dated on or before ``as_of``); the
per-account sums and counts are :mod:`kamlib.intake.aggregates`, which the checking pass
computes in its own read of the lines.

Time windows are trailing 12-month windows ending at ``as_of`` (see
:func:`kamlib.intake.aggregates.window_bounds`). Each column is defined in
``docs/data_contract.md``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from kamlib.intake.aggregates import account_aggregates, exact_sum, windows, with_margin
from kamlib.intake.engine import engine_errors

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd

PASSTHROUGH = ("name", "industry", "region", "country", "n_sites", "employees", "wallet",
               "cost_to_serve", "account_manager", "parent_id")
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
    w0, w1, w2 = windows(lines, as_of)
    year = ibis.cases((w0, 0), (w1, 1), (w2, 2), else_=ibis.null().cast("int64"))
    t = lines.mutate(year=year).filter(lambda t: t.year.notnull())
    out = t.group_by(["account_id", "year", "category"]).aggregate(
        revenue=exact_sum(t.net_revenue), margin=exact_sum(t.margin), quantity=exact_sum(t.quantity)
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
        .aggregate(revenue=exact_sum(lines.net_revenue), margin=exact_sum(lines.margin),
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
        revenue=exact_sum(t.net_revenue), margin=exact_sum(t.margin), n_lines=t.count(),
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

    ``account_features`` comes from the aggregates of the checking pass; the purchase
    occasions, the account x category x year table and the monthly revenue from one further
    read of the used lines (:func:`kamlib.intake.line_tables.line_tables`).

    Parameters
    ----------
    intake : kamlib.intake.loading.CheckedInputs
        From :func:`kamlib.intake.loading.load` / :func:`~kamlib.intake.loading.load_inputs`.
    progress : bool
        Print a line per step as it is done, with the engine and the time it took (at tens of
        millions of lines, the read of the lines takes a while).

    Returns
    -------
    dict of str to DataFrame
        ``account_features``, ``account_category_year``, ``purchase_occasions``,
        ``monthly_revenue`` and ``transactions_summary``.
    """
    import time

    from kamlib.intake.line_tables import line_tables

    tx = intake.transactions
    lines_used = tx.summary.get("lines_used", 0)

    def done(i: int, what: str, start: float) -> None:
        if progress:
            print(f"[{i}/2] {what} from {lines_used:,} invoice lines on {intake.engine} in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)

    with engine_errors(intake.files.get("transactions", "transactions")):
        start = time.perf_counter()
        out = {"account_features": account_features(
            tx.lines, intake.frames["accounts"], tx.as_of, intake.frames.get("contacts"),
            tx.has_sites, aggregates=tx.aggregates)}
        done(1, f"account_features: {len(out['account_features']):,} rows", start)
        start = time.perf_counter()
        further = line_tables(tx.lines, tx.as_of, tx.account_ids)
        done(2, ", ".join(f"{name}: {len(df):,} rows" for name, df in further.items()), start)
    for name in ("account_category_year", "purchase_occasions", "monthly_revenue"):
        out[name] = further[name]
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
