"""Presentation: HTML pages and Excel workbooks made from a run's result tables."""
