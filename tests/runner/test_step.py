"""How notebooks show numbers: each value formatted on its own, NaN as a dash."""

import pytest

from kamlib.runner.step import readable_number


@pytest.mark.parametrize("value, text", [
    (7.0, "7.00"), (0.3599, "0.360"), (4.6e-6, "4.60e-06"), (1234567.891, "1,234,568"),
    (-12.5, "-12.50"), (0.0, "0"), (float("nan"), "–"),
])
def test_readable_number(value, text):
    assert readable_number(value) == text
