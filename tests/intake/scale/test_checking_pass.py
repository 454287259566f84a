"""The checking pass: one read of the invoice lines checks them, accounts for them and
aggregates the used ones per account. Its aggregates must be those of a separate feature build
over the used lines, whichever of its guesses (as_of, no duplicates) turns out wrong."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kamlib.errors import InputError
from kamlib.intake import checking_pass, features
from kamlib.intake.accounting import AFTER_AS_OF
from kamlib.intake.ledger import read_transactions, text_ranges
from kamlib.intake.loading import load_inputs
from scale_data import BAD_REVENUE_SHARE, TODAY, ledger_inputs


def _both_ways(intake) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features from the checking pass's aggregates, and from a fresh pass over the used lines."""
    tx = intake.transactions
    args = (tx.lines, intake.frames["accounts"], tx.as_of, intake.frames["contacts"], tx.has_sites)
    assert tx.aggregates is not None
    return (features.account_features(*args, aggregates=tx.aggregates),
            features.account_features(*args))


def _with_lines(files: dict, tmp_path, extra: pd.DataFrame) -> str:
    """The ledger of ``files`` with ``extra`` lines appended, as a new Parquet file."""
    lines = pq.read_table(files["transactions"])
    more = pa.Table.from_pandas(extra.reindex(columns=lines.column_names), schema=lines.schema,
                                preserve_index=False)
    path = tmp_path / "lines.parquet"
    pq.write_table(pa.concat_tables([lines, more]), path)
    return str(path)


def _extra_line(like: pd.Series, **values) -> pd.DataFrame:
    row = like.to_dict()
    row.update(values)
    return pd.DataFrame([row])


@pytest.mark.parametrize("ledger", ["clean", "bad", "explicit_as_of", "csv"])
def test_checking_pass_aggregates_are_those_of_the_used_lines(ledger, invoice_files,
                                                             bad_invoice_files, tmp_path):
    files, kw = invoice_files, {}
    if ledger == "bad":  # duplicates, unknown accounts, future dates: the fallback pass
        files, kw = bad_invoice_files, {"max_set_aside_revenue_share": BAD_REVENUE_SHARE}
    elif ledger == "explicit_as_of":
        kw = {"as_of": "2025-06-30"}
    elif ledger == "csv":  # text: parsed and stored once, then the same pass
        csv = tmp_path / "lines.csv"
        pq.read_table(files["transactions"]).to_pandas().to_csv(csv, index=False)
        kw = {"transactions": str(csv)}
    intake = load_inputs(ledger_inputs(files, kw.pop("transactions", None)), today=TODAY, **kw)
    once, again = _both_ways(intake)
    pd.testing.assert_frame_equal(once, again)
    tx = intake.transactions
    assert tx.summary["accounts_buying"] == int(tx.lines.account_id.nunique().to_pandas())
    assert tx.account.rows_read == tx.account.rows_used + tx.account.rows_set_aside
    if ledger == "explicit_as_of":
        assert tx.as_of == dt.date(2025, 6, 30)
        assert tx.account.reasons[AFTER_AS_OF] > 0
        assert tx.summary["last_date"] <= tx.as_of


def test_a_last_day_with_only_set_aside_lines_moves_as_of_back(invoice_files, tmp_path):
    """The pass starts from the last date on or before today; when every line of that day is
    set aside (here: an unknown account), as_of is the last day with a used line and the
    windows are placed from it."""
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    last = lines["date"].max()
    later = last + dt.timedelta(days=3)
    extra = _extra_line(lines.iloc[0], account_id="NOT-A-CUSTOMER", invoice_id="INV-LATE",
                        date=later)
    path = _with_lines(invoice_files, tmp_path, extra)
    intake = load_inputs(ledger_inputs(invoice_files, path), today=TODAY)
    tx = intake.transactions
    assert tx.as_of == last
    assert tx.account.reasons == {"account_id: unknown account": 1}
    once, again = _both_ways(intake)
    pd.testing.assert_frame_equal(once, again)
    clean = load_inputs(ledger_inputs(invoice_files), today=TODAY)
    _, expected = _both_ways(clean)
    pd.testing.assert_frame_equal(once, expected)


