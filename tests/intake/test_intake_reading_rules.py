"""The reading rules for real client exports: each value is read by a documented rule, or set
aside or refused with a reason naming the real cause -- never silently lost (issue 18)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from intake_data import ACCOUNTS, LINES, write_engagement
from kamlib.errors import InputError
from kamlib.intake.accounting import REPEATED_HEADER
from kamlib.intake.features import feature_tables
from kamlib.intake.loading import load_inputs
from kamlib.intake.reading_rules import AMBIGUOUS_ID

TODAY = dt.date(2026, 1, 15)
CLEAN_REVENUE = 3600.0  # LINES: every line used
CLEAN_MARGIN = 1610.0


def _load(tmp_path, **overrides):
    return load_inputs(write_engagement(tmp_path, **overrides), today=TODAY)


def _revenue_by_account(intake) -> dict[str, float]:
    features = feature_tables(intake, progress=False)["account_features"]
    return dict(zip(features["account_id"], features["revenue_total"].round(2)))


def _clean(tmp_path):
    return _revenue_by_account(_load(tmp_path / "clean"))


def _parquet(text: str, path, **types):
    import io

    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame = frame.astype(types) if types else frame
    frame.to_parquet(path, index=False)
    return path


# ------------------------------------------------------------------------------ amounts
def test_thousands_separators_and_accounting_negatives_are_read(tmp_path):
    # the largest line written "1,000.00", the credit note as (100.00), its cost as 60-
    lines = (LINES.replace(",10,1000,600,", ',10,"1,000.00",600,')
             .replace(",-1,-100,-60,", ",-1,(100.00),60-,"))
    intake = _load(tmp_path, transactions=lines)
    account = intake.transactions.account
    assert account.rows_used == account.rows_read == 10
    assert _revenue_by_account(intake) == _clean(tmp_path)
    notes = "; ".join(account.notes)
    assert "net_revenue: values read by the amount rules: 1 with ',' thousands separators, " \
           "1 accounting negatives '(x)'" in notes
    assert "cost: values read by the amount rules: 1 with a trailing minus 'x-'" in notes
    assert account.money.revenue_used == pytest.approx(CLEAN_REVENUE)
    assert account.money.margin_used == pytest.approx(CLEAN_MARGIN)


def test_amount_rules_read_text_cells_of_a_workbook(tmp_path):
    import io

    frame = pd.read_csv(io.StringIO(LINES), dtype=str)
    frame.loc[0, "net_revenue"] = "1,000.00"
    frame.loc[3, "net_revenue"] = "100.00-"
    paths = write_engagement(tmp_path)
    paths["transactions"] = tmp_path / "transactions.xlsx"
    frame.to_excel(paths["transactions"], index=False)
    intake = load_inputs(paths, today=TODAY)
    assert intake.transactions.account.rows_used == 10
    assert _revenue_by_account(intake) == _clean(tmp_path)


def test_a_comma_that_could_be_thousands_or_decimals_is_refused(tmp_path):
    whole = LINES.replace(",10,1000,600,", ',10,"1,000",600,')  # a thousand, or one?
    with pytest.raises(InputError) as err:
        _load(tmp_path / "whole", transactions=whole)
    assert err.value.column == "net_revenue" and err.value.rows == [1]
    assert "1,000 could be a thousand or one" in str(err.value)
    assert "without thousands separators" in str(err.value)
    mixed = (LINES.replace(",10,1000,600,", ',10,"1,000.50",600,')
             .replace(",5,500,200,", ',5,"500,5",200,'))
    with pytest.raises(InputError, match="thousands separator and others as a decimal comma"):
        _load(tmp_path / "mixed", transactions=mixed)
    # ',' thousands are read where plain values show '.' is the decimal point
    dotted = whole.replace(",2,200,120,", ",2,200.00,120,")
    assert _revenue_by_account(_load(tmp_path / "dotted", transactions=dotted)) == _clean(tmp_path)


def test_an_amount_no_rule_reads_is_set_aside_with_its_money_unknown(tmp_path):
    lines = LINES.replace(",2,200,120,", ",2,two hundred,120,")
    intake = load_inputs(write_engagement(tmp_path, transactions=lines), today=TODAY,
                         max_set_aside_share=0.2)
    money = intake.transactions.account.money
    assert intake.transactions.account.reasons == {"net_revenue: not a number": 1}
    assert money.unknown == {"net_revenue: not a number": 1}
    assert money.revenue_set_aside == 0 and money.revenue_used == pytest.approx(CLEAN_REVENUE - 200)
    assert "1 set-aside line(s) have an amount that cannot be read" in intake.to_text()


# ----------------------------------------------------------------------------- currency
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_currency_codes_in_any_case_and_with_blanks_are_one_currency(tmp_path, kind):
    codes = iter(["EUR", "eur", " EUR", "Eur\u00a0"] * 3)
    rows = LINES.splitlines()
    lines = "\n".join([rows[0] + ",currency", *[f"{r},{next(codes)}" for r in rows[1:]]]) + "\n"
    paths = write_engagement(tmp_path, transactions=lines)
    if kind == "parquet":
        paths["transactions"] = _parquet(lines, tmp_path / "transactions.parquet")
    intake = load_inputs(paths, today=TODAY)
    assert intake.transactions.summary["currency"] == "EUR"
    assert intake.transactions.account.rows_used == 10


# --------------------------------------------------------------------- blanks and case
def test_no_break_spaces_in_headers_and_values_are_blanks(tmp_path):
    accounts = (ACCOUNTS.replace("account_id,name", "Account\u00a0ID,\u00a0Name")
                .replace("Alpha Metals", "Alpha\u00a0Metals\u00a0"))
    lines = LINES.replace("account_id,invoice_id", "account\u2007id,Invoice\u202fID")
    intake = _load(tmp_path, accounts=accounts, transactions=lines)
    assert intake.frames["accounts"]["name"].iloc[0] == "Alpha Metals"
    assert intake.transactions.account.rows_used == 10
    assert _revenue_by_account(intake) == _clean(tmp_path)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_blank_padded_ids_are_trimmed_and_counted(tmp_path, kind):
    # SAP writes CHAR fields padded to their length
    lines = LINES.replace("\n001,", "\n001       ,").replace("\n002,", "\n002       ,")
    paths = write_engagement(tmp_path, transactions=lines,
                             accounts=ACCOUNTS.replace("\n003,", "\n  003,"))
    if kind == "parquet":
        paths["transactions"] = _parquet(lines, tmp_path / "transactions.parquet",
                                         quantity="float64", net_revenue="float64",
                                         cost="float64", line_no="int64")
    intake = load_inputs(paths, today=TODAY)
    account = intake.transactions.account
    assert account.rows_used == 10, account.reasons
    assert _revenue_by_account(intake) == _clean(tmp_path)
    notes = "; ".join(account.notes)
    assert ("10 values trimmed of surrounding blanks" if kind == "csv"
            else "10 lines matched their account once the blanks around the id were trimmed") in notes
    assert "1 value(s) trimmed of surrounding blanks (account_id 1)" in "; ".join(intake.accounts[0].notes)


def test_ids_that_differ_only_by_case_are_matched_and_counted(tmp_path):
    accounts = ACCOUNTS.replace("\n001,", "\nc001,").replace("\n002,", "\nC002,")
    lines = LINES.replace("\n001,", "\nC001,").replace("\n002,", "\nc002,")
    contacts = "contact_id,account_id,name,function\nK1,c001,Ann,purchasing\n"
    assessments = "manager,account_id,strategic_fit\nJane Roe,c001,7\n"
    intake = _load(tmp_path, accounts=accounts, transactions=lines, contacts=contacts,
                   assessments=assessments)
    account = intake.transactions.account
    assert account.rows_used == 10
    assert "10 lines matched their account ignoring the case of the id" in "; ".join(account.notes)
    revenue = _revenue_by_account(intake)
    clean = _clean(tmp_path)
    assert (revenue["c001"], revenue["C002"]) == (clean["001"], clean["002"])
    tables = feature_tables(intake, progress=False)
    assert set(tables["account_category_year"]["account_id"]) == {"c001", "C002"}


def test_an_id_matching_several_accounts_ignoring_case_is_set_aside_saying_so(tmp_path):
    accounts = ACCOUNTS.replace("\n003,", "\nab1,").replace("\n002,", "\nAB1,")
    lines = LINES.replace("\n002,", "\nAb1,")
    intake = load_inputs(write_engagement(
        tmp_path, accounts=accounts, transactions=lines,
        contacts="contact_id,account_id,name,function\nK1,001,Ann,purchasing\n"),
        today=TODAY, max_set_aside_share=0.5, max_set_aside_revenue_share=0.5)
    assert intake.transactions.account.reasons == {AMBIGUOUS_ID: 4}
    assert "ids matching several accounts when case is ignored, set aside: 'Ab1'" in \
        "; ".join(intake.transactions.account.notes)


# ------------------------------------------------------------------------ broken files
def test_a_repeated_header_line_has_its_own_reason(tmp_path):
    header = "Account ID,Invoice ID,Line No,Date,Product ID,Category,Quantity,Net Revenue,Cost,Site ID"
    rows = LINES.splitlines()
    lines = "\n".join([header, *rows[1:6], header, *rows[6:]]) + "\n"
    accounts = ACCOUNTS + ACCOUNTS.splitlines()[0] + "\n"
    intake = _load(tmp_path, transactions=lines, accounts=accounts)
    assert intake.transactions.account.reasons == {REPEATED_HEADER: 1}
    assert intake.transactions.account.first_rows[REPEATED_HEADER] == [6]
    assert intake.accounts[0].reasons == {REPEATED_HEADER: 1}
    assert intake.transactions.account.money.unknown_rows == 1
    assert REPEATED_HEADER not in intake.data_quality()["revenue_set_aside_reasons"].iloc[1]
    assert _revenue_by_account(intake) == _clean(tmp_path)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_header_without_rows_is_a_clear_error(tmp_path, kind):
    header = LINES.splitlines()[0] + "\n"
    paths = write_engagement(tmp_path, transactions=header)
    if kind == "parquet":
        paths["transactions"] = _parquet(LINES, tmp_path / "t.parquet")
        pd.read_parquet(paths["transactions"]).head(0).to_parquet(paths["transactions"])
    with pytest.raises(InputError, match="header but no invoice lines") as err:
        load_inputs(paths, today=TODAY)
    assert err.value.file == str(paths["transactions"])
    with pytest.raises(InputError, match="header but no rows"):
        _load(tmp_path / "accounts", accounts=ACCOUNTS.splitlines()[0] + "\n")


def test_a_windows_1252_export_is_read_as_windows_1252(tmp_path):
    lines = LINES.replace("P2,CatB", "P2 – Gerät 5 €,“CatB”")
    paths = write_engagement(tmp_path)
    paths["transactions"].write_bytes(lines.encode("cp1252"))
    intake = load_inputs(paths, today=TODAY)
    assert intake.transactions.account.rows_used == 10
    years = feature_tables(intake, progress=False)["account_category_year"]
    assert "“CatB”" in set(years["category"])
    assert _revenue_by_account(intake) == _clean(tmp_path)


def test_overlong_text_is_cut_and_noted(tmp_path):
    from kamlib.intake.parsing import MAX_TEXT

    accounts = ACCOUNTS.replace("Alpha Metals", "A" * 1_000_000)
    intake = _load(tmp_path, accounts=accounts)
    assert intake.frames["accounts"]["name"].str.len().max() == MAX_TEXT
    assert f"name: 1 value(s) longer than {MAX_TEXT} characters cut to {MAX_TEXT}" in \
        "; ".join(intake.accounts[0].notes)


@pytest.mark.parametrize("blank", ["column", "values"])
def test_n_sites_is_optional_and_unknown_when_blank(tmp_path, blank):
    accounts = (ACCOUNTS.replace(",n_sites", "").replace(",3,", ",").replace(",1,", ",")
                .replace(",2,", ",") if blank == "column"
                else ACCOUNTS.replace(",3,Jane", ",,Jane").replace(",2,Jane", ", ,Jane"))
    intake = _load(tmp_path, accounts=accounts)
    assert len(intake.frames["accounts"]) == 3 and intake.accounts[0].rows_set_aside == 0
    features = feature_tables(intake, progress=False)["account_features"]
    expected = [None, None, None] if blank == "column" else [None, 1, None]
    assert [None if pd.isna(v) else int(v) for v in features["n_sites"]] == expected
