"""Executing notebooks: kernels, papermill's API, what a failure was, and HTML without code.

A notebook that fails is told apart by its exception's class, in the kernel: every
:class:`~kamlib.errors.KamError` shows a tag line (``KamError._render_traceback_``), and
:func:`describe_failure` reads it back. A user's mistake exits 2 with its one-paragraph
message; anything else exits 1 with the cell and the error.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import signal
import threading
from pathlib import Path
from typing import Any

from kamlib import paths
from kamlib.intake.engagement import Engagement
from kamlib.errors import USER_ERROR_TAG, KamError
from kamlib.runner.faults import kernel_write_error
from kamlib.runner.folder import executed_notebook_path
from kamlib.runner.parameters import injected_cell, plan_for

KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
"""The kernel's own start-up chatter (transport warnings) is noise on the user's terminal."""

_USER_ERROR_LINE = re.compile(rf"\[{re.escape(USER_ERROR_TAG)} (\d+)\]")


def start_kernel(env: dict[str, str] | None = None):
    """Start a ``python3`` kernel in the repository root and return its (asyncio) manager.

    The runner starts the next notebook's kernel while the current notebook runs, so the ~1.3 s
    a kernel needs to boot overlaps with work instead of adding to it. ``env`` is the kernel's
    whole environment (default: this process's). An asyncio manager, because its client notices
    within a second when the kernel is killed (the blocking client would wait for it forever).
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    km = AsyncKernelManager(kernel_name="python3")
    run_sync(km.start_kernel)(cwd=str(paths.REPO_ROOT), extra_arguments=KERNEL_ARGS,
                              **({"env": env} if env is not None else {}))
    return km


def stop_kernel(km) -> None:
    """Shut a kernel down without waiting for it to finish politely."""
    from jupyter_core.utils import run_sync

    if km is not None and km.has_kernel:
        run_sync(km.shutdown_kernel)(now=True)


def kill_kernel(km) -> None:
    """SIGKILL a kernel's process group from any thread (the signal only; :func:`stop_kernel`
    in the kernel's own thread tidies up after it)."""
    provisioner = getattr(km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is None or process.poll() is not None:
        return
    try:
        if getattr(provisioner, "pgid", None):
            os.killpg(provisioner.pgid, signal.SIGKILL)  # the kernel and anything it started
        else:  # pragma: no cover - no process group
            process.kill()
    except ProcessLookupError:
        pass


class Kernels:
    """The kernels a run has started, so that another thread can kill them all at once.

    A kernel started after :meth:`kill_all` is killed at once and :class:`KernelsStopped` raised:
    no kernel outlives an interrupted run.
    """

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env
        self.stopping = False
        self._live: list[Any] = []
        self._lock = threading.Lock()

    def start(self):
        km = start_kernel(self.env)
        with self._lock:
            if not self.stopping:
                self._live.append(km)
                return km
        stop_kernel(km)
        raise KernelsStopped("the run is stopping")

    def stop(self, km) -> None:
        """Shut one kernel down (errors on a kernel that was killed are ignored)."""
        if km is None:
            return
        with self._lock:
            if km in self._live:
                self._live.remove(km)
        try:
            stop_kernel(km)
        except Exception:
            if not self.stopping:
                raise

    def kill_all(self) -> None:
        """Kill every kernel now; called from the thread that received a stop signal."""
        with self._lock:
            self.stopping = True
            live = list(self._live)
        logging.getLogger("papermill").setLevel(logging.CRITICAL)  # not "Kernel died ...": we know
        for km in live:
            kill_kernel(km)


class KernelsStopped(RuntimeError):
    """A kernel was asked for after :meth:`Kernels.kill_all`."""


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], km=None) -> None:
    """Execute one notebook with papermill's Python API (kernel ``python3``, cwd = repo root).

    ``parameters`` are injected only when papermill writes each as a plain literal
    (:func:`~kamlib.runner.parameters.injected_cell`).

    ``km`` is an already started kernel (see :func:`start_kernel`); without one papermill
    starts its own.
    """
    import papermill as pm

    injected_cell(parameters)  # plain literals only, or nothing runs
    # papermill only warns (and misreads comments with '=') where we already validated
    logging.getLogger("papermill").setLevel(logging.ERROR)
    output.parent.mkdir(parents=True, exist_ok=True)
    extra = {"km": km} if km is not None else {"extra_arguments": KERNEL_ARGS}
    pm.execute_notebook(
        _unformattable(notebook), _unformattable(output), parameters=parameters,
        kernel_name="python3", progress_bar=False, cwd=str(paths.REPO_ROOT), log_output=False,
        engine_name=_closing_engine(), **extra,
    )


