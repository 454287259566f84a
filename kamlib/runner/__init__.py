"""The runner: run an engagement's step notebooks into a run folder, and ``Step``, the notebook side.

Modules, each named after what it does (imports point down this list only):

- :mod:`~kamlib.runner.folder`: the run folder's layout (where tables, step records, executed
  notebooks go; new and default run folders).
- :mod:`~kamlib.runner.parameters`: the parameters each notebook receives, resolved from
  ``engagement.yml`` and ``-p`` before a run and read back inside the notebook.
- :mod:`~kamlib.runner.faults`: what ends a run from outside (Ctrl-C, SIGTERM, a full disk)
  and the run's temporary folder.
- :mod:`~kamlib.runner.execute`: kernels, papermill's API, earlier notebooks run on demand,
  what a failure was (a user's mistake or a crash), HTML without code.
- :mod:`~kamlib.runner.manifest`: input and table hashes, versions, git state.
- :mod:`~kamlib.runner.outputs`: the results workbook and the index page.
- :mod:`~kamlib.runner.step`: :class:`Step`, what a notebook uses.
- :mod:`~kamlib.runner.run`: :func:`run_engagement`, the whole run with its progress lines.
"""

from kamlib.runner.parameters import StepPlan, all_declared, resolve_parameters
from kamlib.runner.run import RunResult, run_engagement
from kamlib.runner.step import Step

__all__ = ["RunResult", "Step", "StepPlan", "all_declared", "resolve_parameters",
           "run_engagement"]
