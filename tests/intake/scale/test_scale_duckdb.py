"""The default engine at scale: settings, input forms, exact row accounting, and the feature
build agreeing with the hand-written SQL the benchmark compares it to."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kamlib.errors import InputError, ParameterError
from kamlib.intake import engine, features, ledger
from kamlib.intake.loading import load_inputs
from scale_data import BAD_REVENUE_SHARE, TODAY, assert_same_features, ledger_inputs


def _features(files: dict, transactions=None, **kw) -> pd.DataFrame:
    intake = load_inputs(ledger_inputs(files, transactions), today=TODAY, **kw)
    tx = intake.transactions
    return features.account_features(tx.lines, intake.frames["accounts"], tx.as_of,
                                     intake.frames["contacts"], tx.has_sites,
                                     aggregates=tx.aggregates)


@pytest.fixture(scope="module")
def baseline(invoice_files):
    return _features(invoice_files)


def _setting(con, name: str) -> str:
    return con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]


# ------------------------------------------------------------------------------ connection
def test_duckdb_gets_its_share_of_the_memory_budget_and_a_spill_folder(tmp_path):
    con = engine.connect(memory_limit="1GB", temp_directory=tmp_path / "spill")
    limit = _setting(con, "memory_limit")  # DuckDB reports it in MiB/GiB
    value, unit = limit.split()
    in_bytes = float(value) * {"MiB": 2**20, "GiB": 2**30}[unit]
    assert in_bytes == pytest.approx(engine.DUCKDB_SHARE * 1e9, rel=0.01)
    assert _setting(con, "temp_directory") == str(tmp_path / "spill")
    assert (tmp_path / "spill").is_dir()


def test_default_spill_folder_is_private_and_not_the_working_directory():
    con = engine.connect()
    temp = _setting(con, "temp_directory")
    assert "kam-duckdb-" in temp and not temp.endswith(".tmp")


@pytest.mark.parametrize("bad", ["lots", "2 parsecs", "", "50MB"])
def test_bad_memory_limit_is_a_parameter_error(bad):
    with pytest.raises(ParameterError, match="memory_limit"):
        engine.connect(memory_limit=bad)


def test_memory_bytes_units():
    assert engine.memory_bytes("2GB") == 2_000_000_000
    assert engine.memory_bytes("512MiB") == 512 * 2**20
    assert engine.memory_bytes(" 1.5 gb ") == 1_500_000_000


def test_engine_settings_from_engagement_yml():
    eng = SimpleNamespace(config={"engine": "spark", "spark": {"master": "spark://h:7077",
                                                               "conf": {"spark.executor.memory": "8g"}},
                                  "duckdb": {"memory_limit": "6GB", "threads": 4}})
    s = engine.engine_settings(eng)
    assert s["engine"] == "spark" and s["spark"]["master"] == "spark://h:7077"
    assert s["memory_limit"] == "6GB" and s["threads"] == 4
    # step parameters win over the file
    assert engine.engine_settings(eng, engine="duckdb", memory_limit="3GB")["engine"] == "duckdb"
    assert engine.engine_settings(SimpleNamespace(config={}))["engine"] == "duckdb"
    with pytest.raises(ParameterError, match="memory_limt"):
        engine.engine_settings(SimpleNamespace(config={"duckdb": {"memory_limt": "1GB"}}))


def test_unknown_engine_is_a_parameter_error():
    with pytest.raises(ParameterError, match="engine"):
        engine.connect("polars")


# ------------------------------------------------------------------------------ input forms
def test_folder_glob_csv_and_excel_give_the_same_features(invoice_files, baseline, tmp_path):
    table = pq.read_table(invoice_files["transactions"])
    lake = tmp_path / "lake" / "invoice_lines"
    for i, start in enumerate(range(0, table.num_rows, 2_500)):
        part = lake / f"year=x{i}"  # nested, like a partitioned data-lake table
        part.mkdir(parents=True)
        pq.write_table(table.slice(start, 2_500), part / f"part-{i}.parquet")
    (lake / "_SUCCESS").write_text("")  # marker files of Spark/Hadoop writers are ignored
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, f in enumerate(sorted(lake.rglob("*.parquet"))):
        shutil.copy(f, flat / f"lines_{i}.parquet")
    csv = tmp_path / "lines.csv"
    table.to_pandas().to_csv(csv, index=False)
    xlsx = tmp_path / "lines.xlsx"
    table.to_pandas().to_excel(xlsx, index=False)
    for source in (lake, flat / "lines_*.parquet", csv, xlsx):
        got = _features(invoice_files, source)
        pd.testing.assert_frame_equal(got, baseline, check_exact=False, rtol=1e-9, atol=1e-9,
                                      obj=str(source))


def test_one_casting_step_gives_one_schema_for_every_format(invoice_files, tmp_path):
    table = pq.read_table(invoice_files["transactions"]).slice(0, 300)
    csv, xlsx = tmp_path / "l.csv", tmp_path / "l.xlsx"
    table.to_pandas().to_csv(csv, index=False)
    table.to_pandas().to_excel(xlsx, index=False)
    con = engine.connect()
    schemas = {}
    for path in (invoice_files["transactions"], csv, xlsx):
        typed = ledger.cast_transactions(ledger.read_transactions(con, path))
        schemas[str(path)] = {c: str(t) for c, t in typed.schema().items() if not c.startswith("_")}
    first = next(iter(schemas.values()))
    assert first["date"] == "date" and first["account_id"] == "string"
    assert first["net_revenue"] == "float64" and first["line_no"] == "int64"
    assert all(s == first for s in schemas.values())


def test_mixed_folder_is_an_input_error(invoice_files, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(invoice_files["transactions"], folder / "a.parquet")
    (folder / "b.csv").write_text("account_id\nA1\n")
    with pytest.raises(InputError, match="different kinds"):
        ledger.source_files(folder)


def test_parquet_rows_are_numbered_as_in_the_file(invoice_files):
    con = engine.connect()
    raw = ledger.read_transactions(con, invoice_files["transactions"])
    got = raw.select("_row", "invoice_id", "line_no").order_by("_row").to_pandas()
    want = pq.read_table(invoice_files["transactions"], columns=["invoice_id", "line_no"]).to_pandas()
    assert got["_row"].tolist() == list(range(1, len(want) + 1))
    assert got["invoice_id"].tolist() == want["invoice_id"].tolist()


# ------------------------------------------------------------------------- row accounting
def test_row_accounting_is_exact_with_injected_bad_rows(bad_invoice_files, tmp_path):
    intake = load_inputs(ledger_inputs(bad_invoice_files), today=TODAY,
                         max_set_aside_revenue_share=BAD_REVENUE_SHARE)
    acc = intake.transactions.account
    injected = bad_invoice_files["bad"]
    assert acc.rows_read == bad_invoice_files["rows"]
    assert acc.rows_read == acc.rows_used + acc.rows_set_aside
    assert acc.rows_set_aside == sum(injected.values())
    assert acc.reasons["invoice_id+line_no: duplicate invoice line"] == injected["duplicate_line"]
    assert acc.reasons["account_id: unknown account"] == injected["unknown_account"]
    # the used lines are what the features see, line for line
    assert int(intake.transactions.lines.count().to_pandas()) == acc.rows_used
    listing = intake.write_set_aside(tmp_path)
    aside = pd.read_csv(tmp_path / "transactions.csv")
    assert len(aside) == acc.rows_set_aside
    # the copy kept is the first in the file: every duplicate listed comes after its original
    dup = aside[aside["reason"].str.contains("duplicate")]
    lines = pq.read_table(bad_invoice_files["transactions"]).to_pandas()
    lines["row"] = np.arange(1, len(lines) + 1)
    first = lines.groupby(["invoice_id", "line_no"])["row"].min()
    keys = list(zip(dup["invoice_id"], dup["line_no"]))
    assert (dup["row"].to_numpy() > first.loc[keys].to_numpy()).all()
    assert set(listing["table"]) == {"transactions"}


def test_a_small_memory_budget_gives_the_same_features(invoice_files, baseline):
    con = engine.connect(memory_limit="150MB", threads=1)
    got = _features(invoice_files, con=con)
    pd.testing.assert_frame_equal(got, baseline, check_exact=False, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- the benchmark's reference
def test_features_match_the_hand_written_sql(invoice_files, baseline):
    """The benchmark compares like with like: the Ibis build (two-level distinct counts, checks)
    and the one-query SQL (COUNT(DISTINCT) ... FILTER) agree on every column."""
    import duckdb
    from bench_features import reference_sql

    as_of = baseline["as_of"].iloc[0].date()
    sql = reference_sql(invoice_files["transactions"], invoice_files["accounts"],
                        invoice_files["contacts"], as_of)
    ref = duckdb.connect().sql(sql).df()
    assert len(ref) == pq.read_metadata(invoice_files["accounts"]).num_rows
    assert_same_features(baseline, ref)
    assert baseline["n_orders"].sum() > 0 and (baseline["months_active"] > 1).any()


def test_hand_written_checks_set_aside_the_same_lines_and_give_the_same_features(bad_invoice_files):
    """The benchmark's fair reference (check_reference.sql, then feature_reference.sql on the
    lines it keeps) does the same work as intake: on a ledger with injected bad lines it sets
    aside the same number of lines for each reason, finds the same as_of and the same features."""
    import duckdb
    from bench_features import run_reference

    intake = load_inputs(ledger_inputs(bad_invoice_files), today=TODAY,
                         max_set_aside_revenue_share=BAD_REVENUE_SHARE)
    tx = intake.transactions
    ours = features.account_features(tx.lines, intake.frames["accounts"], tx.as_of,
                                     intake.frames["contacts"], tx.has_sites,
                                     aggregates=tx.aggregates)
    ref, acc = run_reference(duckdb.connect(), bad_invoice_files, checked=True, today=TODAY)
    reasons = {r: int(n) for r, n in zip(acc["reason"], acc["n"]) if isinstance(r, str)}
    assert reasons == tx.account.reasons
    assert len(reasons) >= 4 and "invoice_id+line_no: duplicate invoice line" in reasons
    used = acc[acc["reason"].isna()].iloc[0]
    assert int(used["n"]) == tx.account.rows_used
    assert pd.Timestamp(used["last_date"]).date() == tx.as_of
    assert int(used["accounts_buying"]) == tx.summary["accounts_buying"]
    assert_same_features(ours, ref)


def test_hand_written_further_tables_match_intakes(invoice_files):
    """The benchmark's ``sqlall`` floor (tables_reference.sql) builds the same further tables
    as intake: purchase occasions, account x category x year and monthly revenue agree row for
    row on a clean ledger, so the ratio of intake to it compares the same tables."""
    import duckdb
    from bench_features import tables_sql

    intake = load_inputs(ledger_inputs(invoice_files), today=TODAY)
    ours = features.feature_tables(intake, progress=False)
    con = duckdb.connect()
    occasions, category_year, monthly = (con.sql(s).df() for s in
                                         tables_sql(invoice_files["transactions"],
                                                    intake.transactions.as_of))
    for mine, ref, keys in ((ours["purchase_occasions"], occasions, ["account_id", "date"]),
                            (ours["account_category_year"], category_year,
                             ["account_id", "year", "category"]),
                            (ours["monthly_revenue"], monthly, ["month"])):
        assert len(mine) > 0
        ref = ref.astype({k: mine[k].dtype for k in mine.columns})
        ref = ref.loc[:, list(mine.columns)].sort_values(keys, ignore_index=True)
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), ref, check_exact=False,
                                      rtol=1e-9, atol=1e-6)
