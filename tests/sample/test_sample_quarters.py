"""A second quarter of the sample company (kam sample --quarters 2, data/sample_q2)."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from kamlib.errors import ParameterError
from kamlib.sample import FILES, SampleFolderNotEmpty, generate_sample, write_quarters
from kamlib.sample.quarters import next_quarter, quarter_end

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[Path]:
    return write_quarters(tmp_path_factory.mktemp("q") / "sample", quarters=2)  # 600 accounts, seed 2026


@pytest.mark.parametrize("name", [f for f in FILES.values() if not f.endswith(".parquet")] + ["engagement.yml"])
def test_the_bundled_second_quarter_is_reproduced_byte_for_byte(written, name):
    assert written[1] == written[0].with_name("sample_q2")
    assert (written[1] / name).read_bytes() == (DATA / "sample_q2" / name).read_bytes()
    assert (written[0] / name).read_bytes() == (DATA / "sample" / name).read_bytes()


def test_the_bundled_second_quarters_invoices_are_reproduced(written):
    name = FILES["transactions"]
    pd.testing.assert_frame_equal(pd.read_parquet(written[1] / name), pd.read_parquet(DATA / "sample_q2" / name))


def test_same_client_and_the_plans_start_at_the_data_date():
    q1 = yaml.safe_load((DATA / "sample" / "engagement.yml").read_text(encoding="utf-8"))
    q2 = yaml.safe_load((DATA / "sample_q2" / "engagement.yml").read_text(encoding="utf-8"))
    assert q1["client"] == q2["client"] and q2["inputs"] == FILES
    assert q2["parameters"] == {"plan_start": "as_of"}


@pytest.fixture(scope="module")
def small():
    q1 = generate_sample(n_accounts=80, seed=5)
    return q1, next_quarter(q1, 2, seed=5)


def test_the_next_quarter_adds_three_months_and_keeps_the_past(small):
    q1, q2 = small
    t1, t2 = q1["transactions"], q2["transactions"]
    pd.testing.assert_frame_equal(t2.iloc[: len(t1)].reset_index(drop=True), t1.reset_index(drop=True))
    new = t2.iloc[len(t1):]
    assert new["date"].min() > quarter_end(1) and new["date"].max() <= quarter_end(2)
    assert quarter_end(2) == pd.Timestamp("2026-09-30")
    assert not set(new["invoice_id"]) & set(t1["invoice_id"])
    assert not new.duplicated(["invoice_id", "line_no"]).any()
    assert list(t2.dtypes) == list(t1.dtypes)
    # accounts move differently: some grow, some fall away (goals met and missed)
    year_ago = t1[(t1["date"] > quarter_end(1) - pd.DateOffset(years=1))
                  & (t1["date"] <= quarter_end(2) - pd.DateOffset(years=1))]
    ratio = (new.groupby("account_id")["net_revenue"].sum()
             / year_ago.groupby("account_id")["net_revenue"].sum()).dropna()
    assert (ratio > 1.3).any() and (ratio < 0.7).any()
    # first orders in categories not bought in the last year (whitespace taken up)
    before = t1[t1["date"] > quarter_end(1) - pd.DateOffset(years=1)].groupby("account_id")["category"].agg(set)
    firsts = [a for a, g in new.groupby("account_id") if set(g["category"]) - before.get(a, set())]
    assert firsts


def test_contacts_change_people_leave_are_met_and_arrive(small):
    q1, q2 = small
    c1, c2 = q1["contacts"].set_index("contact_id"), q2["contacts"].set_index("contact_id")
    assert set(c1.index) - set(c2.index), "someone left"
    arrived = c2.loc[sorted(set(c2.index) - set(c1.index))]
    assert len(arrived) and (arrived["last_contact"] > quarter_end(1)).all()
    both = c1.index.intersection(c2.index)
    met = c2.loc[both, "last_contact"] > c1.loc[both, "last_contact"].fillna(pd.Timestamp("1900-01-01"))
    assert met.any()
    assert (c2.loc[both, "attitude"] != c1.loc[both, "attitude"]).any()
    assert c2["reports_to"].dropna().isin(c2.index).all()
    assert list(q2["contacts"].dtypes) == list(q1["contacts"].dtypes)


def test_write_quarters_refuses_bad_counts_and_full_folders(tmp_path):
    with pytest.raises(ParameterError, match="quarters"):
        write_quarters(tmp_path / "s", quarters=0)
    (tmp_path / "s_q2").mkdir()
    (tmp_path / "s_q2" / "x.txt").write_text("mine")
    with pytest.raises(SampleFolderNotEmpty, match="s_q2"):
        write_quarters(tmp_path / "s", n_accounts=20, quarters=2)
