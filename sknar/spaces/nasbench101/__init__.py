"""The NAS-Bench-101 cell search space (Ying et al., ICML 2019).

A NAS-Bench-101 architecture is one cell (a "module" in the benchmark's words): a DAG of at
most 7 vertices and 9 edges whose first vertex is the input, whose last vertex is the output
and whose interior vertices each run one of three ops. The cell is stacked 9 times in a fixed
CIFAR-10 macro network (a 3x3 stem convolution with 128 channels, then 3 stacks of 3 cells
separated by a 2x2 max-pool that halves the resolution while the channels double, then global
average pooling and a 10-way dense layer).

Everything here reproduces the official ``nasbench`` code exactly: pruning of the vertices
that lie on no input-to-output path, the module hash used as the benchmark's key, the
exhaustive enumeration (423,624 distinct cells) and the number of trainable parameters. The
per-vertex FLOPs follow the counting of the NAR cell-information data set.
"""

from ._cell import NASBench101Cell
from ._space import NASBench101Space

__all__ = ["NASBench101Cell", "NASBench101Space"]
