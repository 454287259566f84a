"""The same feature expressions on DuckDB and on a local Spark session give the same tables.

Integers, dates and text must match exactly, floats to 1e-9 (relative): the engines add up in a
different order. The row accounting (rows read = used + set aside, per reason) must match too.
Skipped when PySpark or Java is missing (see conftest.py); CI installs both.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kamlib.intake import engine, features, ledger
from kamlib.intake.line_tables import line_tables
from kamlib.intake.loading import load_inputs
from scale_data import BAD_REVENUE_SHARE

TODAY = dt.date(2026, 1, 1)


def _inputs(files: dict) -> dict:
    return {k: files[k] for k in ("accounts", "contacts", "assessments", "transactions")}


def _all_tables(intake) -> dict[str, pd.DataFrame]:
    tx = intake.transactions
    return {
        # as intake builds it (from the checking pass's aggregates), and again from the lines
        "account_features": features.account_features(
            tx.lines, intake.frames["accounts"], tx.as_of, intake.frames["contacts"], tx.has_sites,
            aggregates=tx.aggregates),
        "account_features_from_lines": features.account_features(
            tx.lines, intake.frames["accounts"], tx.as_of, intake.frames["contacts"], tx.has_sites),
        "account_category_year": features.account_category_year(tx.lines, tx.as_of),
        "purchase_occasions": features.purchase_occasions(tx.lines),
        "monthly_revenue": features.monthly_revenue(tx.lines),
        # and the three as intake builds them, from one read of the lines
        **{f"{name}_one_pass": table for name, table in
           line_tables(tx.lines, tx.as_of, tx.account_ids).items()},
    }


def assert_same_table(left: pd.DataFrame, right: pd.DataFrame, name: str) -> None:
    """Same columns, rows and dtypes; exact but for floats (relative 1e-9)."""
    assert list(left.columns) == list(right.columns), name
    assert len(left) == len(right), name
    for col in left.columns:
        a, b = left[col], right[col]
        assert a.dtype == b.dtype, f"{name}.{col}: {a.dtype} vs {b.dtype}"
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-9,
                                       equal_nan=True, err_msg=f"{name}.{col}")
        else:
            pd.testing.assert_series_equal(a, b, check_names=False, obj=f"{name}.{col}")


@pytest.fixture(scope="module")
def spark_con(spark):
    return engine.connect("spark", session=spark)


@pytest.fixture(scope="module")
def parity(spark_con, bad_invoice_files):
    """Intake of one generated ledger (with bad rows) on both engines."""
    duck = load_inputs(_inputs(bad_invoice_files), today=TODAY,
                       max_set_aside_revenue_share=BAD_REVENUE_SHARE)
    spark = load_inputs(_inputs(bad_invoice_files), today=TODAY, con=spark_con,
                        max_set_aside_revenue_share=BAD_REVENUE_SHARE,
                                   engine="spark")
    return duck, spark


def test_spark_and_duckdb_give_the_same_feature_tables(parity):
    duck, spark = parity
    assert duck.as_of == spark.as_of
    left, right = _all_tables(duck), _all_tables(spark)
    for name in left:
        assert len(left[name]) > 0, name
        assert_same_table(left[name], right[name], name)
    f = left["account_features"]
    assert f["n_orders"].sum() > 0 and f["revenue_12m"].abs().sum() > 0  # not trivially empty


def test_row_accounting_is_exact_and_identical_on_spark(parity, bad_invoice_files):
    duck, spark = parity
    injected = bad_invoice_files["bad"]
    for intake in (duck, spark):
        acc = intake.transactions.account
        assert acc.rows_read == bad_invoice_files["rows"]
        assert acc.rows_read == acc.rows_used + acc.rows_set_aside
        assert acc.reasons == {
            "account_id: unknown account": injected["unknown_account"],
            "net_revenue: missing": injected["missing_revenue"],
            "date: missing": injected["missing_date"],
            "date: in the future": injected["future_date"],
            "invoice_id+line_no: duplicate invoice line": injected["duplicate_line"],
        }
    assert duck.transactions.summary == spark.transactions.summary


def test_spark_reads_csv_like_parquet(spark_con, invoice_files, tmp_path):
    """A CSV export read by Spark (all text, parsed by the one casting step) gives the same
    typed lines, column types included, as the Parquet file on DuckDB."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    csv = tmp_path / "lines.csv"
    pacsv.write_csv(pq.read_table(invoice_files["transactions"]), csv)
    spark_typed = ledger.cast_transactions(ledger.read_transactions(spark_con, csv))
    duck_typed = ledger.cast_transactions(
        ledger.read_transactions(engine.connect(), invoice_files["transactions"]), trim=False)
    cols = [c for c in duck_typed.columns if not c.startswith("_")]
    assert spark_typed.select(cols).schema() == duck_typed.select(cols).schema()
    order = ["invoice_id", "line_no"]
    left = duck_typed.select(cols).to_pandas().sort_values(order, ignore_index=True)
    right = spark_typed.select(cols).to_pandas().sort_values(order, ignore_index=True)
    assert len(left) == invoice_files["rows"]
    assert_same_table(left, right, "typed lines (csv on spark)")


def test_connect_spark_reuses_the_running_session(spark):
    con = engine.connect("spark", spark={"master": "local[2]", "conf": {"spark.sql.shuffle.partitions": "2"}})
    assert con._session.sparkContext is spark.sparkContext
    assert con.name == "pyspark"


def test_spark_reads_a_client_export_by_the_same_rules(spark_con, tmp_path):
    """The reading rules of issue 18 (amount formats, padded and case-different ids, currency
    codes, a repeated header line) give the same accounting on Spark as on DuckDB."""
    accounts = "account_id,name,industry,region,country\nA1,Alpha,Metals,North,DE\nb2,Beta,Food,South,FR\n"
    header = "account_id,invoice_id,line_no,date,product_id,category,quantity,net_revenue,cost,currency"
    lines = "\n".join([
        header,
        'A1 ,I1,1,2025-06-10,P1,C,10,"1,000.00",600,EUR',
        "A1,I2,1,2025-06-11,P1,C,-1,(100.00),60-,eur",
        "Account ID,Invoice ID,Line No,Date,Product ID,Category,Quantity,Net Revenue,Cost,Currency",
        "B2,I3,1,2025-07-01,P2,C,2,250.5,100, EUR",
    ]) + "\n"
    (tmp_path / "accounts.csv").write_text(accounts)
    (tmp_path / "lines.csv").write_text(lines)
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("contact_id,account_id,name,function\nK1,A1,Ann,purchasing\n")
    assessments = tmp_path / "assessments.csv"
    assessments.write_text("manager,account_id\nJo,A1\n")
    inputs = {"accounts": tmp_path / "accounts.csv", "transactions": tmp_path / "lines.csv",
              "contacts": contacts, "assessments": assessments}
    results = [load_inputs(inputs, today=TODAY, con=con, engine=name)
               for name, con in (("duckdb", None), ("spark", spark_con))]
    for intake in results:
        acc = intake.transactions.account
        assert (acc.rows_used, acc.reasons) == (3, {"(row): repeated header line": 1})
        assert (acc.money.revenue_used, acc.money.margin_used) == (1150.5, 510.5)
        assert intake.transactions.summary["currency"] == "EUR"
    assert results[0].transactions.account.notes == results[1].transactions.account.notes
