"""Run an engagement: every step notebook, in order, through the papermill API, in one process.

The runner resolves and validates every parameter before the first notebook starts, creates a
new run folder (never overwriting one), executes the notebooks, renders each to HTML without
its code, gathers the result tables into one Excel workbook, writes an index page and a
``manifest.json`` (parameters, input hashes, versions, timings), and says where it all is.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kamlib import paths
from kamlib.intake.engagement import load_engagement
from kamlib.runner.execute import (HtmlRenderer, describe_failure, execute_notebook,
                                   failure_message, start_kernel, stop_kernel)
from kamlib.runner.folder import executed_notebook_path, new_run_dir, read_step_record
from kamlib.runner.manifest import hash_tables, start_manifest, write_manifest
from kamlib.runner.outputs import ResultsWorkbook, finish_run
from kamlib.runner.parameters import StepPlan, resolve_parameters, write_parameters_file


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
    manifest = start_manifest(engagement, run_dir, label, plans)
    write_parameters_file(run_dir, plans)
    echo(f"kam run: {engagement.client} ({engagement.name}), {len(plans)} notebooks -> {run_dir}")
    workbook = ResultsWorkbook(run_dir)
    result = _run_steps(plans, engagement.folder, run_dir, workbook, Progress(len(plans), bar=progress))
    outputs = finish_run(run_dir, engagement, workbook) if result.exit_code == 0 else {}
    manifest.update({
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 2),
        "status": "ok" if result.exit_code == 0 else "failed",
        "steps": [{"notebook": s.notebook, "status": s.status,
                   "duration_s": round(s.duration_s, 2), **({"error": s.error} if s.error else {})}
                  for s in result.steps],
        "tables": hash_tables(run_dir),
        "outputs": outputs,
    })
    write_manifest(run_dir, manifest)
    return result


def _run_steps(plans: list[StepPlan], folder: Path, run_dir: Path, workbook: ResultsWorkbook,
               bar: Progress) -> RunResult:
    """Execute the notebooks in order until one fails; render pages and sheets alongside.

    HTML is rendered in a thread while the next notebook runs (the kernel does the work in
    another process; this one mostly waits), and each kernel is started one notebook ahead.
    """
    result = RunResult(run_dir)
    renderer = HtmlRenderer()
    pages = ThreadPoolExecutor(max_workers=1)
    rendered = []
    next_km = start_kernel()
    try:
        for i, plan in enumerate(plans, start=1):
            bar.started(plan.name)
            km, next_km = next_km, (start_kernel() if i < len(plans) else None)
            out = executed_notebook_path(run_dir, plan.notebook)
            params = {"engagement": str(folder), "run_dir": str(run_dir), **plan.parameters}
            t0 = time.perf_counter()
            try:
                execute_notebook(plan.notebook, out, params, km=km)
                status = StepResult(plan.name, "ok", time.perf_counter() - t0)
            except Exception as exc:  # papermill wraps the notebook's own exception
                failure = describe_failure(exc)
                if failure is None:
                    raise
                status = StepResult(plan.name, "failed", time.perf_counter() - t0, failure)
            finally:
                stop_kernel(km)
            if out.exists():
                rendered.append(pages.submit(renderer.render, out,
                                             run_dir / "html" / f"{plan.name}.html"))
            record = read_step_record(run_dir, plan.name)
            if status.status == "ok" and record is not None:
                rendered.append(pages.submit(workbook.add_step, record))
            result.steps.append(status)
            bar.finished(i, plan.name, status.status, status.duration_s)
            if status.error is not None:
                result.exit_code = status.error["exit_code"]
                result.message = (f"{failure_message(plan.notebook, status.error)}\n"
                                  f"The partly executed notebook is {out}.")
                break
        for plan in plans[len(result.steps):]:
            result.steps.append(StepResult(plan.name, "skipped"))
    finally:
        stop_kernel(next_km)
        bar.close()
        for future in rendered:
            future.result()
        pages.shutdown()
    return result
