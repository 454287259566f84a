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
import threading
import time
from collections.abc import Callable, Mapping
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kamlib import paths
from kamlib.errors import KamError
from kamlib.formatting import printable
from kamlib.intake.anonymise import client_pseudonym
from kamlib.intake.engagement import load_engagement
from kamlib.runner.execute import (HtmlRenderer, Kernels, describe_failure, execute_notebook,
                                   failure_message)
from kamlib.runner.faults import (RunInterrupted, kernel_environment, run_temp_dir,
                                  signals_raise, write_error)
from kamlib.runner.folder import executed_notebook_path, new_run_dir, read_step_record
from kamlib.runner.manifest import (hash_table_files, hash_tables, start_manifest, step_tables,
                                    write_manifest)
from kamlib.runner.outputs import STEP_TITLES, ResultsWorkbook, finish_run
from kamlib.runner.parameters import (StepPlan, check_against_accounts, resolve_parameters,
                                     write_parameters_file)
from kamlib.runner.warm import warm_up

STOP_TIMEOUT_S = 60
"""After a stop signal, how long to wait for the step thread to notice its kernel is gone."""


@dataclass
class StepResult:
    notebook: str
    status: str  # "ok", "failed", "skipped", "interrupted"
    duration_s: float = 0.0
    error: dict[str, Any] | None = None


