"""Intake's further tables in one pass (:mod:`kamlib.intake.line_tables`) equal the one-query
definitions in :mod:`kamlib.intake.features`, exactly: same rows, order, dtypes and values."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from kamlib.intake import features
from kamlib.intake.line_tables import line_tables
from kamlib.intake.loading import load_inputs
from scale_data import BAD_REVENUE_SHARE, TODAY, ledger_inputs

NAMES = ("purchase_occasions", "account_category_year", "monthly_revenue")


def _one_query_each(tx) -> dict[str, pd.DataFrame]:
    return {"purchase_occasions": features.purchase_occasions(tx.lines),
            "account_category_year": features.account_category_year(tx.lines, tx.as_of),
            "monthly_revenue": features.monthly_revenue(tx.lines)}


def _assert_equal(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    assert set(got) == set(NAMES)
    for name in NAMES:
        assert len(want[name]) > 0, name
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def bad_intake(bad_invoice_files):
    return load_inputs(ledger_inputs(bad_invoice_files), today=TODAY,
                       max_set_aside_revenue_share=BAD_REVENUE_SHARE)


def test_one_pass_gives_the_tables_of_one_query_each(bad_intake):
    """On a ledger with bad lines set aside: by account key, and by the text id."""
    tx = bad_intake.transactions
    want = _one_query_each(tx)
    _assert_equal(line_tables(tx.lines, tx.as_of, tx.account_ids), want)
    _assert_equal(line_tables(tx.lines, tx.as_of), want)


def test_feature_tables_give_the_one_pass_tables(bad_intake):
    tables = features.feature_tables(bad_intake, progress=False)
    _assert_equal({n: tables[n] for n in NAMES}, _one_query_each(bad_intake.transactions))


def test_account_keys_follow_the_ids_whatever_the_order_of_the_account_master(
        invoice_files, tmp_path):
    """Keys are numbered in sorted id order, so a shuffled account master (and ids that sort
    differently as text than as numbers) gives the same tables, in the same order."""
    accounts = pq.read_table(invoice_files["accounts"]).to_pandas()
    shuffled = accounts.sample(frac=1.0, random_state=3).reset_index(drop=True)
    files = {**invoice_files, "accounts": tmp_path / "accounts.parquet"}
    shuffled.to_parquet(files["accounts"], index=False)
    intake = load_inputs(ledger_inputs(files), today=TODAY)
    tx = intake.transactions
    assert tx.account_ids.is_monotonic_increasing
    _assert_equal(line_tables(tx.lines, tx.as_of, tx.account_ids), _one_query_each(tx))


def test_duckdb_gets_a_smaller_share_while_the_tables_come_back_and_its_own_after(bad_intake):
    """The further tables' groupings run with :data:`engine.RESULTS_SHARE` of the budget (so
    the frames they become fit the rest) and DuckDB's limit is restored afterwards."""
    from kamlib.intake import engine

    tx = bad_intake.transactions
    con = tx.lines._find_backend(use_default=True)

    def limit() -> int:
        return engine.memory_bytes(
            con.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0])

    before = limit()
    with engine.memory_share(tx.lines, engine.RESULTS_SHARE):
        during = limit()
    assert during == pytest.approx(before * engine.RESULTS_SHARE / engine.DUCKDB_SHARE, rel=0.02)
    line_tables(tx.lines, tx.as_of, tx.account_ids)
    assert limit() == pytest.approx(before, rel=0.01)


def _rebatched(monkeypatch, order) -> None:
    """The engine's result handed over again in 97-row batches, its rows first put in
    ``order(n)``: the tables' rows then come mixed within batches."""
    import pyarrow as pa

    from kamlib.intake import engine

    real = engine.arrow_batches

    def batches(expr, rows=1_000_000):
        table = real(expr, rows).read_all()
        table = table.take(pa.array(order(table.num_rows)))
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=97))

    monkeypatch.setattr(engine, "arrow_batches", batches)


