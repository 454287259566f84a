"""The intake step's entry point: :func:`run`, called once by ``notebooks/00_intake.ipynb``.

Its keyword arguments are exactly the notebook's parameters, so the notebook passes them once
(``intake.run(step.engagement, **step.params)``); its result gives every table the step saves
(:meth:`IntakeResult.tables`) and what the notebook shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib.intake.accounting import (DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
                                      DEFAULT_MAX_SET_ASIDE_SHARE, RowAccount)
from kamlib.intake.features import feature_tables, pareto_curve
from kamlib.intake.loading import CheckedInputs, load

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TABLES: dict[str, str] = {
    "accounts": "clean accounts (contract columns)",
    "contacts": "clean contacts",
    "assessments": "managers' criterion scores and top-10 ranks",
    "ahp_judgements": "managers' pairwise comparisons",
    "opportunities": "open and recently closed opportunities per account (optional input)",
    "competitors": "competitors present at each account (optional input)",
    "account_strategy": "the customer's aims and culture, our value proposition, SWOT (optional input)",
    "account_team": "our people on each account's team, with their roles (optional input)",
    "account_features": "one row per account: size, growth, margin, buying behaviour",
    "account_category_year": "revenue by account, trailing year and category",
    "purchase_occasions": "one row per account and purchase day",
    "transactions_summary": "what the invoice lines cover",
    "data_quality": "rows read, used and set aside per input table; revenue and margin read, "
                    "used and set aside for the invoice lines",
    "set_aside": "every row set aside, with its reason",
}
"""The tables the intake step saves, in the order :meth:`IntakeResult.tables` gives them,
and what each holds."""


@dataclass
class IntakeResult:
    """What the intake step found: its tables, and what the notebook shows beside them.

    Attributes
    ----------
    inputs : CheckedInputs
        The checked inputs (:func:`kamlib.intake.loading.load`): clean small tables, the invoice
        lines on the engine (its connection stays open while this result is used), row accounts.
    features : dict of str to DataFrame
        ``account_features``, ``account_category_year``, ``purchase_occasions``,
        ``monthly_revenue`` and ``transactions_summary``
        (:func:`kamlib.intake.features.feature_tables`).
    data_quality, set_aside : DataFrame
        One row per input table; the set-aside rows (at most
        :data:`kamlib.intake.quality.SET_ASIDE_SHOWN` per table).
    """

    inputs: CheckedInputs
    features: dict[str, pd.DataFrame]
    data_quality: pd.DataFrame
    set_aside: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table the intake step saves, by name (see :data:`TABLES`)."""
        found = {**self.inputs.frames, **self.features, "data_quality": self.data_quality,
                 "set_aside": self.set_aside}
        return {name: found[name] for name in TABLES}

    def descriptions(self) -> dict[str, str]:
        """What each of :meth:`tables` holds, by name (the descriptions the run folder lists)."""
        return dict(TABLES)

    @property
    def report(self) -> str:
        """The data-quality report as text: where every row of every table went."""
        return self.inputs.to_text()

    @property
    def row_accounts(self) -> list[RowAccount]:
        """Row accounting per input table (the data-quality figure draws it)."""
        return self.inputs.accounts

    @property
    def as_of(self) -> dt.date:
        """End of the analysis: the last window of every feature ends here."""
        return self.inputs.as_of

    @property
    def account_features(self) -> pd.DataFrame:
        """One row per account: size, growth, margin, buying behaviour."""
        return self.features["account_features"]

    @property
    def monthly_revenue(self) -> pd.DataFrame:
        """Revenue per calendar month (the revenue-over-time figure; not saved)."""
        return self.features["monthly_revenue"]

    def concentration(self) -> pd.DataFrame:
        """The Pareto curve of 12-month revenue (:func:`kamlib.intake.features.pareto_curve`)."""
        return pareto_curve(self.account_features)

    def write_set_aside(self, folder: str | Path) -> None:
        """Write every set-aside row, as exported, to ``<folder>/<table>.csv``."""
        self.inputs.write_set_aside(folder)


def run(engagement: Any, edited: Mapping[str, pd.DataFrame] | None = None, *, as_of: str = "",
        max_set_aside_share: float = DEFAULT_MAX_SET_ASIDE_SHARE,
        max_set_aside_revenue_share: float = DEFAULT_MAX_SET_ASIDE_REVENUE_SHARE,
        anonymise: bool = False, engine: str = "", memory_limit: str = "",
        baseline: str = "") -> IntakeResult:
    """Load and check an engagement's inputs, and build every table the later steps read.

    Parameters
    ----------
    engagement : kamlib.intake.engagement.Engagement
        Whose inputs to read (its ``engagement.yml`` may choose the engine).
    edited : mapping of str to DataFrame, optional
        The plan-input sheets (opportunities, competitors, account_strategy, account_team) of
        the baseline's plan workbook, as the account team left them
        (:meth:`kamlib.runner.Step.load_plan_inputs`): each replaces the engagement's file of
        its table and is checked like it.
    as_of : str
        End of the analysis as ``"YYYY-MM-DD"``; ``""`` means the last valid invoice date.
    max_set_aside_share : float
        Largest share of any table's rows that may be set aside before intake stops.
    max_set_aside_revenue_share : float
        Largest share of the invoice lines' revenue (absolute amounts of the lines whose amount
        can be read) that may be set aside before intake stops.
    anonymise : bool
        Replace account, contact and manager names by stable pseudonyms.
    engine, memory_limit : str
        The engine that reads the invoice lines and DuckDB's memory budget; ``""`` means
        engagement.yml's (default DuckDB, 2GB).
    baseline : str
        The previous run (or its edited plan workbook) whose sheets ``edited`` holds; named
        in the data-quality report. ``""``: no baseline.

    Returns
    -------
    IntakeResult

    Raises
    ------
    InputError
        An input file that breaks the data contract.
    ParameterError
        A parameter out of its range, or an engine that cannot run.
    """
    inputs = load(engagement, as_of=as_of, max_set_aside_share=max_set_aside_share,
                  max_set_aside_revenue_share=max_set_aside_revenue_share, anonymise=anonymise,
                  engine=engine, memory_limit=memory_limit, edited=edited)
    for account in inputs.accounts:
        if account.table in (edited or {}):
            account.notes.insert(0, f"read back from the plan workbook of the baseline "
                                    f"{Path(baseline).name or 'run'} (edited by the account team); "
                                    "the engagement's file of this table is not used")
    return IntakeResult(inputs=inputs, features=feature_tables(inputs),
                        data_quality=inputs.data_quality(), set_aside=inputs.set_aside_table())
