"""Write the sample tables in the formats clients send: CSV, Parquet and Excel.

Files are written byte-for-byte reproducibly where the format allows it (CSV: fixed float and
date formats, ``\\n`` line ends, UTF-8). Parquet dates are stored as ``date32`` (a calendar
date, not a timestamp), so DuckDB and Ibis read them as DATE.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd

from kamlib.intake.contract import TABLES
from kamlib.sample.catalogue import FILES


ROW_GROUP = 100_000
"""Rows per Parquet row group: several groups let DuckDB scan the file on all cores."""


def _kind(table: str, column: str) -> str | None:
    """Logical contract type of a column (None for a column outside the contract)."""
    t = TABLES.get(table)
    return t.column(column).type if t is not None and column in t.column_names else None


def write_csv(df: pd.DataFrame, path: Path, table: str) -> None:
    """CSV with ISO dates, blanks for missing values, integers without '.0'."""
    out = df.copy()
    for c in out.columns:
        kind = _kind(table, c)
        if kind == "date" or pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
        elif kind == "int":
            out[c] = out[c].astype("Int64")
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_parquet(df: pd.DataFrame, path: Path, table: str) -> None:
    """Parquet (zstd) with calendar dates as date32 and identifiers as strings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = []
    arrays = []
    for c in df.columns:
        kind = _kind(table, c)
        s = df[c]
        if kind == "date":
            arr = pa.array(s.dt.date.where(s.notna(), None), type=pa.date32())
        elif kind == "str":
            arr = pa.array(s.astype(object).where(s.notna(), None), type=pa.string())
        else:
            arr = pa.array(s.to_numpy())
        fields.append(pa.field(c, arr.type))
        arrays.append(arr)
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path, compression="zstd", compression_level=9,
                   row_group_size=ROW_GROUP)


FIXED_TIME = datetime(2026, 6, 30, 12, 0, 0)
"""Timestamp written into Excel files instead of 'now', so the same sample gives the same bytes."""


def write_excel(df: pd.DataFrame, path: Path, sheet: str) -> None:
    """One sheet, a bold frozen header, readable column widths (what a client's template looks like).

    openpyxl stamps the creation time into the document properties and into every zip entry;
    both are pinned to :data:`FIXED_TIME` so the file is byte-for-byte reproducible.
    """
    from openpyxl.styles import Font

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as xl:
        df.to_excel(xl, sheet_name=sheet, index=False)
        xl.book.properties.creator = "kamlib.sample"
        xl.book.properties.created = FIXED_TIME
        xl.book.properties.modified = FIXED_TIME
        ws = xl.sheets[sheet]
        ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for col in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 40)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets 'modified' to now on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            dst.writestr(pinned, data)


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """Write each table under its sample file name; returns the paths."""
    paths = {}
    for name, df in tables.items():
        path = folder / FILES[name]
        if path.suffix == ".csv":
            write_csv(df, path, name)
        elif path.suffix == ".parquet":
            write_parquet(df, path, name)
        else:
            write_excel(df, path, sheet=name)
        paths[name] = path
    return paths
