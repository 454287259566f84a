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


def test_holdout_intervals_title_states_the_coverage_of_all_accounts():
    rng = np.random.default_rng(2)
    n = 900
    pred = rng.uniform(0, 30, n)
    h = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "predicted": pred,
                      "predicted_low": np.floor(pred * 0.5), "predicted_high": np.ceil(pred * 1.5),
                      "actual": rng.poisson(pred)})
    h["inside"] = (h["actual"] >= h["predicted_low"]) & (h["actual"] <= h["predicted_high"])
    fig = F.holdout_intervals(h, 0.9, "week", max_accounts=300)
    assert f"{h['inside'].mean():.0%} of accounts inside their 90% interval" in \
        fig.axes[0].get_title()
    assert len(fig.axes[0].collections[1].get_offsets()) + \
        len(fig.axes[0].collections[2].get_offsets()) == 300  # a selection is drawn


def test_whale_curve_marks_its_peak_and_counts_the_loss_makers():
    curve = pd.DataFrame({"rank": [1, 2, 3, 4], "account_id": ["A", "B", "C", "D"],
                          "net_profit": [400.0, 200.0, -100.0, -200.0]})
    curve["cumulative_net_profit"] = curve["net_profit"].cumsum()
    curve["accounts_share"] = curve["rank"] / 4
    fig = F.whale_curve(curve, "EUR", ["B"])
    ax = fig.axes[0]
    assert "2 accounts cost more than they bring" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "peak after 2 accounts" in labels and "key accounts" in labels
