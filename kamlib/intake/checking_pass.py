"""The invoice-line checking pass: one read of the lines checks, accounts for and aggregates them.

Invoice lines are checked with Ibis expressions on the engine (:mod:`kamlib.intake.line_checks`),
so they never have to fit in memory. Reading every line is what costs at tens of millions of
lines, so the checks, the row accounting (:mod:`kamlib.intake.accounting`) and the per-account
aggregates of the used lines (:mod:`kamlib.intake.aggregates`, the feature build's costliest
query) are one query, grouped by account and reason: see :func:`check_transactions`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.errors import InputError, ParameterError, Problems
from kamlib.intake.accounting import (AFTER_AS_OF, DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
                                      DEFAULT_MAX_SET_ASIDE_SHARE, UNKNOWN_ACCOUNT,
                                      MoneyAccount, RowAccount, check_revenue_share,
                                      check_share, reason_column, rows_text)
from kamlib.intake.aggregates import (ACCOUNT_KEY, REASON_CODE, aggregates_by_reason,
                                      aggregates_by_reason_proving_line_keys, line_values,
                                      with_margin, within_limit)
from kamlib.intake.contract import TRANSACTIONS
from kamlib.intake.engine import PASS_SHARE, memory_share, small_table
from kamlib.intake.ledger import TRIMMED
from kamlib.intake.line_checks import (context_checks, latest_date, line_checks, parse_as_of,
                                       passes, reason_code, reason_text, transaction_checks,
                                       with_account_key)
from kamlib.intake.parsing import TYPE_WORDS, check_columns, date_fix
from kamlib.intake.column_formats import check_amount_columns
from kamlib.intake.reading_rules import account_aliases, currency_code, trim_text

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pandas as pd


# -------------------------------------------------------------------------- invoice lines
@dataclass
class TransactionCheck:
    """Invoice lines after the row checks.

    Attributes
    ----------
    lines : ibis.expr.types.Table
        Used lines: fixed schema, dated on or before ``as_of`` (lazy; nothing in memory).
    set_aside : ibis.expr.types.Table
        Set-aside lines with ``_row``, ``reason`` and the raw values.
    account : RowAccount
    as_of : datetime.date
    has_sites : bool
        Whether the file carries ``site_id``.
    summary : dict
        Counts for the report (returns, zero lines, currencies, dates).
    aggregates : pandas.DataFrame, optional
        :func:`kamlib.intake.aggregates.account_aggregates` of ``lines`` at ``as_of``, one row
        per account with a used line: computed by the checking pass, so the feature build need not read the
        lines again (see :func:`kamlib.intake.features.account_features`).
    account_ids : pandas.Series, optional
        The known account ids in sorted order: the id of each
        :data:`~kamlib.intake.aggregates.ACCOUNT_KEY` the ``lines`` carry is the one at that
        position (so ordering by the key is ordering by the id).
    """

    lines: Any
    set_aside: Any
    account: RowAccount
    as_of: dt.date
    has_sites: bool
    summary: dict[str, Any]
    aggregates: Any = None
    account_ids: Any = None


def duplicate_key(present: list[str]) -> list[str]:
    """Columns that identify an invoice line: invoice_id + line_no, else every column given."""
    return ["invoice_id", "line_no"] if "line_no" in present else [
        c for c in TRANSACTIONS.column_names if c in present]


def window_duplicate_flag(t: ir.Table, present: list[str]) -> ir.Table:
    """Add ``_dup`` on an engine whose readers do not number lines (Spark reads files in
    parallel, with no line order): of the lines sharing a key, every one but the first in the
    order of all its values, by a window (Spark runs it as a partitioned sort).

    Where lines carry their file order (DuckDB), :func:`check_transactions` proves there are no
    duplicates in its pass instead, and only if that fails finds them by aggregation
    (:func:`duplicate_keys`) and flags them (:func:`flag_duplicates`): the copy kept is then the
    first in the file.
    """
    import ibis

    order = [t["_row"], *[t[c] for c in TRANSACTIONS.column_names if c in present]]
    rank = ibis.row_number().over(group_by=[t[c] for c in duplicate_key(present)], order_by=order)
    return t.mutate(_dup=rank > 0)


def duplicate_keys(t: ir.Table, present: list[str]) -> Any:
    """The keys (:func:`duplicate_key`) held by more than one line, with the first row holding
    each (``_keep``), as a small Arrow table; None if there are none. Two reads of the lines:
    keys whose hash repeats, then the exact keys among the candidate lines."""
    import ibis

    key = duplicate_key(present)
    h = key_hash(t, present)
    candidates = t.group_by(_h=h).aggregate(_n=t.count()).filter(lambda x: x._n > 1).select("_h")
    cand = candidates.to_pyarrow()
    if cand.num_rows == 0:
        return None
    sub = t.mutate(_h=h)
    sub = sub.filter(sub._h.isin(ibis.memtable(cand)._h))
    dups = (sub.group_by(key).aggregate(_n=sub.count(), _keep=sub._row.min())
            .filter(lambda x: x._n > 1).drop("_n").to_pyarrow())
    return dups if dups.num_rows else None


def flag_duplicates(t: ir.Table, dups: Any, present: list[str]) -> ir.Table:
    """Add ``_dup`` from :func:`duplicate_keys`: the line holds a repeated key after its first row."""
    import ibis

    key = duplicate_key(present)
    d = ibis.memtable(dups).rename({f"_k_{c}": c for c in key})
    joined = t.left_join(d, [t[c].identical_to(d[f"_k_{c}"]) for c in key])
    return joined.mutate(_dup=(joined._keep.notnull() & (joined._row > joined._keep)).fill_null(False)).drop(
        "_keep", *[f"_k_{c}" for c in key])


def key_hash(t: ir.Table, present: list[str]) -> ir.IntegerValue:
    """A hash of each line's duplicate key (:func:`duplicate_key`): lines with the same key have
    the same hash, lines with different keys almost never do (a collision only makes the
    checking pass search for duplicates it does not find)."""
    import ibis

    if "line_no" in present:  # the invoice id's hash mixed with the number: cheaper than a struct's
        return t.invoice_id.hash() ^ t.line_no.fill_null(-1)
    return ibis.struct({c: t[c] for c in duplicate_key(present)}).hash()


def check_transactions(
    typed: ir.Table,
    *,
    file: str | Path,
    present: list[str],
    account_ids: list[str] | pd.Series,
    as_of: str | dt.date | None = None,
    today: dt.date | None = None,
    max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
    max_set_aside_revenue_share: float = DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
    materialise: Any = None,
    aside_account_ids: list[str] | pd.Series | None = None,
    currency_range: tuple[str | None, str | None] | None = None,
    formats: Any = None,
) -> TransactionCheck:
    """Row checks on invoice lines and their accounting, in one pass that also aggregates
    the used lines per account (the feature build's costliest query).

    Reading every line is what costs at tens of millions of lines, so the checks, the row
    accounting and the per-account aggregates of :func:`kamlib.intake.aggregates.aggregates_by_reason`
    are one query, grouped by account and reason. Two things it needs are guessed first and
    confirmed by its result, so that a clean ledger is read once:

    * ``as_of`` (without an explicit one) is the last date of the used lines; the guess is the
      last date on or before ``today`` (a read of the date column). If every line of that day
      is set aside, the pass runs again with the right date.
    * duplicate invoice lines (on DuckDB, where lines carry their file order): the pass also
      proves there are none -- with line numbers, by one bit per line number in each invoice,
      inside the groupings that count orders; otherwise as many distinct key hashes as
      lines. If the proof fails (a duplicate, or an invoice whose line numbers it cannot tell
      apart, such as one of more than 61 lines) they are searched for (:func:`duplicate_keys`)
      and, if found, the pass runs again with them set aside. On Spark they are flagged
      before the pass (:func:`window_duplicate_flag`).

    Parameters
    ----------
    typed : ibis.expr.types.Table
        From :func:`kamlib.intake.ledger.cast_transactions`.
    file : str or Path
        The invoice-lines file (for messages).
    present : list of str
        Contract columns the file has (:func:`kamlib.intake.ledger.present_columns`).
    account_ids : sequence of str
        Ids of the clean accounts; lines for other ids are set aside.
    as_of : str or date, optional
        End of the analysis; ``""``/None = the last valid invoice date. Lines after an explicit
        ``as_of`` are set aside with the policy reason ``"date: after as_of"``.
    today : date, optional
        Lines dated after it are errors ("in the future"); default: the run date.
    max_set_aside_share : float
        See :func:`kamlib.intake.accounting.check_share`.
    max_set_aside_revenue_share : float
        See :func:`kamlib.intake.accounting.check_revenue_share`.
    aside_account_ids : sequence of str, optional
        Ids of accounts whose rows were set aside; their lines get their own reason, so the
        report does not call a known customer "unknown".
    materialise : callable, optional
        Table -> table that stores the lines once (:func:`kamlib.intake.engine.materialise`);
        without it every query re-reads the source, which is cheap for Parquet only.
    currency_range : tuple of str, optional
        The smallest and largest currency in the file, when known without reading every line
        (Parquet statistics; see :func:`kamlib.intake.loading.load_inputs`). If they are equal,
        the used lines are in one currency; otherwise the currencies of the used lines are counted.
    formats : kamlib.intake.formats.ColumnFormats, optional
        How ``typed`` was cast (regional formats); the amount columns some of whose values it
        did not read plainly are verified against all their values
        (:func:`kamlib.intake.column_formats.check_amount_columns`), and the notes say which
        formats were read.

    Returns
    -------
    TransactionCheck
        Its ``aggregates`` are the per-account aggregates of the used lines at ``as_of``.

    Raises
    ------
    InputError
        A required column missing, a whole column of the wrong type, an amount column whose
        ',' cannot be read unambiguously, no line at all or no valid line, more than one
        currency, too many lines or too much revenue set aside.
    """
    import pandas as pd

    file = str(file)
    today = today or dt.date.today()
    wrong: list[InputError] = []  # the column problems are independent: all of them at once
    try:
        check_columns(present, TRANSACTIONS, file)
    except InputError as exc:
        wrong.append(exc)
    if "cost" not in present and "margin" not in present:
        wrong.append(InputError(file, "the file has neither a 'cost' nor a 'margin' column.",
                                "Export the cost of goods of each line as 'cost' (or the gross "
                                "margin as 'margin') so margins can be computed.", column="cost"))
    if wrong:
        raise wrong[0] if len(wrong) == 1 else Problems(wrong)
    explicit = parse_as_of(as_of)
    t, known, aside_ids, ids = _prepared(typed, account_ids, aside_account_ids, materialise)
    lookup, ambiguous = known, None  # ids as the lines write them, once matched (see below)
    numbered = t._find_backend(use_default=True).name == "duckdb"
    if not numbered:
        t = window_duplicate_flag(t, present)
    as_of_guess = explicit or latest_date(t, today) or today
    # one currency in the whole file (the usual case) is one currency in the used lines
    if currency_range is None:
        found = t.aggregate(lo=t.currency.min(), hi=t.currency.max()).to_pandas().iloc[0]
        currency_range = (found["lo"], found["hi"])
    parsed = [c.name for c in TRANSACTIONS.columns if f"_bad_{c.name}" in t.columns and c.name in present]

    def run(t: ir.Table, as_of_day: dt.date, prove: bool) -> tuple[pd.DataFrame, list[str]]:
        return _checking_pass(t, known, today=today, present=present, aside_accounts=aside_ids,
                              after=explicit, as_of=as_of_day, parsed=parsed, prove=prove,
                              lookup=lookup, ambiguous=ambiguous)

    frame, texts = run(t, as_of_guess, prove=numbered)
    if frame.empty or int(frame["_n"].sum()) == 0:
        raise InputError(file, "the file has a header but no invoice lines.",
                         "Export the invoice lines again with their rows (check the export's "
                         "date range and filters); see docs/data_contract.md.")
    again = False
    if numbered:
        dups = duplicate_keys(t, present) if int(frame["_clashes"].iloc[0]) else None
        if dups is not None:  # set them aside
            t = flag_duplicates(t, dups, present)
        again = dups is not None or int(frame["_shared"].iloc[0])
    matched: dict[str, Any] = {}
    unknown_code = texts.index(UNKNOWN_ACCOUNT) + 1
    if int(frame.loc[frame[REASON_CODE] == unknown_code, "_n"].sum()):
        # ids that match an account only once blanks and case are ignored: match and count them
        lookup, ambiguous, matched = _matched_ids(t, known, aside_ids)
        again = again or lookup is not known or ambiguous is not None
    if again:  # and count again
        frame, texts = run(t, as_of_guess, prove=False)
    stats = _reason_stats(frame, texts, parsed)
    for c in parsed:  # every column of the wrong type, not only the first
        try:
            _stop_on_unparsable_column(t, stats, [c], file)
        except InputError as exc:
            wrong.append(exc)
    if wrong:
        raise wrong[0] if len(wrong) == 1 else Problems(wrong)
    amount_notes = check_amount_columns(
        t, parsed, {c: {k: int(stats[f"_{k}__{c}"].sum()) for k in ("alt", "bad")
                        if f"_{k}__{c}" in stats} for c in parsed}, file, formats)
    if formats is not None:
        amount_notes = [*formats.notes(), *amount_notes]
    reasons = {str(r): int(n) for r, n in zip(stats["reason"], stats["_n"]) if r is not None}
    valid = stats[stats["reason"].isna()]
    if valid.empty and explicit and AFTER_AS_OF in reasons:
        first = pd.Timestamp(stats.loc[stats["reason"] == AFTER_AS_OF, "_min_date"].min()).date()
        raise ParameterError(
            f"Parameter 'as_of' is {explicit.isoformat()}, before the first usable invoice line "
            f"of {file} ({first.isoformat()}): no line is left to analyse. Fix: set as_of to a "
            f"date from {first.isoformat()} on (YYYY-MM-DD), or leave it empty for the last "
            "valid invoice date.")
    if valid.empty:
        top = max(sorted(reasons), key=lambda r: reasons[r]) if reasons else None
        raise InputError(file, "no invoice line is usable" + (
            f"; the most common problem is '{top}' ({rows_text(reasons[top])})." if top else "."),
            "Export the invoice lines again; see docs/data_contract.md.",
            column=reason_column(top) if top else None)
    used = valid.iloc[0]
    last_used = pd.Timestamp(used["_max_date"]).date()
    if not explicit and last_used != as_of_guess:
        # every line of the guessed day was set aside: the windows end at the last used day
        frame = run(t, last_used, prove=False)[0]
    as_of_date = explicit or last_used
    lines = with_account_key(t, lookup)
    checks = transaction_checks(lines, today, present, aside_ids, after=explicit,
                                ambiguous=ambiguous)
    currency = _one_currency(lines.filter(passes(checks)), currency_range, file)
    aside = lines.mutate(reason=reason_text(checks)).filter(lambda x: x.reason.notnull())
    account = _row_account(file, stats, used, aside, reasons)
    trimmed = int(stats["_trimmed"].sum()) if "_trimmed" in stats else 0
    account.notes.extend([*amount_notes, *_matched_notes(matched), *(
        [f"{trimmed:,} values trimmed of surrounding blanks (ids padded as SAP pads text "
         "fields)"] if trimmed else [])])
    check_share(account, max_set_aside_share)
    check_revenue_share(account, max_set_aside_revenue_share)
    per_account = frame[frame[REASON_CODE] == 0]
    summary = {
        "lines_used": int(used["_n"]),
        "first_date": pd.Timestamp(used["_min_date"]).date(),
        "last_date": last_used,
        "as_of": as_of_date,
        "return_lines": int(used["_returns"]),
        "zero_lines": int(used["_zero"]),
        "currency": currency,
        "accounts_buying": len(per_account),
    }
    # the set-aside file shows what the export said, not what we made of it
    shown = {c: aside[f"_raw_{c}"] if f"_raw_{c}" in aside.columns else aside[c] for c in present}
    aside = aside.select(row=aside._row, reason=aside.reason, **shown).order_by("row")
    features = [c for c in per_account.columns if not c.startswith("_")]
    return TransactionCheck(lines=lines.filter(passes(checks)), set_aside=aside,
                            account=account, as_of=as_of_date, has_sites="site_id" in present,
                            summary=summary,
                            aggregates=per_account.loc[:, features].reset_index(drop=True),
                            account_ids=ids)


def _prepared(typed: ir.Table, account_ids: list[str] | pd.Series,
              aside_account_ids: list[str] | pd.Series | None,
              materialise: Any) -> tuple[ir.Table, ir.Table, ir.Table | None, pd.Series]:
    """The lines ready for the pass (missing product and category as ``"(none)"``, stored once
    when ``materialise`` is given), the known accounts with their integer key
    (:data:`~kamlib.intake.aggregates.ACCOUNT_KEY`: the position in the sorted ids, which are
    returned last) and the ids of the accounts set aside."""
    import numpy as np
    import pandas as pd

    ids = pd.Series(list(account_ids), dtype="str").drop_duplicates().sort_values(ignore_index=True)
    known = small_table(typed, pd.DataFrame({"account_id": ids.to_numpy(),
                                             ACCOUNT_KEY: np.arange(len(ids), dtype="int32")}))
    aside_ids = None
    if aside_account_ids is not None and len(aside_account_ids):
        aside_ids = small_table(typed, pd.DataFrame(
            {"account_id": pd.Series(list(aside_account_ids), dtype="str").dropna().unique()}))
    t = typed.mutate(_nocat=typed.category.isnull() | typed.product_id.isnull(),
                     category=typed.category.coalesce("(none)"),
                     product_id=typed.product_id.coalesce("(none)"))
    if materialise is not None:
        # one read of the file; every later query (the pass, the other tables) reads the result
        t = materialise(t)
    return t, known, aside_ids, ids


def _stop_on_unparsable_column(t: ir.Table, stats: pd.DataFrame, parsed: list[str],
                               file: str) -> None:
    """A whole column of the wrong type is a file problem, not thousands of row problems."""
    for c in parsed:
        if stats[f"_bad__{c}"].sum() > 0 and stats[f"_ok__{c}"].sum() == 0:
            col = TRANSACTIONS.column(c)
            sample = t.filter(t[f"_bad_{c}"]).order_by("_row").limit(50).to_pandas()
            shown = sample[f"_raw_{c}"] if f"_raw_{c}" in sample.columns else sample[c]
            examples = list(dict.fromkeys(str(v) for v in shown.dropna()))[:3]
            eg = f" (e.g. {', '.join(repr(v) for v in examples)})" if examples else ""
            raise InputError(
                file, f"no value in this column is a {TYPE_WORDS[col.type]}{eg}.",
                f"Check that the right column is exported as '{c}'"
                + (" and " + date_fix(examples, reads_layouts=False) if col.type == "date" else
                   " and write numbers with '.' as decimal point, without thousands separators."),
                column=c, rows=[int(r) for r in sample["_row"].dropna()][:3],
            )


def _one_currency(used: ir.Table, currency_range: tuple[Any, Any], file: str) -> str | None:
    """The currency of the used lines, trimmed and in upper case (``eur`` is EUR); more than
    one stops the intake."""
    import pandas as pd

    lo, hi = (trim_text(str(v)).upper() if pd.notna(v) else None for v in currency_range)
    if lo is None or lo == hi:
        return lo or None
    code = currency_code(used.currency)  # EUR, eur and ' EUR' are one currency
    found = used.aggregate(n=code.nunique(), lo=code.min(), hi=code.max()).to_pandas().iloc[0]
    if int(found["n"]) > 1:
        raise InputError(
            file, f"the invoice lines are in {int(found['n'])} currencies "
            f"(e.g. {found['lo']} and {found['hi']}).",
            "Convert every line to one currency before the export (one currency per "
            "engagement).", column="currency")
    return found["lo"] if pd.notna(found["lo"]) else None


def _row_account(file: str, stats: pd.DataFrame, used: pd.Series, aside: ir.Table,
                 reasons: dict[str, int]) -> RowAccount:
    """The invoice lines' :class:`~kamlib.intake.accounting.RowAccount`, with the first rows of
    each reason and the set-aside lines whose amount cannot be read (one query over the
    set-aside lines, not one per reason; nothing to read when none is set aside), where the
    money went (:func:`_money_account`) and the notes on kept lines."""
    account = RowAccount(table="transactions", file=file, rows_read=int(stats["_n"].sum()),
                         rows_used=int(used["_n"]), reasons=dict(sorted(reasons.items())))
    unknown: dict[str, int] = {}
    if account.rows_set_aside:
        import ibis

        rank = ibis.row_number().over(group_by=aside.reason, order_by=aside._row)
        # the used lines' amounts are all known (the checks see to it): only these are counted
        no_amount = (~within_limit(aside.net_revenue).fill_null(False)).cast("int64")
        head = (aside.select("reason", "_row", _k=rank,
                             _u=no_amount.sum().over(group_by=aside.reason))
                .filter(lambda x: x._k < 5).to_pandas().sort_values(["reason", "_row"]))
        for r in account.reasons:
            account.first_rows[r] = [int(x) for x in head.loc[head["reason"] == r, "_row"].dropna()]
        unknown = {str(r): int(n) for r, n in head.groupby("reason")["_u"].max().items() if n}
    account.money = _money_account(stats, unknown)
    account.notes.append(f"{int(used['_returns'])} return/credit-note lines (negative revenue) kept")
    account.notes.append(f"{int(used['_zero'])} zero-value lines kept")
    no_cat = int(used["_no_category"])
    if no_cat:
        account.notes.append(f"{no_cat} lines without product or category kept as '(none)'")
    return account


def _accounting(t: ir.Table, parsed: list[str]) -> dict[str, Any]:
    """The row-accounting counts of the checking pass (per account and reason), over ``t``:
    rows, lines without category, values trimmed and, per parsed column, values that do not
    parse, that do, and that an amount rule read. The money, the first and last date and the
    return and zero lines come with the sums of
    :func:`~kamlib.intake.aggregates.aggregates_by_reason`."""
    out = {
        "_n": t.count(),
        "_no_category": t.count(where=t._nocat),
    }
    if TRIMMED in t.columns:
        out["_trimmed"] = t[TRIMMED].sum()
    for c in parsed:
        out[f"_bad__{c}"] = t.count(where=t[f"_bad_{c}"])
        out[f"_ok__{c}"] = t[c].count()
        if f"_alt_{c}" in t.columns:
            out[f"_alt__{c}"] = t.count(where=t[f"_alt_{c}"])
    return out


def _checking_pass(t: ir.Table, known: ir.Table, *, today: dt.date, present: list[str],
                   aside_accounts: ir.Table | None, after: dt.date | None, as_of: dt.date,
                   parsed: list[str], prove: bool, lookup: ir.Table | None = None,
                   ambiguous: ir.Table | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The one pass over the lines (:func:`check_transactions`).

    Returns, per account and reason code (``_rc``: 0 = used, k = the k-th reason of the list
    returned alongside), the aggregates of :func:`kamlib.intake.aggregates.aggregates_by_reason`
    and the row accounting; with ``prove``, also ``_clashes`` (0 proves there is no duplicate
    key) and ``_shared`` (invoices whose orders were counted under one of several accounts: the
    pass must run again without ``prove``). With line numbers the proof is folded into the order
    counts (:func:`kamlib.intake.aggregates.aggregates_by_reason_proving_line_keys`); without, it
    compares the lines with the distinct hashes of their key. ``lookup`` (default ``known``)
    and ``ambiguous`` are the account ids as the lines write them (:func:`_matched_ids`).

    Everything computed from a line alone -- its own checks, its margin and exact amounts, its
    windows -- is computed before the join with the accounts: DuckDB streams the join's result
    to every aggregation, so it is computed once per line; only the short code for the
    account, duplicate and as_of checks is evaluated by each aggregation.
    """
    import ibis

    t = with_margin(t)
    local = line_checks(t, today, present)
    j = with_account_key(t.mutate(**line_values(t, as_of), _rc0=reason_code(local)),
                         known if lookup is None else lookup)
    context = context_checks(j, present, aside_accounts, after=after, ambiguous=ambiguous)
    code = ibis.cases((j._rc0 > 0, j._rc0),
                      *[(cond, len(local) + k) for k, (cond, _) in enumerate(context, 1)],
                      else_=0).cast("int8")
    lines = j.mutate(**{REASON_CODE: code})
    if prove and "line_no" in present:
        out = aggregates_by_reason_proving_line_keys(lines, known, _accounting(lines, parsed))
    else:
        out = aggregates_by_reason(lines, known, _accounting(lines, parsed))
    if prove and "line_no" not in present:
        # no two lines share a key iff there are as many distinct key hashes as lines (a hash
        # collision can only make the test fail, never pass): exact, and one aggregation
        out = out.cross_join(j.aggregate(_clashes=j.count() - key_hash(j, present).nunique(),
                                         _shared=ibis.literal(0, type="int64")))
    with memory_share(out, PASS_SHARE):
        frame = out.to_pandas()
    return frame, [text for _, text in [*local, *context]]


def _reason_stats(frame: pd.DataFrame, texts: list[str], parsed: list[str]) -> pd.DataFrame:
    """The checking pass's rows (per account and reason code) -> one row per reason (text;
    None for the used lines) with the accounting figures."""
    import pandas as pd

    money = ["revenue_total", "margin_total", "gross_sales", "returns"]
    sums = ["_n", "_returns", "_zero", "_no_category", *money,
            *[c for c in ("_trimmed",) if c in frame.columns],
            *[f"_{kind}__{c}" for c in parsed for kind in ("bad", "ok", "alt")
              if f"_{kind}__{c}" in frame.columns]]
    frame = frame.astype({c: "float64" for c in money}).fillna({c: 0.0 for c in money})
    g = frame.groupby("_rc", sort=True)
    # DuckDB returns the rows (one per account and reason) in no fixed order, and a float sum
    # depends on its order: fsum is exact, so the totals are the same on every run
    counts = [c for c in sums if c not in money]
    out = pd.concat([g[counts].sum(), g[money].agg(math.fsum), g["_max_date"].max(),
                     g["_min_date"].min()], axis=1).reset_index()
    out["reason"] = pd.Series([None if rc == 0 else texts[int(rc) - 1] for rc in out["_rc"]],
                              index=out.index, dtype="object")
    return out


def _money_account(stats: pd.DataFrame, unknown: dict[str, int]) -> MoneyAccount:
    """Where the lines' money went, from :func:`_reason_stats` (revenue and margin of the
    lines whose amount can be read) and ``unknown`` (set-aside lines whose amount cannot be
    read, by reason)."""
    def pick(row: pd.Series) -> tuple[float, float, float]:
        return (float(row["revenue_total"]), float(row["margin_total"]),
                float(row["gross_sales"]) + float(row["returns"]))

    used = stats[stats["reason"].isna()]
    rev, mar, size = pick(used.iloc[0]) if len(used) else (0.0, 0.0, 0.0)
    money = MoneyAccount(revenue_used=rev, margin_used=mar, size_used=size)
    for _, row in stats[stats["reason"].notna()].iterrows():
        r = str(row["reason"])
        money.revenue[r], money.margin[r], money.size[r] = pick(row)
    money.unknown = dict(unknown)
    return money


def _matched_ids(t: ir.Table, known: ir.Table,
                 aside_ids: ir.Table | None) -> tuple[ir.Table, Any, dict]:
    """The lookup of account ids as the lines write them, for lines whose id matches no
    account as written (:func:`kamlib.intake.reading_rules.account_aliases`): the known
    accounts plus each id that matches one account once blanks and case are ignored, and the
    ids that match several (None if there are none), with what was found for the report."""
    import pandas as pd

    lines = with_account_key(t, known)
    unknown = lines.filter(lines[ACCOUNT_KEY].isnull() & lines.account_id.notnull())
    if aside_ids is not None:
        unknown = unknown.filter(~unknown.account_id.isin(aside_ids.account_id))
    counts = unknown.group_by("account_id").aggregate(n=unknown.count()).to_pandas()
    known_frame = known.to_pandas()
    aliases, found = account_aliases(counts, known_frame)
    ambiguous = (small_table(t, pd.DataFrame({"account_id": found["ambiguous"]}))
                 if found["ambiguous"] else None)
    if aliases.empty:
        return known, ambiguous, found
    lookup = pd.concat([known_frame.assign(_canon=known_frame["account_id"]), aliases],
                       ignore_index=True)
    return small_table(t, lookup), ambiguous, found


def _matched_notes(found: dict) -> list[str]:
    """The data-quality notes on invoice-line ids matched to an account by :func:`_matched_ids`."""
    notes = []
    eg = f" (e.g. {', '.join(found.get('examples', []))})" if found.get("examples") else ""
    if found.get("trimmed"):
        notes.append(f"{found['trimmed']:,} lines matched their account once the blanks around "
                     f"the id were trimmed{eg}")
    if found.get("case"):
        notes.append(f"{found['case']:,} lines matched their account ignoring the case of the "
                     f"id{'' if found.get('trimmed') else eg}")
    if found.get("ambiguous"):
        shown = ", ".join(repr(v) for v in found["ambiguous"][:3])
        notes.append(f"ids matching several accounts when case is ignored, set aside: {shown}")
    return notes
