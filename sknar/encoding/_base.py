"""The base class of the encoders: architectures in, a float32 feature matrix out."""

from collections.abc import Mapping
from contextlib import contextmanager

import networkx as nx
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from ..spaces import SearchSpace
from ..utils import Substitution

_space_docstring = """space : SearchSpace
        The search space the architectures belong to."""

_merge_isomorphic_docstring = """merge_isomorphic : bool, default=True
        Encode each architecture as its network's representative
        (:meth:`~sknar.spaces.SearchSpace.representatives`), so that cells computing the same
        network share one encoding. False encodes each cell as written."""

_architecture_input_notes = """Notes
    -----
    The input is a sequence of architectures in any form
    ``space.validate`` accepts (strings, ``(matrix, ops)`` pairs, dicts, networkx graphs), not
    a numeric matrix: the encoder sets no ``n_features_in_`` and scikit-learn's generic
    estimator checks, which feed numeric 2-D arrays, do not apply. A bad architecture raises a
    ValueError naming its index in the input and the rule it breaks."""

# Fills the parameters and the note every encoder's class docstring shares.
_fill_encoder_docstring = Substitution(
    space=_space_docstring,
    merge_isomorphic=_merge_isomorphic_docstring,
    architecture_input_notes=_architecture_input_notes,
)

# Fills the parameters that fit and fit_transform share.
_fill_fit_docstring = Substitution(
    fit_parameters="""archs : sequence of architectures
            Training architectures in any form the space accepts.
        y : None
            Ignored; present for pipeline compatibility."""
)


class _ArchitectureEncoder(TransformerMixin, BaseEstimator):
    """Reads and validates the architectures and runs ``fit`` / ``transform`` for a subclass.

    A subclass stores its parameters in ``__init__`` and writes three steps, each taking the
    input as a list of architectures (not yet validated): ``_fit(archs)`` learns the fitted
    attributes, ``_fit_transform(archs)`` does that and returns the encoding of the same
    architectures, ``_transform(archs)`` encodes with the fitted attributes. It names its
    output columns in ``_feature_names()`` and may check its parameters against the space in
    ``_check_space_settings()``. :meth:`_network_forms` gives what is encoded for each
    architecture.
    """

    _parameter_constraints: dict = {"space": [SearchSpace], "merge_isomorphic": ["boolean"]}

    @_fill_fit_docstring
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, archs, y=None):
        """Validate the training architectures and learn what the encoding needs.

        Parameters
        ----------
        %(fit_parameters)s

        Returns
        -------
        self : object
            The fitted encoder.
        """
        self._fit(self._read_archs(archs, fitting=True))
        return self

    @_fill_fit_docstring
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, archs, y=None):
        """Fit on the architectures and encode them, reading each one once.

        Parameters
        ----------
        %(fit_parameters)s

        Returns
        -------
        X : ndarray of shape (n_archs, n_features_out), dtype float32
            The encoded architectures, as :meth:`transform` returns them.
        """
        return self._fit_transform(self._read_archs(archs, fitting=True))

    def transform(self, archs):
        """Encode architectures.

        Parameters
        ----------
        archs : sequence of architectures
            Architectures in any form the space accepts.

        Returns
        -------
        X : ndarray of shape (n_archs, n_features_out), dtype float32
            One row per architecture, one column per name of :meth:`get_feature_names_out`
            (the class description gives the layout).
        """
        check_is_fitted(self)
        return self._transform(self._read_archs(archs, fitting=False))

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, in column order.

        Parameters
        ----------
        input_features : None
            Ignored: the input is architectures, not named features.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column.
        """
        check_is_fitted(self)
        return np.asarray(self._feature_names(), dtype=object)

    def _check_space_settings(self):
        """Raise a ValueError when a parameter does not suit the space; nothing by default."""

    def _read_archs(self, archs, fitting):
        self._check_space_settings()
        archs = _as_arch_list(archs)
        if fitting and len(archs) == 0:
            raise ValueError("cannot fit on an empty sequence of architectures; pass at least one.")
        return archs

    def _network_forms(self, archs):
        """What is encoded for each architecture: its network's representative, or the
        canonical form of the cell as written (``merge_isomorphic=False``)."""
        if self.merge_isomorphic:
            return self.space.representatives(archs)
        return self.space.validate_all(archs)

    @contextmanager
    def _naming_bad_architectures(self, chunk, offset):
        """Re-raise a ValueError of a batch call of the space naming the first invalid
        architecture by its index in the whole input (``offset`` + its index in ``chunk``)."""
        try:
            yield
        except ValueError as exc:
            located = _first_invalid(self.space, chunk, offset)
            if located is None:
                raise
            raise located from exc

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.dict = True
        return tags


def _as_arch_list(archs):
    """Return ``archs`` as a list of single architectures, refusing a lone architecture.

    A string, a dict or a graph would otherwise be iterated into meaningless pieces
    (characters, keys, nodes), so they are rejected with a hint. (A lone ``(matrix, ops)``
    pair is a sequence of two items; the first fails validation, at index 0.)
    """
    if archs is None:
        raise ValueError("expected a sequence of architectures, got None.")
    if isinstance(archs, (str, bytes, Mapping, nx.Graph)):
        raise ValueError(
            f"expected a sequence of architectures, got a single {type(archs).__name__}; "
            "wrap it in a list: [arch]."
        )
    if hasattr(archs, "columns") and hasattr(archs, "iloc"):
        raise ValueError(
            "expected a sequence of architectures, got a DataFrame; pass the column that "
            "holds the architectures (a Series) or a list."
        )
    if isinstance(archs, np.ndarray) and archs.ndim == 0:
        raise ValueError("expected a sequence of architectures, got a 0-d array.")
    try:
        return list(archs)
    except TypeError as exc:
        raise ValueError(
            f"expected a sequence of architectures, got {type(archs).__name__}."
        ) from exc


def _first_invalid(space, chunk, offset):
    """The ValueError naming the first architecture of ``chunk`` that ``space`` rejects, by
    its index in the whole input, or None when the space accepts them all."""
    for position, arch in enumerate(chunk):
        try:
            space.validate(arch)
        except ValueError as exc:
            return ValueError(f"architecture at index {offset + position} is invalid: {exc}")
    return None
