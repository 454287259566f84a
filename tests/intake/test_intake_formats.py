"""Regional formats of client exports (issue 18): decimal commas, thousands separators,
currency signs in amount cells, date layouts, Excel serial dates, sheets and title blocks --
each read by a documented rule decided from the whole column, set by ``format:``/``sheet:`` in
engagement.yml, or refused with the fix; never read wrong in silence."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from intake_data import ACCOUNTS, ASSESSMENTS, LINES, write_engagement
from kamlib.errors import InputError
from kamlib.intake import column_formats
from kamlib.intake.engagement import load_engagement, table_formats, table_sheets
from kamlib.intake.features import feature_tables
from kamlib.intake.formats import COMMA, PLAIN, TableFormat
from kamlib.intake.line_checks import OTHER_CURRENCY
from kamlib.intake.loading import load_inputs

TODAY = dt.date(2026, 1, 15)
CLEAN_REVENUE = 3600.0
AMOUNTS = ("quantity", "net_revenue", "cost")


def _frame(text: str = LINES) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _german(v: str, decimals: int = 2) -> str:
    """1234.5 -> '1.234,50'."""
    text = f"{float(v):,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _german_lines(sep: str = ";") -> str:
    f = _frame()
    for c in ("net_revenue", "cost"):
        f[c] = f[c].map(_german)
    f["date"] = pd.to_datetime(f["date"]).dt.strftime("%d.%m.%Y")
    return f.to_csv(index=False, sep=sep)


def _revenue(intake) -> dict[str, float]:
    features = feature_tables(intake, progress=False)["account_features"]
    return dict(zip(features["account_id"], features["revenue_total"].round(2)))


def _clean(tmp_path) -> dict[str, float]:
    return _revenue(load_inputs(write_engagement(tmp_path / "clean"), today=TODAY))


def _load_frame(tmp_path, frame: pd.DataFrame, sep: str = ";", **kw):
    """Intake of the sample tables with ``frame`` as the invoice lines (a CSV split by ``sep``)."""
    paths = write_engagement(tmp_path, transactions=frame.to_csv(index=False, sep=sep))
    return load_inputs(paths, today=TODAY, **kw)


def _balanced(intake) -> None:
    money = intake.transactions.account.money
    assert intake.transactions.account.balanced
    assert money.revenue_read == pytest.approx(money.revenue_used + money.revenue_set_aside)


# ----------------------------------------------------------------------- decimal commas
def test_a_german_excel_csv_reads_as_the_clean_ledger(tmp_path):
    intake = load_inputs(write_engagement(tmp_path, transactions=_german_lines()), today=TODAY)
    account = intake.transactions.account
    assert account.rows_used == account.rows_read == 10
    assert _revenue(intake) == _clean(tmp_path)
    assert account.money.revenue_used == pytest.approx(CLEAN_REVENUE)
    notes = "; ".join(account.notes)
    assert "net_revenue: numbers read with decimal ',', thousands '.' (detected" in notes
    assert "date: dates read as DD.MM.YYYY (detected from the column)" in notes
    # quantity holds whole numbers only: it follows the table's decimal comma
    assert "quantity: numbers read with decimal ','" in notes


@pytest.mark.parametrize("kind", ["parquet", "xlsx"])
def test_german_text_amounts_in_parquet_and_excel(tmp_path, kind):
    frame = pd.read_csv(io.StringIO(_german_lines()), sep=";", dtype=str, keep_default_na=False)
    paths = write_engagement(tmp_path)
    paths["transactions"] = tmp_path / f"lines.{kind}"
    if kind == "parquet":
        frame.to_parquet(paths["transactions"], index=False)
    else:
        frame.to_excel(paths["transactions"], index=False)
    intake = load_inputs(paths, today=TODAY)
    assert intake.transactions.account.rows_used == 10
    assert _revenue(intake) == _clean(tmp_path)


def test_a_column_of_whole_numbers_and_dotted_thousands_follows_the_table(tmp_path):
    # cost shows the decimal comma; net revenue has '1.000' (a thousand) and whole numbers
    f = _frame()
    f["net_revenue"] = f["net_revenue"].map(lambda v: _german(v, 0))
    f["cost"] = f["cost"].map(_german)
    intake = _load_frame(tmp_path, f)
    assert _revenue(intake) == _clean(tmp_path)


def test_values_of_two_formats_in_one_column_are_refused_naming_format(tmp_path):
    f = _frame()
    f.loc[0, "net_revenue"], f.loc[1, "net_revenue"] = "1.000,00", "500.5"
    lines = f.to_csv(index=False, sep=";")
    with pytest.raises(InputError) as err:
        load_inputs(write_engagement(tmp_path / "a", transactions=lines), today=TODAY)
    assert err.value.column == "net_revenue"
    assert "format: {transactions: {decimal" in str(err.value)
    # with the format set, the value that does not fit is set aside, its money unknown
    paths = write_engagement(tmp_path / "b", transactions=lines)
    intake = load_inputs(paths, today=TODAY, max_set_aside_share=0.2,
                         max_set_aside_revenue_share=0.5,
                         formats={"transactions": TableFormat(decimal=",")})
    account = intake.transactions.account
    assert account.reasons == {"net_revenue: not a number": 1}
    assert account.money.unknown == {"net_revenue: not a number": 1}
    assert account.money.revenue_used == pytest.approx(CLEAN_REVENUE - 500)
    _balanced(intake)


def test_an_ambiguous_column_is_refused_and_read_once_the_format_is_set(tmp_path):
    f = _frame()
    f["net_revenue"] = f["net_revenue"].map(lambda v: _german(v, 0))  # '1.000': 1000 or 1?
    lines = f.to_csv(index=False, sep=";").replace(";1.000;", ";1,000;")
    with pytest.raises(InputError, match="1,000 could be a thousand or one") as err:
        load_inputs(write_engagement(tmp_path / "a", transactions=lines), today=TODAY)
    assert "format:" in str(err.value) and err.value.rows == [1]
    intake = load_inputs(write_engagement(tmp_path / "b", transactions=lines), today=TODAY,
                         formats={"transactions": TableFormat(decimal=".", thousands=",")})
    assert _revenue(intake) == _clean(tmp_path)


def test_a_decimal_comma_first_seen_far_down_the_file_casts_the_column_again(tmp_path, monkeypatch):
    monkeypatch.setattr(column_formats, "HEAD_ROWS", 3)  # the first lines hold whole numbers
    f = _frame()
    f.loc[5, "net_revenue"], f.loc[5, "quantity"] = "300,0", "1,0"
    f.loc[0, "net_revenue"] = "1.000"  # a thousand: the column's decimal mark is ','
    intake = _load_frame(tmp_path, f)
    assert intake.transactions.account.rows_used == 10
    assert _revenue(intake) == _clean(tmp_path)


@pytest.mark.parametrize("cell", ["1 000,00", "1\u202f000,00", "1'000.00", "1.000,00"])
def test_blank_and_apostrophe_thousands_separators(tmp_path, cell):
    f = _frame()
    f.loc[0, "net_revenue"] = cell
    f.loc[1, "net_revenue"] = "500,00" if "," in cell else "500.00"
    intake = _load_frame(tmp_path, f)
    assert _revenue(intake) == _clean(tmp_path)


# ------------------------------------------------------------------ currency in cells
def test_currency_signs_and_codes_of_the_engagement_are_read(tmp_path):
    f = _frame()
    f.loc[0, "net_revenue"], f.loc[1, "net_revenue"] = "€ 1.000,00", "500,00 EUR"
    f.loc[2, "net_revenue"], f.loc[3, "net_revenue"] = "200 €", "-€100"
    f.loc[3, "cost"] = "(60,00 eur)"
    intake = _load_frame(tmp_path, f)
    assert intake.transactions.account.rows_used == 10
    assert _revenue(intake) == _clean(tmp_path)
    assert "4 with a currency sign or code" in "; ".join(intake.transactions.account.notes)


def test_an_amount_in_another_currency_is_set_aside_with_its_reason(tmp_path):
    f = _frame()
    f.loc[2, "net_revenue"] = "$200.00"
    paths = write_engagement(tmp_path, transactions=f.to_csv(index=False))
    intake = load_inputs(paths, today=TODAY, max_set_aside_share=0.2,
                         max_set_aside_revenue_share=0.5)
    reason = f"net_revenue: {OTHER_CURRENCY}"
    account = intake.transactions.account
    assert account.reasons == {reason: 1}
    assert account.money.unknown == {reason: 1}  # not our currency: not summed
    assert account.money.revenue_used == pytest.approx(CLEAN_REVENUE - 200)
    _balanced(intake)
    # an engagement in US dollars reads it
    usd = load_inputs(paths, today=TODAY, currency="USD")
    assert usd.transactions.account.rows_used == 10


# ------------------------------------------------------------------------------- dates
@pytest.mark.parametrize("layout,fmt", [("MM/DD/YYYY", "%m/%d/%Y"), ("DD/MM/YYYY", "%d/%m/%Y"),
                                        ("DD-MM-YYYY", "%d-%m-%Y"), ("YYYY/MM/DD", "%Y/%m/%d")])
def test_day_month_order_is_decided_from_the_whole_column(tmp_path, layout, fmt):
    f = _frame()
    f["date"] = pd.to_datetime(f["date"]).dt.strftime(fmt)
    intake = _load_frame(tmp_path, f, sep=",")
    assert intake.transactions.account.rows_used == 10
    assert _revenue(intake) == _clean(tmp_path)
    assert f"date: dates read as {layout}" in "; ".join(intake.transactions.account.notes)


def test_dates_that_could_be_either_order_are_refused_unless_format_says(tmp_path):
    f = _frame()
    f["date"] = ["06/10/2025", "06/10/2025", "06/10/2025", "07/01/2025", "03/01/2024",
                 "02/01/2023", "11/03/2025", "12/12/2024", "06/01/2022", "03/03/2025"]
    lines = f.to_csv(index=False)
    with pytest.raises(InputError, match="could be March or April") as err:
        load_inputs(write_engagement(tmp_path / "a", transactions=lines), today=TODAY)
    assert err.value.column == "date" and 'date: "DD/MM/YYYY"' in str(err.value)
    intake = load_inputs(write_engagement(tmp_path / "b", transactions=lines), today=TODAY,
                         formats={"transactions": TableFormat(date="MM/DD/YYYY")})
    assert intake.transactions.summary["last_date"] == dt.date(2025, 11, 3)


def test_excel_serial_dates_and_timestamps_with_a_time_zone(tmp_path):
    f = _frame()
    serial = (pd.to_datetime(f["date"]) - pd.Timestamp("1899-12-30")).dt.days.astype(str)
    f["date"] = serial.where(f.index % 2 == 0, f["date"] + "T23:30:00-05:00")
    f.loc[1, "date"] = f.loc[1, "date"].replace("-05:00", "Z")
    intake = _load_frame(tmp_path, f, sep=",")
    assert intake.transactions.account.rows_used == 10
    assert _revenue(intake) == _clean(tmp_path)  # 23:30 -05:00 stays on the day written
    assert intake.transactions.summary["first_date"] == dt.date(2022, 6, 1)


def test_excel_serial_numbers_in_a_workbook_date_column(tmp_path):
    f = _frame()
    f["date"] = (pd.to_datetime(f["date"]) - pd.Timestamp("1899-12-30")).dt.days
    paths = write_engagement(tmp_path)
    paths["transactions"] = tmp_path / "lines.xlsx"
    f.to_excel(paths["transactions"], index=False)
    assert _revenue(load_inputs(paths, today=TODAY)) == _clean(tmp_path)


def test_excel_serial_numbers_in_a_parquet_date_column(tmp_path):
    f = _frame()
    f["date"] = (pd.to_datetime(f["date"]) - pd.Timestamp("1899-12-30")).dt.days.astype("int64")
    paths = write_engagement(tmp_path)
    paths["transactions"] = tmp_path / "lines.parquet"
    f.to_parquet(paths["transactions"], index=False)
    assert _revenue(load_inputs(paths, today=TODAY)) == _clean(tmp_path)


# ------------------------------------------------------------------------------- Excel
def _workbook(path, sheets: dict[str, pd.DataFrame], title_rows: int = 0) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            frame.to_excel(xl, sheet_name=name, index=False, startrow=title_rows)
            if title_rows:
                xl.sheets[name].cell(row=1, column=1, value="Invoice lines, FY 2025")
                xl.sheets[name].cell(row=2, column=3, value="exported 2026-01-02")


def test_the_sheet_holding_the_tables_columns_is_read_below_a_title_block(tmp_path):
    paths = write_engagement(tmp_path)
    paths["transactions"] = tmp_path / "lines.xlsx"
    cover = pd.DataFrame({"About": ["This workbook", "was exported"], "x": [1, 2]})
    _workbook(paths["transactions"], {"Cover": cover, "Lines": _frame()}, title_rows=3)
    intake = load_inputs(paths, today=TODAY)
    assert _revenue(intake) == _clean(tmp_path)
    paths["accounts"] = tmp_path / "accounts.xlsx"
    _workbook(paths["accounts"], {"Notes": cover, "Kunden": _frame(ACCOUNTS)}, title_rows=2)
    intake = load_inputs(paths, today=TODAY)
    assert "header found on row 3 of the sheet" in "; ".join(intake.accounts[0].notes)


def test_the_sheet_option_names_the_sheet_by_name_or_position(tmp_path):
    paths = write_engagement(tmp_path)
    paths["transactions"] = tmp_path / "lines.xlsx"
    half = _frame().iloc[:4]
    _workbook(paths["transactions"], {"Old": half, "Current": _frame()})
    for sheet in ("current", 1):
        intake = load_inputs(paths, today=TODAY, sheets={"transactions": sheet})
        assert intake.transactions.account.rows_read == 10
    with pytest.raises(InputError, match="no sheet 'Missing'.*'Old', 'Current'"):
        load_inputs(paths, today=TODAY, sheets={"transactions": "Missing"})
    with pytest.raises(InputError, match="no sheet 5"):
        load_inputs(paths, today=TODAY, sheets={"transactions": 4})


# ------------------------------------------------------------------------ small tables
def test_small_tables_read_numbers_and_dates_by_the_same_rules(tmp_path):
    accounts = ACCOUNTS.replace("account_manager\n", "account_manager,wallet,relationship_start\n")
    rows = accounts.splitlines()
    extra = [',"€ 1.200.000,50",24.07.2019', ',"50.000,00",03.02.2020', ',"7,5",15.01.2021']
    accounts = "\n".join([rows[0], *[r + e for r, e in zip(rows[1:], extra)]]) + "\n"
    assessments = ASSESSMENTS.replace("Jane Roe,001,8,7,1", 'Jane Roe,001,"8,5",7,1')
    intake = load_inputs(write_engagement(tmp_path, accounts=accounts, assessments=assessments),
                         today=TODAY)
    acc = intake.frames["accounts"]
    assert acc["wallet"].tolist() == [1_200_000.5, 50_000.0, 7.5]
    assert acc["relationship_start"].dt.strftime("%Y-%m-%d").tolist() == [
        "2019-07-24", "2020-02-03", "2021-01-15"]
    assert intake.frames["assessments"]["future_potential"].iloc[0] == 8.5
    notes = "; ".join(intake.accounts[0].notes)
    assert "wallet: numbers read with decimal ','" in notes
    assert "relationship_start read as DD.MM.YYYY" in notes


# ------------------------------------------------------------------ engagement settings
def _engagement(tmp_path, block: str):
    (tmp_path / "engagement.yml").write_text(f"client: X\ninputs: {{}}\n{block}\n")
    return load_engagement(tmp_path)


def test_format_and_sheet_settings_are_checked(tmp_path):
    eng = _engagement(tmp_path, 'format:\n  transactions: {decimal: ",", date: "DD.MM.YYYY"}\n'
                                "sheet:\n  accounts: 2\n  transactions: Lines")
    formats = table_formats(eng)
    assert formats["transactions"].number() == COMMA
    assert TableFormat(decimal=".").number() == PLAIN
    assert table_sheets(eng) == {"accounts": 1, "transactions": "Lines"}
    for block, words in [("format: {transactions: {decimals: ','}}", r"unknown setting\(s\) decimals"),
                         ("format: {transactions: {decimal: ';'}}", "decimal ';' is not one of"),
                         ("format: {transactions: {date: 'D/M/Y'}}", "date 'D/M/Y' is not one of"),
                         ("format: {invoices: {decimal: ','}}", "unknown table 'invoices'"),
                         ("format: {transactions: {decimal: ',', thousands: ','}}", "both"),
                         ("sheet: {accounts: 0}", "is not a sheet")]:
        with pytest.raises(InputError, match=words) as err:
            eng = _engagement(tmp_path, block)
            table_formats(eng), table_sheets(eng)
        assert "engagement.yml" in str(err.value)
