"""
Reading NAS-Bench-101 and NAR JSON files
========================================

Benchmark results come in several layouts. The loaders recognise them from the content and
return the same ``Bunch``, so everything downstream is the same. This example reads:

- the NAS-Bench-101 record list (the 20,001-cell slice the examples and tests use);
- the layout of the official ``nasbench`` API (three training runs per cell, with test
  accuracy), dumped to JSON;
- the NAR cell-information JSON files for NAS-Bench-101 and NAS-Bench-201, whose per-vertex
  and per-edge FLOPs and parameter counts sknar recomputes exactly from the cells.

The files are looked up under ``SKNAR_DATA`` (see :ref:`datasets`); the full NAR files
(717 MB and 68 MB) load the same way.
"""

# %%
# The record list
# ---------------
# One record per cell: its official hash, adjacency matrix, ops and metrics. ``y`` is the
# metric asked for, here the 108-epoch validation accuracy.
import json

import matplotlib.pyplot as plt
import numpy as np

from sknar.datasets import get_data_home, load_nasbench101, load_nasbench201

data = load_nasbench101()
print(data.layout, len(data.archs), "cells; metric", data.metric)
cell = data.archs[0]
print("first cell:", data.hashes[0])
print(np.array(cell.matrix), cell.ops, sep="\n")

# %%
# The official layout
# -------------------
# ``{hash: {"fixed": {...}, "computed": {"108": [run, run, run]}}}``: the metrics are averaged
# over the runs. This layout has test accuracy, so ``metric`` can ask for it.
official_file = get_data_home() / "nasbench101" / "nb101_official_records_30.json"
raw = json.loads(official_file.read_text())
first_hash = next(iter(raw))
print("fields of a record:", list(raw[first_hash]), list(raw[first_hash]["fixed"]))
print("runs at 108 epochs:", len(raw[first_hash]["computed"]["108"]))

# The file holds 30 cells, a part of the benchmark: ``allow_subset=True`` says it is on purpose.
official = load_nasbench101(official_file, metric="test_acc_108", allow_subset=True)
validation = load_nasbench101(official_file, metric="val_acc_108", allow_subset=True)
print(official.layout, len(official.archs), "cells")

fig, ax = plt.subplots(figsize=(4.5, 4))
ax.scatter(validation.y, official.y)
ax.set_xlabel("validation accuracy (mean of 3 runs)")
ax.set_ylabel("test accuracy (mean of 3 runs)")
ax.set_title("NAS-Bench-101, official layout")
fig.tight_layout()

# %%
# The NAR cell-information format
# -------------------------------
# The NAR authors publish every cell with the FLOPs and parameters of each vertex in each of
# the 9 cells of the network. The reference record below is one of them; the space computes
# the same numbers from the cell alone.
nar_file = get_data_home() / "nar_reference" / "nasbench101_vertice_example.json"
nar = load_nasbench101(nar_file, allow_subset=True)
record = json.loads(nar_file.read_text())[0]
print(nar.layout, "layout; accuracy", nar.y[0], "FLOPs", nar.flops[0])

published = record["vertex_flops"]["stack0/module0"]
computed = nar.space.cost_features(nar.archs[0])["flops"][0]
print("FLOPs of the first cell's vertices, published:", published)
print("FLOPs of the first cell's vertices, computed: ", computed.tolist())

# %%
# NAS-Bench-201 in the NAR format is a dict from benchmark index to record, with costs per
# dataset; :func:`~sknar.datasets.load_nasbench201` reads it for the dataset asked for.
nar201_file = get_data_home() / "nar_reference" / "nasbench201_vertice_example.json"
for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
    one = load_nasbench201(dataset=dataset, path=nar201_file, allow_subset=True)
    print(f"{dataset:15s} {one.archs[0]}  test accuracy {one.y[0]:.2f}")
plt.show()
