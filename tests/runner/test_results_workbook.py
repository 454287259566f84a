"""results.xlsx is for people: titles, formats, filters, widths, links; contacts' names only
where the plan needs them. Read back with openpyxl, as a person's Excel would."""

from __future__ import annotations

import pandas as pd
from openpyxl import load_workbook

from kamlib.formatting import EXCEL_TEXT_AS_TEXT
from kamlib.runner.outputs import ResultsWorkbook, _excel_ready


def _book(tmp_path, tables: dict[str, pd.DataFrame]):
    (tmp_path / "tables").mkdir()
    for name, df in tables.items():
        df.to_parquet(tmp_path / "tables" / f"{name}.parquet")
    book = ResultsWorkbook(tmp_path)
    book.add_step({"notebook": "00_first", "tables": {
        n: {"rows": len(df), "description": f"what {n} holds"} for n, df in tables.items()}})
    return load_workbook(book.close())


def test_a_data_sheet_has_a_bold_frozen_filtered_header_and_formats_by_column(tmp_path):
    df = pd.DataFrame({"account_id": ["C1", "C2"], "revenue_12m": [28598737.29, 1.5],
                       "share_of_sales_12m": [0.8152646732353678, 0.1], "n_orders": [3, 4],
                       "last_purchase": pd.to_datetime(["2026-01-05", "2026-02-01"]),
                       "is_key": [True, False], "weight": [0.25, 0.75]})
    ws = _book(tmp_path, {"features": df})["features"]
    titles = [c.value for c in ws[1]]
    assert titles == ["Account ID", "Revenue (12 months)", "Share of our sales (12 months)",
                      "Number of orders", "Last purchase", "Key account", "Weight"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:G3"
    formats = {ws.cell(1, j).value: ws.cell(2, j).number_format for j in range(1, 8)}
    assert formats["Revenue (12 months)"] == "#,##0"
    assert formats["Share of our sales (12 months)"] == "0.0%" and formats["Weight"] == "0.0%"
    assert formats["Number of orders"] == "#,##0"
    assert formats["Last purchase"] == "yyyy-mm-dd"
    assert ws["B2"].value == 28598737.29  # the cell keeps the exact amount
    widths = {k: ws.column_dimensions[k].width for k in "ABCDEFG"}
    assert all(w and w >= 8 for w in widths.values()), widths


def test_the_contents_sheet_links_every_sheet_with_its_description(tmp_path):
    book = _book(tmp_path, {"first_table": pd.DataFrame({"a": [1]}),
                            "second_table": pd.DataFrame({"b": ["x"]})})
    ws = book["contents"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["step", "table", "sheet"] and ws["A1"].font.b
    rows = {r[1].value: r for r in ws.iter_rows(min_row=2)}
    for table in ("first_table", "second_table"):
        cell = rows[table][2]
        assert cell.hyperlink is not None and cell.hyperlink.location == f"'{table}'!A1"
        assert rows[table][header.index("description")].value == f"what {table} holds"


def test_contacts_names_stay_out_of_sheets_that_do_not_need_them(tmp_path):
    contacts = pd.DataFrame({"contact_id": ["P1"], "account_id": ["C1"], "name": ["Ann Lee"],
                             "title": ["Buyer"], "power": [3]})
    relationship = pd.DataFrame({"contact_id": ["P1"], "contact_name": ["Ann Lee"]})
    book = _book(tmp_path, {"contacts": contacts, "plan_relationship": relationship})
    values = {c.value for row in book["contacts"].iter_rows() for c in row}
    assert "Ann Lee" not in values and "Buyer" not in values and "P1" in values
    assert "Ann Lee" in {c.value for row in book["plan_relationship"].iter_rows() for c in row}
    note = {r[1].value: r[4].value for r in book["contents"].iter_rows(min_row=2)}["contacts"]
    assert "personal data" in note


def test_a_column_with_nothing_in_it_still_gets_a_width(tmp_path):
    empty = pd.DataFrame({"counterpart": pd.array([None, None], dtype="string"), "n": [1, 2]})
    ws = _book(tmp_path, {"t": empty})["t"]
    assert ws.column_dimensions["A"].width >= 8 and ws["A1"].value == "Counterpart"


def test_cells_are_what_pandas_to_excel_writes_for_every_kind_of_column(tmp_path):
    """The sheets are written row by row (streamed), not with ``DataFrame.to_excel``: every
    kind of value still lands as to_excel puts it -- empty cells for missing values, ``inf``
    as text, numbers, booleans, dates with the date format, durations in days, text as text."""
    df = pd.DataFrame({
        "amount": [1.5, float("nan"), float("inf"), -float("inf")],
        "n_orders": [1, 2, 3, 4],
        "n_maybe": pd.array([1, None, 3, None], dtype="Int64"),
        "flag": [True, False, True, False],
        "maybe_flag": pd.array([True, None, False, None], dtype="boolean"),
        "label": pd.array(["a", None, "", "=1+1"], dtype="str"),
        "tags": pd.Series([["a", "b"], [], None, ["c"]], dtype=object),
        "day": pd.to_datetime(["2026-01-05", None, "2026-03-01", "2026-04-01"]),
        "zoned": pd.to_datetime(["2026-01-05 10:00", None, None, None]).tz_localize("UTC"),
        "wait": pd.to_timedelta(["1D", None, "36h", "0s"]),
        "kind": pd.Categorical(["x", "y", None, "x"]),
    })
    (tmp_path / "tables").mkdir()
    df.to_parquet(tmp_path / "tables" / "t.parquet")
    ours = ResultsWorkbook(tmp_path)
    ours.add_step({"notebook": "00_first", "tables": {"t": {"rows": len(df)}}})
    theirs = tmp_path / "pandas.xlsx"
    with pd.ExcelWriter(theirs, engine="xlsxwriter", date_format="yyyy-mm-dd",
                        datetime_format="yyyy-mm-dd",
                        engine_kwargs={"options": EXCEL_TEXT_AS_TEXT}) as writer:

        _excel_ready(pd.read_parquet(tmp_path / "tables" / "t.parquet")).to_excel(
            writer, sheet_name="t", index=False)

    def cells(path):
        ws = load_workbook(path)["t"]
        return [[(c.value, c.data_type, c.is_date) for c in row]
                for row in ws.iter_rows(min_row=2, max_row=len(df) + 1, max_col=len(df.columns))]

    assert cells(ours.close()) == cells(theirs)
    ws = load_workbook(ours.path)["t"]
    assert ws["H2"].number_format == "yyyy-mm-dd" and ws["A4"].value == "inf"
