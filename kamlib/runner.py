"""Run an engagement: every step notebook, in order, through the papermill API, in one process.

The runner resolves and validates every parameter before the first notebook starts, creates a
new run folder (never overwriting one), executes the notebooks, renders each to HTML without
its code, gathers the result tables into one Excel workbook, writes an index page and a
``manifest.json`` (parameters, input hashes, versions, timings), and says where it all is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamlib import __version__, paths
from kamlib.intake.engagement import Engagement, load_engagement
from kamlib.errors import KamError, ParameterError
from kamlib.params import (ALWAYS, Declared, check_value, declared_parameters, parse_cli_value,
                           unknown_name_error)
from kamlib.report.run import ResultsWorkbook, write_index
from kamlib.step import read_step_records, step_record_path, table_path

KAM_ERRORS = {"KamError", "InputError", "ParameterError"}
"""Exception names that mean 'the user can fix this' when raised inside a notebook."""

VERSIONED_PACKAGES = ("pandas", "numpy", "scipy", "scikit-learn", "matplotlib", "seaborn",
                      "papermill", "nbconvert", "ibis-framework", "duckdb", "pyarrow", "pyspark")


# ---------------------------------------------------------------------------- parameters
@dataclass
class StepPlan:
    """One notebook to run and the parameters it will receive."""

    notebook: Path
    parameters: dict[str, Any]

    @property
    def name(self) -> str:
        return self.notebook.stem


def _step_aliases(notebooks: list[Path]) -> dict[str, Path]:
    aliases: dict[str, Path] = {}
    for nb in notebooks:
        aliases[nb.stem] = nb
        aliases[paths.step_key(nb)] = nb
    return aliases


def resolve_parameters(
    engagement: Engagement,
    overrides: Mapping[str, str] | None = None,
    typed: Mapping[str, Any] | None = None,
    notebooks: list[Path] | None = None,
) -> list[StepPlan]:
    """Work out, and check, the parameters every notebook will receive.

    Order of precedence: notebook default < ``engagement.yml`` < ``overrides`` (``-p`` text,
    ``name`` or ``step.name``) < ``typed`` (values set by CLI flags such as ``--anonymise``,
    applied to every notebook that declares them). A name no notebook declares is an error.
    Each notebook receives only the parameters it declares, and only those that differ from
    its defaults are passed (so the executed notebook shows what was changed).
    """
    notebooks = notebooks if notebooks is not None else paths.step_notebooks()
    if not notebooks:
        raise KamError(f"No step notebooks found in {paths.notebooks_dir()}.")
    declared = {nb: declared_parameters(nb) for nb in notebooks}
    aliases = _step_aliases(notebooks)
    values: dict[Path, dict[str, Any]] = {nb: {} for nb in notebooks}
    config_file = f"{engagement.folder / 'engagement.yml'}"

    def everywhere(name: str, value: Any, where: str, parse: bool) -> None:
        targets = [nb for nb in notebooks if name in declared[nb]]
        if not targets or name in ALWAYS:
            known = sorted({n for d in declared.values() for n in d} - set(ALWAYS))
            if name in ALWAYS:
                raise ParameterError(f"'{name}' is set by kam run itself ({where}); remove it.")
            raise unknown_name_error(name, known, where)
        for nb in targets:
            decl = declared[nb][name]
            values[nb][name] = parse_cli_value(decl, value) if parse else check_value(decl, value, where)

    def in_step(step: str, name: str, value: Any, where: str, parse: bool) -> None:
        nb = aliases[step]
        if name not in declared[nb] or name in ALWAYS:
            raise unknown_name_error(name, [n for n in declared[nb] if n not in ALWAYS],
                                     f"{where}, step '{step}'")
        decl = declared[nb][name]
        values[nb][name] = parse_cli_value(decl, value) if parse else check_value(decl, value, where)

    for key, value in engagement.parameters.items():
        if key in aliases and isinstance(value, dict):
            for name, v in value.items():
                in_step(key, str(name), v, config_file, parse=False)
        else:
            everywhere(str(key), value, config_file, parse=False)
    for key, text in (overrides or {}).items():
        step, _, name = key.rpartition(".")
        if step:
            if step not in aliases:
                raise ParameterError(f"-p {key}: there is no step '{step}'. Steps: "
                                     f"{', '.join(nb.stem for nb in notebooks)}.")
            in_step(step, name, text, "the command line", parse=True)
        else:
            everywhere(name, text, "the command line", parse=True)
    for name, value in (typed or {}).items():
        for nb in notebooks:
            if name in declared[nb]:
                values[nb][name] = check_value(declared[nb][name], value, "a kam run option")
    plans = []
    for nb in notebooks:
        changed = {k: v for k, v in values[nb].items() if v != declared[nb][k].default}
        plans.append(StepPlan(nb, changed))
    return plans


def all_declared(notebooks: list[Path] | None = None) -> dict[str, dict[str, Declared]]:
    """Every notebook's declared parameters, by notebook stem (for ``kam new`` and docs)."""
    return {nb.stem: declared_parameters(nb) for nb in (notebooks or paths.step_notebooks())}


