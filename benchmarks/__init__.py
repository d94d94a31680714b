"""Reproducible benchmarks of sknar: ranking quality, transfer, search, cost and ablations.

Run ``python -m benchmarks.run --help``; results go to ``benchmarks/results/<suite>.json`` and
the report to ``benchmarks/RESULTS.md``.
"""