@pytest.mark.parametrize("max_runs", [64, 1])
def test_tables_whatever_the_kinds_in_a_batch(bad_intake, monkeypatch, max_runs):
    """Batches holding rows of several tables in many short runs, split by slices (up to
    ``_MAX_RUNS`` runs) or by masks, give the same tables."""
    import numpy as np

    from kamlib.intake import line_tables as module

    tx = bad_intake.transactions
    want = _one_query_each(tx)
    _rebatched(monkeypatch, lambda n: np.random.default_rng(5).permutation(n))
    monkeypatch.setattr(module, "_MAX_RUNS", max_runs)
    sizes, real_runs = [], module._runs

    def runs(batch):
        sizes.append(batch.num_rows)
        return real_runs(batch)

    monkeypatch.setattr(module, "_runs", runs)
    _assert_equal(line_tables(tx.lines, tx.as_of, tx.account_ids), want)
    _assert_equal(line_tables(tx.lines, tx.as_of), want)
    assert len(sizes) > 10 and max(sizes) == 97  # the tables did come in mixed batches


def test_tables_when_the_sort_keys_are_too_wide_to_pack(bad_intake, monkeypatch):
    """Keys (and row numbers) that do not fit one int64 are ordered by a lexsort instead."""
    from kamlib.intake import line_tables as module

    tx = bad_intake.transactions
    want = _one_query_each(tx)
    monkeypatch.setattr(module, "_PACK_BITS", 4)
    _assert_equal(line_tables(tx.lines, tx.as_of, tx.account_ids), want)
    _assert_equal(line_tables(tx.lines, tx.as_of), want)


def test_text_ids_when_the_lines_carry_no_account_key(bad_intake):
    from kamlib.intake.aggregates import ACCOUNT_KEY

    tx = bad_intake.transactions
    lines = tx.lines.drop(ACCOUNT_KEY)
    _assert_equal(line_tables(lines, tx.as_of, tx.account_ids), _one_query_each(tx))


@pytest.mark.parametrize("keep, empty", [
    ("nothing", NAMES),
    ("credit notes", ("purchase_occasions",)),
    ("lines years before as_of", ("account_category_year",)),
])
def test_empty_tables_keep_their_columns_and_types(bad_intake, keep, empty):
    """A table with no rows has the columns and dtypes it has with rows; the others are as
    the one-table functions give them."""
    import datetime as dt

    import ibis

    tx = bad_intake.transactions
    lines, as_of = tx.lines, tx.as_of
    if keep == "lines years before as_of":
        as_of = dt.date(as_of.year + 5, 12, 31)
    else:
        lines = lines.filter(ibis.literal(False) if keep == "nothing" else lines.net_revenue <= 0)
    full = line_tables(tx.lines, tx.as_of, tx.account_ids)
    want = _one_query_each(type("Lines", (), {"lines": lines, "as_of": as_of}))
    for keyed in (True, False):
        got = line_tables(lines, as_of, tx.account_ids if keyed else None)
        assert set(got) == set(NAMES)
        for name in NAMES:
            assert list(got[name].columns) == list(full[name].columns), name
            assert got[name].dtypes.to_dict() == full[name].dtypes.to_dict(), name
            assert (len(got[name]) == 0) == (name in empty), name
            if name not in empty:
                pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)


def test_tables_from_a_ledger_without_sites(invoice_files, tmp_path):
    import pyarrow.parquet as pq

    lines = pq.read_table(invoice_files["transactions"]).drop_columns(["site_id"])
    files = {**invoice_files, "transactions": tmp_path / "transactions.parquet"}
    pq.write_table(lines, files["transactions"])
    intake = load_inputs(ledger_inputs(files), today=TODAY)
    tx = intake.transactions
    assert not tx.has_sites
    _assert_equal(line_tables(tx.lines, tx.as_of, tx.account_ids), _one_query_each(tx))
