"""The kam command line: help, kam new, argument mistakes."""

from __future__ import annotations

import pytest

from kamlib import cli
from kamlib.intake.contract import TABLES
from kamlib.params import load_yaml
from tests.conftest import make_notebook


def test_help_lists_commands_and_examples(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for word in ("run", "new", "validate", "sample", "examples:"):
        assert word in out


def test_kam_new_writes_config_templates_and_readme(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    make_notebook(tmp_path / "nb" / "30_segmentation.ipynb",
                  'engagement = "sample"  # e\nrun_dir = ""  # r\nk = 4  # clusters; 0 = choose\n'
                  'share = 0.5  # a share; range [0, 1]\n', "pass")
    folder = tmp_path / "acme"
    assert cli.main(["new", str(folder), "--client", "ACME Ltd"]) == 0
    config = load_yaml((folder / "engagement.yml").read_text())
    assert config["client"] == "ACME Ltd"
    assert config["parameters"] == {"segmentation": {"k": 4, "share": 0.5}}
    assert "# clusters; 0 = choose" in (folder / "engagement.yml").read_text()
    assert "share: 0.5   # a share; range [0, 1]" in (folder / "engagement.yml").read_text()
    assert set(config["inputs"]) == set(TABLES)
    header = (folder / "transactions.csv").read_text().strip().split(",")
    assert header == TABLES["transactions"].column_names
    assert "net_revenue" in (folder / "README.md").read_text()
    # the scaffold is itself a valid engagement
    from kamlib.intake.engagement import load_engagement
    assert load_engagement(folder).client == "ACME Ltd"


def test_kam_new_never_overwrites(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("client data")
    assert cli.main(["new", str(tmp_path / "x")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "x" / "keep.txt").read_text() == "client data"


def test_missing_engagement_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "kam new" in err and "Traceback" not in err


def test_malformed_p_is_a_clear_error(capsys):
    assert cli.main(["run", "-p", "novalue"]) == 2
    assert "name=value" in capsys.readouterr().err


def test_kam_new_writes_templates_of_the_optional_plan_inputs(tmp_path):
    from kamlib.intake.contract import PLAN_INPUTS, TABLES

    folder = tmp_path / "acme"
    assert cli.main(["new", str(folder)]) == 0
    text = (folder / "engagement.yml").read_text()
    readme = (folder / "README.md").read_text()
    for name in PLAN_INPUTS:
        assert (folder / f"{name}.csv").read_text().strip().split(",") == TABLES[name].column_names
        assert f"  {name}: {name}.csv   # optional" in text
        assert f"### {name} (optional)" in readme
    assert "One of: executive sponsor, key account manager" in readme


def test_a_message_naming_client_text_sends_no_escape_sequence_to_the_terminal(capsys):
    from kamlib import cli

    assert cli.main(["run", "--no-progress", "-p", "\x1b]0;pwned\x07x\u202e=1"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err
    assert "\\x1b]0;pwned\\x07x\\u202e" in err
