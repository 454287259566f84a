"""kamlib: the library behind the kam-workbook notebooks.

Layers (imports point down only):

1. foundation: :mod:`kamlib.errors`, :mod:`kamlib.paths`, :mod:`kamlib.params`
2. intake: :mod:`kamlib.intake` (reading and checking the inputs; the only code that reads
   invoice lines), :mod:`kamlib.sample`
3. analysis: :mod:`kamlib.selection`, :mod:`kamlib.segmentation`, :mod:`kamlib.clv`,
   :mod:`kamlib.planning`
4. presentation: :mod:`kamlib.figures`, :mod:`kamlib.report`
5. runner and CLI: :mod:`kamlib.runner` (with ``Step``), :mod:`kamlib.cli`
"""

__version__ = "0.1.0"
