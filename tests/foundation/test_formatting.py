"""The one formatter: money scales and rounding boundaries, intervals, shares, counts, dates."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from kamlib import formatting as fmt


@pytest.mark.parametrize("value, text", [
    (0, "0"), (12, "12"), (950, "950"), (-12, "-12"), (-0.3, "0"),
    (999.6, "1.0 k"),            # rounds to 1,000: the next scale
    (1234, "1.2 k"), (45_600, "45.6 k"), (99_960, "100 k"), (350_000, "350 k"),
    (999_499, "999 k"), (999_500, "1.0 M"), (999_950, "1.0 M"),
    (1_234_567, "1.2 M"), (12_345_678, "12.3 M"), (123_456_789, "123 M"),
    (999_950_000, "1.0 bn"), (2.5e9, "2.5 bn"), (1.5e12, "1,500 bn"),
    (-3_400_000, "-3.4 M"), (-45_600, "-45.6 k"),
])
def test_money_scales_and_boundaries(value, text):
    assert fmt.money(value) == text


def test_money_currency_and_missing():
    assert fmt.money(1_234_567, "EUR") == "1.2 M EUR"
    assert fmt.money(0, "EUR") == "0 EUR"
    for nothing in (None, float("nan"), np.nan, pd.NA, pd.NaT, math.inf, ""):
        assert fmt.money(nothing, "EUR") == fmt.DASH == "–"
    assert fmt.money(np.float32(2_000_000)) == "2.0 M" and fmt.money(np.int64(45_600)) == "45.6 k"


def test_money_interval_on_one_scale_never_reads_as_a_point():
    assert fmt.money_interval(1.2e6, 1.6e6, "EUR") == "1.2 M–1.6 M EUR"
    assert fmt.money_interval(400_000, 600_000) == "400 k–600 k"
    assert fmt.money_interval(800_000, 1_300_000) == "0.8 M–1.3 M"    # the larger end's scale
    assert fmt.money_interval(1.38e6, 1.42e6) == "1.38 M–1.42 M"      # not "1.4 M–1.4 M"
    assert fmt.money_interval(1_400_100, 1_400_400) == "1.4001 M–1.4004 M"
    assert fmt.money_interval(1_000_001, 1_000_002) == "1,000,001–1,000,002"
    assert fmt.money_interval(1.4e6, 1.4e6) == "1.4 M–1.4 M"          # a true point stays one
    assert fmt.money_interval(None, 2) == fmt.DASH


def test_share_count_date_number():
    assert fmt.share(0.456) == "46%" and fmt.share(0.4567, digits=1) == "45.7%"
    assert fmt.share(0.12, signed=True) == "+12%" and fmt.share(-0.3, signed=True) == "-30%"
    assert fmt.share(5.0, signed=True) == ">+300%" and fmt.share(None) == fmt.DASH
    assert fmt.count(1234) == "1,234" and fmt.count(1, "account") == "1 account"
    assert fmt.count(3, "category", "categories") == "3 categories"
    assert fmt.count(float("nan")) == fmt.DASH
    assert fmt.date("2026-09-30") == "30 Sep 2026"
    assert fmt.date(pd.Timestamp("2026-01-05 13:00")) == "5 Jan 2026"
    assert fmt.date(dt.date(2026, 12, 1)) == "1 Dec 2026" and fmt.date(pd.NaT) == fmt.DASH
    assert fmt.number(1234567.891) == "1,234,568" and fmt.number(0.3599) == "0.360"
    assert fmt.number(float("nan")) == fmt.DASH


def test_column_titles_for_people():
    assert fmt.label("revenue_12m") == "Revenue (12 months)"
    assert fmt.label("n_contacts") == "Number of contacts"
    assert fmt.label("account_id") == "Account ID" and fmt.label("p_alive") == "P(alive)"
    assert fmt.label("margin_pct_12m") == "Margin rate (12 months)"
    assert fmt.label("Claire Dubois") == "Claire Dubois"  # a name used as a column stays


def test_column_kinds_and_cells():
    assert fmt.column_kind("revenue_12m") == "money" and fmt.column_kind("clv_low") == "money"
    assert fmt.column_kind("share_of_sales_12m") == "share" and fmt.column_kind("p_key") == "share"
    assert fmt.column_kind("growth_12m", [0.1, -2.0]) == "share"
    assert fmt.column_kind("growth_12m", [250.0]) == "number"  # not a share after all
    assert fmt.column_kind("n_orders") == "count" and fmt.column_kind("contrib_growth") == "number"
    assert fmt.cell(True) == "yes" and fmt.cell(False) == "no" and fmt.cell(None) == fmt.DASH
    assert fmt.cell(float("nan"), "money") == fmt.DASH and fmt.cell(pd.NaT) == fmt.DASH
    assert fmt.cell(28598737.29, "money", "EUR") == "28.6 M EUR"
    assert fmt.cell(0.8152646732353678, "share") == "81.5%"
    assert fmt.cell(pd.Timestamp("2026-06-30")) == "30 Jun 2026"
    assert fmt.cell(["a", "b"]) == "a; b" and fmt.cell(7.0) == "7" and fmt.cell(4.6e-6) == "< 0.001"


def test_a_count_names_its_whole():
    assert fmt.part_of(67, 504, "accounts of the purchase model") == (
        "67 of 504 accounts of the purchase model (13%)")
    assert fmt.part_of(0, 0, "accounts") == "0 of 0 accounts"
    assert fmt.part_of(None, 3, "accounts") == fmt.DASH


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil")', "=cmd|' /C calc'!A0", "+1+1",
                                  "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1", "-", "-2 title"])
def test_csv_text_keeps_a_formula_led_text_as_text(text):
    assert fmt.csv_text(text) == "'" + text


@pytest.mark.parametrize("value", ["-12.5", "+3e5", "-1.234,56", "1 000", "Alpha =1", " =1", "",
                                   None, -3, 2.5])
def test_csv_text_leaves_numbers_and_other_text_alone(value):
    assert fmt.csv_text(value) == value


def test_printable_shows_control_characters_and_bidi_overrides_as_escapes():
    text = "id\x1b]0;pwned\x07 \x00 \x9b \u202egnp.exe\ttab\nnext"
    assert fmt.printable(text) == "id\\x1b]0;pwned\\x07 \\x00 \\x9b \\u202egnp.exe\ttab\nnext"
    assert fmt.printable("Müller & Söhne – 1 200 €") == "Müller & Söhne – 1 200 €"
