"""The whole bundled sample engagement, run twice: same inputs and parameters, same tables."""

from __future__ import annotations

import json

from kamlib import cli
from kamlib.runner import run_engagement


def test_two_runs_of_the_sample_give_identical_tables():
    runs = [run_engagement("sample", progress=False, echo=lambda _m: None) for _ in range(2)]
    for run in runs:
        assert run.exit_code == 0, run.message
    manifests = [json.loads((r.run_dir / "manifest.json").read_text()) for r in runs]
    tables = [m["tables"] for m in manifests]
    assert len(tables[0]) >= 30  # every step wrote its tables
    assert tables[0] == tables[1]
    for manifest in manifests:
        assert [s["status"] for s in manifest["steps"]] == ["ok"] * len(manifest["steps"])
        assert manifest["inputs"]["transactions"][0]["sha256"]
    run_dir = runs[0].run_dir
    for expected in ("results.xlsx", "parameters.yml", "html/index.html", "html/summary.html"):
        assert (run_dir / expected).exists(), expected
    assert len(list((run_dir / "html" / "plans").glob("*.html"))) >= 15


def test_a_capacity_that_cannot_be_met_exits_2_with_the_message(capsys):
    """CapacityError is a ParameterError subclass (kamlib.capacity): a user error. The
    capacity rules are declared once, by the selection step, which stops first."""
    code = cli.main(["run", "-p", "max_accounts=1", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "kam: error: Capacity is insufficient" in err
    assert "raise max_accounts to" in err
    assert "Traceback" not in err and "failed in cell" not in err
