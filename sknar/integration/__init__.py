"""Bridges to the tools people already run searches with (optional extras).

- :mod:`sknar.integration.optuna`: a space as Optuna parameters, a NAR sampler for Optuna
  studies and a pruning hook for trainings (``pip install sknar[optuna]``).
"""
