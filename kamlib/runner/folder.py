"""The run folder: where every file of a run goes, decided in one place.

Layout::

    <run_dir>/tables/<name>.parquet       result tables (one Excel workbook is made from them)
    <run_dir>/figures/<name>.png          figures
    <run_dir>/html/...                    pages (one per notebook, extra pages and an index)
    <run_dir>/steps/<notebook>.json       what each step wrote (read by the runner)
    <run_dir>/notebooks/<notebook>.ipynb  executed notebooks
    <run_dir>/parameters.yml, manifest.json, results.xlsx

A run made by ``kam run`` gets a new ``reports/<engagement>/<timestamp>[_label]`` folder; a
notebook run on its own (JupyterLab, plain papermill) writes to
``reports/<engagement>/interactive``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from kamlib import paths
from kamlib.intake.engagement import Engagement

INTERACTIVE = "interactive"
"""Run folder name used when a notebook runs on its own (JupyterLab, plain papermill)."""


def default_run_dir(engagement: Engagement) -> Path:
    """``reports/<engagement>/interactive``: where notebooks run on their own write."""
    return paths.reports_dir() / engagement.name / INTERACTIVE


def new_run_dir(engagement: Engagement, label: str = "", now: dt.datetime | None = None) -> Path:
    """A fresh ``reports/<engagement>/<timestamp>[_label]`` folder; never reuses one."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    safe_label = "".join(c if c.isalnum() or c in "-_" else "-" for c in label.strip())
    base = paths.reports_dir() / engagement.name / (f"{stamp}_{safe_label}" if safe_label else stamp)
    folder, n = base, 1
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")


def inside(folder: Path, relpath: str | Path) -> Path:
    """``folder / relpath``, resolved, refusing a path that would land outside ``folder``.

    Every file a run writes goes through here (:class:`kamlib.runner.step.Step`), so no name
    -- however it was made -- can put a file next to the run folder: ``..``, an absolute
    path, a symbolic link leading out and a NUL are refused.

    Raises
    ------
    ValueError
        ``relpath`` leaves ``folder``; nothing is created then.
    """
    root = Path(folder).resolve()
    text = str(relpath)
    if "\0" in text or Path(text).is_absolute():
        raise ValueError(f"{text!r} is not a path inside {root}.")
    path = (root / text).resolve()
    if not path.is_relative_to(root) or path == root:
        raise ValueError(f"{text!r} is not a path inside {root}.")
    return path


def table_path(run_dir: Path, name: str) -> Path:
    """``tables/<name>.parquet`` of the run folder (a name that leaves ``tables/`` is refused)."""
    return inside(Path(run_dir) / "tables", f"{name}.parquet")


def step_record_path(run_dir: Path, notebook: str) -> Path:
    return Path(run_dir) / "steps" / f"{notebook}.json"


def executed_notebook_path(run_dir: Path, notebook: Path) -> Path:
    return Path(run_dir) / "notebooks" / Path(notebook).name


def read_step_record(run_dir: Path, notebook: str) -> dict[str, Any] | None:
    """What one step recorded in a run folder, or None when it has not started there."""
    path = step_record_path(run_dir, notebook)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def read_step_records(run_dir: Path) -> list[dict[str, Any]]:
    """What each step of a run folder recorded (tables, figures, pages), in step order."""
    folder = Path(run_dir) / "steps"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
