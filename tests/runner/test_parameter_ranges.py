"""Absurd parameters through ``kam run`` on the sample: exit 2 with one paragraph naming the
parameter, never a note deep inside a notebook or an error blaming the data."""

from __future__ import annotations

import pytest

from kamlib import cli


def _kam_run(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["run", "--no-progress", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("param", ["segmentation.k=-3", "k=1", "clv.interval_level=1.5",
                                   "selection.robust_threshold=0", "account_plans.momentum_weight=2",
                                   "account_plans.health_bands=[40, 170]", "clv.n_bootstrap=-1"])
def test_a_value_outside_its_declared_range_stops_before_any_notebook(capsys, param, tmp_path,
                                                                      monkeypatch):
    reports = tmp_path / "reports"
    monkeypatch.setenv("KAM_REPORTS_DIR", str(reports))
    code, err = _kam_run(capsys, "-p", param)
    name = param.split("=")[0].split(".")[-1]
    assert code == 2, err
    assert f"Parameter '{name}'" in err and "out of range" in err
    assert not reports.exists() or not any(reports.rglob("manifest.json"))  # nothing ran


@pytest.mark.parametrize("param", ["segmentation.k=1000", "segmentation.k=601",
                                   "selection.n_key_accounts=100000",
                                   "segmentation.k_range=[2, 700]"])
def test_a_value_above_the_number_of_accounts_stops_before_any_notebook(capsys, param, tmp_path,
                                                                        monkeypatch):
    reports = tmp_path / "reports"
    monkeypatch.setenv("KAM_REPORTS_DIR", str(reports))
    code, err = _kam_run(capsys, "-p", param)
    name = param.split("=")[0].split(".")[-1]
    assert code == 2, err
    assert f"Parameter '{name}'" in err and "out of range" in err
    assert "the accounts table holds 600 accounts" in err  # the sample's accounts
    assert not reports.exists() or not any(reports.rglob("manifest.json"))  # nothing ran


def test_a_value_up_to_the_number_of_accounts_passes_the_check_before_the_run():
    from kamlib.intake.engagement import load_engagement
    from kamlib.runner.parameters import check_against_accounts, resolve_parameters

    engagement = load_engagement("sample")
    plans = resolve_parameters(engagement, {"segmentation.k": "600",
                                            "selection.n_key_accounts": "600"})
    check_against_accounts(engagement, plans)  # 600 accounts: allowed


@pytest.mark.parametrize("param, steps, expected", [
    ("as_of=1990-01-01", "intake", "Parameter 'as_of' is 1990-01-01, before the first"),
])
def test_a_value_the_data_does_not_allow_exits_2_naming_the_parameter(capsys, param, steps,
                                                                      expected):
    code, err = _kam_run(capsys, "-p", param, "--steps", steps)
    assert code == 2, err
    assert expected in err
    assert "Traceback" not in err and "failed in cell" not in err
    assert "Export the invoice lines again" not in err
