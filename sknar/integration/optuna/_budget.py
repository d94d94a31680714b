"""A budget of completed trials shared by every worker of a study."""

import time

import optuna
from optuna.trial import TrialState

__all__ = ["within_budget"]


def within_budget(trial, budget, *, poll_s=0.5):
    """Whether ``trial`` may run so that the study completes exactly ``budget`` trials.

    ``study.optimize(n_trials=...)`` counts the trials of one worker, and Optuna's
    ``MaxTrialsCallback`` looks only after a trial ends, so workers started together
    overshoot. Call this first in the objective (before :func:`suggest_architecture`, so
    that no network is claimed): it returns True while the completed trials and the running
    ones started before it leave room for this one; it waits (polling every ``poll_s``
    seconds) while those could still fill the budget (so that two workers never wait on
    each other), and fails the trials of dead workers whose
    heartbeat has stopped (RDB storages with ``heartbeat_interval``) meanwhile; once
    ``budget`` trials have completed it stops the study (``study.stop()``) and returns
    False: the objective then raises :class:`optuna.TrialPruned`, leaving one pruned
    trial per worker, with no parameters.

    Parameters
    ----------
    trial : optuna.Trial
        The running trial.
    budget : int
        Completed trials the study should end with.
    poll_s : float, default=0.5
        Seconds between two looks at the running trials.

    Returns
    -------
    may_run : bool

    Examples
    --------
    >>> import optuna
    >>> from sknar.integration.optuna import within_budget
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> def objective(trial):
    ...     if not within_budget(trial, 5):
    ...         raise optuna.TrialPruned("budget reached")
    ...     return trial.suggest_float("x", 0, 1)
    >>> study = optuna.create_study()
    >>> study.optimize(objective)  # no n_trials: the budget stops it
    >>> len(study.get_trials(states=[optuna.trial.TrialState.COMPLETE]))
    5
    """
    study = trial.study
    while True:
        trials = study._storage.get_all_trials(
            study._study_id,
            deepcopy=False,
            states=(TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING),
        )
        n_complete = sum(t.state == TrialState.COMPLETE for t in trials)
        # Only the trials started before this one: two workers waiting on each other's
        # trials would otherwise wait for ever; in line by number, the first goes on.
        n_running = sum(
            t.state != TrialState.COMPLETE and t.number < trial.number for t in trials
        )
        if n_complete >= budget:
            study.stop()
            return False
        if n_complete + n_running < budget:
            return True
        optuna.storages.fail_stale_trials(study)
        time.sleep(poll_s)
