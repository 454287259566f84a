"""The CLV figures show what the report text says they show."""

import matplotlib

matplotlib.use("agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kamlib.figures import clv as F  # noqa: E402


def _clv(n=60, seed=0):
    rng = np.random.default_rng(seed)
    clv = rng.lognormal(9, 1.5, n)
    c = pd.DataFrame({
        "account_id": [f"A{i:03d}" for i in range(n)],
        "frequency": rng.integers(0, 50, n).astype(float),
        "T": 150.0, "p_alive": rng.uniform(0, 1, n),
        "clv": clv, "clv_low": clv * 0.9, "clv_high": clv * 1.1,
        "investment_ceiling": clv * 0.1, "cost_to_serve": np.where(rng.random(n) < 0.5, 5000.0, np.nan),
        "time_unit": "week", "model": "BG/NBD + Gamma-Gamma",
    })
    c["recency"] = rng.uniform(0, 150, n)
    c.loc[:4, "model"] = "sBG (annual contract)"
    c.loc[5, ["clv", "clv_low", "clv_high"]] = 0.0
    c.loc[5, "model"] = "no purchases"
    return c


def test_key_accounts_are_marked_and_listed():
    c = _clv()
    key = list(c["account_id"].iloc[10:35])  # 25 key accounts
    fig = F.clv_distribution(c, key)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "key accounts" in labels
    names = pd.Series(c["account_id"].str.lower().to_numpy(), index=c["account_id"])
    acc = F.clv_accounts(c, names, key, top=20)
    names = [t.get_text() for t in acc.axes[0].get_yticklabels()]
    top20 = c[c["account_id"].isin(key)].nlargest(20, "clv")["account_id"].str.lower()
    assert sorted(names) == sorted(top20)
    assert "20 key accounts of largest CLV (of 25)" in acc._suptitle.get_text()
    # Without a selection: the top accounts by CLV, no key-account legend entry.
    fig = F.clv_distribution(c, None)
    assert "key accounts" not in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_p_alive_figure_counts_accounts_of_the_purchase_model_only():
    c = _clv()
    fig = F.p_alive_distribution(c)
    purchase = c[c["model"].str.startswith("BG/NBD")]
    expected = f"{int((purchase['p_alive'] < 0.5).sum())} of {len(purchase)} accounts"
    assert expected in fig.axes[0].get_title()
