"""Figures, one module per concept. Pure functions of analysis results."""
