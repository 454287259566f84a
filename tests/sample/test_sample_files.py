"""The committed data/sample/ folder is exactly what the generator writes with its defaults."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from kamlib.errors import KamError, ParameterError
from kamlib.sample import FILES, SampleFolderNotEmpty, generate_sample, write_sample

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder)  # defaults: 600 accounts, seed 2026
    return folder


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_excel(path)


def test_committed_folder_has_every_file():
    names = sorted(p.name for p in SAMPLE.iterdir())
    assert names == sorted([*FILES.values(), "engagement.yml"])


@pytest.mark.parametrize("name", [f for f in FILES.values() if not f.endswith(".parquet")] + ["engagement.yml"])
def test_files_are_byte_identical(fresh, name):
    """CSV, YAML and Excel (timestamps pinned) are reproduced byte for byte."""
    assert (fresh / name).read_bytes() == (SAMPLE / name).read_bytes()


@pytest.mark.parametrize("name", [f for f in FILES.values() if not f.endswith(".csv")])
def test_binary_files_hold_identical_tables(fresh, name):
    """Parquet bytes carry the pyarrow version, so compare what it holds (and Excel, to say what differs)."""
    pd.testing.assert_frame_equal(_read(fresh / name), _read(SAMPLE / name))


def test_parquet_keeps_dates_as_calendar_dates():
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(SAMPLE / FILES["transactions"])
    assert schema.field("date").type == pa.date32()
    assert schema.field("account_id").type == pa.string()
    assert pq.ParquetFile(SAMPLE / FILES["transactions"]).metadata.row_group(0).column(0).compression == "ZSTD"


def test_engagement_yml_lists_the_inputs():
    doc = yaml.safe_load((SAMPLE / "engagement.yml").read_text(encoding="utf-8"))
    assert doc["client"] == "Nordhaven Industrial Supply"
    assert doc["currency"] == "EUR"
    assert doc["inputs"] == FILES
    assert doc["parameters"] == {"plan_start": "as_of"}  # a frozen past: plans start at its date
    for f in doc["inputs"].values():
        assert (SAMPLE / f).is_file()


def test_sample_folder_stays_small():
    total = sum(p.stat().st_size for p in SAMPLE.iterdir())
    assert total < 10 * 1024 * 1024


def test_csv_files_read_back_to_the_generated_tables(fresh):
    """What a user opening the CSV sees is what generate_sample returned (dates as ISO text)."""
    tables = generate_sample()
    for name in ("accounts", "contacts", "ahp_judgements"):
        back = pd.read_csv(fresh / FILES[name], dtype=str, keep_default_na=False)
        assert list(back.columns) == list(tables[name].columns)
        assert len(back) == len(tables[name])
    acc = pd.read_csv(fresh / FILES["accounts"], dtype=str, keep_default_na=False)
    assert acc["relationship_start"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert acc["n_sites"].str.fullmatch(r"\d+").all()  # integers stay integers, no '3.0'
    assert (acc["account_id"] == tables["accounts"]["account_id"]).all()


def test_write_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("client notes")
    with pytest.raises(SampleFolderNotEmpty, match="not empty") as err:
        write_sample(tmp_path, n_accounts=30)
    assert isinstance(err.value, KamError)
    assert "overwrite" in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_write_overwrites_when_asked(tmp_path):
    write_sample(tmp_path, n_accounts=30, seed=1)
    first = (tmp_path / "accounts.csv").read_bytes()
    paths = write_sample(tmp_path, n_accounts=30, seed=2, overwrite=True)
    assert set(paths) == {*FILES, "engagement"}
    assert (tmp_path / "accounts.csv").read_bytes() != first


def test_write_creates_missing_folders(tmp_path):
    paths = write_sample(tmp_path / "a" / "b", n_accounts=25)
    assert all(p.is_file() for p in paths.values())


def test_excel_timestamps_are_pinned():
    import openpyxl

    wb = openpyxl.load_workbook(SAMPLE / FILES["assessments"], read_only=True)
    assert wb.sheetnames == ["assessments"]
    assert wb.properties.created == wb.properties.modified  # not the time it was written


@pytest.mark.parametrize("bad", [0, 5, 9, -1, 2.5, "600", True])
def test_bad_account_count_is_a_parameter_error(bad):
    with pytest.raises(ParameterError, match="n_accounts"):
        generate_sample(n_accounts=bad)


def test_bad_seed_is_a_parameter_error():
    with pytest.raises(ParameterError, match="seed"):
        generate_sample(n_accounts=30, seed=-3)
