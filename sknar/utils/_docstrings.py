"""Docstring pieces shared by many functions, substituted where they are used."""

__all__ = [
    "Substitution",
    "_arch_docstring",
    "_archs_docstring",
    "_dataset_docstring",
    "_random_state_docstring",
    "_verbose_docstring",
]


class Substitution:
    """Decorate a function or class to fill ``%(name)s`` fields of its docstring.

    Parameters
    ----------
    **pieces : str
        The text of each field. Continuation lines carry their own indentation: the shared
        pieces of this module are indented for a method's docstring (descriptions at 12
        spaces).

    Examples
    --------
    >>> from sknar.utils import Substitution
    >>> @Substitution(arch="arch : architecture\\n        Any form the space accepts.")
    ... def validate(arch):
    ...     '''Check an architecture.
    ...
    ...     Parameters
    ...     ----------
    ...     %(arch)s
    ...     '''
    >>> "Any form the space accepts." in validate.__doc__
    True
    """

    def __init__(self, **pieces):
        self.pieces = pieces

    def __call__(self, obj):
        if obj.__doc__:
            obj.__doc__ = obj.__doc__ % self.pieces
        return obj


_arch_docstring = """arch : architecture
            Any form the space accepts."""

_archs_docstring = """archs : sequence of architectures
            Any forms the space accepts."""

_dataset_docstring = """dataset : str, default=None
            The macro network's dataset, one of ``cost_datasets`` (None: the space's default)."""

_random_state_docstring = """random_state : int, RandomState instance or None, default=None
            Seed of the draw; an int gives the same result on every call."""

_verbose_docstring = """verbose : bool, default=False
            Show a progress bar."""
