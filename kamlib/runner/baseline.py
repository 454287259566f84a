"""The baseline: the earlier run whose plan this run reviews (``kam run --baseline RUN``).

A baseline is a previous run folder -- its ``plan_workbook.xlsx`` when present (the copy the
account managers edited during the quarter), else its Parquet tables ``plan_objectives`` and
``plan_actions`` -- or the edited workbook itself. Finding those files is run-folder knowledge,
so it lives here; the review (:mod:`kamlib.review`) gets the plan as DataFrames in a
:class:`~kamlib.review.plan.Baseline` and never reads a file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kamlib.errors import ParameterError
from kamlib.report.plan_workbook import WORKBOOK_NAME, read_plan_input_sheets, read_plan_workbook
from kamlib.review.plan import Baseline, clean_actions, clean_objectives, data_date
from kamlib.runner.folder import table_path


def _read_table(folder: Path, name: str) -> pd.DataFrame | None:
    path = table_path(folder, name)
    return pd.read_parquet(path) if path.exists() else None


def _locate(baseline: str | Path) -> tuple[Path | None, Path]:
    """The edited workbook (or None) and the run folder a ``baseline`` parameter points at."""
    path = Path(str(baseline).strip()).expanduser()
    if not path.exists():
        raise ParameterError(
            f"baseline {str(path)!r} does not exist. Fix: give the folder of an earlier run "
            f"(reports/<engagement>/<run>) or the {WORKBOOK_NAME} you edited, e.g. "
            "kam run --baseline reports/acme/2026-08-31."
        )
    if path.is_file():
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise ParameterError(
                f"baseline {str(path)!r} is a file but not an Excel workbook. Fix: give a run "
                f"folder or its {WORKBOOK_NAME}."
            )
        return path, path.parent
    return (path / WORKBOOK_NAME if (path / WORKBOOK_NAME).exists() else None), path


def load_baseline(baseline: str | Path | None) -> Baseline | None:
    """Load the previous plan from a run folder or an edited plan workbook.

    Parameters
    ----------
    baseline : str or Path or None
        A previous run folder (``reports/<engagement>/<run>``), or the ``plan_workbook.xlsx``
        a consultant edited. ``""`` or None means no baseline.

    Returns
    -------
    Baseline or None
        None when no baseline was given.

    Raises
    ------
    ParameterError
        When the path does not exist or holds no plan.
    """
    if baseline is None or str(baseline).strip() == "":
        return None
    workbook, folder = _locate(baseline)
    features = None
    if table_path(folder, "account_features").exists():
        features = pd.read_parquet(table_path(folder, "account_features"), columns=["as_of"])
    as_of = data_date(features)
    if workbook is not None:
        objectives, actions, about = read_plan_workbook(workbook)
        if about.get("as_of") and about["as_of"] not in ("nan", "NaT", "None"):
            as_of = pd.Timestamp(about["as_of"])
        # shown on the client's summary page: the run's name, not a path on the consultant's disk
        source = f"the edited {workbook.name} of run {folder.name}"
    else:
        objectives = _read_table(folder, "plan_objectives")
        actions = _read_table(folder, "plan_actions")
        if objectives is None or actions is None:
            raise ParameterError(
                f"baseline {str(folder)!r} holds no plan: it has neither {WORKBOOK_NAME} nor "
                "tables/plan_objectives.parquet and tables/plan_actions.parquet. Fix: give a run "
                "that included step 40_account_plans and 50_portfolio_review."
            )
        objectives = clean_objectives(objectives, f"{folder}/tables/plan_objectives.parquet")
        actions = clean_actions(actions, f"{folder}/tables/plan_actions.parquet")
        source = f"the plan tables of run {folder.name} (plan_objectives, plan_actions)"
    return Baseline(objectives=objectives, actions=actions,
                    segments=_read_table(folder, "segments"), as_of=as_of, source=source,
                    category_year=_read_table(folder, "account_category_year"))


def load_plan_inputs(baseline: str | Path | None) -> dict[str, pd.DataFrame]:
    """The plan inputs the account team kept in the baseline's plan workbook (its sheets
    Opportunities, Competitors, Strategy and Team), raw, by contract table name.

    Empty when there is no baseline, when the baseline run has no workbook, or when the
    workbook has none of these sheets (written before they existed) or leaves them empty: the
    engagement's files are then read as usual. Intake checks what it gets by the contract.

    Raises
    ------
    ParameterError
        When ``baseline`` is given and does not exist (as :func:`load_baseline`).
    """
    if baseline is None or str(baseline).strip() == "":
        return {}
    workbook, _ = _locate(baseline)
    return read_plan_input_sheets(workbook) if workbook is not None else {}


def baseline_hint(run_dir: str | Path, engagement: str = "<engagement>") -> str:
    """How to make this run the baseline of the next one (shown when there is no review)."""
    run_dir = Path(run_dir)
    return (f"This is the first plan: there is no earlier run to review it against. Keep this "
            f"run folder ({run_dir.name}); during the quarter, account managers update "
            f"{WORKBOOK_NAME} (status of each action, dates, new actions). At the next "
            f"quarterly rerun on fresh data, pass this run as the baseline: "
            f"kam run {engagement} --baseline {run_dir} — the review then shows which "
            f"targets were met or missed, which actions are overdue and which accounts "
            f"changed segment.")
