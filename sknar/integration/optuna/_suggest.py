"""A space's architecture as categorical parameters of an Optuna trial."""

import optuna
from optuna.distributions import CategoricalDistribution

__all__ = ["NETWORK_ATTR", "architecture_of", "network_key", "suggest_architecture"]

#: The user attribute of a trial that holds the key of its network (:func:`network_key`):
#: set by :class:`NARSampler` when it claims a network and by :func:`suggest_architecture`.
NETWORK_ATTR = "sknar_network"
_ARCH_ATTR = "sknar_architecture"


def network_key(space, arch, *, merge_isomorphic=True):
    """The key of ``arch``'s network: equal for two architectures iff they are one network.

    Parameters
    ----------
    space : SearchSpace
        The space of ``arch``.
    arch : architecture
        Any form the space accepts.
    merge_isomorphic : bool, default=True
        Key the network's representative (:meth:`~sknar.spaces.SearchSpace.representatives`:
        NAS-Bench-201's isomorphic twins share it) rather than the architecture's own
        :meth:`~sknar.spaces.SearchSpace.hash`.

    Returns
    -------
    key : str

    Examples
    --------
    >>> from sknar.integration.optuna import network_key
    >>> from sknar.spaces import NASBench201Space
    >>> space = NASBench201Space()
    >>> a = "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    >>> b = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    >>> network_key(space, a) == network_key(space, b), space.hash(a) == space.hash(b)
    (True, False)
    """
    if merge_isomorphic:
        arch = space.representatives([arch])[0]
    return str(space.hash(arch))


def _distributions(space):
    """``{name: CategoricalDistribution}`` of the space's parameters."""
    return {
        name: CategoricalDistribution(list(choices))
        for name, choices in space.parameter_choices().items()
    }


def suggest_architecture(trial, space, *, invalid="prune", merge_isomorphic=True):
    """Declare the architecture's parameters on ``trial`` and return the architecture.

    Each parameter of :meth:`~sknar.spaces.SearchSpace.parameter_choices` becomes a
    categorical parameter of the trial (``trial.suggest_categorical``), so that any Optuna
    sampler (TPE, random, GP, CMA-ES through its fallback, :class:`NARSampler`) chooses it
    and the dashboard shows it. The architecture is built with
    :meth:`~sknar.spaces.SearchSpace.from_parameters`: sknar's validation, canonical form,
    hashing and costs apply to it. The trial's user attributes record the network's key
    (``"sknar_network"``, see :func:`network_key`) and the architecture's text
    (``"sknar_architecture"``).

    Parameters
    ----------
    trial : optuna.Trial
        The running trial.
    space : SearchSpace
        A space implementing ``parameter_choices``, ``from_parameters`` and
        ``to_parameters`` (every space of :mod:`sknar.spaces` does).
    invalid : {"prune", "raise"}, default="prune"
        What to do when the choices make no valid architecture (a NAS-Bench-101 matrix
        with too many edges or no path to the output; an architecture outside a
        :class:`~sknar.spaces.TableSpace`): ``"prune"`` raises :class:`optuna.TrialPruned`
        with the reason (the trial is recorded as pruned, with no value, and costs no
        training; TPE ranks such trials below every completed one, so it learns to avoid
        them), ``"raise"`` lets the ValueError through (the trial fails).
    merge_isomorphic : bool, default=True
        Record the key of the network's representative (see :func:`network_key`).

    Returns
    -------
    arch : architecture
        The canonical architecture.

    Raises
    ------
    optuna.TrialPruned
        With ``invalid="prune"``, when the choices make no valid architecture.

    Examples
    --------
    >>> import optuna
    >>> from sknar.integration.optuna import suggest_architecture
    >>> from sknar.spaces import NASBench201Space
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> space = NASBench201Space()
    >>> def objective(trial):
    ...     arch = suggest_architecture(trial, space)
    ...     return arch.count("nor_conv_3x3") - space.total_cost(arch)["params"] / 1e7
    >>> study = optuna.create_study(direction="maximize",
    ...                             sampler=optuna.samplers.TPESampler(seed=0))
    >>> study.optimize(objective, n_trials=10)
    >>> sorted(study.best_params)[:2]
    ['edge_1_0', 'edge_2_0']
    >>> study.best_trial.user_attrs["sknar_architecture"].count("~")
    6
    """
    if invalid not in ("prune", "raise"):
        raise ValueError(f"invalid must be 'prune' or 'raise', got {invalid!r}")
    values = {
        name: trial.suggest_categorical(name, list(choices))
        for name, choices in space.parameter_choices().items()
    }
    try:
        arch = space.from_parameters(values)
    except ValueError as exc:
        if invalid == "raise":
            raise
        trial.set_user_attr(_ARCH_ATTR, f"invalid: {exc}")
        raise optuna.TrialPruned(f"no valid architecture: {exc}") from exc
    trial.set_user_attr(NETWORK_ATTR, network_key(space, arch, merge_isomorphic=merge_isomorphic))
    trial.set_user_attr(_ARCH_ATTR, str(arch))
    return arch


def architecture_of(trial, space):
    """The architecture a trial's parameters make, or None when they make none.

    Parameters
    ----------
    trial : optuna.trial.FrozenTrial or optuna.Trial
        A trial whose parameters were declared by :func:`suggest_architecture`.
    space : SearchSpace
        The space of the study.

    Returns
    -------
    arch : architecture or None
        None when a parameter is missing (the trial has not declared them yet) or the
        choices make no valid architecture.

    Examples
    --------
    >>> import optuna
    >>> from sknar.integration.optuna import architecture_of, suggest_architecture
    >>> from sknar.spaces import NASBenchGraphSpace
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> space = NASBenchGraphSpace()
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(lambda t: len(suggest_architecture(t, space).ops), n_trials=2)
    >>> architecture_of(study.trials[0], space) in space.enumerate()
    True
    """
    try:
        return space.from_parameters(trial.params)
    except ValueError:
        return None
