"""Dashboards and exports for grants managers, finance and partnerships."""
