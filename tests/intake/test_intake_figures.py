"""The intake figures draw from the tables intake writes."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

from intake_data import write_engagement  # noqa: E402
from kamlib.figures import apply_style, money  # noqa: E402
from kamlib.figures import intake as figs  # noqa: E402
from kamlib.intake import features  # noqa: E402
from kamlib.intake.loading import load_inputs  # noqa: E402


def test_figures_draw(tmp_path):
    apply_style()
    intake = load_inputs(write_engagement(tmp_path), today=dt.date(2026, 1, 15))
    tables = features.feature_tables(intake)
    fig = figs.pareto_figure(features.pareto_curve(tables["account_features"]))
    assert fig.axes[0].get_xlabel().startswith("share of accounts")
    fig = figs.monthly_revenue_figure(tables["monthly_revenue"], intake.as_of, "EUR")
    assert len(fig.axes[0].containers[0]) == len(tables["monthly_revenue"])  # one bar a month
    fig = figs.data_quality_figure(intake.accounts)
    assert "0 of 23 input rows set aside" in fig.axes[0].get_title(loc="left")
    aside = load_inputs(write_engagement(tmp_path / "b"), as_of="2024-12-31", today=dt.date(2026, 1, 15))
    fig = figs.data_quality_figure(aside.accounts)
    assert len(fig.axes[0].patches) == 1 and "6 of 23" in fig.axes[0].get_title(loc="left")
    fig.savefig(tmp_path / "dq.png")


def test_money_labels():
    assert money(1234) == "1.2 k" and money(-3_400_000, "EUR") == "-3.4 M EUR" and money(12) == "12"
