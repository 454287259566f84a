"""Fixtures for the scale tests: a small local Spark session and generated invoice lines.

Spark is optional (``pip install -e ".[spark]"`` plus Java 17+). Without it the Spark tests are
skipped with the reason; the DuckDB half of the scale tests still runs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))  # gen_invoice_lines lives with the benchmarks


def _spark_missing() -> str | None:
    """Why a local Spark session cannot start here, or None if it can."""
    if importlib.util.find_spec("pyspark") is None:
        return 'pyspark is not installed (pip install -e ".[spark]")'
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").exists()) and shutil.which("java") is None:
        return "Java is not installed (PySpark needs Java 17+: set JAVA_HOME or put java on PATH)"
    return None


@pytest.fixture(scope="session")
def spark():
    """A ``local[2]`` SparkSession shared by every test in the session (startup costs ~5 s)."""
    reason = _spark_missing()
    if reason:
        pytest.skip(reason)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("kam-workbook-tests")
        # Small data: a few partitions instead of 200 keeps each shuffle fast.
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def invoice_files(tmp_path_factory):
    """6,000 generated invoice lines (Parquet) with accounts, contacts and assessments."""
    from gen_invoice_lines import write_dataset

    return write_dataset(6_000, "parquet", seed=11, out=tmp_path_factory.mktemp("lines"),
                         chunk_rows=3_000, quiet=True)


@pytest.fixture(scope="session")
def bad_invoice_files(tmp_path_factory):
    """8,000 generated invoice lines with ~2% injected bad rows (counts per kind in ``bad``)."""
    from gen_invoice_lines import write_dataset

    return write_dataset(8_000, "parquet", seed=12, out=tmp_path_factory.mktemp("bad"),
                         bad_fraction=0.02, chunk_rows=3_000, quiet=True)
