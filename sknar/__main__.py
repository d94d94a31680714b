"""``python -m sknar``: the sknar command line (see :mod:`sknar.cli`)."""

from sknar.cli import run

if __name__ == "__main__":
    run()
