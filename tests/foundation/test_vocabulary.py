"""The vocabulary is complete for every name it lists, and the only place the words are spelled."""

import re
from pathlib import Path

from kamlib import vocabulary as v

ROOT = Path(__file__).resolve().parents[2]


def test_every_segment_and_tier_has_its_texts():
    for table in (v.SEGMENT_LABELS, v.SEGMENT_POSITIONS, v.SEGMENT_STRATEGIES, v.SEGMENT_ACTIONS,
                  v.SEGMENT_SERVING_MODELS, v.SEGMENT_RANK, v.SEGMENT_CORNERS):
        assert set(table) == set(v.SEGMENTS)
    assert set(v.TIER_SERVING_MODELS) == set(v.TIERS)
    assert v.ACTION_COLUMNS[: len(v.ACTION_LEADING_COLUMNS)] == v.ACTION_LEADING_COLUMNS
    assert v.SEGMENT_STRATEGIES[v.LAGGARD] == "Manage for cash"


def test_segment_and_tier_names_are_spelled_only_in_the_vocabulary():
    words = [*v.SEGMENTS, v.KEY_DEVELOPMENT, v.LONG_TAIL, v.DPM_STRATEGIC, v.DPM_STREAMLINE]
    pattern = re.compile("|".join(rf"[\"']{re.escape(w)}[\"']" for w in words))
    offenders = []
    for path in sorted((ROOT / "kamlib").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "kamlib/vocabulary.py" or rel.startswith("kamlib/sample/"):
            continue  # the sample generator invents its own data, it does not name results
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