@functools.cache  # registered with papermill once per process
def _closing_engine() -> str:
    """The name of papermill's nbclient engine made to stop the kernel client it opens.

    Given a kernel (``km``), nbclient leaves the client it connected to it open -- its
    channels' threads, sockets and ZeroMQ context, about a dozen file descriptors per notebook
    -- because the kernel is not its to shut down. A process that runs many notebooks (the test
    suite, a long JupyterLab session) then runs out of descriptors. This engine runs the
    notebook as papermill's does and stops that client afterwards; the kernel itself is left
    to :func:`stop_kernel`.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    name = "kam-closing-nbclient"

    class ClosingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            for unused in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(unused, None)
            client = PapermillNotebookClient(
                nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log=logging.getLogger("papermill"),
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
            try:
                return client.execute()
            finally:
                if client.kc is not None and not client.owns_km:
                    client.kc.stop_channels()

    papermill_engines.register(name, ClosingEngine)
    return name


def _unformattable(path: Path) -> str:
    """``path`` for papermill, which formats paths with the parameters (``str.format``): braces
    are doubled, so a folder named ``client{label}`` stays that folder whatever the values."""
    return str(path).replace("{", "{{").replace("}", "}}")


def user_error_exit_code(traceback: list[str] | None) -> int | None:
    """The exit code a notebook's error output asks for when it was a KamError, else None."""
    for line in traceback or []:
        found = _USER_ERROR_LINE.fullmatch(line.strip())
        if found:
            return int(found.group(1))
    return None


def describe_failure(exc: BaseException, folder: Path | None = None) -> dict[str, Any] | None:
    """Cell, exception and exit code of a papermill execution error (None for any other).

    ``exit_code`` is the KamError's (2) when the notebook raised one, 2 for an OS error the
    user fixes (a full disk, a read-only ``folder``: ``evalue`` becomes the paragraph saying
    what to do), else 1.
    """
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(exc, PapermillExecutionError):
        return None
    first_line = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
    user_code = user_error_exit_code(exc.traceback)
    evalue = exc.evalue
    disk = kernel_write_error(exc.ename, exc.evalue, folder)
    if user_code is None and disk is not None:
        user_code, evalue = 2, disk
    return {"cell": exc.exec_count, "cell_index": exc.cell_index, "ename": exc.ename,
            "evalue": evalue, "source": first_line[:80], "user_error": user_code is not None,
            "exit_code": user_code or 1}


def failure_message(notebook: Path, failure: dict[str, Any]) -> str:
    """What the user reads: a user error's own message, or where a crash happened."""
    if failure["user_error"]:
        return f"{failure['evalue']}"
    return (f"{notebook.name} failed in cell In [{failure['cell']}] (`{failure['source']}`) "
            f"with {failure['ename']}: {failure['evalue']}")


def run_upstream(notebook: Path, engagement: Engagement, run_dir: Path) -> None:
    """Run one earlier notebook into ``run_dir`` (what :meth:`Step.load` does when a table is
    missing), with the engagement's parameters.

    Raises
    ------
    KamError
        The earlier notebook stopped on a user's mistake (any KamError): its message, prefixed
        with the notebook's name.
    """
    params = {"engagement": str(engagement.folder), "run_dir": str(run_dir),
              **plan_for(engagement, notebook).parameters}
    try:
        execute_notebook(notebook, executed_notebook_path(run_dir, notebook), params)
    except Exception as exc:
        failure = describe_failure(exc)
        if failure and failure["user_error"]:
            raise KamError(f"{notebook.stem}: {failure['evalue']}") from None
        raise


class HtmlRenderer:
    """Render executed notebooks to HTML pages without code, in-process
    (:func:`kamlib.report.step_page.step_page`: the report's stylesheet, no notebook look)."""

    def __init__(self, client: str = "", run: str = "", titles: dict[str, str] | None = None,
                 anonymised: bool = False) -> None:
        self.client, self.run, self.titles = client, run, titles or {}
        self.anonymised = anonymised

    def render(self, notebook: Path, html: Path) -> Path:
        import nbformat

        from kamlib.report.step_page import step_page

        nb = nbformat.read(notebook, as_version=4)
        title = self.titles.get(notebook.stem) or notebook.stem.split("_", 1)[-1].replace("_", " ").capitalize()
        body = step_page(nb, title=title, client=self.client, run=self.run,
                         anonymised=self.anonymised)
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(body, encoding="utf-8")
        return html