# ---------------------------------------------------------------------------- run folder
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


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {"python": platform.python_version(), "kam-workbook": __version__}
    for name in VERSIONED_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _git_state() -> dict[str, Any] | None:
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


# ---------------------------------------------------------------------------- execution
@dataclass
class StepResult:
    notebook: str
    status: str  # "ok", "failed", "skipped"
    duration_s: float = 0.0
    error: dict[str, Any] | None = None


@dataclass
class RunResult:
    run_dir: Path
    steps: list[StepResult] = field(default_factory=list)
    exit_code: int = 0
    message: str = ""

    @property
    def index_html(self) -> Path:
        return self.run_dir / "html" / "index.html"


KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
"""The kernel's own start-up chatter (transport warnings) is noise on the user's terminal."""


def start_kernel():
    """Start a ``python3`` kernel in the repository root and return its manager.

    The runner starts the next notebook's kernel while the current notebook runs, so the ~1.3 s
    a kernel needs to boot overlaps with work instead of adding to it.
    """
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(paths.REPO_ROOT), extra_arguments=KERNEL_ARGS)
    return km


def stop_kernel(km) -> None:
    """Shut a kernel down without waiting for it to finish politely."""
    if km is not None and km.has_kernel:
        km.shutdown_kernel(now=True)


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], km=None) -> None:
    """Execute one notebook with papermill's Python API (kernel ``python3``, cwd = repo root).

    ``km`` is an already started kernel (see :func:`start_kernel`); without one papermill
    starts its own.
    """
    import logging

    import papermill as pm

    # papermill only warns (and misreads comments with '=') where we already validated
    logging.getLogger("papermill").setLevel(logging.ERROR)
    output.parent.mkdir(parents=True, exist_ok=True)
    extra = {"km": km} if km is not None else {"extra_arguments": KERNEL_ARGS}
    pm.execute_notebook(
        str(notebook), str(output), parameters=parameters, kernel_name="python3",
        progress_bar=False, cwd=str(paths.REPO_ROOT), log_output=False, **extra,
    )


def run_upstream(notebook: Path, engagement: Engagement, run_dir: Path) -> None:
    """Run one earlier notebook into ``run_dir`` (what :meth:`Step.load` does when a table is
    missing), with the engagement's parameters."""
    plan = next(p for p in resolve_parameters(engagement) if p.notebook == notebook)
    params = {"engagement": str(engagement.folder), "run_dir": str(run_dir), **plan.parameters}
    try:
        execute_notebook(notebook, run_dir / "notebooks" / notebook.name, params)
    except Exception as exc:
        failure = _describe_failure(exc)
        if failure and failure.get("ename") in KAM_ERRORS:
            raise KamError(f"{notebook.stem}: {failure['evalue']}") from None
        raise


