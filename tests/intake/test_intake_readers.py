"""Readers: formats agree, identifiers keep their zeros, bad files give a clear InputError."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from intake_data import ACCOUNTS, LINES, write_engagement
from kamlib.errors import InputError
from kamlib.intake import engine, ledger, readers
from kamlib.intake.features import feature_tables
from kamlib.intake.loading import load_inputs

TODAY = dt.date(2026, 1, 15)


def _frame(text: str) -> pd.DataFrame:
    import io

    return pd.read_csv(io.StringIO(text), dtype=str)


def _as_excel(text: str, path):
    df = _frame(text)
    for c in ("n_sites", "quantity", "net_revenue", "cost", "line_no"):
        if c in df:  # numbers as numbers, as Excel would store them
            df[c] = pd.to_numeric(df[c])
    if "date" in df:
        df["date"] = pd.to_datetime(df["date"])  # real Excel dates
    df.to_excel(path, index=False)
    return path


def _as_parquet(text: str, path):
    df = _frame(text)
    for c in ("n_sites", "quantity", "net_revenue", "cost", "line_no"):
        if c in df:
            df[c] = pd.to_numeric(df[c])
    if "date" in df:
        df["date"] = pd.to_datetime(df["date"]).dt.date
    df.to_parquet(path, index=False)
    return path


def test_leading_zeros_kept_in_every_format(tmp_path):
    csv = write_engagement(tmp_path)["accounts"]
    for path in (csv, _as_excel(ACCOUNTS, tmp_path / "a.xlsx"), _as_parquet(ACCOUNTS, tmp_path / "a.parquet")):
        assert readers.read_table(path)["account_id"].tolist() == ["001", "002", "003"], path


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_excel_and_parquet_give_the_same_tables_as_csv(tmp_path, fmt):
    files = write_engagement(tmp_path / "csv")
    ref = feature_tables(load_inputs(files, as_of="2025-12-31", today=TODAY))
    writer = _as_excel if fmt == "xlsx" else _as_parquet
    other = dict(files)
    other["accounts"] = writer(ACCOUNTS, tmp_path / f"accounts.{fmt}")
    other["transactions"] = writer(LINES, tmp_path / f"transactions.{fmt}")
    got = feature_tables(load_inputs(other, as_of="2025-12-31", today=TODAY))
    for name in ("account_features", "account_category_year", "purchase_occasions"):
        pd.testing.assert_frame_equal(got[name], ref[name], check_dtype=False, obj=name)


def test_semicolon_delimiter_and_cp1252(tmp_path):
    path = tmp_path / "accounts.csv"
    text = ACCOUNTS.replace(",", ";").replace("Alpha Metals", "Alpha Métaux €")
    path.write_bytes(text.encode("cp1252"))
    df = readers.read_table(path)
    assert df.loc[0, "name"] == "Alpha Métaux €"
    assert df["account_id"].tolist() == ["001", "002", "003"]


def test_utf8_bom_and_header_normalised(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(("\ufeff" + ACCOUNTS.replace("account_id", " Account ID")).encode("utf-8"))
    assert readers.read_table(path).columns[0] == "account_id"


def test_latin1_transactions_read_by_the_engine(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(LINES.replace("CatA", "Catégorie").encode("cp1252"))
    con = engine.connect()
    cats = ledger.cast_transactions(ledger.read_transactions(con, path)).category.to_pandas()
    assert "Catégorie" in set(cats)


def test_missing_file(tmp_path):
    (tmp_path / "accounts_2025.csv").write_text(ACCOUNTS)
    with pytest.raises(InputError) as err:
        readers.read_table(tmp_path / "accounts.csv")
    msg = str(err.value)
    assert "accounts.csv" in msg and "does not exist" in msg and "accounts_2025.csv" in msg
    assert "Fix:" in msg


def test_empty_file(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"accounts\.csv: the file is empty.*Fix: Export"):
        readers.read_table(path)


def test_header_only_required_table_is_an_error(tmp_path):
    files = write_engagement(tmp_path, contacts="contact_id,account_id,name,function\n")
    with pytest.raises(InputError, match=r"contacts\.csv: the file has a header but no rows"):
        load_inputs(files, today=TODAY)


def test_binary_garbage(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputError, match=r"accounts\.csv: the file is not readable text.*UTF-8"):
        readers.read_table(path)


def test_binary_garbage_transactions(tmp_path):
    files = write_engagement(tmp_path)
    files["transactions"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50)
    with pytest.raises(InputError, match=r"transactions\.csv: the file is not readable text"):
        load_inputs(files, today=TODAY)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "accounts.xls"
    path.write_bytes(b"whatever")
    with pytest.raises(InputError, match=r"accounts\.xls: files of type '\.xls'.*Fix: .*\.xlsx"):
        readers.read_table(path)


def test_bad_bytes_deep_in_a_big_csv_become_an_input_error(tmp_path):
    files = write_engagement(tmp_path)
    body = LINES.splitlines()
    good = "\n".join(body + body[1:] * 20000) + "\n"  # > 1 MB, sniffed as UTF-8
    files["transactions"].write_bytes(good.encode() + b"001,INVX,1,2025-01-01,P\xff\xfe,CatA,1,1,1,S1\n")
    with pytest.raises(InputError) as err:
        feature_tables(load_inputs(files, today=TODAY, max_set_aside_share=1.0))
    msg = str(err.value)
    assert "transactions.csv, row 200011" in msg and "not valid UTF-8" in msg and "Fix:" in msg


def test_utf16_csv(tmp_path):
    files = write_engagement(tmp_path)
    files["accounts"].write_bytes(ACCOUNTS.encode("utf-16"))
    files["transactions"].write_bytes(LINES.encode("utf-16"))
    intake = load_inputs(files, today=TODAY)
    assert intake.frames["accounts"]["account_id"].tolist() == ["001", "002", "003"]
    assert intake.transactions.account.rows_used == 10


@pytest.mark.parametrize("pattern", ["folder", "glob"])
def test_invoice_lines_split_over_parquet_files(tmp_path, pattern):
    files = write_engagement(tmp_path / "csv")
    ref = feature_tables(load_inputs(files, as_of="2025-12-31", today=TODAY))["account_features"]
    lines = _frame(LINES)
    for c in ("quantity", "net_revenue", "cost", "line_no"):
        lines[c] = pd.to_numeric(lines[c])
    lines["date"] = pd.to_datetime(lines["date"]).dt.date
    folder = tmp_path / "lines"
    folder.mkdir()
    lines.iloc[:4].to_parquet(folder / "part-1.parquet", index=False)
    lines.iloc[4:].to_parquet(folder / "part-2.parquet", index=False)
    files["transactions"] = folder if pattern == "folder" else folder / "part-*.parquet"
    intake = load_inputs(files, as_of="2025-12-31", today=TODAY)
    assert intake.transactions.account.rows_read == 10
    got = feature_tables(intake)["account_features"]
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)


def test_numeric_ids_in_parquet_are_flagged(tmp_path):
    files = write_engagement(tmp_path)
    lines = _frame(LINES)
    for c in ("quantity", "net_revenue", "cost", "line_no"):
        lines[c] = pd.to_numeric(lines[c])
    lines["account_id"] = pd.to_numeric(lines["account_id"])  # 001 -> 1: the zeros are gone
    lines.to_parquet(tmp_path / "t.parquet", index=False)
    files["transactions"] = tmp_path / "t.parquet"
    with pytest.raises(InputError) as err:  # "1" is not "001": no line matches an account
        load_inputs(files, today=TODAY, max_set_aside_share=1.0)
    msg = str(err.value)
    assert "column 'account_id'" in msg and "stores account_id as numbers" in msg
    assert "Fix: Export account_id as text" in msg
    # where the ids carry no zeros, numeric ids work and are only noted
    from intake_data import ASSESSMENTS, CONTACTS

    def strip(text):
        return text.replace("001,", "1,").replace("002,", "2,").replace("003,", "3,")

    files = {**write_engagement(tmp_path / "nozeros", accounts=strip(ACCOUNTS),
                                contacts=strip(CONTACTS), assessments=strip(ASSESSMENTS)),
             "transactions": tmp_path / "t.parquet"}
    acc = load_inputs(files, today=TODAY).transactions.account
    assert acc.rows_used == 10
    assert any("account_id stored as numbers" in n for n in acc.notes)


def test_excel_title_rows_above_the_header_are_skipped_and_reported(tmp_path):
    path = tmp_path / "accounts.xlsx"
    df = _frame(ACCOUNTS)
    with pd.ExcelWriter(path) as w:
        pd.DataFrame([["Account export"], ["run 2026-01-10, all regions"]]).to_excel(
            w, index=False, header=False)
        df.to_excel(w, index=False, startrow=2)
    raw = readers.read_table(path)
    assert list(raw.columns) == list(df.columns)
    assert raw["account_id"].tolist() == df["account_id"].tolist()
    assert raw.attrs["header_row"] == 3
    files = write_engagement(tmp_path / "eng")
    files["accounts"] = path
    intake = load_inputs(files, today=TODAY)
    acc = next(a for a in intake.accounts if a.table == "accounts")
    assert acc.rows_used == len(df)
    assert any("header found on row 3" in n for n in acc.notes)


def test_a_table_starting_on_the_first_row_is_read_as_before(tmp_path):
    df = _frame(ACCOUNTS).assign(parent_id=None)  # a sparse column must not move the header
    path = tmp_path / "a.xlsx"
    df.to_excel(path, index=False)
    raw = readers.read_table(path)
    assert raw.attrs["header_row"] == 1 and raw["account_id"].tolist() == df["account_id"].tolist()


def test_engine_errors_tell_files_memory_and_faults_apart(tmp_path):
    """A broken file is the user's to fix (InputError), running out of memory is a setting to
    change (ParameterError), anything else DuckDB raises is a fault of ours and keeps its
    traceback: it must not tell the user to export the file again."""
    import duckdb

    from kamlib.errors import ParameterError
    from kamlib.intake.engine import engine_errors

    bad = tmp_path / "lines.parquet"
    bad.write_bytes(b"not a parquet file")
    with pytest.raises(InputError, match=r"lines\.parquet: the engine could not read the file"):
        with engine_errors(bad):
            duckdb.sql(f"SELECT * FROM read_parquet('{bad}')").fetchall()
    with pytest.raises(ParameterError, match=r"ran out of memory.*memory_limit: 4GB"):
        with engine_errors(bad):
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
    for fault in (duckdb.InternalException("INTERNAL Error: x"),
                  duckdb.BinderException("Binder Error: no such column"),
                  duckdb.OutOfRangeException("Out of Range Error: overflow")):
        with pytest.raises(type(fault)):
            with engine_errors(bad):
                raise fault
