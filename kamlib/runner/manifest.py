"""``manifest.json``: what a run was made from and what it made.

Parameters, a sha256 of every input file and of every result table's content, the versions of
the packages that computed them, the git commit, and each step's status and duration: enough
to tell whether two runs should agree and, when they do not, why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from kamlib import __version__, paths
from kamlib.intake.engagement import Engagement
from kamlib.runner.folder import read_step_record
from kamlib.runner.parameters import StepPlan

VERSIONED_PACKAGES = ("pandas", "numpy", "scipy", "scikit-learn", "matplotlib", "seaborn",
                      "papermill", "nbconvert", "ibis-framework", "duckdb", "pyarrow", "pyspark")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """Python's, kam-workbook's and every installed package's version that shapes results."""
    found = {"python": platform.python_version(), "kam-workbook": __version__}
    for name in VERSIONED_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_state() -> dict[str, Any] | None:
    """The checkout's commit and whether tracked files differ from it (None outside git)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.REPO_ROOT, text=True,
                                capture_output=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=paths.REPO_ROOT, text=True, capture_output=True, timeout=5)
        return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def hash_inputs(engagement: Engagement) -> dict[str, list[dict[str, Any]]]:
    """Path, size and sha256 of every input file, by table."""
    hashed: dict[str, list[dict[str, Any]]] = {}
    for table, files in engagement.input_files().items():
        hashed[table] = [{"path": str(f), "bytes": f.stat().st_size, "sha256": sha256_file(f)}
                         for f in files]
    return hashed


def hash_tables(run_dir: Path, only: set[str] | None = None,
                known: dict[str, tuple[tuple[int, int], dict[str, Any]]] | None = None,
                ) -> dict[str, dict[str, Any]]:
    """sha256 of every result table's *content* (stable across Parquet writer metadata), or of
    the tables named in ``only``.

    ``known`` holds hashes taken earlier (:func:`hash_table_files`, while the run went on) by
    table, with the file's modification time and size then: such a hash is reused when the
    file is unchanged since, and taken again when it is not.
    """
    hashed = {}
    for path in sorted((Path(run_dir) / "tables").glob("*.parquet")):
        if only is not None and path.stem not in only:
            continue
        earlier = (known or {}).get(path.stem)
        hashed[path.stem] = (earlier[1] if earlier and earlier[0] == _file_state(path)
                             else _content_hash(path))
    return hashed


def hash_table_files(run_dir: Path, names: list[str],
                     into: dict[str, tuple[tuple[int, int], dict[str, Any]]]) -> None:
    """Hash the tables ``names`` of a run folder now (a step that has ended: its tables are
    whole), into ``into`` for :func:`hash_tables`'s ``known``."""
    for name in names:
        path = Path(run_dir) / "tables" / f"{name}.parquet"
        if path.exists():
            state = _file_state(path)
            into[name] = (state, _content_hash(path))


def _file_state(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _content_hash(path: Path) -> dict[str, Any]:
    """Rows and sha256 of a table's columns, types and values."""
    import pandas as pd

    df = pd.read_parquet(path)
    digest = hashlib.sha256()
    digest.update(",".join(f"{c}:{t}" for c, t in df.dtypes.astype(str).items()).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return {"rows": int(len(df)), "sha256": digest.hexdigest()}


def step_tables(run_dir: Path, notebooks: list[str]) -> set[str]:
    """The tables these steps recorded as written in a run folder."""
    records = (read_step_record(run_dir, name) for name in notebooks)
    return {table for record in records if record for table in record.get("tables", {})}


def start_manifest(engagement: Engagement, run_dir: Path, label: str,
                   plans: list[StepPlan]) -> dict[str, Any]:
    """What is known before the first notebook runs."""
    return {
        "kam_workbook": __version__,
        "engagement": {"name": engagement.name, "folder": str(engagement.folder),
                       "client": engagement.client},
        "run_dir": str(run_dir),
        "label": label,
        "command": sys.argv,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "parameters": {p.name: p.parameters for p in plans},
        "inputs": hash_inputs(engagement),
        "versions": versions(),
        "git": git_state(),
        "steps": [],
    }


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` into the run folder, whole or not at all (on a full disk a
    half-written manifest would be worse than none)."""
    path = Path(run_dir) / "manifest.json"
    partial = path.with_name(".manifest.json.partial")
    try:
        partial.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
