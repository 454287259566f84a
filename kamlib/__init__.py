"""kamlib: the library behind the kam-workbook notebooks.

Layers (imports point down only):

1. foundation: :mod:`kamlib.paths`, :mod:`kamlib.params`, :mod:`kamlib.intake.contract`,
   :mod:`kamlib.intake.readers`, :mod:`kamlib.intake.validation`, :mod:`kamlib.sample`
2. features: :mod:`kamlib.intake.features` (the only code that reads invoice lines)
3. analysis: :mod:`kamlib.selection`, :mod:`kamlib.segmentation`, :mod:`kamlib.clv`,
   :mod:`kamlib.planning`
4. presentation: :mod:`kamlib.figures`, :mod:`kamlib.report`
5. runner and CLI: :mod:`kamlib.intake.engagement`, :mod:`kamlib.step`, :mod:`kamlib.runner`,
   :mod:`kamlib.cli`
"""

__version__ = "0.1.0"
