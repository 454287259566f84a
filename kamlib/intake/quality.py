"""The data-quality report: where every row of every input table went, as a table and as text,
and the rows set aside (listed in a table, written in full to ``set_aside/<table>.csv``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.formatting import CSV_FORMULA_START, CSV_NUMBER, csv_text, money, share
from kamlib.intake.accounting import MONEY_COLUMNS, money_reason_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from kamlib.intake.accounting import MoneyAccount, RowAccount

SET_ASIDE_SHOWN = 10_000
"""Most set-aside rows per table listed in the ``set_aside`` result table (the CSV has all)."""

SET_ASIDE_COLUMNS = ["table", "row", "reason", "values"]


def data_quality(accounts: list[RowAccount]) -> pd.DataFrame:
    """The ``data_quality`` table: one row per input table."""
    import pandas as pd

    cols = ["table", "file", "rows_read", "rows_used", "rows_set_aside", "set_aside_reasons",
            "notes", *MONEY_COLUMNS]
    out = pd.DataFrame([a.as_row() for a in accounts], columns=cols)
    money = [c for c in MONEY_COLUMNS if c != "revenue_set_aside_reasons"]
    return out.astype({c: "Int64" if c.endswith("_rows") else "float64" for c in money})


def summary_text(accounts: list[RowAccount], currency: str = "") -> str:
    """A readable paragraph per table: where every row went, and for the invoice lines where
    the money went."""
    parts = []
    for a in accounts:
        line = (f"{a.table}: {a.rows_read:,} rows read = {a.rows_used:,} used + "
                f"{a.rows_set_aside:,} set aside")
        if a.reasons:
            line += " (" + "; ".join(f"{r}: {n:,}" for r, n in sorted(a.reasons.items())) + ")"
        if a.notes:
            line += ". " + "; ".join(a.notes)
        parts.append(line + ".")
        if a.money is not None:
            parts.append(money_text(a.money, currency))
    return "\n".join(parts)


def money_text(m: MoneyAccount, currency: str = "") -> str:
    """``transactions money: revenue 1.2 M read = ... used + ... set aside (...)``."""
    def amount(v: float) -> str:
        return money(v, currency)

    text = (f"transactions money: revenue {amount(m.revenue_read)} read = "
            f"{amount(m.revenue_used)} used + {amount(m.revenue_set_aside)} set aside "
            f"({share(m.error_share(), digits=1)} of the revenue set aside for errors)")
    reasons = money_reason_text(m, amount)
    if reasons:
        text += " (" + "; ".join(reasons) + ")"
    text += (f"; margin {amount(m.margin_read)} read = {amount(m.margin_used)} used + "
             f"{amount(m.margin_set_aside)} set aside")
    if m.unknown_rows:
        text += (f". {m.unknown_rows:,} set-aside line(s) have an amount that cannot be read: "
                 "their money is unknown and in none of these sums (not counted as zero)")
    return text + "."


def set_aside_table(small: dict[str, Any], lines: Any, lines_aside: int) -> pd.DataFrame:
    """The ``set_aside`` table: table, row, reason, values (the row as ``column=value`` pairs),
    at most :data:`SET_ASIDE_SHOWN` rows per table.

    Parameters
    ----------
    small : dict of str to DataFrame
        Set-aside rows of the small tables, by table (``row``, ``reason`` and the raw columns).
    lines : ibis.expr.types.Table
        Set-aside invoice lines (``TransactionCheck.set_aside``), ordered by row.
    lines_aside : int
        How many invoice lines were set aside (the engine is not asked when none were).
    """
    import pandas as pd

    frames = [_listing(name, frame.head(SET_ASIDE_SHOWN)) for name, frame in small.items()
              if frame is not None and len(frame)]
    if lines_aside:
        frames.append(_listing("transactions", lines.limit(SET_ASIDE_SHOWN).to_pandas()))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SET_ASIDE_COLUMNS)
    out["row"] = out["row"].astype("Int64")
    return out[SET_ASIDE_COLUMNS].astype({"table": "str", "reason": "str", "values": "str"})


def write_set_aside(small: dict[str, Any], lines: Any, lines_aside: int,
                    folder: str | Path) -> None:
    """Write ``<folder>/<table>.csv`` with every set-aside row of each table that has any
    (arguments as :func:`set_aside_table`).

    The values are the client's, except that text a spreadsheet would run as a formula gets a
    leading apostrophe (:func:`kamlib.formatting.csv_text`): these files are opened in Excel.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in small.items():
        if frame is not None and len(frame):
            frame.map(csv_text).to_csv(folder / f"{name}.csv", index=False)
    if lines_aside:
        lines = _csv_safe_lines(lines)
        try:
            lines.to_csv(str(folder / "transactions.csv"))
        except Exception:  # a backend without a CSV writer: go through pandas
            lines.to_pandas().to_csv(folder / "transactions.csv", index=False)


def _csv_safe_lines(lines: Any) -> Any:
    """The set-aside invoice lines (an Ibis table) with :func:`~kamlib.formatting.csv_text`'s
    rule applied on the engine to every text column."""
    import ibis

    safe = {}
    for name, dtype in lines.schema().items():
        if dtype.is_string():
            col = lines[name]
            risky = col.re_search(CSV_FORMULA_START) & ~col.re_search(CSV_NUMBER)
            safe[name] = ibis.ifelse(risky, ibis.literal("'") + col, col)
    return lines.mutate(**safe) if safe else lines


def _listing(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    values = frame.drop(columns=["row", "reason"])
    text = values.astype("string").apply(
        lambda r: "; ".join(f"{k}={v}" for k, v in r.items() if not pd.isna(v)), axis=1)
    return pd.DataFrame({"table": table, "row": frame["row"].to_numpy(),
                         "reason": frame["reason"].astype("str").to_numpy(),
                         "values": text.to_numpy() if len(frame) else []})
