"""Peak memory of listing and encoding the whole NAS-Bench-101 space in chunks.

Enumerates the 423,624 cells, fits a NARFeatureEncoder on all of them (cost statistics only,
chunk by chunk) and transforms them block by block, keeping only a checksum: the peak is that
of the space's own tables and of the chunked encoding, not of a stored output. Read "Maximum
resident set size" from::

    PYTHONPATH=$PWD /usr/bin/time -v python benchmarks/nb101_memory.py
"""

import argparse
import time

import numpy as np

from sknar.encoding import NARFeatureEncoder
from sknar.spaces import NASBench101Space


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=4096, help="encoder chunk_size")
    parser.add_argument("--block", type=int, default=16384, help="rows transformed at a time")
    args = parser.parse_args(argv)
    space = NASBench101Space()
    start = time.perf_counter()
    cells = list(space.enumerate())
    listed = time.perf_counter()
    encoder = NARFeatureEncoder(space=space, chunk_size=args.chunk_size).fit(cells)
    fitted = time.perf_counter()
    checksum = 0.0
    for first in range(0, len(cells), args.block):
        # summed at once, so that no block outlives its turn
        encoded = encoder.transform(cells[first : first + args.block])
        checksum += float(encoded.sum(dtype=np.float64))
        del encoded
    done = time.perf_counter()
    print(
        f"{len(cells)} cells; enumerate {listed - start:.1f} s, fit {fitted - listed:.1f} s, "
        f"transform {done - fitted:.1f} s; checksum {checksum:.6e}"
    )


if __name__ == "__main__":
    main()
