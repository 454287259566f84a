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
            con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0])

    before = limit()
    with engine.memory_share(tx.lines, engine.RESULTS_SHARE):
        during = limit()
    assert during == pytest.approx(before * engine.RESULTS_SHARE / engine.DUCKDB_SHARE, rel=0.02)
    line_tables(tx.lines, tx.as_of, tx.account_ids)
    assert limit() == pytest.approx(before, rel=0.01)