@dataclass
class RunResult:
    run_dir: Path
    steps: list[StepResult] = field(default_factory=list)
    exit_code: int = 0
    message: str = ""
    status: str = "running"  # then "ok", "failed" or "interrupted"
    running: str | None = None  # the notebook executing now
    table_hashes: dict[str, Any] = field(default_factory=dict)  # taken as each step ended

    @property
    def index_html(self) -> Path:
        return self.run_dir / "html" / "index.html"

    def interrupted(self, stop: RunInterrupted, plans: list[StepPlan]) -> None:
        """Mark the run stopped by a signal: the running step ``interrupted``, the rest skipped."""
        self.status, self.exit_code = "interrupted", stop.exit_code
        done = self._close_steps(plans, StepResult(str(self.running), "interrupted"))
        during = (f"while {self.running} was running" if self.running else
                  "while the run's outputs were written" if len(done) == len(plans) else
                  "between notebooks")
        self.message = (f"interrupted ({stop.what}) {during}: the incomplete run folder "
                        f"{self.run_dir} is marked interrupted in its manifest.json; the next "
                        "kam run starts a new folder.")

    def cannot_write(self, problem: KamError, plans: list[StepPlan]) -> None:
        """Mark the run stopped by a disk that takes no more (the running step failed)."""
        self.status, self.exit_code, self.message = "failed", problem.exit_code, str(problem)
        self._close_steps(plans, StepResult(str(self.running), "failed", error={
            "ename": "OSError", "evalue": str(problem), "user_error": True,
            "exit_code": problem.exit_code}))

    def _close_steps(self, plans: list[StepPlan], running: StepResult) -> set[str]:
        """Add the running step and skip the rest; the steps that had ended before."""
        done = {s.notebook for s in self.steps}
        for plan in plans:
            if plan.name not in done:
                self.steps.append(running if plan.name == self.running
                                  else StepResult(plan.name, "skipped"))
        return done


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
    anonymise_client: bool = False,
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
    anonymise_client : bool
        Show the client as a pseudonym (``Client K7QX2``) on every page, in the deck and the
        manifest (``kam run --anonymise-client``); the notebooks get it through the
        ``KAM_ANONYMISE_CLIENT`` variable of their kernels' environment.

    Returns
    -------
    RunResult
        ``exit_code`` 0 on success; 2 for a user's mistake inside a notebook (bad input file)
        or a disk that takes no more (full, read-only); 1 for any other failure; 130 after
        Ctrl-C and 143 after SIGTERM (``status`` ``"interrupted"``: the kernels are stopped and
        the manifest says which notebook was running).

    Raises
    ------
    KamError
        Before any notebook runs: a bad parameter or engagement, or no run folder can be made.
    """
    started = time.perf_counter()
    engagement = load_engagement(ref)
    if anonymise_client:
        engagement = replace(engagement, client=client_pseudonym(engagement.name))
    notebooks = paths.step_notebooks()
    if steps:
        chosen = {paths.notebook_for(s) for s in steps}
        notebooks = [nb for nb in notebooks if nb in chosen]
    plans = resolve_parameters(engagement, overrides, typed, notebooks)  # before anything runs
    check_against_accounts(engagement, plans)
    with signals_raise() as signals, run_temp_dir() as temp:
        try:
            run_dir = new_run_dir(engagement, label)
        except OSError as exc:
            raise (write_error(exc, paths.reports_dir() / engagement.name) or exc) from None
        result = RunResult(run_dir)
        manifest: dict[str, Any] = {"run_dir": str(run_dir), "steps": []}
        try:
            manifest = start_manifest(engagement, run_dir, label, plans)
            anonymised = _anonymised(plans) or anonymise_client
            manifest["anonymised"] = {"names_and_ids": _anonymised(plans),
                                      "client": anonymise_client}
            write_parameters_file(run_dir, plans)
            echo(f"kam run: {printable(engagement.client)} ({engagement.name}), {len(plans)} "
                 "notebooks -> "
                 f"{run_dir}")
            workbook = ResultsWorkbook(run_dir, temp)
            renderer = HtmlRenderer(client=engagement.client, run=run_dir.name, titles=STEP_TITLES,
                                    anonymised=anonymised)
            _run_steps(plans, engagement.folder, result, workbook,
                       Progress(len(plans), bar=progress), Kernels(_client_environment(kernel_environment(temp), anonymise_client)),
                       renderer)
            outputs = (finish_run(run_dir, engagement, workbook, anonymised)
                       if result.exit_code == 0 else {})
            manifest["outputs"] = outputs
            result.status = "ok" if result.exit_code == 0 else "failed"
        except RunInterrupted as stop:
            result.interrupted(stop, plans)
            manifest["interrupted"] = {"signal": stop.signal_name, "notebook": result.running}
        except OSError as exc:
            problem = write_error(exc, run_dir)
            if problem is None:
                raise
            result.cannot_write(problem, plans)
        signals.hold()
        _finish_manifest(manifest, result, time.perf_counter() - started)
    return result


def _client_environment(env: dict[str, str], anonymise_client: bool) -> dict[str, str]:
    """The kernels' environment, telling :meth:`Step.begin` to show the client's pseudonym."""
    return {**env, "KAM_ANONYMISE_CLIENT": "1"} if anonymise_client else env


def _anonymised(plans: list[StepPlan]) -> bool:
    """Whether the run replaces the client's names by pseudonyms (intake's ``anonymise``)."""
    return any(bool(p.parameters.get("anonymise")) for p in plans)


def _finish_manifest(manifest: dict[str, Any], result: RunResult, seconds: float) -> None:
    """Add the run's end to the manifest and write it; say so in the message if it cannot be.

    A run that did not finish hashes only the tables of the steps that did: a table the
    interrupted step was writing may be half there.
    """
    done = [s.notebook for s in result.steps if s.status == "ok"]
    only = None if result.status == "ok" else step_tables(result.run_dir, done)
    manifest.update({
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "duration_s": round(seconds, 2),
        "status": result.status,
        "outputs": manifest.get("outputs", {}),
        "steps": [{"notebook": s.notebook, "status": s.status,
                   "duration_s": round(s.duration_s, 2), **({"error": s.error} if s.error else {})}
                  for s in result.steps],
    })
    try:
        manifest["tables"] = hash_tables(result.run_dir, only=only, known=result.table_hashes)
        write_manifest(result.run_dir, manifest)
    except OSError as exc:
        if write_error(exc, result.run_dir) is None:
            raise
        if result.status == "ok":  # the notebooks all ran; the folder is still unfinished
            result.exit_code, result.status = 2, "failed"
            result.message = str(write_error(exc, result.run_dir))
        result.message += " Its manifest.json could not be written either."


def _run_steps(plans: list[StepPlan], folder: Path, result: RunResult, workbook: ResultsWorkbook,
               bar: Progress, kernels: Kernels, renderer: HtmlRenderer | None = None) -> None:
    """Execute the notebooks (in a thread) until one fails; this thread waits for signals.

    On a stop signal (:class:`RunInterrupted` raised here, the main thread) every kernel is
    killed, the step thread notices within a second and ends, and the signal goes on up.
    """
    crash: list[BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            _execute_steps(plans, folder, result, workbook, bar, kernels, renderer)
        except BaseException as exc:  # handed to the main thread
            crash.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, name="kam-steps", daemon=True).start()
    try:  # not Thread.join: interrupted by a signal, it can take a live thread for ended
        while not done.wait(0.5):
            pass
    except RunInterrupted:
        kernels.kill_all()
        done.wait(STOP_TIMEOUT_S)
        raise
    if crash:
        raise crash[0]


def _execute_steps(plans: list[StepPlan], folder: Path, result: RunResult,
                   workbook: ResultsWorkbook, bar: Progress, kernels: Kernels,
                   renderer: HtmlRenderer | None = None) -> None:
    """Execute the notebooks in order until one fails; render pages and sheets alongside.

    HTML pages, the results workbook's sheets and the manifest's table hashes are made in a
    thread while the next notebook runs (the kernel does the work in another process; this one
    mostly waits), and each kernel is started one notebook ahead and
    warmed up with the imports its notebook will need (:mod:`kamlib.runner.warm`).
    """
    run_dir = result.run_dir
    renderer = renderer or HtmlRenderer()
    pages = ThreadPoolExecutor(max_workers=1)
    rendered = []
    next_km = warm = next_warm = None
    try:
        next_km = kernels.start()
        next_warm = warm_up(next_km, plans[0].notebook) if plans else None
        for i, plan in enumerate(plans, start=1):
            bar.started(plan.name)
            result.running = plan.name
            km, next_km, warm = next_km, None, next_warm
            next_km = kernels.start() if i < len(plans) else None
            next_warm = warm_up(next_km, plans[i].notebook) if i < len(plans) else None
            out = executed_notebook_path(run_dir, plan.notebook)
            params = {"engagement": str(folder), "run_dir": str(run_dir), **plan.parameters}
            t0 = time.perf_counter()
            try:
                warm.finish(stopping=lambda: kernels.stopping)  # its first request queues behind
                execute_notebook(plan.notebook, out, params, km=km)
                status = StepResult(plan.name, "ok", time.perf_counter() - t0)
            except Exception as exc:  # papermill wraps the notebook's own exception
                failure = None if kernels.stopping else describe_failure(exc, run_dir)
                if failure is None:
                    raise
                status = StepResult(plan.name, "failed", time.perf_counter() - t0, failure)
            finally:
                kernels.stop(km)
            if out.exists():
                rendered.append(pages.submit(renderer.render, out,
                                             run_dir / "html" / f"{plan.name}.html"))
            record = read_step_record(run_dir, plan.name)
            if status.status == "ok" and record is not None:
                rendered.append(pages.submit(workbook.add_step, record))
                rendered.append(pages.submit(hash_table_files, run_dir, list(record.get("tables", {})),
                                             result.table_hashes))
            result.steps.append(status)
            result.running = None
            bar.finished(i, plan.name, status.status, status.duration_s)
            if status.error is not None:
                result.exit_code = status.error["exit_code"]
                result.message = (f"{failure_message(plan.notebook, status.error)}\n"
                                  f"The partly executed notebook is {out}.")
                break
        for plan in plans[len(result.steps):]:
            result.steps.append(StepResult(plan.name, "skipped"))
    finally:
        for pending in (warm, next_warm):  # a step failed or the run is stopping
            if pending is not None:
                pending.close()
        kernels.stop(next_km)
        bar.close()
        futures.wait(rendered)
        pages.shutdown()
    for future in rendered:
        future.result()  # a page or sheet that could not be written (a full disk, say)
