"""make_nar_pipeline: NAR's encoder and ranker in one scikit-learn pipeline."""

from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import validate_params
from sklearn.utils.metaestimators import available_if

from ..encoding import NARFeatureEncoder
from ..spaces import SearchSpace
from ._ranker import NARRanker

__all__ = ["make_nar_pipeline"]


def _final_step_has(method):
    def check(pipeline):
        return hasattr(pipeline.steps[-1][1], method)

    return check


class _NARPipeline(Pipeline):
    """A pipeline that also forwards ``predict_tier`` to its last step."""

    @available_if(_final_step_has("predict_tier"))
    def predict_tier(self, X):
        """Transform ``X`` through every step but the last, then ``predict_tier``.

        Parameters
        ----------
        X : iterable
            Input of the first step (architectures, for a NAR pipeline).

        Returns
        -------
        tiers : ndarray of shape (n_samples,)
            Most probable tier of each sample (0 = best).
        """
        for _, step in self.steps[:-1]:
            if step is not None and step != "passthrough":
                X = step.transform(X)
        return self.steps[-1][1].predict_tier(X)


@validate_params(
    {"space": [SearchSpace], "dataset": [str, None]}, prefer_skip_nested_validation=True
)
def make_nar_pipeline(space, *, dataset=None, **ranker_params):
    """A pipeline of :class:`~sknar.encoding.NARFeatureEncoder` and :class:`NARRanker`.

    It is :func:`sklearn.pipeline.make_pipeline` of the two (steps ``"narfeatureencoder"``
    and ``"narranker"``), and it also forwards :meth:`NARRanker.predict_tier`, which a plain
    pipeline does not: ``predict``, ``predict_proba``, ``score`` and ``predict_tier`` all
    take architectures.

    Parameters
    ----------
    space : SearchSpace
        The search space of the architectures.
    dataset : str or None, default=None
        Dataset whose FLOPs and params the encoder computes (e.g. ``"cifar10"``); None
        takes the space's default.
    **ranker_params
        Parameters of :class:`NARRanker` (``random_state=0``, ``n_tiers=5``, ...). Other
        encoder settings: ``set_params(narfeatureencoder__scale=...)``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        The unfitted pipeline.

    See Also
    --------
    NARRanker : The ranker at the end of the pipeline.

    Examples
    --------
    >>> from sknar.ranker import make_nar_pipeline
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> archs = space.sample(40, random_state=0)
    >>> accuracy = [arch.count("conv_3x3") + 0.5 * arch.count("conv_1x1") for arch in archs]
    >>> model = make_nar_pipeline(space, n_tiers=2, d_model=8, d_ff=8, max_epochs=5,
    ...                           random_state=0).fit(archs, accuracy)
    >>> model.predict_tier(archs[:4]).shape
    (4,)
    """
    return _NARPipeline(
        [
            ("narfeatureencoder", NARFeatureEncoder(space, dataset=dataset)),
            ("narranker", NARRanker(**ranker_params)),
        ]
    )
