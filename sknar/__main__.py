"""``python -m sknar``: the sknar command line (see :mod:`sknar.cli`)."""

import sys

from sknar.cli import main

if __name__ == "__main__":
    sys.exit(main())