def _count_searches(monkeypatch) -> list:
    """Record each exact duplicate search (``duplicate_keys``) from now on."""
    searches: list = []
    search = checking_pass.duplicate_keys
    monkeypatch.setattr(checking_pass, "duplicate_keys", lambda *a: searches.append(1) or search(*a))
    return searches


@pytest.mark.parametrize("ledger", ["long_invoice", "no_line_numbers"])
def test_an_inconclusive_proof_searches_once_and_changes_nothing(ledger, invoice_files, tmp_path,
                                                                 monkeypatch):
    """The proof can fail without a duplicate: line numbers 61 apart share a bit (an invoice
    of more than 61 lines), and without line numbers two different lines can share a key
    hash. The pass then searches line by line, once, and finds nothing to set aside."""
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    if ledger == "long_invoice":
        first = lines.iloc[0]
        numbers = lines.loc[lines["invoice_id"] == first["invoice_id"], "line_no"]
        extra = _extra_line(first, line_no=int(numbers.min()) + 61)
        path = _with_lines(invoice_files, tmp_path, extra)
    else:  # the key is then the whole line; make every key hash collide
        path = tmp_path / "unnumbered.parquet"
        pq.write_table(pq.read_table(invoice_files["transactions"]).drop(["line_no"]), path)
        monkeypatch.setattr(checking_pass, "key_hash", lambda t, present: t.quantity.isnull().cast("int64"))
    searches = _count_searches(monkeypatch)
    intake = load_inputs(ledger_inputs(invoice_files, str(path)), today=TODAY)
    assert searches == [1] and intake.transactions.account.reasons == {}
    once, again = _both_ways(intake)
    pd.testing.assert_frame_equal(once, again)
    if ledger == "no_line_numbers":
        clean = load_inputs(ledger_inputs(invoice_files), today=TODAY)
        pd.testing.assert_frame_equal(once, _both_ways(clean)[0])


@pytest.mark.parametrize("numbers", [range(1, 62), range(10, 610, 10), range(-30, 31)])
def test_long_invoices_numbered_in_steps_are_proven_without_a_search(numbers, invoice_files,
                                                                     tmp_path, monkeypatch):
    """Up to 61 lines numbered 1, 2, 3 ... or 10, 20, 30 ... (as some ERPs do) have distinct
    remainders modulo 61: the proof holds and no search runs."""
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    first = lines.iloc[0]
    extra = pd.concat([_extra_line(first, invoice_id="INV-LONG", line_no=n) for n in numbers])
    path = _with_lines(invoice_files, tmp_path, extra)
    searches = _count_searches(monkeypatch)
    intake = load_inputs(ledger_inputs(invoice_files, path), today=TODAY)
    assert searches == [] and intake.transactions.account.reasons == {}
    pd.testing.assert_frame_equal(*_both_ways(intake))


def test_an_invoice_of_two_accounts_is_an_order_of_each(invoice_files, tmp_path, monkeypatch):
    """Orders are counted per invoice under its account, proven alongside; an invoice with
    purchase lines of two accounts (different line numbers: no duplicate) sends the pass
    round again the plain way, which counts it for both."""
    clean = load_inputs(ledger_inputs(invoice_files), today=TODAY)
    before = _both_ways(clean)[0].set_index("account_id")
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    first = lines[lines["net_revenue"] > 0].iloc[0]
    other = next(a for a in before.index if a != first["account_id"])
    numbers = lines.loc[lines["invoice_id"] == first["invoice_id"], "line_no"]
    extra = _extra_line(first, account_id=other, line_no=int(numbers.max()) + 1)
    path = _with_lines(invoice_files, tmp_path, extra)
    searches = _count_searches(monkeypatch)
    passes = []
    run = checking_pass._checking_pass
    monkeypatch.setattr(checking_pass, "_checking_pass", lambda *a, **k: passes.append(k["prove"]) or run(*a, **k))
    intake = load_inputs(ledger_inputs(invoice_files, path), today=TODAY)
    assert intake.transactions.account.reasons == {}
    assert searches == [] and passes == [True, False]
    once, again = _both_ways(intake)
    pd.testing.assert_frame_equal(once, again)
    after = once.set_index("account_id")
    bought_before = (lines["account_id"] == other) & (lines["invoice_id"] == first["invoice_id"])
    assert not bought_before.any()
    assert after.loc[other, "n_orders"] == before.loc[other, "n_orders"] + 1
    assert after.loc[first["account_id"], "n_orders"] == before.loc[first["account_id"], "n_orders"]


