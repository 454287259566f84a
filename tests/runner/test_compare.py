"""``kam compare RUN_A RUN_B`` on two runs of the sample that differ in their parameters."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kamlib.cli import main
from kamlib.runner import run_engagement
from kamlib.runner.compare import NotARunFolder, compare_runs, write_comparison
from kamlib.vocabulary import NOT_SEGMENTED

STEPS = ["intake", "selection", "clv", "segmentation"]
FAST = {"selection.n_draws": "200", "clv.n_bootstrap": "20"}
GROWTH_FIRST = ("{growth: 0.28, future_potential: 0.18, billing: 0.045, profitability: 0.045, "
                "potential_profitability: 0.045, industry_weight: 0.045, market_influence: 0.045, "
                "strategic_fit: 0.045, buying_group_breadth: 0.045, cost_to_serve: 0.045, "
                "loss_impact: 0.045, reciprocity: 0.045, specialised_service: 0.045, "
                "dispersed_units: 0.045}")
SCENARIO = {"selection.weights": "direct", "selection.direct_weights": GROWTH_FIRST,
            "clv.discount_rate": "0.2", "segmentation.value_measure": "margin"}


@pytest.fixture(scope="module")
def two_runs():
    """Run A: the sample as it comes; run B: the board weights growth and future potential
    first, money is dearer and the portfolio is cut on margin. (The root conftest keeps reports in a temporary
    folder.)"""
    runs = [run_engagement("sample", {**FAST, **extra}, label=label, steps=STEPS, progress=False,
                           echo=lambda _m: None)
            for label, extra in (("base", {}), ("growth", SCENARIO))]
    for run in runs:
        assert run.exit_code == 0, run.message
    return runs[0].run_dir, runs[1].run_dir


def test_the_parameter_diff_names_exactly_what_was_changed(two_runs):
    cmp = compare_runs(*two_runs)
    diff = {(r.step, r.parameter): (r.a, r.b) for r in cmp.parameters.itertuples()}
    assert set(diff) == {("10_selection", "weights"), ("10_selection", "direct_weights"),
                         ("20_clv", "discount_rate"), ("30_segmentation", "value_measure")}
    assert diff[("10_selection", "weights")] == ('"ahp"', '"direct"')
    assert diff[("20_clv", "discount_rate")] == ("0.1", "0.2")
    assert diff[("30_segmentation", "value_measure")] == ('"revenue"', '"margin"')
    assert diff[("10_selection", "direct_weights")][0] == "{}"
    assert '"growth": 0.28' in diff[("10_selection", "direct_weights")][1]
    assert cmp.notes == []  # same inputs, every table present


def test_key_list_in_and_out_agree_with_both_runs_tables(two_runs):
    cmp = compare_runs(*two_runs)
    keys = [set(pd.read_parquet(r / "tables" / "key_accounts.parquet")["account_id"])
            for r in two_runs]
    assert set(cmp.key_in["account_id"]) == keys[1] - keys[0]
    assert set(cmp.key_out["account_id"]) == keys[0] - keys[1]
    assert cmp.key_kept == len(keys[0] & keys[1])
    assert len(cmp.key_in) > 0 and len(cmp.key_out) > 0  # weighting growth does change the list
    assert len(cmp.key_in) == len(cmp.key_out)  # same list length: every newcomer replaces one


def test_segment_moves_and_counts_agree_with_both_runs_tables(two_runs):
    cmp = compare_runs(*two_runs)
    seg = [pd.read_parquet(r / "tables" / "segments.parquet").set_index("account_id")["segment"]
           .astype(object).fillna(NOT_SEGMENTED) for r in two_runs]
    moved = set(seg[0].index[seg[0] != seg[1].reindex(seg[0].index)])
    assert set(cmp.segment_moves["account_id"]) == moved and moved
    counts = cmp.segment_counts.set_index("segment")
    assert counts["a"].sum() == counts["b"].sum() == len(seg[0])
    assert (counts["change"] == counts["b"] - counts["a"]).all()
    assert counts["change"].sum() == 0


def test_clv_and_ceiling_deltas_follow_the_discount_rate(two_runs):
    cmp = compare_runs(*two_runs)
    clv = [pd.read_parquet(r / "tables" / "clv.parquet").set_index("account_id") for r in two_runs]
    both = cmp.value.dropna(subset=["clv_a", "clv_b"]).set_index("account_id")
    acc = both.index[0]
    assert both.loc[acc, "clv_change"] == pytest.approx(clv[1].loc[acc, "clv"] - clv[0].loc[acc, "clv"])
    # a dearer discount rate lowers the CLV of every account both runs valued at a profit
    assert (both.loc[both["clv_a"] > 0, "clv_change"] < 0).all()
    totals = cmp.value_totals.set_index("measure")
    assert set(totals.index) == {"clv", "investment_ceiling"}
    assert (totals["change"] == totals["b"] - totals["a"]).all()


def test_kam_compare_writes_one_page_beside_the_runs(two_runs, capsys):
    a, b = two_runs
    assert main(["compare", str(a), str(b)]) == 0
    page = b.parent / f"compare_{a.name}_vs_{b.name}.html"
    assert str(page) in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    for heading in ("Parameters that differ (4)", "Key-account list", "Segments",
                    "Lifetime value and investment ceiling"):
        assert heading in text, heading
    assert "discount_rate" in text and "&#34;direct&#34;" in text  # values shown as written
    assert f'<a href="{b.name}/html/index.html">{b.name}</a>' in text  # links to both runs
    assert f'<a href="{a.name}/html/index.html">{a.name}</a>' in text
    assert sorted(p.name for p in b.iterdir()) == sorted(p.name for p in a.iterdir())


def test_a_run_without_a_step_leaves_its_section_out(two_runs, tmp_path):
    a, b = two_runs
    partial = tmp_path / "partial"
    (partial / "tables").mkdir(parents=True)
    manifest = json.loads((a / "manifest.json").read_text())
    (partial / "manifest.json").write_text(json.dumps(manifest))
    for name in ("key_accounts", "segments"):
        (partial / "tables" / f"{name}.parquet").write_bytes(
            (a / "tables" / f"{name}.parquet").read_bytes())
    cmp = compare_runs(partial, b)
    assert cmp.value is None and any("'clv'" in n and "partial" in n for n in cmp.notes)
    text = write_comparison(partial, b, tmp_path / "out" / "cmp.html").read_text()
    assert "Lifetime value and investment ceiling" not in text and "Key-account list" in text


def test_a_folder_that_is_not_a_run_is_a_user_error(tmp_path, capsys):
    with pytest.raises(NotARunFolder, match="no manifest.json"):
        compare_runs(tmp_path, tmp_path)
    assert main(["compare", str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a run folder" in err and "Traceback" not in err


def test_steps_only_one_run_ran_are_named_not_diffed(two_runs, tmp_path):
    a, b = two_runs
    shorter = tmp_path / "shorter"
    (shorter / "tables").mkdir(parents=True)
    (shorter / "manifest.json").write_text((a / "manifest.json").read_text())
    text = (a / "parameters.yml").read_text(encoding="utf-8")
    (shorter / "parameters.yml").write_text(text.split("30_segmentation:")[0], encoding="utf-8")
    cmp = compare_runs(shorter, b)
    assert set(cmp.parameters["step"]) == {"10_selection", "20_clv"}
    assert any("Only run" in n and "30_segmentation" in n for n in cmp.notes)
