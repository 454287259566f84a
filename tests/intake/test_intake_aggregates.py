"""The per-account aggregates shared by the checking pass and the feature build: both ways of
computing them agree, and the proof folded into the order counts sees repeated line keys."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from intake_data import LINES, write_engagement
from kamlib.intake import aggregates
from kamlib.intake.loading import load_inputs

TODAY = dt.date(2026, 1, 15)

# a line of an unknown account, a duplicate of INV1/1 and a line in the future: set aside
MESSY = LINES + """009,INV9,1,2025-05-05,P1,CatA,1,100,50,S1
001,INV1,1,2025-06-10,P1,CatA,10,1000,600,S1
001,INV10,1,2027-01-01,P1,CatA,1,100,50,S1
"""


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("account_id", ignore_index=True)


@pytest.mark.parametrize("lines", [LINES, MESSY], ids=["clean", "messy"])
def test_pass_and_plain_aggregates_agree(lines, tmp_path):
    """The pass's aggregates by account and reason (used lines: reason 0) equal the plain
    aggregates of the used lines, column by column."""
    intake = load_inputs(write_engagement(tmp_path, transactions=lines), today=TODAY,
                         max_set_aside_share=0.5, max_set_aside_revenue_share=0.5)
    tx = intake.transactions
    assert tx.account.rows_set_aside == (0 if lines is LINES else 3)
    plain = aggregates.account_aggregates(aggregates.with_margin(tx.lines), tx.as_of).to_pandas()
    from_pass = tx.aggregates
    assert set(plain.columns) == set(from_pass.columns)
    pd.testing.assert_frame_equal(_sorted(from_pass), _sorted(plain[from_pass.columns]),
                                  check_dtype=False)


def _pass_lines(lines: str, as_of: dt.date):
    """``lines`` prepared as the checking pass prepares them, every line used (reason 0)."""
    import ibis

    frame = pd.read_csv(io.StringIO(lines), dtype=str)
    t = ibis.memtable(frame.assign(
        date=pd.to_datetime(frame["date"]).dt.date,
        **{c: frame[c].astype(float) for c in ("quantity", "net_revenue", "cost")},
        line_no=frame["line_no"].astype(int), margin=float("nan")))
    t = aggregates.with_margin(t)
    ids = sorted(frame["account_id"].unique())
    keys = ibis.memtable(pd.DataFrame({"account_id": ids, aggregates.ACCOUNT_KEY: range(len(ids))}))
    j = t.mutate(**aggregates.line_values(t, as_of)).left_join(keys, "account_id")
    j = j.select(*[j[c] for c in t.columns], *aggregates.line_values(t, as_of), j[aggregates.ACCOUNT_KEY])
    return j.mutate(**{aggregates.REASON_CODE: ibis.literal(0, type="int8")}), keys


@pytest.mark.parametrize("duplicate, clashes", [(False, 0), (True, 1)])
def test_the_proof_counts_invoices_with_a_repeated_line_number(duplicate, clashes):
    lines = LINES + ("001,INV1,2,2025-06-10,P9,CatA,1,10,5,S1\n" if duplicate else "")
    t, keys = _pass_lines(lines, dt.date(2025, 12, 31))
    proved = aggregates.aggregates_by_reason_proving_line_keys(t, keys, {"_n": t.count()}).to_pandas()
    plain = aggregates.aggregates_by_reason(t, keys, {"_n": t.count()}).to_pandas()
    assert (proved["_clashes"] == clashes).all() and (proved["_shared"] == 0).all()
    pd.testing.assert_frame_equal(_sorted(proved.drop(columns=["_clashes", "_shared"])),
                                  _sorted(plain), check_dtype=False)


def test_window_bounds_leap_day():
    assert aggregates.window_bounds(dt.date(2024, 2, 29))[1:] == (
        dt.date(2023, 2, 28), dt.date(2022, 2, 28), dt.date(2021, 2, 28))


# Edges of the two-step sums: a line whose revenue rounds to zero but is a purchase, a return,
# a line in each window and one before them, two invoices on one day, a line without site.
EDGES = LINES + """003,INV11,1,2025-12-31,P1,CatA,1,0.00001,0,S4
003,INV11,2,2025-12-31,P2,CatB,1,250.25,100.5,
003,INV12,1,2025-12-31,P2,CatB,-2,-50.5,-20,S4
003,INV13,1,2023-12-31,P3,CatC,3,30,10,S5
003,INV14,1,2022-12-31,P3,CatC,3,33,11,S5
003,INV15,1,2021-01-01,P1,CatA,1,7,1,S6
"""


def _by_hand(lines: str, as_of: dt.date) -> pd.DataFrame:
    """The per-account figures straight from the lines, in pandas (the reference)."""
    f = pd.read_csv(io.StringIO(lines), dtype={"account_id": str})
    f["date"] = pd.to_datetime(f["date"]).dt.date
    f["rev"] = f["net_revenue"].round(4)
    f["mar"] = (f["net_revenue"] - f["cost"]).round(4)
    bounds = aggregates.window_bounds(as_of)
    win = [(f["date"] > bounds[k + 1]) & (f["date"] <= bounds[k]) for k in range(3)]
    buy = f["net_revenue"] > 0
    rows = []
    for acc, g in f.groupby("account_id"):
        w = [m[g.index] for m in win]
        b = buy[g.index]
        def window(column: str, k: int) -> float:  # null where the window has no line
            return g[column][w[k]].sum(min_count=1)

        rows.append({
            "account_id": acc,
            "revenue_12m": window("rev", 0), "revenue_prev_12m": window("rev", 1),
            "revenue_prev2_12m": window("rev", 2), "margin_12m": window("mar", 0),
            "margin_prev2_12m": window("mar", 2),
            "revenue_total": g["rev"].sum(), "margin_total": g["mar"].sum(),
            "quantity_12m": window("quantity", 0), "gross_sales": g["rev"][b].sum(min_count=1),
            "returns": -g["rev"][g["rev"] < 0].sum(min_count=1),
            "first_purchase": min(g["date"][b]), "last_purchase": max(g["date"][b]),
            "n_orders": g["invoice_id"][b].nunique(),
            "n_orders_12m": g["invoice_id"][b & w[0]].nunique(),
            "n_categories": g["category"][b].nunique(), "n_products": g["product_id"][b].nunique(),
            "n_active_sites_12m": g["site_id"][b & w[0]].dropna().nunique(),
            "months_active": pd.Series([(d.year, d.month) for d in g["date"][b]]).nunique(),
        })
    return pd.DataFrame(rows)


@pytest.mark.parametrize("prove", [False, True], ids=["plain", "proving"])
def test_two_step_sums_and_counts_equal_the_lines_summed_by_hand(prove):
    as_of = dt.date(2025, 12, 31)
    t, keys = _pass_lines(EDGES, as_of)
    by_reason = (aggregates.aggregates_by_reason_proving_line_keys if prove
                 else aggregates.aggregates_by_reason)
    got = _sorted(by_reason(t, keys, {"_n": t.count()}).to_pandas())
    want = _sorted(_by_hand(EDGES, as_of))
    assert list(got["account_id"]) == list(want["account_id"]) == ["001", "002", "003"]
    for column in want.columns.drop("account_id"):
        g, w = got[column], want[column]
        if column.endswith("purchase"):
            g, w = pd.to_datetime(g).dt.date, w
        assert list(g) == pytest.approx(list(w), nan_ok=True), column
    # the row accounting of the grain: lines, first and last day, returns and zero lines
    assert list(got["_n"]) == [6, 4, 6]
    assert list(got["_returns"]) == [1, 0, 1]
    assert list(got["_zero"]) == [0, 1, 1]  # 0.00001 rounds to 0 and is still a purchase
    assert pd.to_datetime(got["_min_date"]).dt.date.tolist() == [
        dt.date(2023, 2, 1), dt.date(2022, 6, 1), dt.date(2021, 1, 1)]
    assert pd.to_datetime(got["_max_date"]).dt.date.tolist() == [
        dt.date(2025, 7, 1), dt.date(2025, 11, 30), dt.date(2025, 12, 31)]
