"""A unit of benchmark work: a label for the progress bar and a function returning records."""

from dataclasses import dataclass
from typing import Callable


@dataclass
class Task:
    label: str
    run: Callable[[], list]
