"""A German-format CSV (``;``, decimal commas, ``DD.MM.YYYY``, currency signs) reads the same on
Spark as on DuckDB (issue 18): the regional-format rules are Ibis expressions, and the row and
money accounting stay exact. Skipped when PySpark or Java is missing (see conftest.py)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # intake_data

from intake_data import LINES, write_engagement  # noqa: E402
from kamlib.intake import engine  # noqa: E402
from kamlib.intake.loading import load_inputs  # noqa: E402

TODAY = dt.date(2026, 1, 15)


def _german() -> str:
    import io

    import pandas as pd

    f = pd.read_csv(io.StringIO(LINES), dtype=str)
    for c in ("net_revenue", "cost"):
        f[c] = f[c].map(lambda v: f"{float(v):,.2f}".replace(",", "_").replace(".", ",")
                        .replace("_", "."))
    f.loc[0, "net_revenue"] = "€ " + f.loc[0, "net_revenue"]
    f.loc[2, "net_revenue"] = "$200,00"  # another currency: set aside, its money unknown
    f.loc[3, "cost"] = "60,00-"
    f["date"] = pd.to_datetime(f["date"]).dt.strftime("%d.%m.%Y")
    f.loc[4, "date"] = "45366"  # an Excel serial date: 2024-03-15
    f.loc[5, "date"] = "2023-02-01T23:30:00-05:00"  # the date as written
    return f.to_csv(index=False, sep=";")


def test_a_german_csv_reads_the_same_on_spark_and_duckdb(tmp_path, spark):
    paths = write_engagement(tmp_path, transactions=_german())
    kw = {"today": TODAY, "max_set_aside_share": 0.2, "max_set_aside_revenue_share": 0.2}
    duck = load_inputs(paths, **kw)
    on_spark = load_inputs(paths, con=engine.connect("spark", session=spark), engine="spark", **kw)
    for intake in (duck, on_spark):
        account = intake.transactions.account
        assert account.rows_read == 10 and account.rows_used == 9 and account.balanced
        money = account.money
        assert money.revenue_used == pytest.approx(3400.0)
        assert money.revenue_read == pytest.approx(money.revenue_used + money.revenue_set_aside)
        assert sum(money.unknown.values()) == 1
    assert duck.transactions.account.reasons == on_spark.transactions.account.reasons
    assert duck.transactions.as_of == on_spark.transactions.as_of == dt.date(2025, 11, 30)
    assert duck.transactions.summary["first_date"] == on_spark.transactions.summary["first_date"]
    a, b = (sorted(map(tuple, i.transactions.aggregates[["revenue_total"]].round(2).values.tolist()))
            for i in (duck, on_spark))
    assert a == b
