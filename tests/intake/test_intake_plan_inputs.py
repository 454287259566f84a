"""The four optional plan inputs (opportunities, competitors, account_strategy, account_team)
and contacts' recorded priorities: checked like every small table, every row accounted for."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from intake_data import write_engagement
from kamlib.errors import InputError
from kamlib.intake import readers
from kamlib.intake.contract import PLAN_INPUTS, TABLES
from kamlib.intake.engagement import load_engagement
from kamlib.intake.loading import load_inputs
from kamlib.intake.tables import validate_table

TODAY = dt.date(2026, 1, 15)
KNOWN = ["001", "002", "003"]


def _validate(text, table, tmp_path, **kw):
    path = tmp_path / f"{table}.csv"
    path.write_text(text, encoding="utf-8")
    kw.setdefault("max_set_aside_share", 0.9)
    return validate_table(readers.read_table(path), table, path, today=TODAY, known_accounts=KNOWN, **kw)


def test_the_plan_inputs_are_optional_contract_tables():
    assert set(PLAN_INPUTS) <= set(TABLES)
    assert not any(TABLES[t].required for t in PLAN_INPUTS)
    assert "priorities" in TABLES["contacts"].column_names
    assert not TABLES["contacts"].column("priorities").required


def test_opportunities_bad_rows_are_set_aside_with_reasons(tmp_path):
    text = ("account_id,name,stage,amount,probability,expected_close,category,owner\n"
            "001,Framework,proposal,120000,0.4,2026-05-01,CatA,Jane Roe\n"
            "001,Framework,negotiation,90000,0.7,2026-06-01,CatA,Jane Roe\n"  # duplicate key
            "009,Ghost deal,proposal,5000,0.5,2026-05-01,CatA,Jane Roe\n"  # unknown account
            "002,No amount,proposal,,0.5,2026-05-01,CatB,John Doe\n"  # amount missing
            "002,Refund,proposal,-10,0.5,2026-05-01,CatB,John Doe\n"  # negative amount
            "003,Bad date,proposal,10,0.5,2026-13-45,CatB,John Doe\n"  # not a date
            "003,Trial,won,8000,,,CatC,\n")
    out = _validate(text, "opportunities", tmp_path)
    acc = out.account
    assert acc.rows_read == 7 and acc.rows_used == 2 and acc.balanced
    assert acc.reasons == {"account_id+name: duplicate": 1, "account_id: unknown account": 1,
                           "amount: missing": 1, "amount: out of range (at least 0)": 1,
                           "expected_close: not a date (YYYY-MM-DD)": 1}
    assert out.set_aside["row"].tolist() == [2, 3, 4, 5, 6]
    assert out.frame["probability"].tolist()[0] == pytest.approx(0.4)


def test_a_probability_column_in_percent_is_read_as_shares(tmp_path):
    text = ("account_id,name,amount,probability\n001,A,100,40\n002,B,100,75\n003,C,100,1\n"
            "003,D,100,140\n")  # above 100: out of range, set aside
    out = _validate(text, "opportunities", tmp_path)
    assert out.frame["probability"].tolist() == pytest.approx([0.4, 0.75, 0.01])
    assert out.account.reasons == {"probability: out of range (0 to 100)": 1}
    assert any("read as percent" in n for n in out.account.notes)


def test_competitors_shares_and_strengths_out_of_range(tmp_path):
    text = ("account_id,competitor,scope,share_of_wallet,strength,position\n"
            "001,Rival A,,0.3,7,incumbent\n"
            "001,Rival B,CatA,1.4,5,challenger\n"  # share above 1
            "002,Rival A,,0.2,11,niche\n"  # strength above 10
            "002,,,0.1,3,\n")  # no competitor
    out = _validate(text, "competitors", tmp_path)
    assert out.account.reasons == {"share_of_wallet: out of range (0 to 1)": 1,
                                   "strength: out of range (0 to 10)": 1, "competitor: missing": 1}
    assert out.frame["competitor"].tolist() == ["Rival A"] and out.account.balanced


def test_account_strategy_topics_and_their_synonyms(tmp_path):
    text = ("account_id,topic,text,source\n"
            "001,Aim,Grow in Asia,annual report\n"
            "001,Value Proposition,One supplier for all sites,\n"  # synonym with a space
            "001,weaknesses,Price above the challenger,\n"  # plural synonym
            "001,gossip,Their CFO is leaving,\n"  # not a topic
            "002,threat,,\n")  # no text
    out = _validate(text, "account_strategy", tmp_path)
    assert out.frame["topic"].tolist() == ["aim", "value_proposition", "weakness"]
    assert out.account.reasons == {"topic: not one of " + "/".join(TABLES["account_strategy"].column("topic").allowed): 1,
                                   "text: missing": 1}
    assert any("'value proposition' as value_proposition" in n for n in out.account.notes)


def test_account_team_roles_synonyms_and_unknown_roles(tmp_path):
    text = ("account_id,person,role,counterpart\n"
            "001,Jane Roe,KAM,\n"
            "001,Helga Brandt,Executive Sponsor,c1\n"
            "001,Rafael Costa,customer service,\n"
            "002,Tom Cook,chef,\n"  # not a team role
            "002,Jane Roe,key account manager,\n")
    out = _validate(text, "account_team", tmp_path)
    assert out.frame["role"].tolist() == ["key account manager", "executive sponsor", "service",
                                          "key account manager"]
    assert list(out.account.reasons) == [next(iter(out.account.reasons))]
    assert next(iter(out.account.reasons)).startswith("role: not one of executive sponsor/")
    assert out.set_aside["row"].tolist() == [4]


def test_a_missing_required_column_of_a_plan_input_is_a_file_error(tmp_path):
    with pytest.raises(InputError) as err:
        _validate("account_id,person\n001,Jane\n", "account_team", tmp_path)
    assert "account_team.csv, column 'role'" in str(err.value) and "Fix:" in str(err.value)


def _with_plan_inputs(folder):
    paths = write_engagement(folder)
    texts = {
        "opportunities": "account_id,name,amount,probability\n001,A,100,0.5\n004,B,10,0.5\n",
        "competitors": "account_id,competitor,strength\n002,Rival,7\n",
        "account_strategy": "account_id,topic,text\n001,aim,Grow\n",
        "account_team": "account_id,person,role\n001,Jane Roe,kam\n",
    }
    for name, text in texts.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
        paths[name] = folder / f"{name}.csv"
    return paths


def test_intake_loads_the_plan_inputs_and_accounts_for_every_row(tmp_path):
    inputs = load_inputs(_with_plan_inputs(tmp_path), today=TODAY, max_set_aside_share=0.6)
    try:
        accounts = {a.table: a for a in inputs.accounts}
        assert accounts["opportunities"].rows_read == 2 and accounts["opportunities"].rows_used == 1
        assert accounts["opportunities"].reasons == {"account_id: unknown account": 1}
        assert all(accounts[t].balanced for t in PLAN_INPUTS)
        assert inputs.frames["account_team"]["role"].tolist() == ["key account manager"]
        dq = inputs.data_quality().set_index("table")
        assert set(PLAN_INPUTS) <= set(dq.index)
    finally:
        inputs.con.disconnect()


def test_without_plan_inputs_intake_gives_empty_tables_with_contract_columns(tmp_path):
    inputs = load_inputs(write_engagement(tmp_path), today=TODAY)
    try:
        for name in PLAN_INPUTS:
            assert inputs.frames[name].empty
            assert list(inputs.frames[name].columns) == TABLES[name].column_names
    finally:
        inputs.con.disconnect()


def test_edited_sheets_replace_the_files_and_are_checked_the_same_way(tmp_path):
    sheet = pd.DataFrame({"Account ID": ["001", "002", "777"], "Person": ["Ann", "Bob", "Cy"],
                          "Role": ["sponsor", "service", "service"]})
    sheet.attrs["source"] = "plan_workbook.xlsx, sheet Team"
    inputs = load_inputs(_with_plan_inputs(tmp_path), today=TODAY, max_set_aside_share=0.6, edited={"account_team": sheet})
    try:
        team = inputs.frames["account_team"]
        assert team["person"].tolist() == ["Ann", "Bob"]
        assert team["role"].tolist() == ["executive sponsor", "service"]
        acc = next(a for a in inputs.accounts if a.table == "account_team")
        assert acc.file == "plan_workbook.xlsx, sheet Team"
        assert acc.reasons == {"account_id: unknown account": 1} and acc.balanced
        # the other plan inputs still come from their files
        assert inputs.frames["account_strategy"]["text"].tolist() == ["Grow"]
    finally:
        inputs.con.disconnect()


def test_engagement_yml_accepts_the_plan_inputs_and_still_refuses_others(tmp_path):
    _with_plan_inputs(tmp_path)
    lines = ["client: T", "inputs:"] + [f"  {t}: {t}.csv" for t in TABLES]
    (tmp_path / "engagement.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    eng = load_engagement(tmp_path)
    assert set(PLAN_INPUTS) <= set(eng.inputs)
    (tmp_path / "engagement.yml").write_text("client: T\ninputs:\n  rivals: rivals.csv\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_engagement(tmp_path)
    assert "unknown input table(s) rivals" in str(err.value) and "opportunities" in str(err.value)


def test_recorded_priorities_are_kept_by_the_contacts_check(tmp_path):
    text = ("contact_id,account_id,name,function,priorities\n"
            "c1,001,Ann,finance,less stock on the balance sheet\nc2,001,Bob,finance,\n")
    out = _validate(text, "contacts", tmp_path)
    assert out.frame["priorities"].tolist()[0] == "less stock on the balance sheet"
    assert pd.isna(out.frame["priorities"].tolist()[1])
