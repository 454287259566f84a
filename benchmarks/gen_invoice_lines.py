"""Synthetic invoice lines at benchmark scale (1M, 10M, 50M rows), written in chunks.

The lines follow the data contract (``kamlib.intake.contract.TRANSACTIONS``): a distributor with
Pareto-sized accounts (a few giants, a long tail), three years of invoices, ~200 products in
12 categories, several ship-to sites per account, new and churned accounts, and returns /
credit notes as negative lines. A matching ``accounts`` table (and a small ``contacts`` table)
is written next to them, so the whole intake feature build can run on the files.

The table is never held in memory as a whole: each chunk of ``CHUNK_ROWS`` lines is drawn from
its own seeded generator and appended to the Parquet (or CSV) file with pyarrow, so peak memory
is that of one chunk whatever the size. Same seed and size give the same bytes.

Usage::

    python benchmarks/gen_invoice_lines.py 10M            # Parquet (cached)
    python benchmarks/gen_invoice_lines.py 10M --csv      # CSV
    python benchmarks/gen_invoice_lines.py 1M --bad-rows 0.001   # with injected bad rows

Files are cached under ``$KAM_BENCH_DATA`` or ``benchmarks/.data/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # kamlib from the checkout

CHUNK_ROWS = 1_000_000
START = dt.date(2023, 1, 1)
END = dt.date(2025, 12, 31)  # three full years; the feature build's as_of is the last date
N_PRODUCTS = 200
CATEGORIES = (
    "fasteners", "abrasives", "adhesives", "bearings", "cutting tools", "electrical",
    "hand tools", "hydraulics", "lubricants", "pneumatics", "safety", "welding",
)
INDUSTRIES = ("automotive", "construction", "food", "machinery", "chemicals", "energy",
              "aerospace", "electronics")
REGIONS = {"North": ("DE", "DK", "SE"), "South": ("IT", "ES", "FR"), "East": ("PL", "CZ", "AT")}
FUNCTIONS = ("purchasing", "operations", "finance", "engineering", "quality", "management")

TRANSACTION_SCHEMA = pa.schema([
    ("account_id", pa.string()),
    ("invoice_id", pa.string()),
    ("line_no", pa.int32()),
    ("date", pa.date32()),
    ("product_id", pa.string()),
    ("category", pa.string()),
    ("quantity", pa.float64()),
    ("net_revenue", pa.float64()),
    ("cost", pa.float64()),
    ("site_id", pa.string()),
    ("currency", pa.string()),
])


def parse_size(text: str) -> int:
    """``"10M"`` -> 10_000_000, ``"500k"`` -> 500_000, ``"1234"`` -> 1234."""
    t = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def size_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def data_dir() -> Path:
    """Where generated files are cached: ``$KAM_BENCH_DATA`` or ``benchmarks/.data``."""
    env = os.environ.get("KAM_BENCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parent / ".data"


def n_accounts_for(rows: int) -> int:
    """Accounts grow with the line count (a distributor with 50M lines has ~100k accounts)."""
    return int(min(100_000, max(600, rows // 500)))


@dataclass(frozen=True)
class World:
    """The fixed part of the company: accounts, their size, activity window and sites."""

    account_ids: pa.Array        # str, "A0000001"
    weight: np.ndarray           # probability of an invoice belonging to each account
    first_day: np.ndarray        # day offset (from START) of the first possible purchase
    last_day: np.ndarray         # day offset of the last possible purchase (churn)
    n_sites: np.ndarray
    product_ids: pa.Array
    product_category: np.ndarray  # index into CATEGORIES per product
    product_price: np.ndarray
    product_margin: np.ndarray    # gross margin rate per product
    product_weight: np.ndarray


def make_world(n_accounts: int, seed: int) -> World:
    rng = np.random.default_rng([seed, 0xACC])
    # Pareto (alpha ~1.2): the top 20% of accounts buy roughly 75-80% of the lines.
    size = rng.pareto(1.2, n_accounts) + 1.0
    weight = size / size.sum()
    n_days = (END - START).days + 1
    first = np.zeros(n_accounts, dtype=np.int64)
    last = np.full(n_accounts, n_days - 1, dtype=np.int64)
    new = rng.random(n_accounts) < 0.12       # became customers during the three years
    churned = rng.random(n_accounts) < 0.10   # stopped buying
    first[new] = rng.integers(30, n_days - 60, new.sum())
    last[churned] = np.maximum(first[churned] + 30, rng.integers(90, n_days - 30, churned.sum()))
    last = np.minimum(last, n_days - 1)
    # Big accounts have more sites (1..40).
    n_sites = np.clip(np.round(1 + 6 * np.log1p(size) + rng.integers(0, 3, n_accounts)), 1, 40)
    ids = pa.array([f"A{i:07d}" for i in range(1, n_accounts + 1)])
    prng = np.random.default_rng([seed, 0x9D])
    pcat = np.sort(prng.integers(0, len(CATEGORIES), N_PRODUCTS))
    price = np.round(np.exp(prng.normal(3.0, 1.0, N_PRODUCTS)), 2)
    pmargin = prng.uniform(0.12, 0.45, N_PRODUCTS)
    pw = prng.pareto(1.5, N_PRODUCTS) + 1.0
    return World(ids, weight, first, last, n_sites.astype(np.int64),
                 pa.array([f"P{i:04d}" for i in range(1, N_PRODUCTS + 1)]),
                 pcat, price, pmargin, pw / pw.sum())


def _prefixed(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, built in Arrow (fast for millions of strings)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def make_chunk(world: World, index: int, rows: int, seed: int) -> pa.Table:
    """Chunk ``index`` (``rows`` lines) of the invoice-line table; independent of other chunks."""
    rng = np.random.default_rng([seed, index])
    n_days = (END - START).days + 1
    # Invoices first (1-12 lines each), then their lines.
    lines_per = rng.geometric(0.3, rows // 2 + 16).clip(max=12)  # ~1.6x the lines needed
    ends = np.cumsum(lines_per)
    n_inv = int(np.searchsorted(ends, rows) + 1)
    lines_per = lines_per[:n_inv]
    acct = rng.choice(len(world.weight), n_inv, p=world.weight)
    lo, hi = world.first_day[acct], world.last_day[acct]
    # Seasonality: fewer invoices in August and late December; accept-reject on the day.
    day = lo + (rng.random(n_inv) * (hi - lo + 1)).astype(np.int64)
    doy = day % 365
    slow = ((doy >= 213) & (doy < 243)) | (doy >= 355)
    redo = slow & (rng.random(n_inv) < 0.4)
    day[redo] = lo[redo] + (rng.random(redo.sum()) * (hi[redo] - lo[redo] + 1)).astype(np.int64)
    site = 1 + (rng.random(n_inv) * world.n_sites[acct]).astype(np.int64)
    credit_note = rng.random(n_inv) < 0.03  # returns: whole credit notes with negative lines

    inv_of_line = np.repeat(np.arange(n_inv), lines_per)[:rows]
    starts = np.concatenate(([0], ends[:-1]))[:n_inv]
    line_no = (np.arange(rows) - starts[inv_of_line] + 1).astype(np.int32)
    inv_number = index * 10_000_000 + inv_of_line + 1  # unique across chunks
    acct_l = acct[inv_of_line]

    prod = rng.choice(N_PRODUCTS, rows, p=world.product_weight)
    qty = rng.geometric(0.15, rows).astype(np.float64)
    discount = 1.0 - rng.uniform(0.0, 0.15, rows) * (world.weight[acct_l] > 1.0 / len(world.weight))
    revenue = np.round(qty * world.product_price[prod] * discount, 2)
    cost = np.round(revenue * (1.0 - world.product_margin[prod] + rng.normal(0, 0.03, rows)), 2)
    sign = np.where(credit_note[inv_of_line], -1.0, 1.0)
    zero = rng.random(rows) < 0.002  # free samples / zero-value lines
    revenue = np.where(zero, 0.0, revenue) * sign
    cost = cost * sign
    qty = qty * sign

    dates = pa.array((np.datetime64(START, "D") + day[inv_of_line]).astype("datetime64[D]"),
                     type=pa.date32())
    return pa.table({
        "account_id": world.account_ids.take(pa.array(acct_l)),
        "invoice_id": _prefixed("INV", inv_number, 10),
        "line_no": pa.array(line_no),
        "date": dates,
        "product_id": world.product_ids.take(pa.array(prod)),
        "category": pa.array(CATEGORIES).take(pa.array(world.product_category[prod])),
        "quantity": pa.array(qty),
        "net_revenue": pa.array(revenue),
        "cost": pa.array(cost),
        "site_id": pc.binary_join_element_wise(
            world.account_ids.take(pa.array(acct_l)), _prefixed("-S", site[inv_of_line], 2), ""),
        "currency": pa.array(np.full(rows, "EUR", dtype=object), type=pa.string()),
    }, schema=TRANSACTION_SCHEMA)


def iter_chunks(rows: int, seed: int = 7, chunk_rows: int = CHUNK_ROWS):
    """Yield the invoice-line table as pyarrow tables of at most ``chunk_rows`` lines."""
    world = make_world(n_accounts_for(rows), seed)
    done, index = 0, 0
    while done < rows:
        n = min(chunk_rows, rows - done)
        yield make_chunk(world, index, n, seed)
        done += n
        index += 1


def accounts_table(n_accounts: int, seed: int = 7) -> pa.Table:
    """The account master matching :func:`make_world` (contract ``ACCOUNTS`` columns)."""
    world = make_world(n_accounts, seed)
    rng = np.random.default_rng([seed, 0xA11])
    regions = list(REGIONS)
    reg = rng.integers(0, len(regions), n_accounts)
    country = [REGIONS[regions[r]][k] for r, k in zip(reg, rng.integers(0, 3, n_accounts))]
    size = world.weight / world.weight.max()
    # about 3 % of the accounts belong to a group headed by one of the 20 largest accounts
    # (a generator of their own, so the other columns stay what they were)
    groups = np.random.default_rng([seed, 0x6A0])
    heads = np.argsort(-world.weight)[:20]
    member = groups.random(n_accounts) < 0.03
    parent = [world.account_ids[int(heads[k])].as_py() if m else None
              for m, k in zip(member, groups.integers(0, len(heads), n_accounts))]
    return pa.table({
        "account_id": world.account_ids,
        "name": _prefixed("Customer ", np.arange(1, n_accounts + 1), 6),
        "industry": pa.array(INDUSTRIES).take(pa.array(rng.integers(0, len(INDUSTRIES), n_accounts))),
        "region": pa.array([regions[r] for r in reg]),
        "country": pa.array(country),
        "n_sites": pa.array(world.n_sites),
        "employees": pa.array(np.round(20 + 20_000 * size * rng.uniform(0.5, 1.5, n_accounts)).astype(np.int64)),
        "wallet": pa.array(np.round(world.weight * 3e9 * rng.uniform(1.2, 4.0, n_accounts), 0)),
        "account_manager": pa.array([f"Manager {k}" for k in rng.integers(1, 13, n_accounts)]),
        "cost_to_serve": pa.array(np.round(500 + world.n_sites * rng.uniform(200, 900, n_accounts), 0)),
        "parent_id": pa.array(parent, type=pa.string()),
    })


def contacts_table(n_accounts: int, seed: int = 7) -> pa.Table:
    """1-8 contacts per account, with a function each (for ``n_contacts`` / ``n_functions``)."""
    rng = np.random.default_rng([seed, 0xC0])
    per = rng.integers(0, 9, n_accounts)
    acct = np.repeat(np.arange(1, n_accounts + 1), per)
    n = len(acct)
    return pa.table({
        "contact_id": _prefixed("C", np.arange(1, n + 1), 8),
        "account_id": _prefixed("A", acct, 7),
        "name": _prefixed("Contact ", np.arange(1, n + 1), 8),
        "function": pa.array(FUNCTIONS).take(pa.array(rng.integers(0, len(FUNCTIONS), n))),
    })


def assessments_table(n_accounts: int, seed: int = 7) -> pa.Table:
    """Three managers scoring the 30 largest accounts (the intake needs the table to exist)."""
    from kamlib.intake.contract import JUDGED_CRITERIA

    world = make_world(n_accounts, seed)
    top = np.argsort(-world.weight)[:30]
    rng = np.random.default_rng([seed, 0xA55])
    rows = [(m, world.account_ids[int(i)].as_py()) for m in ("Manager 1", "Manager 2", "Manager 3")
            for i in top]
    cols = {"manager": pa.array([m for m, _ in rows]), "account_id": pa.array([a for _, a in rows])}
    for c in JUDGED_CRITERIA:
        cols[c] = pa.array(np.round(rng.uniform(2, 10, len(rows)), 0))
    cols["top_rank"] = pa.array(np.tile(np.r_[np.arange(1, 11), np.full(20, np.nan)], 3))
    return pa.table(cols)


# --- bad rows, for testing the data-quality accounting -------------------------------------

BAD_KINDS = ("unknown_account", "missing_revenue", "missing_date", "future_date", "duplicate_line")


def inject_bad_rows(table: pa.Table, fraction: float, seed: int, index: int) -> tuple[pa.Table, dict]:
    """Spoil about ``fraction`` of the lines of one chunk, spread over :data:`BAD_KINDS`.

    Returns the spoilt chunk and how many lines of each kind were injected, so a test can check
    that intake sets aside exactly those lines (rows read = rows used + rows set aside).
    A duplicate line is an extra copy of a line (same invoice_id and line_no), so it adds rows.
    """
    rng = np.random.default_rng([seed, index, 0xBAD])
    n = table.num_rows
    k = int(round(n * fraction))
    counts = dict.fromkeys(BAD_KINDS, 0)
    if k == 0:
        return table, counts
    picks = rng.choice(n, size=k, replace=False)
    kinds = rng.integers(0, len(BAD_KINDS) - 1, k)  # duplicates drawn separately below
    cols = {name: table.column(name).combine_chunks() for name in table.column_names}

    def spoil(col: str, rows: np.ndarray, value) -> None:
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        cols[col] = pc.if_else(pa.array(mask), pa.scalar(value, type=cols[col].type), cols[col])

    for kind_index, kind in enumerate(BAD_KINDS[:-1]):
        rows = picks[kinds == kind_index]
        counts[kind] = len(rows)
        if kind == "unknown_account":
            spoil("account_id", rows, "UNKNOWN-9")
        elif kind == "missing_revenue":
            spoil("net_revenue", rows, None)
        elif kind == "missing_date":
            spoil("date", rows, None)
        elif kind == "future_date":
            spoil("date", rows, dt.date(2099, 1, 1))
    spoilt = pa.table(cols, schema=table.schema)
    # Duplicates: copies of lines not otherwise spoilt.
    clean = np.setdiff1d(np.arange(n), picks)
    dups = rng.choice(clean, size=max(1, k // len(BAD_KINDS)), replace=False)
    counts["duplicate_line"] = len(dups)
    return pa.concat_tables([spoilt, spoilt.take(pa.array(np.sort(dups)))]), counts


# --- writing ---------------------------------------------------------------------------------

def write_dataset(rows: int, fmt: str = "parquet", seed: int = 7, out: Path | None = None,
                  bad_fraction: float = 0.0, chunk_rows: int = CHUNK_ROWS,
                  quiet: bool = False) -> dict:
    """Write transactions (Parquet or CSV), accounts, contacts, assessments; return paths.

    Existing files are reused (they are deterministic in size and seed). The returned dict has
    keys ``transactions``, ``accounts``, ``contacts``, ``assessments``, ``rows`` and, with bad rows, ``bad``
    (counts per kind).
    """
    if fmt not in ("parquet", "csv", "decsv"):
        raise ValueError(f"fmt must be 'parquet', 'csv' or 'decsv', not {fmt!r}")
    tag = size_label(rows) + (f"_bad{bad_fraction:g}" if bad_fraction else "") + f"_s{seed}"
    folder = Path(out or data_dir()) / tag
    folder.mkdir(parents=True, exist_ok=True)
    n_acc = n_accounts_for(rows)
    paths = {
        "transactions": folder / ("transactions_de.csv" if fmt == "decsv" else f"transactions.{fmt}"),
        "accounts": folder / "accounts.parquet",
        "contacts": folder / "contacts.parquet",
        "assessments": folder / "assessments.parquet",
    }
    if not paths["assessments"].exists():
        pq.write_table(assessments_table(n_acc, seed), paths["assessments"])
    if not paths["accounts"].exists():
        pq.write_table(accounts_table(n_acc, seed), paths["accounts"])
        pq.write_table(contacts_table(n_acc, seed), paths["contacts"])
    bad_file = folder / "bad_counts.txt"
    target = paths["transactions"]
    if target.exists() and (not bad_fraction or bad_file.exists()):
        counts = _read_counts(bad_file) if bad_fraction else {}
        return {**paths, "rows": rows + counts.get("duplicate_line", 0), "bad": counts}
    tmp = target.with_suffix(target.suffix + ".part")
    t0 = time.perf_counter()
    totals = dict.fromkeys(BAD_KINDS, 0)
    written = 0
    writer = None
    try:
        for i, chunk in enumerate(iter_chunks(rows, seed, chunk_rows)):
            if bad_fraction:
                chunk, counts = inject_bad_rows(chunk, bad_fraction, seed, i)
                totals = {k: totals[k] + counts[k] for k in totals}
            if fmt == "decsv":
                german_csv(chunk).to_csv(tmp, sep=";", index=False, header=i == 0,
                                         mode="w" if i == 0 else "a")
            elif writer is None:
                writer = (pq.ParquetWriter(tmp, chunk.schema, compression="snappy")
                          if fmt == "parquet" else pacsv.CSVWriter(tmp, chunk.schema))
            if fmt == "decsv":
                pass
            elif fmt == "parquet":
                writer.write_table(chunk, row_group_size=256 * 1024)
            else:
                writer.write_table(chunk)
            written += chunk.num_rows
            if not quiet:
                print(f"\r  {target.name}: {written:,} rows ({time.perf_counter() - t0:.0f} s)",
                      end="", file=sys.stderr, flush=True)
    finally:
        if writer is not None:
            writer.close()
    if not quiet:
        print(file=sys.stderr)
    tmp.replace(target)
    if bad_fraction:
        bad_file.write_text("".join(f"{k}\t{v}\n" for k, v in totals.items()))
    return {**paths, "rows": written, "bad": totals if bad_fraction else {}}


def german_csv(chunk: pa.Table):
    """A chunk as German Excel writes it: amounts with a decimal comma and '.' between
    thousands (``-1.234,50``), quantities as whole numbers, dates ``DD.MM.YYYY``."""
    frame = chunk.to_pandas()
    for c in ("net_revenue", "cost"):
        text = frame[c].map("{:,.2f}".format)
        frame[c] = text.str.replace(",", "_").str.replace(".", ",").str.replace("_", ".")
    frame["quantity"] = frame["quantity"].map("{:.0f}".format)
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%d.%m.%Y")
    return frame


def _read_counts(path: Path) -> dict:
    return {k: int(v) for k, v in (line.split("\t") for line in path.read_text().splitlines())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sizes", nargs="+", help="row counts, e.g. 1M 10M 50M")
    ap.add_argument("--csv", action="store_true", help="write CSV instead of Parquet")
    ap.add_argument("--german", action="store_true",
                    help="write a German-format CSV (';', decimal comma, DD.MM.YYYY)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bad-rows", type=float, default=0.0, help="fraction of spoilt lines")
    ap.add_argument("--out", type=Path, default=None, help="data folder (default: cache)")
    args = ap.parse_args(argv)
    for s in args.sizes:
        info = write_dataset(parse_size(s), "decsv" if args.german else "csv" if args.csv else "parquet", args.seed,
                             args.out, args.bad_rows)
        print(f"{info['transactions']}  ({info['rows']:,} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
