"""kamlib: the library behind the kam-workbook notebooks.

Layers (imports point down only):

1. foundation: :mod:`kamlib.paths`, :mod:`kamlib.params`, :mod:`kamlib.contract`,
   :mod:`kamlib.readers`, :mod:`kamlib.validation`, :mod:`kamlib.sample`
2. features: :mod:`kamlib.features` (the only code that reads invoice lines)
3. analysis: :mod:`kamlib.selection`, :mod:`kamlib.segmentation`, :mod:`kamlib.clv`,
   :mod:`kamlib.planning`
4. presentation: :mod:`kamlib.figures`, :mod:`kamlib.report`
5. runner and CLI: :mod:`kamlib.engagement`, :mod:`kamlib.runner` (with ``Step``),
   :mod:`kamlib.cli`
"""

__version__ = "0.1.0"
