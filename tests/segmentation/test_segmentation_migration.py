import numpy as np
import pandas as pd

from kamlib.segmentation.migration import segment_migration, transition_matrix


def test_directions_and_matrix():
    prev = pd.Series({"a": "Star", "b": "Core", "c": "Laggard", "d": "Star", "e": np.nan, "f": "Developing"})
    cur = pd.Series({"a": "Core", "b": "Developing", "c": "Star", "d": "Star", "e": "Laggard", "f": np.nan})
    m = segment_migration(prev, cur).set_index("account_id")
    assert m["direction"].to_dict() == {"a": "down", "b": "sideways", "c": "up", "d": "same",
                                        "e": "new", "f": "lapsed"}
    assert m["star_slipping"].to_dict() == {"a": True, "b": False, "c": False, "d": False,
                                            "e": False, "f": False}
    assert m["moved"].sum() == 5
    mat = transition_matrix(m.reset_index())
    assert list(mat.index) == ["Star", "Developing", "Core", "Laggard", "Not segmented"]
    assert mat.loc["Star", "Core"] == 1 and mat.loc["Star", "Star"] == 1
    assert mat.loc["Not segmented", "Laggard"] == 1
    assert mat.loc["Developing", "Not segmented"] == 1
    assert mat.to_numpy().sum() == 6


def test_matrix_without_unsegmented_accounts_is_4x4():
    prev = pd.Series({"a": "Star", "b": "Core"})
    mat = transition_matrix(segment_migration(prev, prev))
    assert mat.shape == (4, 4)
    assert np.trace(mat.to_numpy()) == 2
