"""Loaders for tabular NAS benchmarks; nothing is downloaded on import."""

from ._base import get_data_home

__all__ = ["get_data_home"]
