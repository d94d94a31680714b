"""Loaders for tabular NAS benchmarks; nothing is downloaded on import."""

from ._base import get_data_home
from ._benchmark import BENCHMARKS, Benchmark, benchmark_oracle, load_benchmark, split_benchmark
from ._nasbench101 import NASBENCH101_METRICS, load_nasbench101
from ._nasbench201 import load_nasbench201
from ._nasbench_graph import load_nasbench_graph
from ._table import jsonable_arch, read_table

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "benchmark_oracle",
    "NASBENCH101_METRICS",
    "get_data_home",
    "jsonable_arch",
    "load_benchmark",
    "load_nasbench101",
    "load_nasbench201",
    "load_nasbench_graph",
    "read_table",
    "split_benchmark",
]
