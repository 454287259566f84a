"""One key account's plan: the slices of every plan table that its printable page shows.

:meth:`kamlib.planning.entry.PlanningResult.account` builds an :class:`AccountPlan`; the page
itself is rendered by the presentation layer (``kamlib.report.account_page``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class AccountPlan:
    """Everything one account's plan page shows (slices of the plan tables)."""

    account_id: str
    profile: dict
    relationship: dict
    contacts: pd.DataFrame
    red_flags: pd.DataFrame
    trend: pd.DataFrame
    whitespace: pd.DataFrame
    objectives: pd.DataFrame
    actions: pd.DataFrame
    cadence: pd.DataFrame
    health: dict
    start: pd.Timestamp
    five_p: tuple[str, ...]
    missing: list[str] = field(default_factory=list)
    cover_strength: int = 2
    """Relationship strength (0-5) from which a contact covers a DMU role (for the page's legend)."""
    bridge: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The bars from this year's revenue to the target (``plan_target_bridge``)."""
    pipeline: pd.DataFrame = field(default_factory=pd.DataFrame)
    team: pd.DataFrame = field(default_factory=pd.DataFrame)
    governance: pd.DataFrame = field(default_factory=pd.DataFrame)
    competitors: pd.DataFrame = field(default_factory=pd.DataFrame)
    strategy: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The account's rows of ``plan_pipeline``, ``plan_team``, ``plan_governance`` and of the
    inputs ``competitors`` and ``account_strategy`` (empty: nothing recorded)."""

    @property
    def name(self) -> str:
        return str(self.profile.get("name") or self.account_id)

    def five_p_table(self) -> pd.DataFrame:
        """The 5P view of the account's contacts, columns named by the configured dimensions."""
        cols = ["contact_name", "fivep_position", "fivep_power", "fivep_priorities", "fivep_perception",
                "fivep_proximity"]
        return self.contacts[cols].set_axis(["contact", *self.five_p], axis=1).reset_index(drop=True)

    def action_table(self) -> pd.DataFrame:
        """The 90-day actions as the account team reads them: what, who, when, why."""
        return self.actions[["action_id", "action", "owner", "due_date", "checkpoint", "objective_id",
                             "priority"]]
