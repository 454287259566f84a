"""Properties of the generated sample company: realistic, contract-conform, deterministic."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from kamlib.intake.contract import DEFAULT_CRITERIA, DMU_ROLES, JUDGED_CRITERIA, TABLES
from kamlib.sample.judgements import SAATY_RI
from kamlib.sample import generate_sample

START, END = pd.Timestamp("2023-07-01"), pd.Timestamp("2026-06-30")


@pytest.fixture(scope="module")
def sample() -> dict[str, pd.DataFrame]:
    return generate_sample()


@pytest.fixture(scope="module")
def other_seed() -> dict[str, pd.DataFrame]:
    return generate_sample(seed=7)


@pytest.fixture(scope="module")
def clean(sample) -> pd.DataFrame:
    """Invoice lines without the planted problems."""
    tx, acc = sample["transactions"], sample["accounts"]
    ok = tx["date"].notna() & (tx["date"] <= END) & tx["account_id"].isin(acc["account_id"])
    return tx[ok & ~tx.duplicated()]


# --- contract conformance ------------------------------------------------------------------

LOGICAL = {
    "str": pd.api.types.is_string_dtype,
    "list": pd.api.types.is_string_dtype,
    "int": pd.api.types.is_integer_dtype,
    "float": pd.api.types.is_float_dtype,
    "date": pd.api.types.is_datetime64_any_dtype,
    "bool": pd.api.types.is_bool_dtype,
}


@pytest.mark.parametrize("name", list(TABLES))
def test_every_contract_column_with_its_logical_type(sample, name):
    table, df = TABLES[name], sample[name]
    assert list(df.columns) == table.column_names
    assert len(df) > 0
    for col in table.columns:
        s = df[col.name]
        assert LOGICAL[col.type](s.dtype), f"{name}.{col.name} is {s.dtype}, expected {col.type}"
        if col.required:
            assert s.notna().all() or (name, col.name) == ("transactions", "date"), f"{name}.{col.name} has blanks"
        vals = s.dropna()
        if col.minimum is not None:
            assert (vals >= col.minimum - 1e-9).all(), f"{name}.{col.name} below minimum"
        if col.maximum is not None:
            assert (vals <= col.maximum + 1e-9).all(), f"{name}.{col.name} above maximum"
        if col.allowed is not None:
            items = vals.str.split(";").explode() if col.type == "list" else vals
            assert set(items) <= set(col.allowed), f"{name}.{col.name}: {set(items) - set(col.allowed)}"


def test_keys_are_unique_except_planted_duplicates(sample):
    for name, table in TABLES.items():
        df = sample[name]
        dup = df.duplicated(list(table.key), keep=False)
        if name == "transactions":
            # the only repeated (invoice_id, line_no) pairs are the 5 exact duplicate lines
            assert dup.sum() == 10
            assert df[dup].duplicated(keep=False).all()
        else:
            assert not dup.any(), name


def test_identifiers_reference_each_other(sample):
    acc, con = sample["accounts"], sample["contacts"]
    ids = set(acc["account_id"])
    assert set(acc["parent_id"].dropna()) <= ids
    assert set(con["account_id"]) <= ids
    assert set(sample["assessments"]["account_id"]) <= ids
    boss = con.dropna(subset=["reports_to"]).merge(
        con[["contact_id", "account_id"]], left_on="reports_to", right_on="contact_id", suffixes=("", "_boss")
    )
    assert len(boss) == con["reports_to"].notna().sum()
    assert (boss["account_id"] == boss["account_id_boss"]).all()


# --- the accounts ---------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["sample", "other_seed"])
def test_revenue_is_pareto_concentrated(request, fixture):
    tables = request.getfixturevalue(fixture)
    tx, acc = tables["transactions"], tables["accounts"]
    rev = tx.groupby("account_id")["net_revenue"].sum().reindex(acc["account_id"]).fillna(0.0)
    rev = rev.sort_values(ascending=False)
    top20 = rev.iloc[: int(0.2 * len(rev))].sum() / rev.sum()
    assert 0.70 <= top20 <= 0.85
    assert rev.iloc[0] / rev.sum() < 0.15  # giants, but no single account owns the company
    assert (rev > 0).mean() > 0.9


def test_accounts_look_like_a_b2b_customer_base(sample):
    acc = sample["accounts"]
    assert len(acc) == 600
    assert acc["n_sites"].between(1, 40).all() and acc["n_sites"].max() >= 20
    assert acc["industry"].nunique() >= 10 and acc["region"].nunique() >= 6
    assert 0.75 <= acc["wallet"].notna().mean() < 1.0  # most, not all, have a wallet estimate
    assert 0.2 <= acc["cost_to_serve"].notna().mean() <= 0.6
    assert 8 <= acc["account_manager"].nunique() <= 12
    assert acc["account_manager"].isna().any()
    assert acc["parent_id"].notna().sum() >= 10
    assert (acc["relationship_start"] <= END).all()


def test_wallet_is_never_below_what_the_account_buys(sample, clean):
    acc = sample["accounts"].set_index("account_id")
    last12 = clean[clean["date"] > END - pd.DateOffset(years=1)]
    rev = last12.groupby("account_id")["net_revenue"].sum()
    share = (rev / acc["wallet"]).dropna()
    assert share.max() < 1.0
    assert share.median() > 0.1


def test_contracts_have_cohorts_renewals_and_churn(sample, clean):
    acc = sample["accounts"]
    on = acc[acc["contract_start"].notna()]
    assert 0.12 <= len(on) / len(acc) <= 0.18
    # the first contract began on the relationship start; renewals keep the anniversary
    assert (on["contract_start"].dt.strftime("%m-%d") == on["relationship_start"].dt.strftime("%m-%d")).all()
    assert on["relationship_start"].dt.year.nunique() >= 5  # cohorts for a shifted-beta-geometric fit
    renewed = on["contract_start"] > on["relationship_start"]
    churned = on[on["contract_end"].notna()]
    assert renewed.mean() > 0.5
    assert 0.2 <= len(churned) / len(on) <= 0.7
    assert (churned["contract_end"] > churned["contract_start"]).all()
    assert (churned["contract_end"] <= END).all()
    # a churned contract account has no invoice or credit note after its contract ended
    last = clean.groupby("account_id")["date"].max()
    ended = churned.set_index("account_id")["contract_end"]
    both = last.reindex(ended.index).dropna()
    assert (both <= ended.reindex(both.index)).all()


# --- the invoice lines ----------------------------------------------------------------------


def test_date_range_and_volume(sample, clean):
    tx = sample["transactions"]
    assert 200_000 <= len(tx) <= 400_000
    assert clean["date"].min() >= START and clean["date"].min() <= START + pd.Timedelta(days=3)
    assert clean["date"].max() <= END and clean["date"].max() >= END - pd.Timedelta(days=3)
    assert (clean["date"].dt.day_of_week < 6).all()  # no invoicing on Sundays
    assert (clean["currency"] == "EUR").all()


def test_planted_data_problems(sample):
    tx, acc = sample["transactions"], sample["accounts"]
    unknown = ~tx["account_id"].isin(acc["account_id"])
    assert unknown.sum() == 10
    assert tx.loc[unknown, "invoice_id"].nunique() == 2
    assert tx.duplicated().sum() == 5
    future = tx["date"] > END
    assert future.sum() == 3 and (tx.loc[future, "date"].dt.year == 2062).all()
    assert tx["date"].isna().sum() == 3
    assert tx.loc[future | tx["date"].isna(), "invoice_id"].nunique() == 2


def test_returns_zero_lines_and_margins(clean):
    neg = clean[clean["quantity"] < 0]
    assert 0.005 <= len(neg) / len(clean) <= 0.03
    assert (neg["net_revenue"] <= 0).all() and neg["invoice_id"].str.startswith("CN").all()
    zero = clean[(clean["net_revenue"] == 0) & (clean["quantity"] > 0)]
    assert len(zero) > 100
    np.testing.assert_allclose(clean["margin"], (clean["net_revenue"] - clean["cost"]).round(2), atol=0.005)
    pct = clean["margin"].sum() / clean["net_revenue"].sum()
    assert 0.2 < pct < 0.4
    assert clean["category"].nunique() == 12
    assert 150 <= clean["product_id"].nunique() <= 250


def test_lines_are_numbered_within_invoices_and_sites_belong_to_accounts(clean):
    inv = clean.groupby("invoice_id")["line_no"].agg(["min", "max", "size"])
    assert (inv["min"] == 1).all() and (inv["max"] == inv["size"]).all()
    assert (clean["site_id"].str.split("-S").str[0] == clean["account_id"]).all()
    assert (clean.groupby("invoice_id")["site_id"].nunique() == 1).all()


def test_seasonality_trends_and_repeat_buying(sample, clean):
    month = clean.groupby(clean["date"].dt.month)["net_revenue"].sum()
    assert month[8] < 0.8 * month.drop(8).mean()  # summer shutdown
    first = clean.groupby("account_id")["date"].min()
    last = clean.groupby("account_id")["date"].max()
    assert (first > START + pd.Timedelta(days=120)).sum() >= 30  # accounts won during the window
    assert (last < END - pd.Timedelta(days=180)).sum() >= 30  # accounts lost during the window
    days = clean[clean["quantity"] > 0].groupby("account_id")["date"].nunique()
    assert days.median() > 12  # repeat buyers
    assert days.std() / days.mean() > 0.6  # ... with very different rates
    y = clean.groupby(["account_id", (clean["date"] - START).dt.days // 365])["net_revenue"].sum().unstack(fill_value=0)
    y = y[(y[0] > 20_000) & (y[2] > 0)]
    change = y[2] / y[0]
    assert (change > 1.5).sum() >= 10 and (change < 0.6).sum() >= 10  # growers and decliners


# --- the people -----------------------------------------------------------------------------


def test_contact_coverage_patterns(sample):
    acc, con = sample["accounts"], sample["contacts"]
    n = con.groupby("account_id").size().reindex(acc["account_id"]).fillna(0)
    assert (n == 0).sum() >= 30  # unknown accounts
    assert (n == 1).sum() >= 60  # bow-tie
    functions = con.groupby("account_id")["function"].nunique()
    assert (functions >= 5).sum() >= 20  # diamond
    last = con.groupby("account_id")["last_contact"].max()
    assert (last < END - pd.Timedelta(days=180)).sum() >= 20  # stale
    hostile = con[con["dmu_roles"].str.contains("decider") & (con["attitude"] <= -3)]
    assert hostile["account_id"].nunique() >= 5
    assert con["dmu_roles"].str.contains(";").any()
    assert (con["last_contact"].dropna() <= END).all()


def test_assessments_shortlists_and_top10(sample):
    a = sample["assessments"]
    per = a.groupby("manager").size()
    assert 6 <= len(per) <= 8
    assert per.between(80, 150).all() and per.nunique() > 1
    for _, g in a.groupby("manager"):
        assert sorted(g["top_rank"].dropna().astype(int)) == list(range(1, 11))
    scores = a[list(JUDGED_CRITERIA)]
    assert scores.stack().dropna().between(0, 10).all()
    assert 0 < scores.isna().mean().mean() < 0.05


@pytest.mark.parametrize("fixture", ["sample", "other_seed"])
def test_managers_genuinely_disagree(request, fixture):
    a = request.getfixturevalue(fixture)["assessments"]
    top = a.dropna(subset=["top_rank"])
    lists = {m: set(g["account_id"]) for m, g in top.groupby("manager")}
    assert 25 <= top["account_id"].nunique() <= 40
    overlaps = [len(x & y) for x, y in itertools.combinations(lists.values(), 2)]
    assert max(overlaps) < 10 and min(overlaps) <= 3
    # yet there is a core that most of them name
    assert (top["account_id"].value_counts() >= 4).sum() >= 3
    # and their scores of the same account differ
    spread = a.groupby("account_id")["strategic_fit"].agg(["std", "size"])
    assert spread.loc[spread["size"] >= 4, "std"].median() > 0.8


def _cr(g: pd.DataFrame, criteria: list[str]) -> float:
    n = len(criteria)
    pos = {c: i for i, c in enumerate(criteria)}
    m = np.ones((n, n))
    for a, b, v in g[["criterion_a", "criterion_b", "value"]].itertuples(index=False):
        m[pos[a], pos[b]] = v
        m[pos[b], pos[a]] = 1 / v
    lam = np.max(np.linalg.eigvals(m).real)
    return (lam - n) / (n - 1) / SAATY_RI[n]  # Saaty's random index for n criteria


@pytest.mark.parametrize("fixture", ["sample", "other_seed"])
def test_ahp_judgements_complete_and_some_inconsistent(request, fixture):
    ahp = request.getfixturevalue(fixture)["ahp_judgements"]
    crit = list(DEFAULT_CRITERIA)
    scale = [1 / k for k in range(9, 1, -1)] + list(range(1, 10))
    assert np.isin(ahp["value"].round(4), np.round(scale, 4)).all()
    crs = {}
    for m, g in ahp.groupby("manager"):
        pairs = {frozenset(p) for p in zip(g["criterion_a"], g["criterion_b"])}
        n_pairs = len(crit) * (len(crit) - 1) // 2  # every pair once (91 for 14 criteria)
        assert len(g) == n_pairs and len(pairs) == n_pairs
        assert set(g["criterion_a"]) | set(g["criterion_b"]) == set(crit)
        crs[m] = _cr(g, crit)
    inconsistent = [m for m, cr in crs.items() if cr > 0.10]
    assert 1 <= len(inconsistent) <= 2
    assert sum(cr < 0.10 for cr in crs.values()) >= 4
    assert set(ahp["manager"]) == set(request.getfixturevalue(fixture)["assessments"]["manager"])


def test_managers_priorities_differ(sample):
    """Different biases show up as different top criteria in the pairwise judgements."""
    ahp = sample["ahp_judgements"]
    favourite = {}
    for m, g in ahp.groupby("manager"):
        wins = pd.concat([g.set_index("criterion_a")["value"], 1 / g.set_index("criterion_b")["value"]])
        favourite[m] = np.log(wins).groupby(level=0).sum().idxmax()
    assert len(set(favourite.values())) >= 4


# --- determinism and size -------------------------------------------------------------------


def test_same_seed_same_tables_other_seed_other_tables():
    a, b, c = generate_sample(50, seed=11), generate_sample(50, seed=11), generate_sample(50, seed=12)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["accounts"]["name"].equals(c["accounts"]["name"])
    assert len(a["transactions"]) != len(c["transactions"])


def test_small_sample_works():
    t = generate_sample(n_accounts=50, seed=3)
    assert len(t["accounts"]) == 50
    assert t["accounts"]["account_id"].is_unique and t["accounts"]["name"].is_unique
    assert 5_000 < len(t["transactions"]) < 60_000
    assert len(t["contacts"]) > 20
    top = t["assessments"].dropna(subset=["top_rank"])
    assert top.groupby("manager").size().eq(10).all()
    n = len(DEFAULT_CRITERIA)
    assert len(t["ahp_judgements"]) == n * (n - 1) // 2 * t["assessments"]["manager"].nunique()


@pytest.mark.parametrize(("n", "seed"), [(10, 0), (13, 5), (25, 9), (120, 4)])
def test_any_size_gets_the_planted_problems_and_unique_ids(n, seed):
    t = generate_sample(n_accounts=n, seed=seed)
    acc, tx, con = t["accounts"], t["transactions"], t["contacts"]
    assert len(acc) == n and acc["account_id"].is_unique and acc["name"].is_unique
    assert con["contact_id"].is_unique
    assert (~tx["account_id"].isin(acc["account_id"])).sum() == 10
    assert tx.duplicated().sum() == 5
    assert (tx["date"] > END).sum() >= 1 and tx["date"].isna().sum() >= 1
    assert t["assessments"].dropna(subset=["top_rank"]).groupby("manager").size().le(10).all()
