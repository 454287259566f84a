"""Read a client's export (CSV, Excel or Parquet) into a pandas DataFrame of raw values.

Readers do not interpret values: CSV and Excel cells come back as text (so ``00123`` keeps its
zeros and a stray ``n/a`` in a number column is a row problem, not a crash), Parquet keeps its
own types. :mod:`kamlib.intake.parsing` then parses each column by its contract type, and the
checks (:mod:`kamlib.intake.tables`) account for every row. Headers are normalised (``" Account ID"`` -> ``account_id``).

Encoding rule for CSV (documented in ``docs/data_contract.md``): UTF-16 when the file starts
with a UTF-16 byte-order mark; otherwise UTF-8 (with or without a byte-order mark) when the
whole file decodes as UTF-8; otherwise Windows-1252 (what Excel writes as "CSV" on Western
Windows), or Latin-1 for the five bytes Windows-1252 leaves undefined. A file with NUL bytes or
many control characters is not text and is an error. The delimiter is whichever of ``,`` ``;``
tab or ``|`` occurs most often in the header line.

For invoice lines the reader only looks at the start of the file (see :func:`sniff_csv`); the
engine reads the rest (:mod:`kamlib.intake.ledger`).
"""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from kamlib.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    import pandas as pd

EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "excel", ".xlsm": "excel",
              ".parquet": "parquet", ".pq": "parquet"}
"""File extensions we read, and the reader each one uses."""