@pytest.mark.parametrize("change", ["same line", "other account", "other date"])
def test_the_proof_sees_a_duplicate_key(change, invoice_files, tmp_path):
    """A repeated invoice_id + line_no is a duplicate whatever else the line says; the copy
    kept is the first in the file."""
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    line = lines.iloc[10]
    values = {"same line": {},
              "other account": {"account_id": next(a for a in lines["account_id"]
                                                   if a != line["account_id"])},
              "other date": {"date": line["date"] - dt.timedelta(days=40)}}[change]
    path = _with_lines(invoice_files, tmp_path, _extra_line(line, **values))
    intake = load_inputs(ledger_inputs(invoice_files, path), today=TODAY)
    tx = intake.transactions
    assert tx.account.reasons == {"invoice_id+line_no: duplicate invoice line": 1}
    assert tx.account.first_rows["invoice_id+line_no: duplicate invoice line"] == [len(lines) + 1]
    pd.testing.assert_frame_equal(*_both_ways(intake))


def test_a_second_currency_on_set_aside_lines_only_is_no_error(invoice_files, tmp_path):
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    extra = _extra_line(lines.iloc[0], account_id="NOT-A-CUSTOMER", currency="USD")
    path = _with_lines(invoice_files, tmp_path, extra)
    tx = load_inputs(ledger_inputs(invoice_files, path), today=TODAY).transactions
    assert tx.summary["currency"] == lines["currency"].iloc[0]
    assert tx.account.reasons == {"account_id: unknown account": 1}


def test_a_second_currency_on_a_used_line_is_an_error(invoice_files, tmp_path):
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    extra = _extra_line(lines.iloc[0], invoice_id="INV-USD", currency="USD")
    path = _with_lines(invoice_files, tmp_path, extra)
    with pytest.raises(InputError, match=r"2 currencies \(e\.g\. EUR and USD\)"):
        load_inputs(ledger_inputs(invoice_files, path), today=TODAY)


def test_the_proof_spares_the_search_on_a_clean_ledger(invoice_files, monkeypatch):
    searches = _count_searches(monkeypatch)
    load_inputs(ledger_inputs(invoice_files), today=TODAY)
    assert searches == []


def test_text_ranges_come_from_the_parquet_file(invoice_files):
    from kamlib.intake import engine

    con = engine.connect("duckdb")
    ranges = text_ranges(read_transactions(con, invoice_files["transactions"]))
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    assert ranges["invoice_id"] == (lines["invoice_id"].min(), lines["invoice_id"].max())
    assert ranges["currency"] == (lines["currency"].min(), lines["currency"].max())
    assert "line_no" not in ranges and "date" not in ranges


def test_empty_text_in_a_parquet_column_is_still_missing(invoice_files, tmp_path):
    """Parquet text is not tested for emptiness where the file's statistics rule it out; where
    they do not, an empty id is a missing one."""
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    extra = pd.concat([_extra_line(lines.iloc[0], invoice_id=""),
                       _extra_line(lines.iloc[1], invoice_id="INV-NO-SITE", site_id="")])
    path = _with_lines(invoice_files, tmp_path, extra)
    intake = load_inputs(ledger_inputs(invoice_files, path), today=TODAY)
    tx = intake.transactions
    assert tx.account.reasons == {"invoice_id: missing": 1}
    assert tx.account.first_rows["invoice_id: missing"] == [len(lines) + 1]
    used = tx.lines.filter(tx.lines.invoice_id == "INV-NO-SITE").to_pandas()
    assert len(used) == 1 and used["site_id"].isna().all()
    pd.testing.assert_frame_equal(*_both_ways(intake))


