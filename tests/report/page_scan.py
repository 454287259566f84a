"""A reader's scan of an HTML page: what shows that a page came out of a notebook.

:func:`scan_page` returns one line per defect a client or a colleague would see on a page:
Python reprs, machine paths, command lines, raw cell values (``NaN``, ``True``...), index
columns, raw floats and text cut with an ellipsis. Only what a reader sees is scanned (text
and table cells; links' targets for paths), never the stylesheet, scripts or embedded images.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

REPRS = re.compile(
    r"PosixPath\(|WindowsPath\(|PurePosixPath\(|\bStep\(|<kamlib\.|<matplotlib\.|<Figure size|"
    r"<Axes|\bAxesSubplot\b|object at 0x|dict_keys\(|dict_values\(|\barray\(\[|dtype[:=]|"
    r"\bName: \w+, |Timestamp\(|datetime\.date\(|\bnp\.float|numpy\.|"
    r"\[\s*['\"][^'\"\]]*['\"]\s*[,\]]|\{\s*['\"][^'\"]*['\"]\s*:|\(\s*['\"][^'\"]*['\"]\s*,\s*['\"]")
MACHINE_PATHS = re.compile(r"(?<![\w.])/(?:tmp|home|work|root|Users|var|usr|opt|mnt)/|[A-Za-z]:\\\\|file://")
COMMANDS = re.compile(r"\bkam (?:run|new|validate|review)\b|--baseline\b|--label\b|\bpapermill\b|"
                      r"\bpip install\b|\$ kam\b")
RAW_CELLS = {"nan", "none", "true", "false", "nat", "<na>", "inf", "-inf", "null"}
RAW_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d{4,}(?![\w.])")
SCIENTIFIC = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.])")
CUT = re.compile(r"\w…(?=\s|$|[)\]])|\w\.\.\.$")
STEP_NAME = re.compile(r"\b\d\d_[a-z]+\b")
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def _visible(soup: BeautifulSoup) -> str:
    for tag in soup(["style", "script", "noscript", "template"]):
        tag.decompose()
    return soup.get_text(" ", strip=True)


def _cell_text(cell) -> str:
    return " ".join(cell.get_text(" ", strip=True).split())


def _table_defects(table, where: str) -> list[str]:
    out: list[str] = []
    header_cells = table.select("thead th, thead td")
    if not header_cells:
        first = table.find("tr")
        header_cells = first.find_all(["th"]) if first else []
    for cell in header_cells:
        if not _cell_text(cell) and not cell.find("img"):
            out.append(f"{where}: a table header cell is empty (an index column?)")
            break
    for cell in header_cells:
        if SNAKE.fullmatch(_cell_text(cell)):
            out.append(f"{where}: a column title is a code name: {_cell_text(cell)!r}")
    rows = table.select("tbody tr") or table.find_all("tr")[1:]
    firsts = [_cell_text(r.find(["th", "td"])) for r in rows if r.find(["th", "td"])]
    if len(firsts) >= 2 and firsts == [str(i) for i in range(len(firsts))]:
        out.append(f"{where}: the first column numbers the rows 0, 1, 2… (an index column)")
    for cell in table.find_all(["td", "th"]):
        text = _cell_text(cell)
        if text.lower() in RAW_CELLS:
            out.append(f"{where}: a table cell reads {text!r}")
        elif SNAKE.fullmatch(text) and not cell.find("code"):
            out.append(f"{where}: a table cell is a code name: {text!r}")
    return out


def scan_page(html: str, name: str = "page", client: bool = False) -> list[str]:
    """Every defect a reader would see on the page ``html`` (``name`` prefixes each line).

    ``client``: a page for the client (summary, index), where a notebook's name
    (``30_segmentation``) is a defect too.
    """
    soup = BeautifulSoup(html, "html.parser")
    defects: list[str] = []
    for i, table in enumerate(soup.find_all("table")):
        defects += _table_defects(table, f"{name} table {i + 1}")
    for tag in soup.find_all(href=True):
        if MACHINE_PATHS.search(tag["href"]) or tag["href"].startswith("/"):
            defects.append(f"{name}: a link points at a machine path: {tag['href'][:80]}")
    for tag in soup.find_all(src=True):
        if MACHINE_PATHS.search(tag["src"]):
            defects.append(f"{name}: an image is loaded from a machine path: {tag['src'][:80]}")
    for block in soup.select(".printed, pre"):
        shown = block.get_text().strip()
        if shown[:1] + shown[-1:] in ("[]", "{}", "()"):
            defects.append(f"{name}: printed text is a Python list, dict or tuple: {shown[:80]}")
    text = _visible(soup)
    checks = [("a Python repr", REPRS), ("a machine path", MACHINE_PATHS),
              ("a command line", COMMANDS), ("a raw float", RAW_FLOAT),
              ("a number in scientific notation", SCIENTIFIC), ("text cut with an ellipsis", CUT)]
    if client:
        checks.append(("a notebook's name", STEP_NAME))
    for what, pattern in checks:
        for found in pattern.finditer(text):
            context = text[max(0, found.start() - 40): found.end() + 40]
            defects.append(f"{name}: {what}: …{context}…")
    return defects
