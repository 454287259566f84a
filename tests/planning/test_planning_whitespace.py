"""Whitespace: look-alike adoption x typical spend x size ratio - what the account buys."""

import numpy as np
import pandas as pd
import pytest

from kamlib.planning.whitespace import whitespace


def small_world(target_x=400.0, wallet=np.nan, peers=6):
    feats, cy = [], []
    for i in range(peers):
        aid = f"P{i}"
        feats.append(dict(account_id=aid, industry="food", employees=100, revenue_12m=1500.0, wallet=np.nan))
        cy.append(dict(account_id=aid, year=0, category="X", revenue=1000.0, margin=1.0))
        if i % 2 == 0:  # half of the look-alikes buy Y
            cy.append(dict(account_id=aid, year=0, category="Y", revenue=500.0, margin=1.0))
    feats.append(dict(account_id="T", industry="food", employees=200, revenue_12m=target_x, wallet=wallet))
    cy.append(dict(account_id="T", year=0, category="X", revenue=target_x, margin=1.0))
    # another industry buys Z: not a look-alike
    for i in range(6):
        feats.append(dict(account_id=f"Q{i}", industry="metal", employees=100, revenue_12m=800.0, wallet=np.nan))
        cy.append(dict(account_id=f"Q{i}", year=0, category="Z", revenue=800.0, margin=1.0))
    return pd.DataFrame(feats), pd.DataFrame(cy)


def test_potential_follows_the_documented_formula():
    f, cy = small_world()
    ws = whitespace(f, cy, ["T"], n_size_bands=1).set_index("category")
    # size ratio 200/100 = 2; Y: 50% adoption x 500 x 2 = 500; X: 100% x 1000 x 2 = 2000, buys 400 < 25%
    assert set(ws.index) == {"X", "Y"}
    assert ws.loc["Y", "status"] == "not bought"
    assert ws.loc["Y", "expected_revenue"] == pytest.approx(500.0)
    assert ws.loc["Y", "potential"] == pytest.approx(500.0)
    assert ws.loc["X", "status"] == "buys little"
    assert ws.loc["X", "potential"] == pytest.approx(1600.0)
    assert ws.loc["X", "rank"] == 1  # biggest potential first
    assert "Z" not in ws.index  # other industries are not look-alikes
    assert ws.loc["Y", "n_peers"] == 6


def test_buying_enough_is_not_whitespace():
    f, cy = small_world(target_x=600.0)  # 600 >= 25% of 2000
    ws = whitespace(f, cy, ["T"], n_size_bands=1)
    assert set(ws["category"]) == {"Y"}


def test_wallet_caps_the_potential():
    f, cy = small_world(wallet=400.0 + 1000.0)  # headroom 1000 < 2100
    ws = whitespace(f, cy, ["T"], n_size_bands=1)
    assert ws["potential"].sum() == pytest.approx(1000.0)
    assert ws["wallet_capped"].all()


def test_too_few_look_alikes_widen_the_group():
    f, cy = small_world(peers=3)
    ws = whitespace(f, cy, ["T"], n_size_bands=1, min_peers=5)
    assert ws["peer_group"].iloc[0].startswith("all accounts")
    assert ws["n_peers"].iloc[0] == 9


def test_min_adoption_filters_rare_categories():
    f, cy = small_world()
    ws = whitespace(f, cy, ["T"], n_size_bands=1, min_adoption=0.6)
    assert set(ws["category"]) == {"X"}


def test_constructed_base(fitted):
    ws = fitted.whitespace
    assert ws.loc[ws.account_id == "F02", "category"].tolist() == ["C"]
    assert ws.loc[ws.account_id == "F01"].empty  # F01 buys all its look-alikes buy
