"""Exports: CSV, Excel workbooks and 360Giving open data, streamed."""
