"""End-to-end runs of tiny step notebooks: outputs, manifest, failures, standalone steps."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kamlib import cli, paths
from kamlib.errors import KamError
from kamlib.runner import Step, run_engagement
from tests.conftest import make_notebook

HEAD = 'engagement = "sample"  # engagement\nrun_dir = ""  # run folder\n'
WRITE = '''import pandas as pd
from kamlib.runner import Step
step = Step.begin("00_first", globals())
step.save("numbers", pd.DataFrame({"i": range(step.params.n), "flag": step.params.flag}))
'''
READ = '''from kamlib.runner import Step
step = Step.begin("10_second", globals())
df = step.load("numbers")
step.save("doubled", df.assign(j=df.i * 2))
print("rows", len(df))
'''


@pytest.fixture
def engagement(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    make_notebook(tmp_path / "nb" / "00_first.ipynb", HEAD + "n = 3  # rows\nflag = False  # a flag\n", WRITE)
    make_notebook(tmp_path / "nb" / "10_second.ipynb", HEAD, READ)
    folder = tmp_path / "client"
    folder.mkdir()
    (folder / "engagement.yml").write_text("client: Test Client\ninputs:\n  accounts: accounts.csv\n")
    (folder / "accounts.csv").write_text("account_id\n00123\n")
    return folder


def test_a_run_writes_tables_html_workbook_and_manifest(engagement, capsys):
    result = run_engagement(engagement, {"n": "4"}, label="q3", progress=False)
    assert result.exit_code == 0, result.message
    run = result.run_dir
    assert run.name.endswith("_q3") and run.parent.name == "client"
    assert pd.read_parquet(run / "tables" / "doubled.parquet")["j"].tolist() == [0, 2, 4, 6]
    for name in ("00_first", "10_second"):
        assert (run / "notebooks" / f"{name}.ipynb").exists()
        html = (run / "html" / f"{name}.html").read_text()
        assert "step.save" not in html  # no code in what the client sees
    assert (run / "results.xlsx").exists()
    assert pd.read_excel(run / "results.xlsx", sheet_name="doubled")["j"].sum() == 12
    index = (run / "html" / "index.html").read_text()
    assert "Test Client" in index and "10_second.html" in index
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    assert manifest["parameters"]["00_first"] == {"n": 4}
    assert [s["status"] for s in manifest["steps"]] == ["ok", "ok"]
    assert all(s["duration_s"] > 0 for s in manifest["steps"])
    assert len(manifest["inputs"]["accounts"][0]["sha256"]) == 64
    assert set(manifest["tables"]) == {"numbers", "doubled"}
    assert "pandas" in manifest["versions"]
    assert "[2/2] 10_second" in capsys.readouterr().err


def test_two_runs_give_identical_tables_in_new_folders(engagement):
    first = run_engagement(engagement, progress=False)
    second = run_engagement(engagement, progress=False)
    assert first.run_dir != second.run_dir
    tables = [json.loads((r.run_dir / "manifest.json").read_text())["tables"] for r in (first, second)]
    assert tables[0] == tables[1]


def test_a_failing_notebook_stops_the_run_and_is_kept(engagement, tmp_path):
    make_notebook(tmp_path / "nb" / "05_broken.ipynb", HEAD, "x = 1", "1 / 0")
    result = run_engagement(engagement, progress=False)
    assert result.exit_code == 1
    assert "05_broken.ipynb failed in cell In [4] (`1 / 0`) with ZeroDivisionError" in result.message
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert [s["status"] for s in manifest["steps"]] == ["ok", "failed", "skipped"]
    kept = json.loads((result.run_dir / "notebooks" / "05_broken.ipynb").read_text())
    assert any(o.get("ename") == "ZeroDivisionError" for c in kept["cells"] for o in c.get("outputs", []))


def test_a_user_error_inside_a_notebook_exits_2_without_traceback(engagement, tmp_path, capsys):
    make_notebook(tmp_path / "nb" / "05_bad_input.ipynb", HEAD,
                  "from kamlib.errors import InputError\n"
                  "raise InputError('accounts.csv', 'the column is empty.', 'fill it in.', column='name', rows=[2, 3])")
    code = cli.main(["run", str(engagement), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "accounts.csv, column 'name', rows 2, 3: the column is empty. Fix: fill it in." in err
    assert "Traceback" not in err


def test_cli_parameter_mistakes_exit_2_before_anything_runs(engagement, capsys):
    assert cli.main(["run", str(engagement), "-p", "flag=maybe"]) == 2
    assert "'flag'" in capsys.readouterr().err
    assert cli.main(["run", str(engagement), "-p", "nn=3"]) == 2
    assert "Did you mean 'n'" in capsys.readouterr().err
    assert not any((engagement.parent).glob("reports/**/manifest.json"))


def test_a_notebook_on_its_own_runs_the_steps_it_needs(engagement, tmp_path):
    run_dir = tmp_path / "alone"
    step = Step.begin("10_second", {"engagement": str(engagement), "run_dir": str(run_dir)})
    df = step.load("numbers")  # 00_first has not run here: it is run first
    assert df["i"].tolist() == [0, 1, 2]
    assert (run_dir / "notebooks" / "00_first.ipynb").exists()


def test_any_kam_error_subclass_exits_2_even_one_defined_in_the_notebook(engagement, tmp_path, capsys):
    make_notebook(tmp_path / "nb" / "05_capacity.ipynb", HEAD,
                  "from kamlib.errors import ParameterError\n\n"
                  "class TooFewManagers(ParameterError):\n    pass",
                  "raise TooFewManagers('5 accounts need 2 managers. Fix: raise max_accounts to 3.')")
    code = cli.main(["run", str(engagement), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "5 accounts need 2 managers. Fix: raise max_accounts to 3." in err
    assert "Traceback" not in err and "failed in cell" not in err
    [manifest] = paths.reports_dir().rglob("manifest.json")
    error = json.loads(manifest.read_text())["steps"][1]["error"]
    assert error["ename"] == "TooFewManagers" and error["user_error"] and error["exit_code"] == 2


def test_an_exception_merely_named_like_a_user_error_is_a_crash(engagement, tmp_path):
    make_notebook(tmp_path / "nb" / "05_impostor.ipynb", HEAD,
                  "class ParameterError(Exception):\n    pass\n\nraise ParameterError('not a KamError')")
    result = run_engagement(engagement, progress=False)
    assert result.exit_code == 1
    assert "05_impostor.ipynb failed in cell In [3]" in result.message
    assert "with ParameterError: not a KamError" in result.message


def test_a_user_error_in_an_earlier_notebook_run_on_demand_is_a_kam_error(engagement, tmp_path):
    make_notebook(tmp_path / "nb" / "05_check.ipynb", HEAD,
                  "from kamlib.errors import InputError\n\n"
                  "class NoContacts(InputError):\n    pass\n\n"
                  "raise NoContacts('contacts.csv', 'there are no contacts.', 'export them.')")
    step = Step.begin("10_second", {"engagement": str(engagement), "run_dir": str(tmp_path / "alone")})
    with pytest.raises(KamError, match="^05_check: contacts.csv: there are no contacts. Fix: export them.$"):
        step.load("not_written_by_anyone")
    assert (tmp_path / "alone" / "tables" / "numbers.parquet").exists()  # 00_first ran first
