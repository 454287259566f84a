"""Intake: everything that reads and checks a client's inputs, and the tables built from them.

One entry point, :func:`run` (the intake step), and a lower-level :func:`load` for callers that
only check the inputs (``kam validate``). The modules, in the order data flows through them:

* :mod:`~kamlib.intake.contract` -- the data contract (tables and columns);
  :mod:`~kamlib.intake.engagement` -- an engagement's ``engagement.yml`` (which files, engine);
* :mod:`~kamlib.intake.mapping` -- the client's headers and words read as the contract's
  (``columns:`` and ``values:``); :mod:`~kamlib.intake.suggest` (with
  :mod:`~kamlib.intake.synonyms`) and :mod:`~kamlib.intake.mapping_file` -- ``kam map``'s
  proposal of a mapping and its block in engagement.yml;
* :mod:`~kamlib.intake.readers` -- reading CSV, Excel and Parquet files (encodings, delimiters);
  :mod:`~kamlib.intake.engine` -- the Ibis connection (DuckDB or Spark) and its errors;
  :mod:`~kamlib.intake.ledger` -- the invoice lines on the engine, cast to the contract's types;
* :mod:`~kamlib.intake.reading_rules` -- the documented rules for values a plain cast cannot
  read (amounts with thousands separators or accounting negatives, ids padded or in another
  case, currency codes in any case), as engine expressions;
* :mod:`~kamlib.intake.parsing` -- cells by contract type; :mod:`~kamlib.intake.tables` -- the
  small-table checks; :mod:`~kamlib.intake.line_checks` and
  :mod:`~kamlib.intake.checking_pass` -- the invoice-line checks, in one pass over the lines;
  :mod:`~kamlib.intake.accounting` -- where every row and the money went, and when too many
  rows or too much revenue are set aside;
* :mod:`~kamlib.intake.aggregates` -- the per-account aggregates the pass and the features
  share; :mod:`~kamlib.intake.features` -- the feature tables;
* :mod:`~kamlib.intake.quality` -- the data-quality report and set-aside rows;
  :mod:`~kamlib.intake.anonymise` -- stable pseudonyms for names;
* :mod:`~kamlib.intake.loading` -- :func:`load`, :func:`~kamlib.intake.loading.load_inputs`;
  :mod:`~kamlib.intake.problems` -- every problem of every table at once (``kam validate``);
  :mod:`~kamlib.intake.entry` -- :func:`run` and its :class:`~kamlib.intake.entry.IntakeResult`.

``import kamlib.intake`` stays cheap: :func:`run` and :func:`load` are imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run", "load"]


def __getattr__(name: str) -> Any:
    if name == "run":
        from kamlib.intake.entry import run

        return run
    if name == "load":
        from kamlib.intake.loading import load

        return load
    raise AttributeError(f"module 'kamlib.intake' has no attribute {name!r}")
