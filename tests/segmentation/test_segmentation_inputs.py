import pandas as pd
import pytest

from kamlib.errors import KamError
from kamlib.segmentation.inputs import gather_inputs


class FakeStep:
    """Stands in for kamlib.step.Step: a dict of tables; load() of a missing one fails like
    Step.load does when no earlier notebook writes it."""

    def __init__(self, tables):
        self.tables = tables
        self.loaded = []

    def has(self, name):
        return name in self.tables

    def load(self, name):
        self.loaded.append(name)
        if name not in self.tables:
            raise KamError(f"No step before 30_segmentation wrote the table '{name}'.")
        return self.tables[name]


def _f():
    return pd.DataFrame({"account_id": ["a"], "revenue_12m": [1.0]})


def test_only_features_required_and_missing_tables_reported():
    step = FakeStep({"account_features": _f()})
    inp = gather_inputs(step)
    av = inp.availability().set_index("table")["available"]
    assert av["account_features"] and not av["selection_scores"] and not av["contacts"]
    assert "selection_scores" in step.loaded  # tried (runs upstream in a real Step), then went on
    kw = inp.kwargs()
    assert kw["features"] is step.tables["account_features"] and kw["selection"] is None


def test_optional_tables_are_used_when_present():
    t = {name: _f() for name in ("account_features", "selection_scores", "assessments", "contacts", "clv")}
    inp = gather_inputs(FakeStep(t))
    assert inp.notes == []
    assert inp.availability()["available"].sum() == 5
    assert inp.kwargs()["clv"] is t["clv"]


def test_clv_is_required_for_the_clv_value_measure():
    with pytest.raises(KamError, match="clv"):
        gather_inputs(FakeStep({"account_features": _f()}), value_measure="clv")
