"""A trial as the per-epoch hook of a training oracle, for Optuna's pruners."""

import math

import optuna

__all__ = ["pruning_callback"]


def pruning_callback(trial):
    """The ``on_epoch`` hook that reports each epoch to ``trial`` and prunes it.

    Pass it to an oracle that calls ``on_epoch(epoch, accuracy)`` after every epoch and lets
    an exception raised there propagate (e.g. ``TrainingOracle``'s
    ``oracle(arch, on_epoch=...)``): each call reports the accuracy at step ``epoch``
    (``trial.report``) and raises :class:`optuna.TrialPruned` when the study's pruner says
    so (``trial.should_prune()``), which stops the training there. An objective that lets
    the exception through has its trial recorded as pruned.

    Parameters
    ----------
    trial : optuna.Trial
        The running trial.

    Returns
    -------
    on_epoch : callable
        ``on_epoch(epoch, accuracy)``; ``epoch`` is an int step, ``accuracy`` a float,
        higher is better for a study that maximizes (a NaN accuracy prunes at once, since no
        training recovers from it).

    Examples
    --------
    >>> import optuna
    >>> from sknar.integration.optuna import pruning_callback
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> def train(n_epochs, final, on_epoch):  # a stand-in training: final * epoch / n
    ...     for epoch in range(1, n_epochs + 1):
    ...         on_epoch(epoch, final * epoch / n_epochs)
    ...     return final
    >>> def objective(trial):
    ...     final = trial.suggest_float("final", 0.0, 1.0)
    ...     return train(10, final, pruning_callback(trial))
    >>> pruner = optuna.pruners.MedianPruner(n_startup_trials=3)
    >>> study = optuna.create_study(direction="maximize", pruner=pruner,
    ...                             sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(objective, n_trials=20)
    >>> pruned = study.get_trials(states=[optuna.trial.TrialState.PRUNED])
    >>> len(pruned) > 0
    True
    """

    def on_epoch(epoch, accuracy):
        accuracy = float(accuracy)
        if math.isnan(accuracy):
            raise optuna.TrialPruned(f"accuracy NaN at epoch {epoch}")
        trial.report(accuracy, step=int(epoch))
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch} (accuracy {accuracy:.4g})")

    return on_epoch
