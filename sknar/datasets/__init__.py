"""Loaders for tabular NAS benchmarks and image data sets; nothing is downloaded."""

from ._base import get_data_home
from ._benchmark import BENCHMARKS, Benchmark, benchmark_oracle, load_benchmark, split_benchmark
from ._fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from ._idx import load_idx_split, read_idx
from ._nasbench101 import NASBENCH101_METRICS, load_nasbench101
from ._nasbench201 import load_nasbench201, load_nasbench201_12_epochs
from ._nasbench_graph import load_nasbench_graph
from ._table import jsonable_arch, read_table

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "FASHION_MNIST_CLASSES",
    "benchmark_oracle",
    "NASBENCH101_METRICS",
    "get_data_home",
    "jsonable_arch",
    "load_benchmark",
    "load_fashion_mnist",
    "load_idx_split",
    "load_nasbench101",
    "load_nasbench201",
    "load_nasbench201_12_epochs",
    "load_nasbench_graph",
    "read_idx",
    "read_table",
    "split_benchmark",
]
