"""National-scale benchmark of the portal: seeding, load runs and the report (``make bench``).

Not part of ``make test``. See benchmarks/README.md.
"""
