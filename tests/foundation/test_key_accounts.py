"""The one rule deciding which accounts are key, and its fallback."""

import numpy as np
import pandas as pd

from kamlib import key_accounts as ka

SCORES = pd.DataFrame({"account_id": [3, 1, 2, 4], "is_key": [True, False, True, np.nan],
                       "tier": ["key", "managed", "key", "key-development"]})
FEATURES = pd.DataFrame({"account_id": ["a", "b", "c", "d"],
                         "revenue_12m": [10.0, 30.0, np.nan, 30.0]})


def test_key_accounts_table_first():
    table = pd.DataFrame({"account_id": [7, 8]})
    got = ka.key_accounts(table, SCORES, FEATURES, top_n=2)
    assert got.ids == ["7", "8"] and got.source == ka.FROM_TABLE and got.from_selection


def test_selection_scores_flag_missing_is_not_key_and_tier_without_flag():
    got = ka.key_accounts(pd.DataFrame({"account_id": []}), SCORES)
    assert got.ids == ["3", "2"] and got.source == ka.FROM_SCORES
    by_tier = ka.key_accounts(None, SCORES.drop(columns="is_key"))
    assert by_tier.ids == ["3", "2"]


def test_revenue_fallback_only_when_asked():
    none = ka.key_accounts(None, SCORES.assign(is_key=False))
    assert none.ids == [] and none.source == ka.NO_SOURCE and not none.from_selection
    top = ka.key_accounts(None, SCORES.assign(is_key=False), FEATURES, top_n=3)
    assert top.ids == ["b", "d", "a"] and top.source == ka.FROM_REVENUE  # ties by id, NaN last


def test_masks():
    assert ka.is_key(pd.Series([1, 2, 5]), ["1", "5"]).tolist() == [True, False, True]
    assert ka.in_tiers(SCORES, ["key-development"]).tolist() == [False, False, False, True]
    assert ka.key_account_ids(None, SCORES) == ["3", "2"]
