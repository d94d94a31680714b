"""The model files of ``sknar fit``: the fitted pipeline and how it was fitted.

A file holds a dict: ``written_by`` (``"sknar fit"``), ``model`` (the fitted pipeline),
``space`` and ``dataset`` (what the encoder was built with) and ``arch_field`` and
``target_field`` (the columns the training table used, which ``sknar evaluate`` reads by
default). It is a pickle: loading one runs whatever code it names, so load only files you
trust.
"""

from pathlib import Path

__all__ = ["load_model", "model_space", "save_model"]

WRITER = "sknar fit"


def save_model(path, model, **recorded):
    """Write ``model`` and the ``recorded`` facts of its fit to ``path`` (folder created)."""
    import joblib

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"written_by": WRITER, "model": model, **recorded}, path)


def load_model(path):
    """The dict of a file written by :func:`save_model`; any other fitted model as ``model``.

    Raises
    ------
    ValueError
        When the file is absent, does not unpickle, or holds no fitted model.
    """
    import joblib

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--model {path}: no such model file")
    try:
        content = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a model"
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise ValueError(
            f"--model {path}: not a model file written by {WRITER} ({reason})"
        ) from None
    written = isinstance(content, dict) and content.get("written_by") == WRITER
    fitted = content if written else {"model": content}
    if not hasattr(fitted["model"], "predict"):
        raise ValueError(f"--model {path}: holds a {type(content).__name__}, not a fitted model")
    return fitted


def model_space(model):
    """The search space of a fitted pipeline's encoder, or None."""
    for _, step in getattr(model, "steps", None) or []:
        if getattr(step, "space", None) is not None:
            return step.space
    return getattr(model, "space", None)
