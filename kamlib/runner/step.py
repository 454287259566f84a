"""The notebook side of a run: parameters in, tables and figures out.

Every step notebook starts, after its ``parameters`` cell, with::

    step = Step.begin("30_segmentation", globals())

which reads the parameters the notebook declares from its namespace, checks them, and opens
its run folder. ``step.params`` holds them (without ``engagement`` and ``run_dir``), ready to
pass on: ``segmentation.run(features, **step.params)``. From then on the notebook reads earlier
steps' tables with :meth:`Step.load` (or :meth:`Step.load_optional`) and writes its own with
:meth:`Step.save`, :meth:`Step.figure` and :meth:`Step.page`; where the files go is decided by
:mod:`kamlib.runner.folder`, so a notebook never builds a path itself.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kamlib import paths
from kamlib.errors import KamError, ParameterError
from kamlib.intake.engagement import Engagement, load_engagement
from kamlib.figures import apply_style
from kamlib.formatting import number as readable_number  # the notebook tables' number format
from kamlib.params import ALWAYS, Params
from kamlib.runner.execute import run_upstream
from kamlib.runner.folder import (default_run_dir, inside, read_step_records,
                                  step_record_path, table_path)
from kamlib.runner.parameters import notebook_parameters

if TYPE_CHECKING:  # pandas and matplotlib stay out of `import kamlib.runner.step`
    import pandas as pd
    from matplotlib.figure import Figure

    from kamlib.review.plan import Baseline

FIGURE_DPI = 110


class Step:
    """One step notebook's view of the run: validated parameters and the run folder.

    Use :meth:`begin` rather than the constructor.
    """

    def __init__(self, notebook: Path, engagement: Engagement, run_dir: Path, params: Params):
        self.notebook = notebook
        self.name = notebook.stem
        self.engagement = engagement
        self.run_dir = run_dir
        self.params = params
        self._record: dict[str, Any] = {"notebook": self.name, "tables": {}, "figures": [],
                                        "pages": []}

    # ------------------------------------------------------------------ start
    @classmethod
    def begin(cls, name: str, namespace: Mapping[str, Any]) -> Step:
        """Read and check a notebook's parameters, and open its run folder.

        Parameters
        ----------
        name : str
            The notebook's stem, e.g. ``"30_segmentation"``.
        namespace : mapping
            Where the parameters cell left its values: the notebook's ``globals()``. Only the
            names the notebook declares are read (a missing one takes its default);
            ``engagement`` is an engagement folder or ``"sample"``, ``run_dir`` the run folder
            (``""`` means ``reports/<engagement>/interactive``).

        Returns
        -------
        Step
            With ``params``: every other declared parameter, a dict (attribute access too)
            to pass on as ``**step.params``.

        Raises
        ------
        ParameterError
            A name papermill injected that the notebook does not declare, or a value of the
            wrong type (papermill's ``-p flag false`` arrives as the text ``"false"``: that is
            refused, not truthy).
        """
        notebook = paths.notebook_for(name)
        checked = notebook_parameters(notebook, namespace)
        eng = load_engagement(checked["engagement"])
        folder = Path(checked["run_dir"]) if checked["run_dir"] else default_run_dir(eng)
        folder.mkdir(parents=True, exist_ok=True)
        step = cls(notebook, eng, folder.resolve(), Params(
            {k: v for k, v in checked.items() if k not in ALWAYS}))
        step._write_record()
        apply_style()
        _apply_table_style()
        return step

    # ------------------------------------------------------------------ read
    def has(self, table: str) -> bool:
        """Whether an earlier step saved ``table`` in this run folder (nothing is run)."""
        return table_path(self.run_dir, table).exists()

    def load(self, table: str) -> pd.DataFrame:
        """Read a table an earlier step saved in this run folder.

        When the table is missing (the notebook runs on its own), the earlier step notebooks
        that have not run in this folder yet are executed first, in order, until it appears.

        Raises
        ------
        KamError
            No earlier step wrote the table.
        """
        import pandas as pd

        path = table_path(self.run_dir, table)
        if not path.exists() and not self._run_upstream_until(table):
            raise KamError(
                f"No step before {self.name} wrote the table '{table}' into {self.run_dir}. Fix: "
                "run the whole workbook with 'kam run', or check the table's name in "
                "docs/DEVELOPING.md.")
        return pd.read_parquet(path)

    def load_optional(self, table: str) -> pd.DataFrame | None:
        """Like :meth:`load`, for a table the step can do without: None when no earlier step
        writes it (its notebook is absent, or it does not write that table).

        Earlier notebooks still run first when the table is missing, so a notebook run on its
        own gives the same result as the whole workbook; their errors are not swallowed.
        """
        import pandas as pd

        path = table_path(self.run_dir, table)
        if not path.exists() and not self._run_upstream_until(table):
            return None
        return pd.read_parquet(path)

    def _run_upstream_until(self, table: str) -> bool:
        """Run the earlier notebooks not yet run in this folder until ``table`` appears;
        whether it did."""
        done = {r["notebook"] for r in read_step_records(self.run_dir)}
        earlier = [nb for nb in paths.step_notebooks() if nb.stem < self.name and nb.stem not in done]
        for nb in earlier:
            print(f"Table '{table}' is not in {self.run_dir} yet: running {nb.name} first.")
            run_upstream(nb, self.engagement, self.run_dir)
            if table_path(self.run_dir, table).exists():
                return True
        return False

    # ------------------------------------------------------------------ write
    def save(self, name: str, df: pd.DataFrame, *, excel: bool = True,
             description: str = "") -> Path:
        """Save a result table as Parquet (and, unless ``excel=False``, as a sheet of the run's
        Excel workbook). Returns the Parquet path; a ``name`` that leaves ``tables/`` is
        refused (ValueError)."""
        path = table_path(self.run_dir, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(path, index=False)
        self._record["tables"][name] = {"rows": int(len(df)), "excel": bool(excel),
                                        "description": description}
        self._write_record()
        return path

    def save_all(self, tables: Mapping[str, pd.DataFrame],
                 descriptions: Mapping[str, str] | None = None) -> None:
        """:meth:`save` every table of ``tables`` (name -> DataFrame), in order, each with its
        description from ``descriptions`` (none where it has no entry)."""
        descriptions = descriptions or {}
        for name, df in tables.items():
            self.save(name, df, description=descriptions.get(name, ""))

    def figure(self, name: str, fig: Figure) -> Path:
        """Save ``fig`` as ``figures/<name>.png``, show that same image inline, and return the
        PNG's path (a page can embed it without drawing the figure again). A ``name`` that
        leaves ``figures/`` is refused (ValueError).

        The figure is rendered once (to PNG) and then closed: letting the notebook's inline
        backend draw it a second time would double the cost of every figure.
        """
        import matplotlib.pyplot as plt

        path = inside(self.run_dir / "figures", f"{name}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
        plt.close(fig)
        path.write_bytes(buffer.getvalue())
        if name not in self._record["figures"]:
            self._record["figures"].append(name)
        self._record.setdefault("figure_titles", {})[name] = _figure_title(fig)
        self._write_record()
        _show_png(buffer.getvalue())
        return path

    def page(self, title: str, relpath: str, html: str) -> Path:
        """Write an extra HTML page under ``html/`` and list it on the run's index page
        (a ``relpath`` that leaves ``html/`` is refused, as in :meth:`pages`)."""
        return self.pages([(title, relpath, html)])[0]

    def page_links(self, from_page: str) -> dict[str, str]:
        """Links from the page ``html/<from_page>`` to every page the steps of this run have
        registered with :meth:`page` or :meth:`pages`, by the page's key (the account id of a
        plan page, see :meth:`pages`), else its file stem (``summary.html`` -> ``summary``)."""
        import os
        from pathlib import PurePosixPath

        here = PurePosixPath(from_page).parent
        links: dict[str, str] = {}
        for record in read_step_records(self.run_dir):
            for page in record.get("pages", []):
                target = PurePosixPath(page["path"])
                key = page.get("key", target.stem)
                links[key] = os.path.relpath(str(target), str(here)).replace(os.sep, "/")
        return links

    # ------------------------------------------------------------------ the baseline
    def load_baseline(self) -> Baseline | None:
        """The last plan named by this step's ``baseline`` parameter (a previous run folder or
        its edited ``plan_workbook.xlsx``), read; None when there is none
        (:func:`kamlib.runner.baseline.load_baseline`)."""
        from kamlib.runner.baseline import load_baseline

        return load_baseline(self.params.get("baseline", ""))

    def load_plan_inputs(self) -> dict[str, pd.DataFrame]:
        """The plan-input sheets (opportunities, competitors, account_strategy, account_team)
        of the plan workbook named by this step's ``baseline`` parameter, as the account team
        left them; empty without a baseline (:func:`kamlib.runner.baseline.load_plan_inputs`)."""
        from kamlib.runner.baseline import load_plan_inputs

        return load_plan_inputs(self.params.get("baseline", ""))

    def load_plan_tables(self) -> dict[str, pd.DataFrame | None]:
        """This run's plan inputs by name (:meth:`load_optional` each), for the plan
        workbook's sheets."""
        from kamlib.intake.contract import PLAN_INPUTS

        return {name: self.load_optional(name) for name in PLAN_INPUTS}

    def baseline_hint(self) -> str:
        """How to pass this run as the baseline of the next one (shown when there is none)."""
        from kamlib.runner.baseline import baseline_hint

        return baseline_hint(self.run_dir, self.engagement.name)

    def pages(self, pages: Iterable[tuple[str, str, str]] = (),
              files: Iterable[tuple[str, str]] = ()) -> list[Path]:
        """Write many pages under ``html/`` and list them on the run's index page, and other
        files beside them (calendars, not listed).

        Parameters
        ----------
        pages : iterable of (title, relpath, html) or (title, relpath, html, key)
            HTML pages; ``relpath`` is inside the run folder's ``html/``. ``key`` (e.g. the
            account id of a plan page, whose file name is made from it) is what
            :meth:`page_links` finds the page by; without it, the file stem.
        files : iterable of (relpath, text)
            Other files inside ``html/``, written as given (CRLF line ends stay).

        Returns
        -------
        list of Path
            The files written, pages first.

        Raises
        ------
        ValueError
            A ``relpath`` that leaves ``html/`` (``../x``, an absolute path); nothing is
            written then.
        """
        pages, files = list(pages), list(files)
        targets = [self._html_path(p[1]) for p in pages] + [self._html_path(rel) for rel, _ in files]
        for path, (title, relpath, html, *key) in zip(targets, pages):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(html, encoding="utf-8")
            entry = {"title": title, "path": relpath, **({"key": str(key[0])} if key else {})}
            if entry not in self._record["pages"]:
                self._record["pages"].append(entry)
        for path, (_, text) in zip(targets[len(pages):], files):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
        self._write_record()
        return targets

    def _html_path(self, relpath: str) -> Path:
        """``html/<relpath>`` of the run folder, refusing a path that leaves ``html/``."""
        try:
            return inside(self.run_dir / "html", relpath)
        except ValueError:
            raise ValueError(f"{relpath!r} is not a path inside the run's html/ folder.") from None

    def path(self, relpath: str) -> Path:
        """A path inside the run folder for any other file; its folder is created.

        Raises
        ------
        ValueError
            A ``relpath`` that leaves the run folder (``../x``, an absolute path).
        """
        path = inside(self.run_dir, relpath)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _write_record(self) -> None:
        path = step_record_path(self.run_dir, self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self._record, indent=1), encoding="utf-8")

    def __repr__(self) -> str:
        return f"Step({self.name!r}, engagement={self.engagement.name!r}, run_dir='{self.run_dir}')"


def _figure_title(fig: Figure) -> str:
    """The figure's own title (suptitle, else the first axes title), for captions."""
    if fig.get_suptitle():
        return fig.get_suptitle()
    for ax in fig.axes:
        for loc in ("center", "left", "right"):
            text = ax.get_title(loc=loc)
            if text:
                return text
    return ""


def _show_png(data: bytes) -> None:
    """Display PNG bytes in a notebook; nothing outside IPython."""
    from IPython import get_ipython
    from IPython.display import Image, display

    if get_ipython() is not None:
        display(Image(data=data))


def _apply_table_style() -> None:
    """Readable numbers in the tables a notebook shows (display only; files keep full precision),
    and every styled table's text escaped."""
    import pandas as pd

    pd.set_option("display.float_format", readable_number)
    # Styler tables (bars, colours) have their own defaults: six decimals, no separators
    pd.set_option("styler.format.precision", 2)
    pd.set_option("styler.format.thousands", ",")
    pd.set_option("styler.format.na_rep", "–")
    # names come from the client's files: a styled table shows them as text, never as markup
    pd.set_option("styler.format.escape", "html")


__all__ = ["Step", "ParameterError"]
