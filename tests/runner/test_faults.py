"""Runs ended from outside: Ctrl-C and SIGTERM, a disk that takes no more, and temp folders.

The signal tests start ``kam run`` in a child process, wait (polling the run folder) until a
notebook is running and signal it; every process the run started carries a marker in its
environment, so a kernel left behind is found by that marker, whoever its parent is now.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kamlib import cli, paths
from kamlib.runner import run_engagement
from kamlib.runner.faults import write_error
from tests.conftest import make_notebook
from tests.runner.test_run import HEAD, WRITE, engagement  # noqa: F401 (a fixture)

KAM = [sys.executable, "-m", "kamlib.cli"]
WAIT_S = 240  # a shared 2-core machine can be slow; every wait polls and ends as soon as it can


def _wait_for(what: str, found, timeout: float = WAIT_S, proc: subprocess.Popen | None = None):
    """Poll ``found()`` until it gives something truthy (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"kam run ended ({proc.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(0.2)
    pytest.fail(f"no {what} after {timeout} s")


def _marked(mark: str) -> list[int]:
    """Live processes (not zombies) whose environment holds ``KAM_TEST_MARK=<mark>``."""
    needle = f"KAM_TEST_MARK={mark}".encode()
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if "State:\tZ" in (proc / "status").read_text():
                continue
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:  # ended while we looked, or not ours to read
            continue
    return pids


def _start_kam(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # a shell running us in the background may ignore SIGINT, and the child would inherit that
    return subprocess.Popen([*KAM, *args], env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=paths.REPO_ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.fixture
def child_env(tmp_path):
    """Environment for a ``kam run`` child: its own TMPDIR and a marker, reports in tmp."""
    if not Path("/proc/self/environ").exists():
        pytest.skip("needs /proc to find processes left behind")
    (tmp_path / "tmp").mkdir()
    return {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "KAM_TEST_MARK": uuid.uuid4().hex,
            "PYTHONUNBUFFERED": "1"}


def _assert_nothing_left(env: dict[str, str]) -> None:
    _wait_for("end of every process of the run", lambda: not _marked(env["KAM_TEST_MARK"]) or None,
              timeout=30)
    assert os.listdir(env["TMPDIR"]) == []  # no kam-run-*, no kam-duckdb-*, no connection file


def test_ctrl_c_on_the_sample_stops_the_kernels_and_marks_the_manifest(child_env):
    reports = paths.reports_dir() / "sample"
    proc = _start_kam(["run", "--no-progress"], child_env)
    # a notebook is running and its DuckDB spill folder exists (inside the run's temp folder)
    _wait_for("running notebook", lambda: list(reports.glob("*/notebooks/*.ipynb")), proc=proc)
    _wait_for("spill folder", lambda: list(Path(child_env["TMPDIR"]).glob("kam-run-*/kam-duckdb-*")),
              proc=proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 130, err
    [run_dir] = reports.iterdir()
    lines = [ln for ln in err.splitlines() if ln.startswith("kam:")]
    assert lines == [lines[0]] and str(run_dir) in lines[0] and "interrupted (Ctrl-C)" in lines[0]
    assert "Traceback" not in err
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    running = manifest["interrupted"]["notebook"]
    assert manifest["interrupted"]["signal"] == "SIGINT"
    statuses = {s["notebook"]: s["status"] for s in manifest["steps"]}
    assert statuses[running] == "interrupted"
    names = list(statuses)
    done = names[:names.index(running)]
    assert all(statuses[n] == "ok" for n in done)
    assert all(statuses[n] == "skipped" for n in names[names.index(running) + 1:])
    written = set()  # only tables of the finished steps are hashed
    for name in done:
        written |= set(json.loads((run_dir / "steps" / f"{name}.json").read_text())["tables"])
    assert set(manifest["tables"]) == written
    _assert_nothing_left(child_env)

    again = _start_kam(["run", "--no-progress", "--steps", "intake"], child_env)
    out, err = again.communicate(timeout=WAIT_S)
    assert again.returncode == 0, err
    second = next(d for d in reports.iterdir() if d != run_dir)
    assert json.loads((second / "manifest.json").read_text())["status"] == "ok"
    _assert_nothing_left(child_env)


def test_sigterm_exits_143_with_the_running_notebook_named(child_env, tmp_path):
    ready = tmp_path / "ready"
    make_notebook(tmp_path / "nb" / "00_first.ipynb", HEAD + "n = 3  # rows\nflag = False  # f\n",
                  WRITE)
    make_notebook(tmp_path / "nb" / "10_wait.ipynb", HEAD,
                  "import time\nfrom pathlib import Path\n"
                  f"Path({str(ready)!r}).write_text('x')\ntime.sleep(600)")
    make_notebook(tmp_path / "nb" / "20_never.ipynb", HEAD, "pass")
    env = {**child_env, "KAM_NOTEBOOKS_DIR": str(tmp_path / "nb")}
    proc = _start_kam(["run", "--no-progress"], env)
    _wait_for("the waiting notebook", ready.exists, proc=proc)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 143, err
    [manifest] = paths.reports_dir().rglob("manifest.json")
    found = json.loads(manifest.read_text())
    assert found["status"] == "interrupted"
    assert found["interrupted"] == {"signal": "SIGTERM", "notebook": "10_wait"}
    assert [s["status"] for s in found["steps"]] == ["ok", "interrupted", "skipped"]
    assert set(found["tables"]) == {"numbers"}
    assert "interrupted (SIGTERM) while 10_wait was running" in err
    _assert_nothing_left(env)


def _full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a zip writer raises it: no file


@pytest.mark.parametrize("where", [
    "kamlib.runner.outputs.ResultsWorkbook.add_step",  # Excel, in the page thread
    "kamlib.runner.execute.HtmlRenderer.render",  # a notebook's page
    "kamlib.runner.run.finish_run",  # the index page, closing the workbook
    "kamlib.runner.run.write_parameters_file",  # before the first notebook
    "kamlib.runner.run.execute_notebook",  # papermill writing the executed notebook
])
def test_a_full_disk_in_the_runner_is_one_paragraph_and_exit_2(engagement, monkeypatch, capsys,
                                                              where):
    monkeypatch.setattr(where, _full)
    assert cli.main(["run", str(engagement), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [manifest] = paths.reports_dir().rglob("manifest.json")
    run_dir = manifest.parent
    assert f"kam: error: {run_dir}: No space left on device (ENOSPC). Fix: free some disk space " \
        "there (a run of the sample needs about 10 MB), or set KAM_REPORTS_DIR to a folder on a " \
        "disk with room, then run again" in err
    assert f"Run folder (incomplete): {run_dir}" in err
    found = json.loads(manifest.read_text())
    assert found["status"] == "failed"
    statuses = [s["status"] for s in found["steps"]]
    assert len(statuses) == 2 and set(statuses) <= {"ok", "failed", "skipped"}
    if where.endswith("execute_notebook"):
        assert statuses == ["failed", "skipped"] and found["steps"][0]["error"]["exit_code"] == 2


def test_a_full_disk_inside_a_notebook_names_the_run_folder(engagement, tmp_path, capsys):
    make_notebook(tmp_path / "nb" / "05_full.ipynb", HEAD,
                  "import errno, os\nimport pandas as pd\nfrom kamlib.runner import Step\n"
                  "step = Step.begin('05_full', globals())\n\n"
                  "def full(self, path, **kw):\n"
                  "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))\n\n"
                  "pd.DataFrame.to_parquet = full\n"
                  "step.save('big', pd.DataFrame({'x': [1]}))")
    assert cli.main(["run", str(engagement), "--no-progress"]) == 2
    err = capsys.readouterr().err
    [manifest] = paths.reports_dir().rglob("manifest.json")
    run_dir = manifest.parent
    assert f"kam: error: {run_dir} (writing big.parquet): No space left on device (ENOSPC). " in err
    assert "KAM_REPORTS_DIR" in err and "Traceback" not in err and "failed in cell" not in err
    found = json.loads(manifest.read_text())
    assert found["status"] == "failed"
    assert [s["status"] for s in found["steps"]] == ["ok", "failed", "skipped"]
    assert found["steps"][1]["error"]["exit_code"] == 2


def test_when_not_even_the_manifest_can_be_written(engagement, monkeypatch, capsys):
    monkeypatch.setattr("kamlib.runner.run.write_manifest", _full)
    assert cli.main(["run", str(engagement), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "could not be written either" in err
    assert "Traceback" not in err


def test_a_read_only_reports_folder_is_named(engagement):
    denied = OSError(errno.EROFS, os.strerror(errno.EROFS), str(paths.reports_dir() / "x"))
    message = str(write_error(denied, paths.reports_dir()))
    assert message.startswith(f"{paths.reports_dir()} (writing x): Read-only file system (EROFS).")
    assert "set KAM_REPORTS_DIR to a folder you can write to" in message
    assert write_error(FileNotFoundError(errno.ENOENT, "gone"), paths.reports_dir()) is None


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MB tmpfs (root only); unmounted afterwards whatever happens."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not shutil.which("mount") or os.geteuid() != 0:
        pytest.skip("a real tiny disk needs root (mount -t tmpfs): covered by the simulated tests")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): covered by the "
                    "simulated tests")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_the_sample_on_a_real_full_disk_exits_2_without_traceback(tiny_disk, child_env):
    env = {**child_env, "KAM_REPORTS_DIR": str(tiny_disk)}
    proc = _start_kam(["run", "--no-progress"], env)
    _out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    [run_dir] = (tiny_disk / "sample").iterdir()
    assert "No space left on device (ENOSPC)" in err and str(run_dir) in err
    manifest = run_dir / "manifest.json"
    if manifest.exists():  # written whole or not at all
        assert json.loads(manifest.read_text())["status"] == "failed"
    else:
        assert "could not be written either" in err
    _assert_nothing_left(env)


SPILL = '''from pathlib import Path
from kamlib.intake.engine import connect
con = connect()
spill = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]
Path(run_dir, "spill.txt").write_text(spill)
'''


@pytest.mark.parametrize("ending", ["ok", "failed"])
def test_temp_folders_go_with_the_run(engagement, tmp_path, monkeypatch, ending):
    """The kernel's DuckDB spill folder lies in the run's temp folder, removed at the end."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    make_notebook(tmp_path / "nb" / "05_spill.ipynb", HEAD, SPILL,
                  "1 / 0" if ending == "failed" else "pass")
    result = run_engagement(engagement, progress=False)
    assert result.status == ending and result.exit_code == (0 if ending == "ok" else 1)
    spill = Path((result.run_dir / "spill.txt").read_text())
    assert spill.name.startswith("kam-duckdb-") and spill.parent.name.startswith("kam-run-")
    assert spill.is_relative_to(tmp_path / "tmp") and not spill.exists()
    assert os.listdir(tmp_path / "tmp") == []


def test_a_failed_run_closes_the_warm_up_of_the_kernel_it_never_used(engagement, monkeypatch):
    """The next notebook's kernel was warmed up, but the run stopped before it: its warm-up
    client is closed with the run (left open, the garbage collector's ``term`` of the
    client's ZeroMQ context could wait for its socket forever)."""
    from kamlib.runner import run as run_module

    made = []

    def recording(km, notebook):
        warm = real(km, notebook)
        made.append(warm)
        return warm

    real = run_module.warm_up
    monkeypatch.setattr(run_module, "warm_up", recording)
    monkeypatch.setattr("kamlib.runner.run.execute_notebook", _full)
    assert cli.main(["run", str(engagement), "--no-progress"]) == 2
    assert len(made) == 2 and all(w is not None for w in made)
    assert made[1].status == "sent"  # the second kernel's warm-up was sent and never awaited
    assert all(w.closed for w in made)
