"""The manifest's table hashes: taken as each step ends, reused only for unchanged files."""

from __future__ import annotations

import os

import pandas as pd

from kamlib.runner.manifest import hash_table_files, hash_tables


def _table(run_dir, name, df):
    (run_dir / "tables").mkdir(exist_ok=True)
    df.to_parquet(run_dir / "tables" / f"{name}.parquet")


def test_hashes_taken_during_the_run_equal_those_taken_at_its_end(tmp_path):
    _table(tmp_path, "a", pd.DataFrame({"x": [1, 2]}))
    _table(tmp_path, "b", pd.DataFrame({"y": ["p", "q", "r"]}))
    known: dict = {}
    hash_table_files(tmp_path, ["a", "b", "never_written"], known)
    assert set(known) == {"a", "b"}
    assert hash_tables(tmp_path, known=known) == hash_tables(tmp_path)
    assert hash_tables(tmp_path)["b"]["rows"] == 3


def test_a_table_rewritten_after_its_hash_was_taken_is_hashed_again(tmp_path):
    _table(tmp_path, "a", pd.DataFrame({"x": [1, 2]}))
    known: dict = {}
    hash_table_files(tmp_path, ["a"], known)
    before = hash_tables(tmp_path)["a"]
    _table(tmp_path, "a", pd.DataFrame({"x": [1, 3]}))  # same size, new content
    path = tmp_path / "tables" / "a.parquet"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    after = hash_tables(tmp_path, known=known)["a"]
    assert after != before and after == hash_tables(tmp_path)["a"]


def test_only_the_named_tables_are_hashed(tmp_path):
    _table(tmp_path, "a", pd.DataFrame({"x": [1]}))
    _table(tmp_path, "b", pd.DataFrame({"x": [2]}))
    assert set(hash_tables(tmp_path, only={"b"})) == {"b"}
