"""Step, the notebook side of a run: parameters read once from the namespace, tables in and out,
and how notebooks show numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from kamlib.errors import KamError, ParameterError
from kamlib.runner import Step
from kamlib.runner.step import readable_number
from tests.conftest import make_notebook

PARAMS = '''engagement = "sample"  # engagement folder
run_dir = ""  # run folder
anonymise = False  # pseudonyms for names
k = 4  # number of clusters; range 0 or [2, inf)
rate = 0.1  # discount rate; range [0, 1]
'''


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    return make_notebook(tmp_path / "nb" / "30_third.ipynb", PARAMS, "pass")


def _namespace(tmp_path, **values):
    """What a notebook's globals() hold after its parameters cell (and other names besides)."""
    return {"engagement": "sample", "run_dir": str(tmp_path / "run"), "anonymise": False,
            "k": 4, "rate": 0.1, "pd": pd, "unrelated": object(), **values}


def test_begin_reads_the_declared_parameters_from_the_namespace(notebook, tmp_path):
    step = Step.begin("30_third", _namespace(tmp_path, k=6, rate=1))
    assert step.params == {"anonymise": False, "k": 6, "rate": 1.0}
    assert isinstance(step.params["rate"], float)  # an int for a float parameter is converted
    assert step.params.k == 6  # attribute access, for cells that read p.k
    assert step.run_dir == (tmp_path / "run").resolve() and step.engagement.name == "sample"

    def analysis(anonymise, k, rate):
        return anonymise, k, rate

    assert analysis(**step.params) == (False, 6, 1.0)  # engagement and run_dir are not in it


def test_a_declared_name_missing_from_the_namespace_takes_its_default(notebook, tmp_path):
    namespace = _namespace(tmp_path)
    del namespace["rate"]
    assert Step.begin("30_third", namespace).params.rate == 0.1


@pytest.mark.parametrize("name, value", [("anonymise", "false"), ("k", "4"), ("k", True),
                                         ("rate", "0.1")])
def test_begin_refuses_a_value_of_the_wrong_type(notebook, tmp_path, name, value):
    with pytest.raises(ParameterError, match=f"'{name}' of 30_third"):
        Step.begin("30_third", _namespace(tmp_path, **{name: value}))


@pytest.mark.parametrize("name, value", [("k", -3), ("k", 1), ("rate", 1.5), ("rate", -0.5)])
def test_begin_refuses_a_value_out_of_its_range(notebook, tmp_path, name, value):
    with pytest.raises(ParameterError, match=f"'{name}' of 30_third .*out of range"):
        Step.begin("30_third", _namespace(tmp_path, **{name: value}))


@pytest.mark.parametrize("name, value", [("k", b"4"), ("k", {4}), ("rate", (0.1,)),
                                         ("rate", float("nan")), ("engagement", b"sample")])
def test_begin_refuses_a_value_that_is_not_plain(notebook, tmp_path, name, value):
    with pytest.raises(ParameterError, match=f"'{name}' of 30_third .*not a plain value"):
        Step.begin("30_third", _namespace(tmp_path, **{name: value}))


