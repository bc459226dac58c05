"""Reads that pages show: lists, pages, figures and records by id, one module per area."""
