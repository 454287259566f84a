"""What a step was given (kamlib.step_inputs)."""

import pandas as pd

from kamlib.step_inputs import availability, rows_given


def test_a_steps_inputs_are_reported_with_their_rows_and_use():
    """kamlib.step_inputs: one report of what a step was given (segmentation, account plans)."""
    rows = rows_given({"clv": pd.DataFrame({"a": [1, 2]}), "segments": None})
    assert rows == {"clv": 2, "segments": None}
    table = availability(rows, {"clv": "value", "segments": "strategy", "contacts": "roles"})
    assert table.to_dict("records") == [
        {"table": "clv", "available": True, "rows": 2, "used for": "value"},
        {"table": "segments", "available": False, "rows": 0, "used for": "strategy"},
        {"table": "contacts", "available": False, "rows": 0, "used for": "roles"}]
