"""Write the sample tables in the formats clients send: CSV, Parquet and Excel.

Files are written byte-for-byte reproducibly where the format allows it (CSV: fixed float and
date formats, ``\\n`` line ends, UTF-8). Parquet dates are stored as ``date32`` (a calendar
date, not a timestamp), so DuckDB and Ibis read them as DATE.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kamlib.contract import TABLES


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with ISO dates, blanks for missing values, integers without '.0'."""
    out = df.copy()
    table = TABLES.get(path.stem)
    for c in out.columns:
        kind = table.column(c).type if table is not None and c in table.column_names else None
        if kind == "date" or pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
        elif kind == "int":
            out[c] = out[c].astype("Int64")
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet (zstd) with calendar dates as date32."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = TABLES.get(path.stem)
    fields = []
    arrays = []
    for c in df.columns:
        kind = table.column(c).type if table is not None and c in table.column_names else None
        s = df[c]
        if kind == "date":
            arr = pa.array(s.dt.date.where(s.notna(), None), type=pa.date32())
        elif kind == "str":
            arr = pa.array(s.astype(object).where(s.notna(), None), type=pa.string())
        else:
            arr = pa.array(s.to_numpy())
        fields.append(pa.field(c, arr.type))
        arrays.append(arr)
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path, compression="zstd", compression_level=9)


def write_excel(df: pd.DataFrame, path: Path, sheet: str) -> None:
    """One sheet, a bold frozen header, readable column widths (what a client's template looks like)."""
    from openpyxl.styles import Font

    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        df.to_excel(xl, sheet_name=sheet, index=False)
        ws = xl.sheets[sheet]
        ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for col in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 40)


def write_tables(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """Write each table under its sample file name; returns the paths."""
    from kamlib.sample import FILES

    paths = {}
    for name, df in tables.items():
        path = folder / FILES[name]
        if path.suffix == ".csv":
            write_csv(df, path)
        elif path.suffix == ".parquet":
            write_parquet(df, path)
        else:
            write_excel(df, path, sheet=name)
        paths[name] = path
    return paths
