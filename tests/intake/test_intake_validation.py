"""Validation: every error names file, column, rows and fix; every row is accounted for."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from intake_data import ACCOUNTS, CONTACTS, LINES, write_engagement
from kamlib.errors import InputError, ParameterError
from kamlib.intake import readers
from kamlib.intake.loading import load_inputs
from kamlib.intake.tables import blank_rows, validate_table

TODAY = dt.date(2026, 1, 15)

MESSY_LINES = LINES + """001,INV1,1,2025-06-10,P1,CatA,10,1000,600,S1
001,INV9,1,2025-02-30,P1,CatA,1,10,5,S1
004,INV10,1,2025-05-05,P1,CatA,1,10,5,S1
002,INV11,1,2062-05-05,P1,CatA,1,10,5,S1
002,INV12,1,2025-05-05,P1,CatA,1,1.234,5,S1
002,INV13,1,2025-05-05,P1,CatA,1,12,,S1
002,INV14,1,2025-05-05,,,1,12,5,S1
"""


def _validate(text, table, tmp_path, **kw):
    path = tmp_path / f"{table}.csv"
    path.write_text(text)
    return validate_table(readers.read_table(path), table, path, today=TODAY, **kw)


def test_missing_required_column_names_it_and_suggests(tmp_path):
    with pytest.raises(InputError) as err:
        _validate(ACCOUNTS.replace("industry", "industy"), "accounts", tmp_path)
    msg = str(err.value)
    assert "accounts.csv, column 'industry'" in msg
    assert "Columns found: account_id, name, industy, region" in msg
    assert "Did you mean 'industy'?" in msg and "Fix: Rename the column" in msg


def test_whole_column_of_wrong_type_is_an_error(tmp_path):
    text = ACCOUNTS.replace(",3,", ",three,").replace(",1,", ",one,").replace(",2,", ",two,")
    with pytest.raises(InputError) as err:
        _validate(text, "accounts", tmp_path)
    msg = str(err.value)
    assert "accounts.csv, column 'n_sites', rows 1, 2, 3" in msg and "whole number" in msg


def test_row_problems_are_set_aside_with_reasons(tmp_path):
    text = ACCOUNTS + ("004,Delta,,South,FR,0,X\n"  # industry missing (and n_sites below 1)
                       "001,Alpha again,Metals,North,DE,3,Y\n"  # duplicate id
                       "005,,Food,South,FR,2,Z\n"  # missing name
                       ",,,,,,\n")  # blank line
    out = _validate(text, "accounts", tmp_path, max_set_aside_share=0.5)
    acc = out.account
    assert acc.rows_read == 7 and acc.rows_used == 3 and acc.balanced
    assert acc.reasons == {"industry: missing": 1, "account_id: duplicate": 1,
                           "name: missing": 1, "(row): blank": 1}
    assert out.set_aside["row"].tolist() == [4, 5, 6, 7]
    assert out.frame["account_id"].tolist() == ["001", "002", "003"]
    assert out.frame["name"].tolist()[0] == "Alpha Metals"  # the first copy is kept


def test_too_many_rows_set_aside_is_an_error(tmp_path):
    text = ACCOUNTS + "004,Delta,,South,FR,2,X\n"
    with pytest.raises(InputError) as err:
        _validate(text, "accounts", tmp_path)  # 1 of 4 = 25% > 5%
    msg = str(err.value)
    assert "accounts.csv, column 'industry', row 4" in msg
    assert "1 of 4 rows (25.0%)" in msg and "max_set_aside_share" in msg


def test_future_and_unparseable_dates_and_unknown_accounts_in_contacts(tmp_path):
    text = CONTACTS + ("C5,001,Eve,finance,Jane Roe,user,2,2031-01-01\n"
                       "C6,001,Fay,finance,Jane Roe,user,2,01/02/2025\n"
                       "C7,009,Gus,finance,Jane Roe,user,2,2025-01-01\n"
                       "C8,001,Hal,finance,Jane Roe,boss,9,2025-01-01\n")
    out = _validate(text, "contacts", tmp_path, known_accounts=["001", "002"], max_set_aside_share=1)
    assert out.account.reasons == {
        "last_contact: in the future": 1, "last_contact: not a date (YYYY-MM-DD)": 1,
        "account_id: unknown account": 1, "power: out of range (1 to 5)": 1}
    assert out.frame["dmu_roles"].tolist()[0] == "buyer;decider"


def test_unknown_dmu_roles_are_dropped_from_the_list_and_the_contact_kept(tmp_path):
    text = CONTACTS + ("C5,001,Eve,finance,Jane Roe,Sponsor; buyer,2,2025-01-01\n"
                       "C6,001,Fay,finance,Jane Roe,champion,2,2025-01-01\n"
                       "C7,001,Gus,finance,Jane Roe,Decision Maker;economic buyer,2,2025-01-01\n")
    out = _validate(text, "contacts", tmp_path)
    assert out.account.rows_used == 7 and out.account.rows_set_aside == 0
    roles = dict(zip(out.frame["contact_id"], out.frame["dmu_roles"]))
    assert roles["C5"] == "buyer"
    assert roles["C6"] is pd.NA or roles["C6"] is None
    assert roles["C7"] == "decider"
    notes = " ".join(out.account.notes)
    assert "'sponsor' (rows 5)" in notes and "'champion' (rows 6)" in notes
    assert "'decision maker' as decider (1)" in notes and "the rows are kept" in notes


def test_day_first_dates_are_read_when_unambiguous_and_refused_when_not(tmp_path):
    body = "".join(f"C{i},001,P{i},finance,Jane Roe,user,2,{d}\n"
                   for i, d in enumerate(["24/07/2025", "03/02/2025", "15/01/2024"], start=5))
    out = _validate(CONTACTS.split("\n")[0] + "\n" + body, "contacts", tmp_path)
    assert out.frame["last_contact"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-07-24", "2025-02-03", "2024-01-15"]
    assert any("read as DD/MM/YYYY" in n for n in out.account.notes)
    # every day is 12 or less: March or April? Refused with the layout named in the fix
    ambiguous = CONTACTS.split("\n")[0] + "\nC5,001,P,finance,J,user,2,03/04/2025\nC6,001,Q,finance,J,user,2,05/06/2025\n"
    with pytest.raises(InputError, match="last_contact.*YYYY-MM-DD.*day/month/year"):
        _validate(ambiguous, "contacts", tmp_path)


def test_ahp_fractions_and_unknown_criteria(tmp_path):
    text = ("manager,criterion_a,criterion_b,value\nA,billing,growth,1/3\nA,billing,growht,3\n"
            "A,growth,growth,1\nA,billing,profitability,0.111\n")
    out = _validate(text, "ahp_judgements", tmp_path, max_set_aside_share=1)
    assert out.frame["value"].tolist() == pytest.approx([1 / 3, 0.111])
    assert out.account.reasons == {"criterion_b: unknown criterion": 1,
                                   "criterion_b: same as criterion_a": 1}


def test_messy_ledger_every_row_accounted_for(tmp_path):
    files = write_engagement(tmp_path, transactions=MESSY_LINES)
    # a small ledger damaged on purpose: the set-aside lines are a large share of its revenue
    intake = load_inputs(files, today=TODAY, max_set_aside_share=0.5, max_set_aside_revenue_share=1.0)
    acc = intake.transactions.account
    assert acc.rows_read == 17
    assert acc.reasons == {
        "invoice_id+line_no: duplicate invoice line": 1, "date: not a date (YYYY-MM-DD)": 1,
        "account_id: unknown account": 1, "date: in the future": 1,
        "cost: missing (give cost or margin)": 1}
    assert acc.rows_used == 12 and acc.balanced  # the line without product/category is kept
    assert any("1 return/credit-note lines" in n for n in acc.notes)
    assert any("1 zero-value lines" in n for n in acc.notes)
    assert any("without product or category" in n for n in acc.notes)
    assert acc.first_rows["date: in the future"] == [14]
    dq = intake.data_quality()
    assert (dq.rows_read == dq.rows_used + dq.rows_set_aside).all()
    listing = intake.write_set_aside(tmp_path / "set_aside")
    written = pd.read_csv(tmp_path / "set_aside" / "transactions.csv", dtype=str)
    assert written["row"].tolist() == ["11", "12", "13", "14", "16"]
    assert written.loc[written.row == "12", "date"].item() == "2025-02-30"  # as exported
    assert written.loc[written.row == "13", "account_id"].item() == "004"
    assert (listing.table == "transactions").sum() == 5


def test_set_aside_csvs_hold_no_cell_a_spreadsheet_runs_as_a_formula(tmp_path):
    """The client's own formula-led text, set aside, is written behind an apostrophe (it shows
    as text in Excel); a negative amount stays a number."""
    lines = LINES + "=cmd|' /C calc'!A0,@SUM(1),1,2025-06-10,+1+1,-2+3,-1.5,-150,-90,\t=1\n"
    contacts = CONTACTS + 'C9,=HYPERLINK("http://evil"),-2+3 name,purchasing,x,buyer,2,\n'
    files = write_engagement(tmp_path, transactions=lines, contacts=contacts)
    intake = load_inputs(files, today=TODAY, max_set_aside_share=0.5, max_set_aside_revenue_share=1.0)
    intake.write_set_aside(tmp_path / "set_aside")
    tx = pd.read_csv(tmp_path / "set_aside" / "transactions.csv", dtype=str, keep_default_na=False)
    row = tx[tx["product_id"].str.contains("1+1", regex=False)].iloc[0]
    assert row["account_id"] == "'=cmd|' /C calc'!A0" and row["invoice_id"] == "'@SUM(1)"
    # (the site's tab is trimmed on reading; what is left still starts a formula)
    assert (row["product_id"], row["category"], row["site_id"]) == ("'+1+1", "'-2+3", "'=1")
    assert row["net_revenue"] == "-150"
    people = pd.read_csv(tmp_path / "set_aside" / "contacts.csv", dtype=str)
    assert people.loc[people.contact_id == "C9", "account_id"].item() == "'=HYPERLINK(\"http://evil\")"
    assert people.loc[people.contact_id == "C9", "name"].item() == "'-2+3 name"


def test_too_many_bad_lines_is_an_error_naming_the_rows(tmp_path):
    files = write_engagement(tmp_path, transactions=MESSY_LINES)
    with pytest.raises(InputError) as err:
        load_inputs(files, today=TODAY)
    msg = str(err.value)
    assert msg.startswith(str(files["transactions"]))
    assert "5 of 17 rows (29.4%)" in msg and "row" in msg and "Fix:" in msg


def test_whole_transaction_column_of_wrong_type(tmp_path):
    lines = LINES.splitlines()
    # (10.06.2025 is read as DD.MM.YYYY since issue 18; a date in words is not read)
    bad = [lines[0]] + [",".join(v if i != 3 else "10 June 2025" for i, v in enumerate(x.split(",")))
                        for x in lines[1:]]
    files = write_engagement(tmp_path, transactions="\n".join(bad) + "\n")
    with pytest.raises(InputError) as err:
        load_inputs(files, today=TODAY)
    msg = str(err.value)
    assert "transactions.csv, column 'date', rows 1, 2, 3" in msg and "YYYY-MM-DD" in msg


def test_transactions_missing_column(tmp_path):
    files = write_engagement(tmp_path, transactions=LINES.replace("net_revenue", "revenue"))
    with pytest.raises(InputError, match=r"column 'net_revenue'.*Columns found: .*revenue"):
        load_inputs(files, today=TODAY)


def test_two_currencies_is_an_error(tmp_path):
    lines = LINES.splitlines()
    text = "\n".join([lines[0] + ",currency"] + [x + (",EUR" if i % 2 else ",USD")
                                                   for i, x in enumerate(lines[1:])]) + "\n"
    files = write_engagement(tmp_path, transactions=text)
    with pytest.raises(InputError, match=r"column 'currency'.*2 currencies"):
        load_inputs(files, today=TODAY)


def test_missing_required_table_and_bad_parameters(tmp_path):
    files = write_engagement(tmp_path)
    files["contacts"] = None
    with pytest.raises(InputError, match=r"inputs: contacts"):
        load_inputs(files, today=TODAY)
    files = write_engagement(tmp_path)
    with pytest.raises(ParameterError, match="as_of"):
        load_inputs(files, as_of="31/12/2025")
    with pytest.raises(ParameterError, match="max_set_aside_share"):
        load_inputs(files, max_set_aside_share=5)


def test_optional_table_may_be_absent(tmp_path):
    files = write_engagement(tmp_path)
    files["ahp_judgements"] = None
    intake = load_inputs(files, today=TODAY)
    assert intake.frames["ahp_judgements"].empty
    assert list(intake.frames["ahp_judgements"].columns) == ["manager", "criterion_a", "criterion_b", "value"]
    assert "Every row is accounted for." in intake.to_text()


def test_without_line_numbers_only_identical_lines_are_duplicates(tmp_path):
    lines = [",".join(x.split(",")[:2] + x.split(",")[3:]) for x in LINES.splitlines()]  # drop line_no
    text = "\n".join(lines + [lines[1], lines[2].replace(",5,", ",6,")]) + "\n"
    files = write_engagement(tmp_path, transactions=text)
    acc = load_inputs(files, today=TODAY, max_set_aside_share=0.2,
                      max_set_aside_revenue_share=0.2).transactions.account
    # the exact copy of line 1 is set aside; INV1 with another quantity is a second product line
    assert acc.reasons == {"invoice_id: duplicate invoice line (identical in every column)": 1}
    assert acc.first_rows == {"invoice_id: duplicate invoice line (identical in every column)": [11]}
    assert acc.rows_used == 11


def test_no_usable_line_at_all(tmp_path):
    text = LINES.replace(",00", ",99").replace("\n001,", "\n009,").replace("\n002,", "\n009,")
    files = write_engagement(tmp_path, transactions=text)
    with pytest.raises(InputError, match=r"transactions\.csv, column 'account_id'.*no invoice line is usable"):
        load_inputs(files, today=TODAY, max_set_aside_share=1.0)


def test_a_bad_optional_account_value_is_blanked_not_the_account_dropped(tmp_path):
    """A typo in an optional cell must not remove the account and all its invoice lines."""
    acc = pd.read_csv(__import__("io").StringIO(ACCOUNTS), dtype=str)
    acc["wallet"] = ["1.2 Mio", "50000", "70000"][: len(acc)]
    text = acc.to_csv(index=False)
    out = _validate(text, "accounts", tmp_path)
    assert out.account.rows_used == len(acc) and out.account.rows_set_aside == 0
    assert pd.isna(out.frame["wallet"].iloc[0]) and out.frame["wallet"].iloc[1] == 50000
    assert any("wallet: 1 value(s) not a number left empty" in n and "'1.2 Mio'" in n
               for n in out.account.notes)
    # (since issue 18 '1.200.000' is read: '.' between groups of three digits, no decimal point)
    acc["wallet"] = ["1.200.000", "50000", "70000"][: len(acc)]
    out = _validate(acc.to_csv(index=False), "accounts", tmp_path)
    assert out.frame["wallet"].tolist()[:2] == [1_200_000, 50000]
    # n_sites is optional too: a bad or out-of-range count is unknown, the account kept
    acc.loc[0, "n_sites"], acc.loc[1, "n_sites"] = "three", "0"
    out = _validate(acc.to_csv(index=False), "accounts", tmp_path)
    assert out.account.rows_set_aside == 0 and out.frame["n_sites"].isna().sum() == 2
    assert any("n_sites: 1 value(s) not a whole number left empty" in n for n in out.account.notes)
    # a required column still sets the row aside
    acc.loc[0, "region"] = None
    out = _validate(acc.to_csv(index=False), "accounts", tmp_path, max_set_aside_share=1)
    assert out.account.reasons == {"region: missing": 1}


def test_lines_of_a_set_aside_account_are_not_called_unknown(tmp_path):
    accounts = ACCOUNTS.replace("002,Beta Foods,Food,South,FR,1,", "002,Beta Foods,,South,FR,1,")
    files = write_engagement(tmp_path, accounts=accounts)
    intake = load_inputs(files, today=dt.date(2026, 1, 15), max_set_aside_share=1,
                         max_set_aside_revenue_share=1)
    tx = intake.transactions.account
    n_002 = LINES.count("\n002,")
    assert n_002 > 0
    assert tx.reasons.get("account_id: account set aside in the accounts table") == n_002
    assert "account_id: unknown account" not in tx.reasons or tx.reasons["account_id: unknown account"] != n_002


def test_blank_rows_are_rows_with_nothing_but_gaps_and_whitespace():
    import numpy as np

    frame = pd.DataFrame({
        "account_id": ["A1", None, " ", "", None, None],
        "note": [None, None, "  ", "x", np.nan, "\t"],
        "n_sites": pd.array([1, None, None, None, 2, None], dtype="Int64"),
    })
    got = blank_rows(frame).tolist()
    assert got == [False, True, True, False, False, True]
    assert blank_rows(frame.astype({"account_id": "object"})).tolist() == got
    assert blank_rows(frame.iloc[:0]).tolist() == []
