"""Presentation: HTML pages, Excel workbooks and the browser check of the pages."""