def _describe_failure(exc: BaseException) -> dict[str, Any] | None:
    """Cell number, exception name and message of a papermill execution error."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        first_line = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
        return {"cell": exc.exec_count, "cell_index": exc.cell_index, "ename": exc.ename,
                "evalue": exc.evalue, "source": first_line[:80]}
    return None


class Progress:
    """A line per notebook with its duration, and a bar when a person is watching."""

    def __init__(self, total: int, stream=None, bar: bool | None = None):
        self.stream = stream or sys.stderr
        self.total = total
        interactive = self.stream.isatty() and not os.environ.get("CI")
        self.bar = None
        if bar if bar is not None else interactive:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, unit="step", leave=False,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]")

    def started(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_description(name)

    def finished(self, i: int, name: str, status: str, seconds: float) -> None:
        line = f"  [{i}/{self.total}] {name:<24} {status:<6} {seconds:6.1f} s"
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
            self.bar.update(1)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_engagement(
    ref: str | Path | None = "sample",
    overrides: Mapping[str, str] | None = None,
    label: str = "",
    typed: Mapping[str, Any] | None = None,
    steps: list[str] | None = None,
    progress: bool | None = None,
    echo: Callable[[str], None] = print,
) -> RunResult:
    """Run every step notebook of an engagement into a new run folder.

    Parameters
    ----------
    ref : str or Path
        Engagement folder, or ``"sample"``.
    overrides : mapping of str to str
        ``-p`` values as typed (``name`` or ``step.name`` -> text).
    label : str
        Appended to the run folder's timestamp.
    typed : mapping
        Already-typed values from CLI flags (``anonymise``, ``baseline``).
    steps : list of str, optional
        Run only these steps (stems or short names); default all.
    progress : bool, optional
        Force the progress bar on or off; by default on when a terminal is attached.

    Returns
    -------
    RunResult
        ``exit_code`` 0 on success, 2 for a user's mistake inside a notebook (bad input
        file), 1 for any other failure.
    """
    started = time.perf_counter()
    engagement = load_engagement(ref)
    notebooks = paths.step_notebooks()
    if steps:
        chosen = {paths.notebook_for(s) for s in steps}
        notebooks = [nb for nb in notebooks if nb in chosen]
    plans = resolve_parameters(engagement, overrides, typed, notebooks)  # before anything runs
    run_dir = new_run_dir(engagement, label)
    manifest: dict[str, Any] = {
        "kam_workbook": __version__,
        "engagement": {"name": engagement.name, "folder": str(engagement.folder),
                       "client": engagement.client},
        "run_dir": str(run_dir),
        "label": label,
        "command": sys.argv,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "parameters": {p.name: p.parameters for p in plans},
        "inputs": _hash_inputs(engagement),
        "versions": _versions(),
        "git": _git_state(),
        "steps": [],
    }
    _write_parameters(run_dir, plans)
    result = RunResult(run_dir)
    echo(f"kam run: {engagement.client} ({engagement.name}), {len(plans)} notebooks -> {run_dir}")
    bar = Progress(len(plans), bar=progress)
    renderer = HtmlRenderer()
    # HTML is rendered in a thread while the next notebook runs (the kernel does the work in
    # another process; this one mostly waits), and each kernel is started one notebook ahead.
    pages = ThreadPoolExecutor(max_workers=1)
    rendered = []
    workbook = ResultsWorkbook(run_dir)
    next_km = start_kernel()
    try:
        for i, plan in enumerate(plans, start=1):
            bar.started(plan.name)
            km, next_km = next_km, (start_kernel() if i < len(plans) else None)
            out = run_dir / "notebooks" / plan.notebook.name
            params = {"engagement": str(engagement.folder), "run_dir": str(run_dir),
                      **plan.parameters}
            t0 = time.perf_counter()
            try:
                execute_notebook(plan.notebook, out, params, km=km)
                status = StepResult(plan.name, "ok", time.perf_counter() - t0)
            except Exception as exc:  # papermill wraps the notebook's own exception
                failure = _describe_failure(exc)
                if failure is None:
                    raise
                status = StepResult(plan.name, "failed", time.perf_counter() - t0, failure)
            finally:
                stop_kernel(km)
            if out.exists():
                rendered.append(pages.submit(renderer.render, out,
                                             run_dir / "html" / f"{plan.name}.html"))
            if status.status == "ok":
                record = step_record_path(run_dir, plan.name)
                if record.exists():
                    rendered.append(pages.submit(
                        workbook.add_step, json.loads(record.read_text(encoding="utf-8"))))
            result.steps.append(status)
            bar.finished(i, plan.name, status.status, status.duration_s)
            if status.status == "failed":
                err = status.error or {}
                user_error = err.get("ename") in KAM_ERRORS
                result.exit_code = 2 if user_error else 1
                result.message = (
                    f"{err.get('evalue')}" if user_error else
                    f"{plan.notebook.name} failed in cell In [{err.get('cell')}] "
                    f"(`{err.get('source')}`) with {err.get('ename')}: {err.get('evalue')}"
                ) + f"\nThe partly executed notebook is {out}."
                break
        for plan in plans[len(result.steps):]:
            result.steps.append(StepResult(plan.name, "skipped"))
    finally:
        stop_kernel(next_km)
        bar.close()
        for future in rendered:
            future.result()
        pages.shutdown()
    outputs = finish_run(run_dir, engagement, workbook) if result.exit_code == 0 else {}
    manifest.update({
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 2),
        "status": "ok" if result.exit_code == 0 else "failed",
        "steps": [{"notebook": s.notebook, "status": s.status,
                   "duration_s": round(s.duration_s, 2), **({"error": s.error} if s.error else {})}
                  for s in result.steps],
        "tables": _hash_tables(run_dir),
        "outputs": outputs,
    })
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str),
                                           encoding="utf-8")
    return result


def _hash_inputs(engagement: Engagement) -> dict[str, list[dict[str, Any]]]:
    hashed: dict[str, list[dict[str, Any]]] = {}
    for table, files in engagement.input_files().items():
        hashed[table] = [{"path": str(f), "bytes": f.stat().st_size, "sha256": sha256_file(f)}
                         for f in files]
    return hashed


def _hash_tables(run_dir: Path) -> dict[str, dict[str, Any]]:
    """sha256 of every result table's *content* (stable across Parquet writer metadata)."""
    import pandas as pd

    hashed = {}
    for path in sorted((run_dir / "tables").glob("*.parquet")):
        df = pd.read_parquet(path)
        digest = hashlib.sha256()
        digest.update(",".join(f"{c}:{t}" for c, t in df.dtypes.astype(str).items()).encode())
        digest.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
        hashed[path.stem] = {"rows": int(len(df)), "sha256": digest.hexdigest()}
    return hashed


