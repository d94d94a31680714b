"""What the command line shows while it works: timed step lines and progress bars on stderr,
and the scoring of many architectures in chunks under a bar."""

import sys
import time

__all__ = ["Progress", "score_in_chunks"]

# A multiple of the ranker's smallest prediction batch (1024), so that scoring in chunks
# feeds the network the same batches as scoring everything at once.
SCORE_CHUNK = 4096


class Progress:
    """Step lines on stderr with the elapsed time; silent when ``quiet``.

    Parameters
    ----------
    quiet : bool, default=False
        Print nothing.
    stream : file, default=None
        Where to print; ``sys.stderr`` when None.
    """

    def __init__(self, quiet=False, stream=None):
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()

    @property
    def verbose(self):
        """1 when progress is shown, else 0: the ``verbose`` to hand to library calls."""
        return 0 if self.quiet else 1

    def __call__(self, message):
        if not self.quiet:
            elapsed = time.perf_counter() - self.start
            print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)


def _split_model(model):
    """``(transform, final step)`` of a pipeline; ``(None, model)`` for a plain estimator."""
    if hasattr(model, "steps") and len(model.steps) > 1:
        return model[:-1].transform, model[-1]
    return None, model


def score_in_chunks(model, archs, *, verbose=0, desc="scoring"):
    """Scores (and most likely tiers, when the model has them) of ``archs``, in chunks.

    Each chunk is transformed once and scored by the model's final step. Chunks hold a
    multiple of NARRanker's default prediction batch (1024), so its network sees the batches of
    ``model.predict(archs)`` and the scores are the same.

    Parameters
    ----------
    model : estimator or Pipeline
        A fitted model whose ``predict`` scores architectures.
    archs : list
        Architectures in the form the model takes.
    verbose : int, default=0
        Show a bar over the architectures when positive.
    desc : str, default="scoring"
        Label of the bar.

    Returns
    -------
    scores : ndarray of shape (n_archs,)
    tiers : ndarray of shape (n_archs,) or None
        Most likely tier of each architecture (0 = best), or None when the final step has
        no ``predict_tier``.
    """
    import numpy as np

    from sknar.utils import progress_bar

    transform, final = _split_model(model)
    with_tiers = hasattr(final, "predict_tier")
    scores, tiers = [], []
    with progress_bar(len(archs), desc, disable=not verbose, unit="arch") as bar:
        for start in range(0, len(archs), SCORE_CHUNK):
            chunk = archs[start : start + SCORE_CHUNK]
            features = chunk if transform is None else transform(chunk)
            scores.append(np.asarray(final.predict(features), dtype=np.float64).ravel())
            if with_tiers:
                tiers.append(np.asarray(final.predict_tier(features)))
            bar.update(len(chunk))
    return np.concatenate(scores), (np.concatenate(tiers) if with_tiers else None)
