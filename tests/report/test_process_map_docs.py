"""docs/process_map.md says what the run's process-map page says (one source: the module)."""

from __future__ import annotations

from kamlib import paths
from kamlib.report.process_map import PROCESS, SKILLS

DOC = paths.REPO_ROOT / "docs" / "process_map.md"


def test_the_docs_page_lists_every_step_and_skill_as_the_module_does():
    text = DOC.read_text(encoding="utf-8")
    for step in PROCESS:
        assert f"**{step.number}. {step.name}**" in text, step.name
        assert step.company in text, step.name
        for delivery in step.delivers:
            assert delivery.what in text
    for skill in SKILLS:
        assert f"**{skill.name}**" in text and skill.person in text


def test_every_delivery_names_a_step_notebook():
    notebooks = {p.stem for p in paths.step_notebooks()}
    named = {d.notebook for s in PROCESS for d in s.delivers}
    named |= {n for k in SKILLS for n in k.supported_by}
    assert named <= notebooks
    assert {"10_selection", "20_clv", "30_segmentation", "40_account_plans",
            "50_portfolio_review"} <= named