def _write_parameters(run_dir: Path, plans: list[StepPlan]) -> None:
    import yaml

    used = {p.name: {n: d.default for n, d in declared_parameters(p.notebook).items()
                     if n not in ALWAYS} | p.parameters for p in plans}
    (run_dir / "parameters.yml").write_text(
        "# Parameters every notebook ran with (defaults included).\n"
        + yaml.safe_dump(used, sort_keys=False, allow_unicode=True), encoding="utf-8")


# ---------------------------------------------------------------------------- outputs
class HtmlRenderer:
    """Render executed notebooks to HTML without code, in-process (nbconvert's exporter)."""

    def __init__(self) -> None:
        self._exporter = None

    def render(self, notebook: Path, html: Path) -> Path:
        import nbformat

        if self._exporter is None:
            from nbconvert import HTMLExporter

            self._exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                                          exclude_output_prompt=True)
        nb = nbformat.read(notebook, as_version=4)
        for cell in nb.cells:  # warnings and logs are for us, not for the client
            if cell.get("cell_type") == "code":
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        body, _ = self._exporter.from_notebook_node(nb)
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(body, encoding="utf-8")
        return html


def finish_run(run_dir: Path, engagement: Engagement, workbook: ResultsWorkbook) -> dict[str, str]:
    """Gather the step outputs: close the Excel workbook and write the index page."""
    written = workbook.close()
    index = write_index(run_dir, engagement, read_step_records(run_dir))
    return {"index_html": str(index), "results_xlsx": str(written) if written else ""}


__all__ = ["resolve_parameters", "run_engagement", "new_run_dir", "RunResult", "StepPlan",
           "execute_notebook", "table_path"]
