"""Anonymisation: stable, complete, and consistent across tables."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from intake_data import ACCOUNTS, write_engagement
from kamlib.intake.anonymise import Pseudonymiser
from kamlib.intake.features import feature_tables
from kamlib.intake.loading import load_inputs

TODAY = dt.date(2026, 1, 15)
REAL_NAMES = ["Alpha Metals", "Beta Foods", "Gamma Tools", "Jane Roe", "John Doe", "Max Moe",
              "Ann Buyer", "Bob Money", "Cid Buyer", "Dee Chef", "Delta Dup"]


def test_same_name_same_pseudonym_within_an_engagement():
    a, b = Pseudonymiser("acme"), Pseudonymiser("acme")
    assert a.pseudonym("Jane Roe", "Manager") == b.pseudonym("Jane Roe", "Manager")
    assert a.pseudonym("Jane Roe", "Manager") == a.pseudonym("  jane   ROE ", "Manager")
    assert a.pseudonym("Jane Roe", "Manager") != Pseudonymiser("other").pseudonym("Jane Roe", "Manager")
    assert a.pseudonym("Jane Roe", "Manager").startswith("Manager ")


def test_pseudonyms_are_unique_for_many_names():
    p = Pseudonymiser("acme")
    names = [f"Customer {i}" for i in range(20000)]
    assert len({p.pseudonym(n, "Account") for n in names}) == len(names)


def test_no_real_name_survives_in_any_output_table(tmp_path):
    accounts = ACCOUNTS + "001,Delta Dup,Metals,North,DE,3,Jane Roe\n"  # set aside, still anonymised
    files = write_engagement(tmp_path, accounts=accounts)
    intake = load_inputs(files, today=TODAY, anonymise=True, key="acme", max_set_aside_share=0.5)
    outputs = {**intake.frames, **feature_tables(intake),
               "set_aside": intake.write_set_aside(tmp_path / "aside"),
               "data_quality": intake.data_quality()}
    for name, frame in outputs.items():
        text = frame.astype("string").fillna("").to_csv(index=False)
        for real in REAL_NAMES:
            assert real not in text, (name, real)
    f = outputs["account_features"]
    assert f["name"].str.startswith("Account ").all()
    # a manager is the same person in every table
    jane = Pseudonymiser("acme").pseudonym("Jane Roe", "Manager")
    assert (f.set_index("account_id").loc[["001", "003"], "account_manager"] == jane).all()
    assert jane in set(intake.frames["assessments"]["manager"])
    assert jane in set(intake.frames["contacts"]["owner"])
    assert jane in set(intake.frames["ahp_judgements"]["manager"])


def test_anonymised_run_is_reproducible(tmp_path):
    files = write_engagement(tmp_path)
    one = load_inputs(files, today=TODAY, anonymise=True, key="acme").frames["accounts"]
    two = load_inputs(files, today=TODAY, anonymise=True, key="acme").frames["accounts"]
    pd.testing.assert_frame_equal(one, two)
