"""An engagement: one client's input files and the parameters agreed for them.

An engagement is a folder with an ``engagement.yml``::

    client: ACME Industrial Ltd
    currency: EUR
    inputs:                     # contract table -> file, relative to this folder
      accounts: accounts.csv
      transactions: exports/invoice_lines_*.parquet
      contacts: contacts.xlsx
      assessments: assessments.xlsx
      ahp_judgements: ahp_judgements.csv
    parameters:                 # per step (notebook name without its number) ...
      selection:
        n_key_accounts: 25
      as_of: "2026-06-30"       # ... or top level for every step that declares it
    engine: duckdb              # or spark (see docs/scale.md)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamlib import paths
from kamlib.intake.contract import TABLES
from kamlib.intake.mapping import Mapping, read_mapping
from kamlib.errors import InputError, KamError, ParameterError

CONFIG_FILE = "engagement.yml"
_KNOWN_KEYS = {"client", "currency", "inputs", "parameters", "engine", "spark", "duckdb", "notes",
               "columns", "values", "format", "sheet"}


@dataclass
class Engagement:
    """A loaded ``engagement.yml`` and where it lives."""

    name: str
    folder: Path
    client: str
    currency: str = "EUR"
    inputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def input_path(self, table: str) -> Path | None:
        """The file (or glob) for a contract table, or ``None`` when the engagement has none."""
        rel = self.inputs.get(table)
        if not rel:
            return None
        path = Path(rel)
        return path if path.is_absolute() else self.folder / path

    def input_files(self) -> dict[str, list[Path]]:
        """Every existing input file per table (a glob or folder may name several)."""
        found: dict[str, list[Path]] = {}
        for table in self.inputs:
            path = self.input_path(table)
            if path is None:
                continue
            if any(ch in str(path) for ch in "*?["):
                files = sorted(path.parent.glob(path.name))
            elif path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
            else:
                files = [path] if path.exists() else []
            found[table] = files
        return found


def resolve_folder(ref: str | Path | None) -> Path:
    """The engagement folder for ``ref``: ``"sample"``/empty -> the bundled sample, else a path."""
    if ref in (None, "", "sample"):
        return paths.SAMPLE_DIR
    folder = Path(ref).expanduser()
    if folder.is_file() and folder.name == CONFIG_FILE:
        folder = folder.parent
    return folder


def load_engagement(ref: str | Path | None = "sample") -> Engagement:
    """Load and check an engagement folder's ``engagement.yml``.

    Raises
    ------
    KamError
        When the folder or its ``engagement.yml`` is missing or malformed; the message says
        how to fix it (``kam new DIR`` writes a complete template).
    """
    from kamlib.params import load_yaml  # yaml only when an engagement is loaded

    folder = resolve_folder(ref)
    config_path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise KamError(f"Engagement folder '{folder}' does not exist. Fix: give the folder that "
                       f"holds {CONFIG_FILE}, or create one with 'kam new {folder}'.")
    if not config_path.is_file():
        raise KamError(f"'{folder}' has no {CONFIG_FILE}. Fix: run 'kam new {folder}' to write a "
                       "template, or point at the folder that holds it.")
    try:
        config = load_yaml(config_path.read_text(encoding="utf-8"), str(config_path)) or {}
    except ParameterError:  # a tag that is not plain YAML: it names the file and the key
        raise
    except Exception as exc:  # yaml.YAMLError, UnicodeDecodeError
        raise InputError(str(config_path), f"it is not valid YAML ({exc}).",
                         "correct the line named, or start again from 'kam new'.") from exc
    if not isinstance(config, dict):
        raise InputError(str(config_path), "it should be a mapping of settings.",
                         "start from the template 'kam new DIR' writes.")
    unknown = sorted(set(config) - _KNOWN_KEYS)
    if unknown:
        raise InputError(str(config_path), f"unknown setting(s) {', '.join(unknown)}.",
                         f"use only {', '.join(sorted(_KNOWN_KEYS))}.")
    inputs = config.get("inputs") or {}
    bad = sorted(set(inputs) - set(TABLES))
    if bad:
        raise InputError(str(config_path), f"unknown input table(s) {', '.join(bad)}.",
                         f"name inputs after the contract tables: {', '.join(TABLES)}.")
    parameters = config.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise InputError(str(config_path), "'parameters' should be a mapping.",
                         "write 'parameters:' followed by indented 'name: value' lines.")
    return Engagement(
        name="sample" if folder.resolve() == paths.SAMPLE_DIR.resolve() else folder.resolve().name,
        folder=folder.resolve(),
        client=str(config.get("client") or folder.resolve().name),
        currency=str(config.get("currency") or "EUR"),
        inputs={k: str(v) for k, v in inputs.items() if v},
        parameters=parameters,
        config=config,
    )


def engagement_mapping(engagement: Engagement) -> Mapping:
    """The engagement's column and value mapping (``columns:`` and ``values:``), checked.

    Raises
    ------
    InputError
        Naming the engagement's ``engagement.yml`` and every problem of its mapping (see
        :func:`kamlib.intake.mapping.read_mapping`).
    """
    return read_mapping(engagement.config, str(engagement.folder / CONFIG_FILE))


def engagement_in(folder: str | Path) -> Path | None:
    """``folder`` when it holds an ``engagement.yml`` (the engagement ``kam validate`` and
    ``kam run`` use when given none), else ``None``."""
    folder = Path(folder)
    return folder if (folder / CONFIG_FILE).is_file() else None


def table_formats(engagement: Any) -> dict[str, Any]:
    """The ``format:`` block of an engagement's ``engagement.yml``, checked: per table its
    :class:`~kamlib.intake.formats.TableFormat` (``{transactions: {decimal: ",", thousands:
    ".", date: "DD.MM.YYYY"}}``; see docs/data_contract.md, Regional formats).

    Raises
    ------
    InputError
        An unknown table, key or value, naming the allowed ones.
    """
    from kamlib.intake.formats import parse_formats

    config = getattr(engagement, "config", None) or {}
    return parse_formats(config.get("format"), _config_file(engagement))


def table_sheets(engagement: Any) -> dict[str, int | str]:
    """The ``sheet:`` block of ``engagement.yml``, checked: per table the Excel sheet to read,
    by name or by position (1 = the first sheet; returned 0-based)."""
    from kamlib.intake.formats import parse_sheets

    config = getattr(engagement, "config", None) or {}
    return parse_sheets(config.get("sheet"), _config_file(engagement))


def _config_file(engagement: Any) -> str:
    folder = getattr(engagement, "folder", None)
    return str(Path(folder) / CONFIG_FILE) if folder else CONFIG_FILE
