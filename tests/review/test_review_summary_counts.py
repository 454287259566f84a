"""The summary explains why its segment counts differ from its count of active accounts."""

import pandas as pd

from kamlib.review.summary import segment_count_note, tier_split


def test_segment_note_names_lapsed_and_unsegmented_accounts():
    seg = pd.DataFrame({"account_id": list("abcdef"),
                        "segment": ["Star", "Core", "Laggard", "Laggard", None, None]})
    feat = pd.DataFrame({"account_id": list("abcdef"), "revenue_12m": [5.0, 3.0, 1.0, 0.0, 0.0, 0.0]})
    note = segment_count_note(seg, feat)
    assert "hold 4 accounts" in note and "the 3 that bought in the last twelve months" in note
    assert "1 that bought only before then (1 among Laggards)" in note
    assert "2 accounts without purchases" in note and "are not segmented" in note


def test_no_note_when_the_counts_already_agree():
    seg = pd.DataFrame({"account_id": ["a", "b"], "segment": ["Star", "Core"]})
    feat = pd.DataFrame({"account_id": ["a", "b"], "revenue_12m": [5.0, 3.0]})
    assert segment_count_note(seg, feat) == ""


def test_tier_split_in_resource_plan_sentence():
    a = pd.DataFrame({"tier": ["key-development", "key", "key"]})
    assert tier_split(a) == " (2 key, 1 key-development)"