DELIMITERS = (",", ";", "\t", "|")
UNICODE_SPACES = ("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                  "\u2009\u200a\u200b\u202f\u205f\u3000\ufeff")
"""No-break, thin, ideographic and zero-width spaces (and the byte-order mark): web CRMs and
copy-paste put them into headers and values, where they are read as a plain blank."""

_UNICODE_SPACE = re.compile(f"[{UNICODE_SPACES}]")
SNIFF_BYTES = 1 << 20
"""How much of a large CSV is looked at to decide its encoding and delimiter."""


def file_kind(path: str | Path) -> str:
    """``"csv"``, ``"excel"`` or ``"parquet"`` from the file extension.

    Raises
    ------
    InputError
        For any other extension (``.xls``, ``.json``, ...), with the fix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir() or (suffix in ("", ".parquet") and "*" in path.name):
        return "parquet"  # a folder of Parquet files (a data-lake table) or a glob
    if suffix not in EXTENSIONS:
        raise InputError(
            str(path),
            f"files of type '{suffix or '(none)'}' cannot be read.",
            "Save the table as .csv (UTF-8), .xlsx or .parquet; an old .xls workbook can be "
            "re-saved as .xlsx from Excel.",
        )
    return EXTENSIONS[suffix]


def normalise_name(name: str) -> str:
    """Header as the contract spells it: trimmed, lower case, spaces and dashes as ``_``.

    ``" Account ID"`` becomes ``"account_id"``, so common export headers match without a mapping;
    no-break and other Unicode spaces (:data:`UNICODE_SPACES`) count as blanks
    (``"Account\u00a0ID"`` is ``account_id`` too).
    """
    out = _UNICODE_SPACE.sub(" ", str(name)).strip().lower()
    for ch in " -./":
        out = out.replace(ch, "_")
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def check_file(path: str | Path) -> None:
    """Raise :class:`InputError` when the file does not exist or is empty (0 bytes)."""
    path = Path(path)
    if any(ch in path.name for ch in "*?["):  # a glob: a table split over several files
        if not sorted(path.parent.glob(path.name)):
            raise InputError(str(path), "no file matches this pattern.",
                             "Check the pattern in engagement.yml (inputs:) and the folder.")
        return
    if not path.exists():
        near = sorted(p.name for p in path.parent.glob(f"{path.stem[:4]}*")) if path.parent.is_dir() else []
        hint = f" Files there with a similar name: {', '.join(near[:5])}." if near else ""
        raise InputError(
            str(path),
            "the file does not exist.",
            "Check the file name in engagement.yml (inputs:) and that the export was copied into "
            f"the engagement folder.{hint}",
        )
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(str(path), "the file is empty (0 bytes).",
                         "Export the table again; the export probably failed or was interrupted.")


def decode(data: bytes, file: str, *, partial: bool = False) -> tuple[str, str]:
    """Decode bytes by the documented encoding rule.

    Parameters
    ----------
    data : bytes
        The file content (or its start, when ``partial``).
    file : str
        For the error message.
    partial : bool
        The bytes may end in the middle of a UTF-8 character.

    Returns
    -------
    text, encoding : str, str
        ``encoding`` is one of ``utf-16``, ``utf-8-sig``, ``utf-8``, ``cp1252``, ``latin-1``.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                # the first megabyte of a big file may end in the middle of a character
                if not (partial and encoding == "utf-8-sig" and exc.start >= len(data) - 3):
                    continue
                text = data[: exc.start].decode(encoding)
            if not _looks_like_text(text):
                break
            if encoding == "utf-8-sig":
                encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
            return text, encoding
    raise InputError(
        file,
        "the file is not readable text (it is binary or in an unknown encoding).",
        "Export the table as CSV in UTF-8 (Excel: 'CSV UTF-8 (comma delimited)'), or as .xlsx or "
        ".parquet.",
    )


def _looks_like_text(text: str) -> bool:
    """Few control characters (besides tab and newlines): binary data decoded as Latin-1 fails."""
    sample = text[:SNIFF_BYTES]
    if not sample:
        return True
    control = len(_CONTROL.findall(sample))
    return control / len(sample) < 0.01


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that occurs most often in the header line (``,`` on a tie or none)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def sniff_csv(path: str | Path) -> tuple[str, str]:
    """Encoding and delimiter of a (possibly huge) CSV, from its first megabyte.

    Returns
    -------
    encoding, delimiter : str, str
    """
    path = Path(path)
    check_file(path)
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    text, encoding = decode(head, str(path), partial=True)
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise InputError(str(path), "the file has no header line.",
                         "Export the table with its column names in the first line.")
    return encoding, sniff_delimiter(first)


def plain_spaces(text: str) -> str:
    """``text`` with every Unicode space (:data:`UNICODE_SPACES`) written as a plain blank."""
    return _UNICODE_SPACE.sub(" ", text)


def _latin1_for_undefined(exc: UnicodeDecodeError) -> tuple[str, int]:
    return exc.object[exc.start:exc.end].decode("latin-1"), exc.end


codecs.register_error("kam-latin-1", _latin1_for_undefined)


def utf8_copy(path: str | Path, folder: str | Path, chunk: int = 1 << 24) -> Path:
    """Write a Windows-1252 text file as UTF-8 into ``folder``; return the copy's path.

    DuckDB reads UTF-8, UTF-16 and Latin-1 only, and refuses a file with the bytes where
    Windows-1252 puts the euro sign, dashes and curly quotes (0x80-0x9F). The copy is read
    instead; the five bytes Windows-1252 leaves undefined are taken as Latin-1 (the encoding
    rule of :func:`decode`). Single-byte encodings need no care at chunk boundaries.
    """
    path, folder = Path(path), Path(folder)
    out = folder / f"{len(list(folder.iterdir()))}_{path.stem}.csv"
    with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while data := src.read(chunk):
            dst.write(data.decode("cp1252", errors="kam-latin-1"))
    return out


def read_excel_text(path: str | Path, sheet: int | str | None = None,
                    expected: Iterable[str] = ()) -> pd.DataFrame:
    """Read an Excel sheet with every cell as text (dates as ISO ``YYYY-MM-DD``).

    Whole numbers stored as numbers come back without a trailing ``.0`` (``123``), so an id typed
    as a number still matches the same id elsewhere. Leading zeros survive only where Excel
    stored the cell as text -- a number cell has already lost them.

    ``sheet`` is a sheet's name or 0-based index; without it, the first sheet that holds the
    ``expected`` headers (the table's required columns, as :func:`normalise_name` spells them),
    else the first sheet. The header is found below a title block (:func:`header_row`).
    """
    import pandas as pd

    path = Path(path)
    check_file(path)
    expected = [normalise_name(e) for e in expected]
    try:
        chosen = choose_sheet(path, sheet, expected)
        grid = pd.read_excel(path, sheet_name=chosen, dtype=object, engine="openpyxl", header=None)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(str(path), f"the workbook cannot be opened ({type(exc).__name__}: {exc}).",
                         "Open it in Excel and save it again as .xlsx (not password-protected).") from None
    top = header_row(grid, expected=expected)
    header = [f"unnamed_{i}" if v is None or (isinstance(v, float) and v != v) else str(v)
              for i, v in enumerate(grid.iloc[top])] if len(grid) else []
    seen: dict[str, int] = {}
    for i, h in enumerate(header):  # two columns with one name: keep both, as pandas would
        seen[h] = seen.get(h, -1) + 1
        header[i] = h if not seen[h] else f"{h}.{seen[h]}"
    frame = grid.iloc[top + 1:].reset_index(drop=True)
    frame.columns = header
    frame = frame.apply(_cells_to_text) if len(frame.columns) else frame
    frame.attrs["header_row"] = top + 1
    frame.attrs["sheet"] = chosen
    return frame


def choose_sheet(path: Path, sheet: int | str | None, expected: list[str],
                 look: int = 30) -> int | str:
    """The sheet to read: ``sheet`` when given (a name, matched ignoring case and blanks, or a
    0-based index), else the first whose top ``look`` rows hold every ``expected`` header,
    else the first.

    Raises
    ------
    InputError
        The sheet named does not exist, listing the workbook's sheets.
    """
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = list(book.sheetnames)
        listed = ", ".join(repr(n) for n in names)
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise InputError(str(path), f"the workbook has no sheet {sheet + 1} (it has "
                                 f"{len(names)}: {listed}).",
                                 "Set sheet: in engagement.yml to a sheet's name or position "
                                 "(1 = the first).")
            return sheet
        if sheet is not None:
            hit = [n for n in names if normalise_name(n) == normalise_name(sheet)]
            if not hit:
                raise InputError(str(path), f"the workbook has no sheet {sheet!r} (its sheets: "
                                 f"{listed}).", "Set sheet: in engagement.yml to one of them.")
            return hit[0]
        if len(names) == 1 or not expected:
            return 0
        for i, ws in enumerate(book.worksheets):
            rows = [row for _, row in zip(range(look), ws.iter_rows(values_only=True))]
            if _row_with(rows, expected) is not None:
                return i
        return 0
    finally:
        book.close()


def _row_with(rows: list, expected: list[str]) -> int | None:
    """Index of the first row whose cells, as headers, include every ``expected`` name."""
    want = set(expected)
    for i, row in enumerate(rows):
        cells = {normalise_name(v) for v in row if v is not None and str(v).strip()}
        if want and want <= cells:
            return i
    return None


def header_row(grid: pd.DataFrame, look: int = 20, expected: Iterable[str] = ()) -> int:
    """Index of the header row of a sheet read without a header (0 = the first row).

    Exports often put a title, a date or a filter description above the table. The header is
    the first of the top ``look`` rows that holds every ``expected`` header (the table's
    required columns, or the client's names for them), when given and found; otherwise the
    first of the top rows that fills as many cells as the widest of them, when every row
    above it fills at most half as many (titles fill one or two cells). Otherwise it is the
    first row, as usual.
    """
    if len(grid) == 0:
        return 0
    expected = list(expected)
    if expected:
        rows = [list(r) for r in grid.head(max(look, 30)).itertuples(index=False)]
        found = _row_with([[v if v == v else None for v in r] for r in rows], expected)
        if found is not None:
            return found
    filled = grid.head(look).notna().sum(axis=1).tolist()
    widest = max(filled)
    first = next(i for i, n in enumerate(filled) if n == widest)
    if first and widest >= 2 and all(n <= widest / 2 for n in filled[:first]):
        return first
    return 0


def _cells_to_text(col: pd.Series) -> pd.Series:
    import datetime as dt
    import math

    import pandas as pd

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            return None
        if isinstance(v, (pd.Timestamp, dt.datetime)):
            return v.strftime("%Y-%m-%d") if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat(sep=" ")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return str(v)

    return pd.Series([one(v) for v in col], index=col.index, dtype="string")


def read_table(path: str | Path, *, sheet: int | str | None = None,
               expected: Iterable[str] = ()) -> pd.DataFrame:
    """Read a small contract table (accounts, contacts, assessments, AHP judgements).

    Parameters
    ----------
    path : str or Path
        A .csv, .xlsx or .parquet file.
    sheet, expected :
        For Excel: see :func:`read_excel_text`.

    Returns
    -------
    pandas.DataFrame
        Raw values with normalised headers: text for CSV and Excel, the file's own types for
        Parquet. Row ``i`` of the frame is data row ``i + 1`` of the file.

    Raises
    ------
    InputError
        Missing, empty, binary or undecodable file; unsupported extension; no header.
    """
    import pandas as pd

    path = Path(path)
    check_file(path)
    kind = file_kind(path)
    if kind == "csv":
        text, _ = decode(path.read_bytes(), str(path))
        text = text.lstrip("\ufeff")
        if not text.strip():
            raise InputError(str(path), "the file holds only blank lines.",
                             "Export the table again with its header and rows.")
        delim = sniff_delimiter(text.splitlines()[0])
        try:
            frame = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False,
                                skip_blank_lines=True)
        except pd.errors.ParserError as exc:
            raise InputError(str(path), f"the CSV is malformed ({exc}).",
                             "Export it again so every line has the same number of fields "
                             "(quote text that contains the delimiter).") from None
        frame = frame.replace({"": None})
    elif kind == "excel":
        frame = read_excel_text(path, sheet=sheet, expected=expected)
    else:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise InputError(str(path), f"the Parquet file cannot be read ({type(exc).__name__}).",
                             "Write it again with pyarrow or export the table as CSV.") from None
    header_at = frame.attrs.get("header_row", 1)
    frame.columns = [normalise_name(c) for c in frame.columns]
    frame = frame.loc[:, [not c.startswith("unnamed_") or frame[c].notna().any() for c in frame.columns]]
    frame = frame.reset_index(drop=True)
    frame.attrs["header_row"] = header_at
    return frame