def test_text_ranges_of_an_empty_column_are_none(invoice_files, tmp_path):
    from kamlib.intake import engine

    lines = pq.read_table(invoice_files["transactions"])
    path = tmp_path / "no_sites.parquet"
    pq.write_table(lines.set_column(lines.column_names.index("site_id"), "site_id",
                                    pa.nulls(lines.num_rows, pa.string())), path)
    ranges = text_ranges(read_transactions(engine.connect("duckdb"), path))
    assert ranges["site_id"] == (None, None)
    assert ranges["account_id"][0] is not None


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_an_absurd_amount_sets_its_line_aside_not_the_file(fmt, invoice_files, tmp_path):
    """An amount or quantity beyond what the exact sums hold (an export's 1E+20) used to fail
    the cast of every line; it is one line's problem, listed with its reason and row."""
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    extra = pd.concat([_extra_line(lines.iloc[0], invoice_id="INV-BIG-1", net_revenue=1e20),
                       _extra_line(lines.iloc[1], invoice_id="INV-BIG-2", quantity=-3e15),
                       _extra_line(lines.iloc[2], invoice_id="INV-BIG-3", cost=1e12),
                       _extra_line(lines.iloc[3], invoice_id="INV-OK", net_revenue=9.9e11)])
    path = _with_lines(invoice_files, tmp_path, extra)
    if fmt == "csv":
        csv = tmp_path / "lines.csv"
        pq.read_table(path).to_pandas().to_csv(csv, index=False)
        path = str(csv)
    intake = load_inputs(ledger_inputs(invoice_files, path), today=TODAY,
                                    max_set_aside_share=0.5)
    tx = intake.transactions
    n = len(lines)
    found = {reason.split(":")[0]: rows for reason, rows in tx.account.first_rows.items()}
    assert found == {"net_revenue": [n + 1], "quantity": [n + 2], "cost": [n + 3]}
    assert all("1,000,000,000,000 or more" in r for r in tx.account.reasons)
    big = tx.lines.filter(tx.lines.invoice_id == "INV-OK").to_pandas()
    assert big["net_revenue"].tolist() == [9.9e11]
    pd.testing.assert_frame_equal(*_both_ways(intake))
    tables = features.feature_tables(intake, progress=False)  # intake's other tables too
    assert tables["monthly_revenue"]["revenue"].max() < 2e12


def test_an_absurd_margin_counts_only_without_a_cost(invoice_files, tmp_path):
    lines = pq.read_table(invoice_files["transactions"]).to_pandas().drop(columns=["cost"])
    lines["margin"] = 0.25 * lines["net_revenue"]
    lines.loc[5, "margin"] = 5e12
    path = tmp_path / "margins.parquet"
    pq.write_table(pa.Table.from_pandas(lines, preserve_index=False), path)
    tx = load_inputs(ledger_inputs(invoice_files, str(path)), today=TODAY).transactions
    assert tx.account.first_rows == {
        "margin: 1,000,000,000,000 or more in size (no real invoice line is)": [6]}


def test_a_true_false_column_is_not_a_number(invoice_files, tmp_path):
    """Engines read booleans as 1/0; an amount exported as a flag is a wrong column, not a
    ledger of ones and zeros."""
    lines = pq.read_table(invoice_files["transactions"]).to_pandas()
    lines["net_revenue"] = lines["net_revenue"] > 0
    path = tmp_path / "flags.parquet"
    pq.write_table(pa.Table.from_pandas(lines, preserve_index=False), path)
    with pytest.raises(InputError, match=r"column 'net_revenue', rows 1, 2, 3: no value in this "
                                         r"column is a number"):
        load_inputs(ledger_inputs(invoice_files, str(path)), today=TODAY)
