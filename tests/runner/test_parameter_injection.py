"""Hostile parameter values never become code: engagement.yml and ``-p`` through ``kam run``.

Each payload would create a harmless marker file if it ever ran. The tiny notebook writes the
values it received as JSON, so a value that is allowed must also arrive intact.
"""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from kamlib.errors import ParameterError
from kamlib.runner import run_engagement
from tests.conftest import make_notebook

PARAMS = '''engagement = "sample"  # engagement folder
run_dir = ""  # run folder
label = "x"  # a text
criteria = []  # a list
weights = {}  # a mapping
nested = {"a": [1, 2]}  # a nested mapping
'''
ECHO = '''import json, pathlib
from kamlib.runner import Step
step = Step.begin("00_echo", globals())
pathlib.Path(step.run_dir, "received.json").write_text(json.dumps(dict(step.params)))
'''


def _payload(marker) -> str:
    """Bytes whose ``repr`` closes papermill's string literal and touches ``marker``."""
    code = f'x" + str(__import__("pathlib").Path(r"{marker}").touch()) + "'
    return base64.b64encode(code.encode()).decode()


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    make_notebook(tmp_path / "nb" / "00_echo.ipynb", PARAMS, ECHO)
    folder = tmp_path / "client"
    folder.mkdir()
    return folder


def _write_config(folder, parameters: str) -> None:
    (folder / "engagement.yml").write_text(f"client: Test Client\nparameters:\n{parameters}",
                                           encoding="utf-8")


def _run(folder, overrides=None):
    """Exit code and message of a run (a refusal before any notebook starts is exit 2)."""
    try:
        result = run_engagement(folder, overrides, progress=False, echo=lambda _: None)
    except ParameterError as exc:
        return 2, str(exc), None
    return result.exit_code, result.message, result.run_dir


BINARY_IN_CONFIG = {
    "list": "  criteria: [!!binary {b64}]\n",
    "dict": "  weights: {{x: !!binary {b64}}}\n",
    "nested": "  nested: {{a: [1, {{b: !!binary {b64}}}]}}\n",
    "text": "  label: !!binary {b64}\n",
    "per step": "  echo:\n    weights: {{x: !!binary {b64}}}\n",
    "set": "  criteria: !!set {{? !!binary {b64}}}\n",
}


@pytest.mark.parametrize("where", list(BINARY_IN_CONFIG))
def test_binary_in_engagement_yml_is_refused_and_never_runs(client, tmp_path, where):
    marker = tmp_path / "marker"
    _write_config(client, BINARY_IN_CONFIG[where].format(b64=_payload(marker)))
    code, message, _ = _run(client)
    assert not marker.exists(), "a parameter value ran as code"
    assert code == 2
    assert "engagement.yml" in message and ("!!binary" in message or "!!set" in message)


@pytest.mark.parametrize("name, text", [
    ("criteria", "[!!binary {b64}]"),
    ("echo.criteria", "[!!binary {b64}]"),
    ("weights", "{{x: !!binary {b64}}}"),
    ("nested", "{{a: [{{b: !!binary {b64}}}]}}"),
    ("weights", "{{!!binary {b64}: 1}}"),
])
def test_binary_on_the_command_line_is_refused_and_never_runs(client, tmp_path, name, text):
    marker = tmp_path / "marker"
    _write_config(client, "  label: x\n")
    code, message, _ = _run(client, {name: text.format(b64=_payload(marker))})
    assert not marker.exists(), "a parameter value ran as code"
    assert code == 2 and "!!binary" in message and name.split(".")[-1] in message


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['touch {marker}']",
                                 "!!python/name:os.system ''", "!custom x", "!!omap [{{a: 1}}]"])
def test_python_and_custom_tags_are_refused(client, tmp_path, tag):
    marker = tmp_path / "marker"
    _write_config(client, f"  weights: {{x: {tag.format(marker=marker)}}}\n")
    code, message, _ = _run(client)
    assert not marker.exists()
    assert code == 2 and "weights" in message and "engagement.yml" in message


HOSTILE = ['He said "hi"', "it's", '"""', "'''", 'x"; import os; os.system("true"); "',
           "back\\slash\\", "\\", 'end\\"', "line\nbreak\r\n\ttab", "\x00nul", "ünï©ødé ✓ \u2028",
           "{x}", "%(x)s", "#", "a" * 100_000]


def test_hostile_text_arrives_intact_in_every_kind_of_parameter(client, tmp_path):
    _write_config(client, "  label: x\n")
    config = {"label": HOSTILE[0], "criteria": HOSTILE, "weights": {h: h for h in HOSTILE},
              "nested": {"a": [1, {"deep": HOSTILE}], "b\"'\n": None}}
    (client / "engagement.yml").write_text(
        yaml.safe_dump({"client": "Test Client", "parameters": config}), encoding="utf-8")
    code, message, run_dir = _run(client)
    assert code == 0, message
    received = json.loads((run_dir / "received.json").read_text())
    assert received == config


@pytest.mark.parametrize("text", [HOSTILE[i] for i in (2, 4, 7, 8, 9, 14)])
def test_hostile_text_on_the_command_line_arrives_intact(client, text):
    _write_config(client, "  label: x\n")
    code, message, run_dir = _run(client, {"label": text})
    assert code == 0, message
    assert json.loads((run_dir / "received.json").read_text())["label"] == text


def test_braces_in_a_folder_name_are_not_filled_with_parameter_values(tmp_path, monkeypatch):
    """papermill formats notebook paths with the parameters: a folder named 'client{label}'
    must not become 'client../../x' whatever the label parameter holds."""
    monkeypatch.setenv("KAM_NOTEBOOKS_DIR", str(tmp_path / "nb"))
    make_notebook(tmp_path / "nb" / "00_echo.ipynb", PARAMS, ECHO)
    folder = tmp_path / "deep" / "er" / "client{label}"
    folder.mkdir(parents=True)
    _write_config(folder, "  label: ../../escaped\n")
    code, message, run_dir = _run(folder)
    assert code == 0, message
    assert "client{label}" in str(run_dir)
    assert (run_dir / "notebooks" / "00_echo.ipynb").exists()
    assert not list(tmp_path.rglob("*escaped*"))
