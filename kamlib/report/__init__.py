"""Presentation: HTML pages and Excel workbooks built from analysis results."""