def test_plain_papermill_gets_the_same_range_check(notebook, tmp_path):
    """``papermill -p k -3`` bypasses kam run: the notebook's Step.begin refuses it."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    make_notebook(notebook, PARAMS, "from kamlib.runner import Step\n"
                  "step = Step.begin('30_third', globals())")
    with pytest.raises(PapermillExecutionError) as failed:
        pm.execute_notebook(str(notebook), str(tmp_path / "out.ipynb"), kernel_name="python3",
                            parameters={"k": -3, "run_dir": str(tmp_path / "run")},
                            progress_bar=False)
    assert failed.value.ename == "ParameterError" and "'k' of 30_third" in failed.value.evalue


def test_papermills_false_text_for_a_bool_gets_a_how_to_fix_hint(notebook, tmp_path):
    with pytest.raises(ParameterError, match="papermill -p anonymise False"):
        Step.begin("30_third", _namespace(tmp_path, anonymise="false"))


def test_a_name_papermill_injected_that_the_notebook_does_not_declare_is_an_error(notebook, tmp_path):
    injected = "# Parameters\nengagement = \"sample\"\nkk = 5\n"
    namespace = _namespace(tmp_path, kk=5, In=["", PARAMS, injected])
    with pytest.raises(ParameterError, match="Unknown parameter 'kk'.*Did you mean 'k'"):
        Step.begin("30_third", namespace)
    namespace["In"] = ["", PARAMS, "# Parameters\nk = 5\n"]
    assert Step.begin("30_third", namespace | {"k": 5}).params.k == 5


FIRST = ("import pandas as pd\nfrom kamlib.runner import Step\n"
         "step = Step.begin('00_first', globals())\n"
         "step.save('written_first', pd.DataFrame({'n': [1]}))")


def test_load_optional_runs_earlier_steps_and_gives_none_when_none_writes_the_table(notebook, tmp_path):
    make_notebook(notebook.parent / "00_first.ipynb", PARAMS, FIRST)
    step = Step.begin("30_third", _namespace(tmp_path))
    assert step.load_optional("clv") is None  # 00_first ran, and it does not write clv
    assert (step.run_dir / "notebooks" / "00_first.ipynb").exists()
    assert step.load_optional("written_first")["n"].tolist() == [1]
    step.save("clv", pd.DataFrame({"account_id": ["A1"], "clv": [1.5]}))
    assert step.load_optional("clv")["clv"].tolist() == [1.5]
    with pytest.raises(KamError, match="No step before 30_third wrote the table 'other'"):
        step.load("other")


def test_load_optional_does_not_swallow_an_earlier_steps_failure(notebook, tmp_path):
    make_notebook(notebook.parent / "00_first.ipynb", PARAMS, "raise RuntimeError('broken')")
    step = Step.begin("30_third", _namespace(tmp_path))
    with pytest.raises(Exception, match="broken"):
        step.load_optional("clv")


def test_save_all_saves_every_table_with_its_description(notebook, tmp_path):
    step = Step.begin("30_third", _namespace(tmp_path))
    tables = {"clv": pd.DataFrame({"clv": [1.5]}), "clv_holdout": pd.DataFrame({"n": [2]})}
    step.save_all(tables, {"clv": "CLV per account"})
    assert step.load_optional("clv_holdout")["n"].tolist() == [2]
    records = step._record["tables"]
    assert list(records) == ["clv", "clv_holdout"]
    assert [r["description"] for r in records.values()] == ["CLV per account", ""]
    assert all(r["excel"] for r in records.values())


def test_pages_writes_many_pages_and_files_and_lists_only_the_pages(notebook, tmp_path):
    step = Step.begin("30_third", _namespace(tmp_path))
    written = step.pages([("Plan A", "plans/A.html", "<p>A</p>"), ("Plan B", "plans/B.html", "<p>B</p>")],
                         files=[("plans/A.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")])
    html = step.run_dir / "html"
    assert written == [html / "plans/A.html", html / "plans/B.html", html / "plans/A.ics"]
    assert (html / "plans/B.html").read_text(encoding="utf-8") == "<p>B</p>"
    assert (html / "plans/A.ics").read_bytes().count(b"\r\n") == 2  # line ends written as given
    assert step._record["pages"] == [{"title": "Plan A", "path": "plans/A.html"},
                                     {"title": "Plan B", "path": "plans/B.html"}]


@pytest.mark.parametrize("relpath", ["../x.html", "plans/../../x.html", "/tmp/x.html"])
def test_pages_refuses_a_path_outside_the_html_folder(notebook, tmp_path, relpath):
    step = Step.begin("30_third", _namespace(tmp_path))
    with pytest.raises(ValueError, match="inside the run's html/"):
        step.pages([("ok", "fine.html", "ok"), ("bad", relpath, "bad")])
    with pytest.raises(ValueError, match="inside the run's html/"):
        step.pages(files=[(relpath, "bad")])
    assert not (step.run_dir / "html" / "fine.html").exists()  # nothing written
    assert not (step.run_dir / "x.html").exists() and step._record["pages"] == []


@pytest.mark.parametrize("relpath", ["../x", "a/../../x", "/tmp/x", "html/\0x", "."])
def test_every_write_refuses_a_path_outside_the_run_folder(notebook, tmp_path, relpath):
    from matplotlib.figure import Figure

    step = Step.begin("30_third", _namespace(tmp_path))
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match="not a path inside"):
        step.path(relpath)
    with pytest.raises(ValueError, match="not a path inside"):
        step.page("bad", relpath, "<p>bad</p>")
    if relpath != ".":  # "." names tables/.parquet and figures/.png: inside, if odd
        with pytest.raises(ValueError, match="not a path inside"):
            step.save(relpath, pd.DataFrame({"a": [1]}))
        with pytest.raises(ValueError, match="not a path inside"):
            step.figure(relpath, Figure())
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, no folder made
    assert step._record["pages"] == [] and step._record["tables"] == {}


def test_a_symbolic_link_out_of_the_run_folder_is_refused(notebook, tmp_path):
    step = Step.begin("30_third", _namespace(tmp_path))
    (tmp_path / "elsewhere").mkdir()
    (step.run_dir / "html").mkdir(exist_ok=True)
    (step.run_dir / "html" / "plans").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="inside the run's html/"):
        step.pages(files=[("plans/A.ics", "x")])
    assert not list((tmp_path / "elsewhere").iterdir())


def test_a_figure_is_saved_with_its_own_title_for_the_index(notebook, tmp_path):
    import matplotlib.pyplot as plt

    step = Step.begin("30_third", _namespace(tmp_path))
    with_suptitle, ax = plt.subplots()
    with_suptitle.suptitle("Value by segment")
    ax.set_title("ignored when there is a suptitle")
    axes_only, ax = plt.subplots()
    ax.set_title("Growth", loc="left")
    step.figure("value", with_suptitle)
    step.figure("growth", axes_only)
    assert (step.run_dir / "figures" / "value.png").stat().st_size > 0
    assert step._record["figure_titles"] == {"value": "Value by segment", "growth": "Growth"}


@pytest.mark.parametrize("value, text", [
    (7.0, "7"), (0.3599, "0.360"), (4.6e-6, "< 0.001"), (1234567.891, "1,234,568"),
    (-12.5, "-12.50"), (0.0, "0"), (float("nan"), "–"),
])
def test_readable_number(value, text):
    assert readable_number(value) == text


def test_figure_returns_the_png_it_saved(notebook, tmp_path):
    from matplotlib.figure import Figure

    step = Step.begin("30_third", _namespace(tmp_path))
    fig = Figure()
    fig.add_subplot().plot([0, 1])
    png = step.figure("line", fig)
    assert png == step.run_dir / "figures" / "line.png" and png.read_bytes()[:4] == b"\x89PNG"


def test_page_links_lead_from_one_page_to_the_pages_of_the_run(notebook, tmp_path):
    step = Step.begin("30_third", _namespace(tmp_path))
    step.page("Plan A17", "plans/A17.html", "<p>A17</p>")
    assert step.page_links("summary.html") == {"A17": "plans/A17.html"}
    assert step.page_links("plans/index.html") == {"A17": "A17.html"}


def test_page_links_find_a_page_by_its_key_when_it_has_one(notebook, tmp_path):
    step = Step.begin("30_third", _namespace(tmp_path))
    step.pages([("Plan DE/4711", "plans/DE-4711-0123456789.html", "<p>x</p>", "DE/4711"),
                ("Summary", "summary.html", "<p>s</p>")])
    assert step.page_links("summary.html") == {"DE/4711": "plans/DE-4711-0123456789.html",
                                               "summary": "summary.html"}
    assert step._record["pages"][0]["key"] == "DE/4711"


def test_load_baseline_reads_the_baseline_parameter(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    make_notebook(tmp_path / "nb" / "50_fifth.ipynb", PARAMS + 'baseline = ""  # previous run\n',
                  "pass")
    step = Step.begin("50_fifth", _namespace(tmp_path))
    assert step.load_baseline() is None
    assert "first plan" in step.baseline_hint() and str(step.run_dir) in step.baseline_hint()
    earlier = tmp_path / "earlier"
    with pytest.raises(ParameterError, match="does not exist"):
        Step.begin("50_fifth", _namespace(tmp_path, baseline=str(earlier))).load_baseline()
    (earlier / "tables").mkdir(parents=True)
    plan = pd.DataFrame({"account_id": ["A"], "objective_id": ["A-REV"], "objective": ["revenue"],
                         "due_date": [pd.Timestamp("2026-09-30")], "target": [100.0]})
    plan.to_parquet(earlier / "tables" / "plan_objectives.parquet")
    pd.DataFrame({"account_id": ["A"], "action_id": ["X1"], "action": ["call"],
                  "due_date": [pd.Timestamp("2026-08-01")], "status": ["done"]}).to_parquet(
        earlier / "tables" / "plan_actions.parquet")
    last = Step.begin("50_fifth", _namespace(tmp_path, baseline=str(earlier))).load_baseline()
    assert last.objectives["target"].tolist() == [100.0] and last.source.endswith(
        "(plan_objectives, plan_actions)")


def test_styled_tables_in_a_notebook_escape_their_text(notebook, tmp_path):
    Step.begin("30_third", _namespace(tmp_path))
    html = pd.DataFrame({"name": ["<script>alert(1)</script>"]}).style.to_html()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
