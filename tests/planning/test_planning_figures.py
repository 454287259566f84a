"""Plan figures: inline SVGs are valid, escaped and show every contact; notebook figures draw."""

import xml.etree.ElementTree as ET

import matplotlib
import pandas as pd

from kamlib.figures import planning as figs
from kamlib.planning._common import split_roles
from kamlib.planning.relationship import contact_view

from conftest import AS_OF

matplotlib.use("Agg")
NS = "{http://www.w3.org/2000/svg}"


def test_relationship_map_svg_has_a_dot_per_contact_and_escapes_names(world):
    _, _, contacts, _, _ = world
    c = contacts[contacts.account_id == "F01"].copy()
    c.loc[c.contact_id == "c1", "name"] = "Dana <D&D>"
    svg = figs.relationship_map_svg(contact_view(c, AS_OF))
    root = ET.fromstring(svg)  # well-formed XML despite the name
    assert len(root.findall(f"{NS}circle")) == 4
    assert any((t.text or "").startswith("Dana") and "(In/D)" in t.text for t in root.iter(f"{NS}text"))


def test_relationship_map_svg_without_contacts_says_so():
    svg = figs.relationship_map_svg(contact_view(None, AS_OF))
    assert "No contacts recorded" in svg and ET.fromstring(svg) is not None


def test_stale_contacts_are_dashed(fitted):
    svg = figs.relationship_map_svg(fitted.account("F03").contacts)
    circles = ET.fromstring(svg).findall(f"{NS}circle")
    assert sum("stroke-dasharray" in c.attrib for c in circles) == 1  # only Harry is stale


def test_category_trend_svg_groups_small_categories(fitted):
    trend = pd.DataFrame({"account_id": "X", "category": [f"c{i}" for i in range(10)],
                          "revenue_0": range(10, 0, -1), "revenue_1": 1.0, "revenue_2": 1.0})
    root = ET.fromstring(figs.category_trend_svg(trend, max_categories=4))
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert "other (7)" in labels and "c0" in labels and "c5" not in labels
    assert len(root.findall(f"{NS}rect")) == 3 + 4 * 3  # legend + three bars per row


def test_attitude_colours_run_from_red_to_green():
    assert figs.attitude_colour(-5) == "#c62828" and figs.attitude_colour(5) == "#2e7d32"
    assert figs.attitude_colour(float("nan")) == "#9e9e9e"


def test_notebook_figures_draw(fitted):
    fig = figs.relationship_map(fitted.account("F01").contacts)
    assert len(fig.axes[0].collections[0].get_offsets()) == 4
    fig = figs.health_overview(fitted.health, fitted.profile)
    assert len(fig.axes[0].patches) == 5
    fig = figs.plans_health(fitted)
    assert len(fig.axes[0].patches) == 5
    assert [line.get_xdata()[0] for line in fig.axes[0].lines] == list(fitted.health_bands)
    fig = figs.whitespace_by_category(fitted.whitespace)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["D", "A", "C"]  # by potential


def test_roles_may_arrive_as_lists():
    assert split_roles(["Buyer", "decider"]) == ["decider", "buyer"]
    assert split_roles("buyer; Decider;unknown") == ["decider", "buyer"]


def test_category_names_in_the_trend_svg_are_text(fitted):
    hostile = '<script>alert(1)</script>"&'
    trend = pd.DataFrame({"account_id": "X", "category": [hostile, "b"], "revenue_0": [2.0, 1.0],
                          "revenue_1": 1.0, "revenue_2": 1.0})
    svg = figs.category_trend_svg(trend)
    root = ET.fromstring(svg)  # well-formed: the name did not end an element
    assert not root.findall(f".//{NS}script") and "<script" not in svg
    assert any((t.text or "").startswith("<script>alert(1)") for t in root.iter(f"{NS}text"))
