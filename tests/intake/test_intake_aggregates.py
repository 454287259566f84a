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
