"""The ``kam compare`` page on small hand-made run folders: every number traced, names escaped."""

from __future__ import annotations

import json

import pandas as pd

from kamlib.runner.compare import compare_runs, write_comparison

HOSTILE = "<script>alert(1)</script> & Sons"


def _run(folder, keys, segments, clv, params, client="Acme & <Co>"):
    (folder / "tables").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(
        {"label": folder.name, "engagement": {"folder": "", "client": client},
         "inputs": {"transactions": [{"sha256": "abc"}]}, "parameters": {}}))
    (folder / "parameters.yml").write_text(json.dumps(params))  # JSON is YAML
    ids = list(segments)
    names = {i: (HOSTILE if i == "A2" else f"Account {i}") for i in ids}
    pd.DataFrame({"account_id": keys, "name": [names[i] for i in keys],
                  "rank": range(1, len(keys) + 1), "score": 1.0, "tier": "key"}
                 ).to_parquet(folder / "tables" / "key_accounts.parquet")
    pd.DataFrame({"account_id": ids, "name": [names[i] for i in ids],
                  "segment": list(segments.values()), "is_key": [i in keys for i in ids]}
                 ).to_parquet(folder / "tables" / "segments.parquet")
    pd.DataFrame({"account_id": ids, "name": [names[i] for i in ids], "clv": list(clv),
                  "investment_ceiling": [v / 10 for v in clv]}
                 ).to_parquet(folder / "tables" / "clv.parquet")
    return folder


def test_every_section_is_traced_to_the_tables(tmp_path):
    a = _run(tmp_path / "a", ["A1", "A2"], {"A1": "S", "A2": "C", "A3": None, "A4": "L"},
             [100.0, 200.0, 5.0, 1.0], {"10_selection": {"n": 2, "w": {"x": 1}}})
    b = _run(tmp_path / "b", ["A1", "A3"], {"A1": "S", "A2": "L", "A3": "C", "A4": "L"},
             [110.0, 150.0, 50.0, 1.0], {"10_selection": {"n": 2, "w": {"x": 2}}})
    cmp = compare_runs(a, b)
    assert cmp.parameters.to_dict("records") == [
        {"step": "10_selection", "parameter": "w", "a": '{"x": 1}', "b": '{"x": 2}'}]
    assert cmp.key_in["account_id"].tolist() == ["A3"] and cmp.key_out["account_id"].tolist() == ["A2"]
    assert cmp.key_kept == 1
    moves = cmp.segment_moves.set_index("account_id")
    assert sorted(moves.index) == ["A2", "A3"]  # A3 was not segmented in A
    assert moves.loc["A3", "segment_a"] == "Not segmented" and moves.loc["A3", "is_key_b"]
    counts = cmp.segment_counts.set_index("segment")
    assert counts.loc["L", "change"] == 1 and counts.loc["Not segmented", "b"] == 0
    totals = cmp.value_totals.set_index("measure")
    assert totals.loc["clv", "a"] == 300.0 and totals.loc["clv", "b"] == 160.0  # own key accounts
    assert totals.loc["investment_ceiling", "change"] == -14.0
    assert cmp.value["account_id"].tolist()[:2] == ["A2", "A3"]  # largest CLV change first
    assert cmp.notes == []


def test_the_page_escapes_names_and_formats_money(tmp_path):
    a = _run(tmp_path / "a", ["A1", "A2"], {"A1": "S", "A2": "C"}, [1.5e6, 2e5], {})
    b = _run(tmp_path / "b", ["A1"], {"A1": "S", "A2": "L"}, [1.2e6, 2e5], {})
    text = write_comparison(a, b, tmp_path / "page.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "Acme &amp; &lt;Co&gt;" in text
    assert "None: both runs used the same parameters" in text
    assert "1.5 M" in text and "-300 k" in text  # kamlib.formatting's money


def test_runs_of_other_inputs_are_flagged(tmp_path):
    a = _run(tmp_path / "a", ["A1"], {"A1": "S"}, [1.0], {})
    b = _run(tmp_path / "b", ["A1"], {"A1": "S"}, [1.0], {})
    manifest = json.loads((b / "manifest.json").read_text())
    manifest["inputs"]["transactions"][0]["sha256"] = "other"
    (b / "manifest.json").write_text(json.dumps(manifest))
    assert any("same input files" in n for n in compare_runs(a, b).notes)
