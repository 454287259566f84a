"""Features checked by hand on a ten-line ledger (numbers worked out in the comments)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from intake_data import write_engagement
from kamlib.errors import ParameterError
from kamlib.intake import features
from kamlib.intake.loading import load_inputs

TODAY = dt.date(2026, 1, 15)
AS_OF = "2025-12-31"  # windows: (2024-12-31, 2025-12-31], (2023-12-31, 2024-12-31], (2022-12-31, 2023-12-31]


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    files = write_engagement(tmp_path_factory.mktemp("eng"))
    intake = load_inputs(files, as_of=AS_OF, today=TODAY)
    out = features.feature_tables(intake)
    out["_intake"] = intake
    return out


def row(tables, account_id):
    f = tables["account_features"]
    return f.loc[f.account_id == account_id].iloc[0]


def test_every_account_one_row_in_contract_order(tables):
    f = tables["account_features"]
    assert list(f.columns) == list(features.FEATURE_COLUMNS)
    assert f.account_id.tolist() == ["001", "002", "003"]
    assert (f.as_of == pd.Timestamp("2025-12-31")).all()


def test_account_001_by_hand(tables):
    a = row(tables, "001")
    # last 12 months: 1000 + 500 + 200 - 100 (credit note); margins 400 + 300 + 80 - 40
    assert a.revenue_12m == 1600 and a.margin_12m == 740 and a.quantity_12m == 16
    assert a.revenue_prev_12m == 800 and a.margin_prev_12m == 320
    assert a.revenue_prev2_12m == 300 and a.margin_prev2_12m == 200
    assert a.revenue_total == 2700 and a.margin_total == 1260
    assert a.margin_pct_12m == pytest.approx(740 / 1600)
    assert a.growth_12m == pytest.approx(800 / 1200)  # (1600-800)/((1600+800)/2)
    assert a.growth_prev_12m == pytest.approx(500 / 550)
    assert a.share_of_sales_12m == pytest.approx(1600 / 2000)
    # orders are invoices with a positive line: INV1..INV4; the credit note is not one
    assert a.n_orders == 4 and a.n_orders_12m == 2
    assert a.first_purchase == pd.Timestamp("2023-02-01")
    assert a.last_purchase == pd.Timestamp("2025-06-10")  # the later credit note is no purchase
    assert a.recency_days == 204 and a.tenure_days == 1064
    assert a.avg_order_value == pytest.approx(2800 / 4)  # gross sales / orders
    assert a.returns_share == pytest.approx(100 / 2800)
    assert a.n_categories == 3 and a.n_products == 3
    assert a.n_active_sites_12m == 2  # S1, S2 bought in the last 12 months
    assert a.months_active == 3
    assert a.n_contacts == 3 and a.n_functions == 2
    assert a["name"] == "Alpha Metals" and a.n_sites == 3 and a.account_manager == "Jane Roe"


def test_account_002_zero_line_boundary_and_old_line(tables):
    a = row(tables, "002")
    # 2025-11-30 is a zero line, 2024-12-31 falls in the previous window (windows are (b, e]),
    # 2022-06-01 is older than three years: only in the totals
    assert a.revenue_12m == 400 and a.revenue_prev_12m == 400 and a.revenue_prev2_12m == 0
    assert a.revenue_total == 900 and a.margin_total == 350
    assert a.growth_12m == 0 and a.growth_prev_12m == 2
    assert a.n_orders == 3 and a.n_orders_12m == 1
    assert a.recency_days == 303 and a.tenure_days == 1309
    assert a.avg_order_value == pytest.approx(300) and a.returns_share == 0
    assert a.months_active == 3 and a.n_active_sites_12m == 1


def test_account_without_purchases_is_kept_with_zeros(tables):
    a = row(tables, "003")
    for c in ("revenue_12m", "revenue_total", "margin_total", "share_of_sales_12m", "growth_12m"):
        assert a[c] == 0
    for c in ("n_orders", "n_categories", "months_active", "n_contacts"):
        assert a[c] == 0
    for c in ("margin_pct_12m", "avg_order_value", "returns_share", "recency_days"):
        assert np.isnan(a[c])
    assert pd.isna(a.first_purchase)
    notes = tables["_intake"].data_quality().set_index("table").loc["accounts", "notes"]
    assert "1 accounts without purchases" in notes


def test_category_year(tables):
    got = tables["account_category_year"]
    expected = pd.DataFrame(
        [("001", 0, "CatA", 1100.0, 440.0, 11.0), ("001", 0, "CatB", 500.0, 300.0, 5.0),
         ("001", 1, "CatA", 800.0, 320.0, 8.0), ("001", 2, "CatC", 300.0, 200.0, 1.0),
         ("002", 0, "CatB", 400.0, 200.0, 2.0), ("002", 1, "CatB", 400.0, 100.0, 4.0)],
        columns=["account_id", "year", "category", "revenue", "margin", "quantity"])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_purchase_occasions_merge_same_day_lines(tables):
    got = tables["purchase_occasions"]
    expected = pd.DataFrame(
        [("001", "2023-02-01", 300.0, 200.0, 1), ("001", "2024-03-15", 800.0, 320.0, 1),
         ("001", "2025-06-10", 1700.0, 780.0, 3),  # two invoices the same day: one occasion
         ("002", "2022-06-01", 100.0, 50.0, 1), ("002", "2024-12-31", 400.0, 100.0, 1),
         ("002", "2025-03-03", 400.0, 200.0, 1)],  # the zero line and the credit-note day are no purchase
        columns=["account_id", "date", "revenue", "margin", "n_lines"])
    expected["date"] = pd.to_datetime(expected["date"])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_margin_column_used_when_no_cost(tmp_path):
    from intake_data import LINES

    lines = pd.read_csv(__import__("io").StringIO(LINES), dtype=str)
    lines["margin"] = (lines.net_revenue.astype(float) - lines.cost.astype(float)).astype(str)
    files = write_engagement(tmp_path, transactions=lines.drop(columns="cost").to_csv(index=False))
    f = features.feature_tables(load_inputs(files, as_of=AS_OF, today=TODAY))["account_features"]
    assert f.set_index("account_id").loc["001", "margin_12m"] == 740


def test_as_of_defaults_to_last_valid_date(tmp_path):
    intake = load_inputs(write_engagement(tmp_path), today=TODAY)
    assert intake.as_of == dt.date(2025, 11, 30)


def test_explicit_as_of_sets_later_lines_aside_as_policy(tmp_path):
    intake = load_inputs(write_engagement(tmp_path), as_of="2024-12-31", today=TODAY)
    acc = intake.transactions.account
    assert acc.reasons == {"date: after as_of": 6}  # 6 of 10 lines, yet not an error
    assert acc.rows_used == 4 and acc.balanced


def test_an_as_of_before_the_first_line_names_the_parameter_not_the_file(tmp_path):
    with pytest.raises(ParameterError, match=r"Parameter 'as_of' is 1990-01-01, before the first "
                       r"usable invoice line .*\(2022-"):
        load_inputs(write_engagement(tmp_path), as_of="1990-01-01", today=TODAY)


@pytest.mark.parametrize("a, b, expected", [
    (0, 0, 0.0), (100, 0, 2.0), (0, 100, -2.0), (150, 50, 1.0), (50, 150, -1.0),
    (-10, 10, -2.0), (10, -10, 2.0), (-50, -100, 2 / 3), (-100, -50, -2 / 3),
])
def test_symmetric_growth(a, b, expected):
    assert features.symmetric_growth(a, b) == pytest.approx(expected)


def test_symmetric_growth_bounded_and_antisymmetric():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 100, 500), rng.normal(0, 100, 500)
    g = features.symmetric_growth(a, b)
    assert np.all(np.abs(g) <= 2)
    np.testing.assert_allclose(g, -features.symmetric_growth(b, a))


def test_pareto_curve():
    f = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "revenue_12m": [10.0, 60.0, 30.0, 0.0]})
    p = features.pareto_curve(f)
    assert p.account_id.tolist() == ["b", "c", "a", "d"]
    np.testing.assert_allclose(p.value_share, [0.6, 0.9, 1.0, 1.0])
    np.testing.assert_allclose(p.account_share, [0.25, 0.5, 0.75, 1.0])
