"""Warm kernels (kamlib.runner.warm): fixed imports ahead of each notebook, never in the way."""

from __future__ import annotations

import importlib.util
import json
import threading
import time

import nbformat
import pytest

from kamlib import paths
from kamlib.runner.execute import execute_notebook, start_kernel, stop_kernel, kill_kernel
from kamlib.runner.warm import WARM_IMPORTS, WarmUp, warm_imports, warm_up, warm_up_source


def test_every_step_notebook_has_its_warm_imports_and_each_is_installed():
    stems = {nb.stem for nb in paths.step_notebooks()}
    assert stems == set(WARM_IMPORTS)
    for modules in WARM_IMPORTS.values():
        for name in modules:
            assert importlib.util.find_spec(name) is not None, name


def test_a_notebook_without_an_entry_gets_the_common_imports():
    assert "pandas" in warm_imports("notebooks/60_extra.ipynb")
    assert warm_imports("30_segmentation") == WARM_IMPORTS["30_segmentation"]
    assert "sklearn.cluster" in WARM_IMPORTS["30_segmentation"]


@pytest.mark.parametrize("name", ["os; import shutil", "__import__('os')", "a b", "", "x.", 3,
                                  "pandas\nimport os"])
def test_only_module_names_make_it_into_the_source(name):
    with pytest.raises(ValueError):
        warm_up_source(("pandas", name))


def test_the_source_imports_ignores_failures_and_leaves_no_name():
    namespace: dict = {}
    exec(warm_up_source(("json", "kamlib_no_such_module", "colorsys")), namespace)
    assert set(namespace) == {"__builtins__"}
    assert "colorsys" in __import__("sys").modules


def _notebook(tmp_path, source: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_warmed_kernel_runs_the_notebook_as_a_cold_one_would(tmp_path):
    notebook = _notebook(tmp_path, "import sys, json\n"
                                   "print(json.dumps({'warm': '_kam_warm_up' in globals(),\n"
                                   "                  'names': sorted(k for k in globals() if not k.startswith('_')),\n"
                                   "                  'colorsys': 'colorsys' in sys.modules}))")
    km = start_kernel()
    try:
        warm = WarmUp(km, ("colorsys", "kamlib_no_such_module"))
        assert warm.finish(timeout=120) == "ok"
        out = tmp_path / "out.ipynb"
        execute_notebook(notebook, out, {}, km=km)
    finally:
        stop_kernel(km)
    cell = nbformat.read(out, as_version=4).cells[0]
    assert cell.execution_count == 1  # the warm-up took no execution count
    seen = json.loads(cell.outputs[0]["text"])
    assert seen["colorsys"] and not seen["warm"]
    assert "colorsys" not in seen["names"] and "importlib" not in seen["names"]


def test_a_warm_up_on_a_dead_kernel_or_a_stopping_run_ends_quietly(monkeypatch):
    failed_threads = []
    monkeypatch.setattr(threading, "excepthook", failed_threads.append)
    km = start_kernel()
    try:
        threads = set(threading.enumerate())
        warm = WarmUp(km, ("pandas",))
        # no heartbeat thread: on a dead kernel it would keep reopening its socket
        assert warm.status == "sent" and not set(threading.enumerate()) - threads
        assert warm.finish(timeout=60, stopping=lambda: True) == "stopping"
        kill_kernel(km)
        km.provisioner.process.wait(30)
        dead = WarmUp(km, ("pandas",))
        time.sleep(0.5)  # what the heartbeat needed to reach ZeroMQ's limit of sockets
        assert dead.finish(timeout=60) in {"kernel gone", "not sent"}
    finally:
        stop_kernel(km)
    assert failed_threads == []
    assert warm_up(None, "00_intake") is None


def test_a_warm_up_that_cannot_be_sent_changes_nothing():
    class NoClient:
        def blocking_client(self):
            raise RuntimeError("no connection file")

    warm = WarmUp(NoClient(), ("pandas",))
    assert warm.status == "not sent" and warm.finish(timeout=1) == "not sent"
