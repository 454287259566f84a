"""Figures, one module per concept (``figures/selection.py``, ``figures/planning.py``, ...)."""
