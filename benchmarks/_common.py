"""Shared pieces of the benchmark suites: data, splits, models, timing, records, machine info.

Every suite measures sknar and its baselines side by side on the same splits and seeds. A
split draws ``n_train`` architectures with ``numpy.random.RandomState(seed)``; the test set
is every other architecture of the benchmark. Encoders are fitted on the training
architectures only (they never see labels, but this keeps the test set truly unseen).
"""

import functools
import os
import platform
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sknar.datasets import BENCHMARKS, split_benchmark
from sknar.metrics import ranking_report

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_OUT = BENCH_DIR / "results"
RESULTS_MD = BENCH_DIR / "RESULTS.md"
PREDICT_CHUNK = 4096
# The top-k cut-offs of every ranking record (sknar.metrics.ranking_report names).
RANKING_CUTOFFS = (10, 50)


class MissingDependency(RuntimeError):
    """An optional package a baseline needs is not installed (the run records a note)."""


def ensure_data_home():
    """Point ``SKNAR_DATA`` at ``../shared/data`` beside the repository when it is unset."""
    if os.environ.get("SKNAR_DATA"):
        return os.environ["SKNAR_DATA"]
    candidate = REPO_ROOT.parent / "shared" / "data"
    if candidate.is_dir():
        os.environ["SKNAR_DATA"] = str(candidate)
        return str(candidate)
    return None


# --- benchmarks ---------------------------------------------------------------------------

NB201_DATASETS = BENCHMARKS["nasbench201"].datasets
NB201_OPTIMA = {"cifar10": 94.373, "cifar100": 73.513, "ImageNet16-120": 47.311}
BENCHMARK_LABELS = {
    "nb201-cifar10": "NB201 CIFAR-10",
    "nb201-cifar100": "NB201 CIFAR-100",
    "nb201-ImageNet16-120": "NB201 ImageNet16-120",
    "nb101": "NB101 20k slice",
    "graph-cora": "NAS-Bench-Graph cora",
    "graph-pubmed": "NAS-Bench-Graph pubmed",
}



@functools.lru_cache(maxsize=8)
def load_benchmark(key):
    """One benchmark table (:func:`sknar.datasets.load_benchmark`), loaded once per process.

    Parameters
    ----------
    key : str
        ``"<short name>-<dataset>"`` or ``"<short name>"`` with the ``short_name`` of a
        :data:`sknar.datasets.BENCHMARKS` entry: ``"nb201-cifar10"``, ``"nb101"``,
        ``"graph-cora"``, ...

    Returns
    -------
    data : sklearn.utils.Bunch
        The library's benchmark Bunch (``archs``, ``y`` the selection metric, ``y_report``,
        ``space``, ``search_space``, ``cost_dataset``, ...) with ``key`` added. Being cached,
        the same ``search_space`` object serves every search of a process, so the sampler's
        per-space caches are built once.
    """
    from sknar.datasets import load_benchmark as load

    ensure_data_home()
    # The suites' keys are "<short name>-<dataset>", or the short name alone.
    prefix, _, dataset = key.partition("-")
    named = [name for name, benchmark in BENCHMARKS.items() if benchmark.short_name == prefix]
    if not named:
        raise ValueError(f"unknown benchmark {key!r}; expected one of {list(BENCHMARK_LABELS)}")
    data = load(named[0], dataset or None)
    data["key"] = key
    return data


def n_train_for(size, n_archs):
    """Training-set size: an int, or a fraction of the table when ``size < 1``."""
    if isinstance(size, float) and size < 1:
        return max(2, int(round(size * n_archs)))
    return int(size)


# --- encodings ----------------------------------------------------------------------------

ENCODINGS = ("nar", "onehot", "path")
# "<encoding>-as-written" encodes each cell as written instead of as the representative of
# its network (see SearchSpace.representatives): the NAR reference code does so, so the
# paper's model and the ablations use "nar-as-written", and baselines can be run either way.
AS_WRITTEN = "-as-written"


def make_encoder(encoding, data):
    """An unfitted encoder of the space: ``nar``, ``onehot`` or ``path``, maybe as written."""
    from sknar.encoding import AdjacencyOneHotEncoder, NARFeatureEncoder, PathEncoder

    kind = encoding.removesuffix(AS_WRITTEN)
    merge = not encoding.endswith(AS_WRITTEN)
    if kind == "nar":
        return NARFeatureEncoder(
            data["space"], dataset=data["cost_dataset"], merge_isomorphic=merge
        )
    if kind == "onehot":
        return AdjacencyOneHotEncoder(data["space"], merge_isomorphic=merge)
    if kind == "path":
        return PathEncoder(data["space"], merge_isomorphic=merge)
    raise ValueError(
        f"unknown encoding {encoding!r}; expected one of {ENCODINGS}, "
        f"each optionally followed by {AS_WRITTEN!r}"
    )


def encode_split(data, encoding, train_idx, test_idx):
    """Encode the training and test architectures with an encoder fitted on training ones.

    One-hot and path features that are constant on the training set carry no information
    for a model fitted on it and are dropped (NAS-Bench-Graph has 7,381 path features, almost
    all empty), which keeps the test matrix small. The NAR patch matrix is kept whole.

    Returns
    -------
    X_train, X_test : ndarray
    encode_s : float
        Seconds spent encoding.
    """
    archs = data["archs"]
    started = time.perf_counter()
    encoder = make_encoder(encoding, data)
    X_train = encoder.fit_transform([archs[i] for i in train_idx])
    if encoding.removesuffix(AS_WRITTEN) == "nar":
        X_test = encoder.transform([archs[i] for i in test_idx])
        return X_train, X_test, time.perf_counter() - started
    keep = np.flatnonzero(np.ptp(np.asarray(X_train), axis=0) > 0)
    # Chunks bound the memory of wide encodings before the empty columns are dropped.
    X_test = np.concatenate(
        [
            np.asarray(
                encoder.transform([archs[i] for i in test_idx[start : start + PREDICT_CHUNK]])
            )[:, keep]
            for start in range(0, len(test_idx), PREDICT_CHUNK)
        ]
    )
    return np.asarray(X_train)[:, keep], X_test, time.perf_counter() - started


# --- models -------------------------------------------------------------------------------

# Tiny NAR settings of --quick runs: enough to exercise every code path in seconds.
QUICK_NAR = {
    "n_members": 1,
    "max_epochs": 3,
    "d_model": 16,
    "d_ff": 32,
    "n_layers": 1,
    "n_heads": 2,
    # Large batches: prediction of a whole space in batches of 64 dominates a quick run.
    "batch_size": 1024,
}


def nar_ranker(*, preset=None, seed=0, quick=False, **params):
    """A NARRanker with the given preset, seed and parameters.

    With ``quick`` the model is shrunk by :data:`QUICK_NAR` (only the parameters the ranker
    has). Parameters the ranker does not have raise, so a renamed parameter cannot be
    silently ignored in a full run.
    """
    from sknar.ranker import NARRanker

    kwargs = {"random_state": seed}
    # Set by ``--nar-device``; an environment variable reaches parallel worker processes.
    if os.environ.get("SKNAR_BENCH_DEVICE"):
        kwargs["device"] = os.environ["SKNAR_BENCH_DEVICE"]
    if preset is not None:
        kwargs["preset"] = preset
    ranker = NARRanker(**kwargs)
    if quick:
        known = ranker.get_params(deep=False)
        ranker.set_params(**{k: v for k, v in QUICK_NAR.items() if k in known})
    if params:
        ranker.set_params(**params)
    return ranker


def search_ranker(kind, data, seed, quick=False):
    """The ranker of a suite's tier search: ``"forest"`` (a random forest on the one-hot
    adjacency, fast) or NAR (:func:`nar_ranker` on the NAR features of the benchmark's
    cost dataset)."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline

    from sknar.encoding import AdjacencyOneHotEncoder, NARFeatureEncoder

    space = data["search_space"]
    if kind == "forest":
        return make_pipeline(
            AdjacencyOneHotEncoder(space),
            RandomForestRegressor(n_estimators=100, n_jobs=1, random_state=seed),
        )
    return make_pipeline(
        NARFeatureEncoder(space, dataset=data["cost_dataset"]),
        nar_ranker(seed=seed, quick=quick),
    )


# The gradient-boosting baselines' settings; the number of trees depends on --quick.
XGBOOST_PARAMS = {
    "max_depth": 6,
    "learning_rate": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "n_jobs": 2,
}
LIGHTGBM_PARAMS = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 5,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "n_jobs": 2,
    "verbose": -1,
}


def _xgboost(seed, quick):
    try:
        from xgboost import XGBRegressor
    except ImportError as exc:
        raise MissingDependency("xgboost is not installed (pip install sknar[benchmarks])") from exc
    return XGBRegressor(n_estimators=20 if quick else 500, random_state=seed, **XGBOOST_PARAMS)


def _lightgbm(seed, quick):
    try:
        from lightgbm import LGBMRegressor
    except ImportError as exc:
        raise MissingDependency(
            "lightgbm is not installed (pip install sknar[benchmarks])"
        ) from exc
    return LGBMRegressor(n_estimators=20 if quick else 500, random_state=seed, **LIGHTGBM_PARAMS)


def _forest(seed, quick):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(
        n_estimators=20 if quick else 500, max_features=0.5, n_jobs=2, random_state=seed
    )


def _mlp(seed, quick):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mlp = MLPRegressor(
        hidden_layer_sizes=(32,) if quick else (256, 256),
        alpha=1e-3,
        max_iter=30 if quick else 500,
        early_stopping=not quick,
        random_state=seed,
    )
    # Accuracies sit around 90 (percent) or 0.9 (fraction): standardise the target.
    return TransformedTargetRegressor(
        make_pipeline(StandardScaler(), mlp), transformer=StandardScaler()
    )


BASELINES = {"XGBoost": _xgboost, "LightGBM": _lightgbm, "random forest": _forest, "MLP": _mlp}


@dataclass
class ModelSpec:
    """One model of a comparison: its name, its encoding and how to build it."""

    name: str
    encoding: str
    build: callable = field(repr=False)
    family: str = "baseline"


def model_specs(names, *, quick):
    """The comparison's models by name.

    ``names`` holds ``"NAR (default)"``, ``"NAR (paper)"`` and ``"<baseline> / <encoding>"``
    with a baseline of :data:`BASELINES` and an encoding ``one-hot`` or ``path``, optionally
    followed by ``(as written)``. ``NAR (paper)`` encodes cells as written, like the paper.
    """
    specs = []
    for name in names:
        if name == "NAR (default)":
            specs.append(ModelSpec(name, "nar", lambda s: nar_ranker(seed=s, quick=quick), "nar"))
        elif name == "NAR (paper)":
            specs.append(
                ModelSpec(
                    name,
                    "nar-as-written",
                    lambda s: nar_ranker(preset="paper", seed=s, quick=quick),
                    "nar",
                )
            )
        else:
            baseline, encoding = (part.strip() for part in name.split("/"))
            factory = BASELINES[baseline]
            as_written = encoding.endswith("(as written)")
            encoding = encoding.removesuffix("(as written)").strip()
            specs.append(
                ModelSpec(
                    name,
                    {"one-hot": "onehot", "path": "path"}[encoding] + (AS_WRITTEN * as_written),
                    functools.partial(factory, quick=quick),
                )
            )
    return specs


def fit_and_score(estimator, X_train, y_train, X_test):
    """Fit, then predict the test set in chunks; return scores and timings."""
    started = time.perf_counter()
    estimator.fit(X_train, y_train)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = np.concatenate(
        [
            np.asarray(estimator.predict(X_test[i : i + PREDICT_CHUNK]), dtype=np.float64).ravel()
            for i in range(0, X_test.shape[0], PREDICT_CHUNK)
        ]
    )
    return scores, fit_s, time.perf_counter() - started


# --- memory and machine -------------------------------------------------------------------


def _rss_bytes():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakMemory:
    """Peak resident memory above the starting level while the block runs.

    A thread samples the process's resident set size every ``interval`` seconds (tracemalloc
    would miss torch's allocations and slow the timed code down).
    """

    def __init__(self, interval=0.01):
        self.interval = interval
        self.peak_bytes = 0

    def __enter__(self):
        self._start = _rss_bytes()
        self._peak = self._start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, _rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, _rss_bytes())
        self.peak_bytes = self._peak - self._start
        return False

    @property
    def peak_mib(self):
        return self.peak_bytes / 2**20


def _version(module):
    try:
        return __import__(module).__version__
    except Exception:  # an absent or broken optional package is recorded as such
        return None


def _git_commit():
    # A copy of the tree without .git (e.g. a remote machine) is told its commit this way.
    if os.environ.get("SKNAR_BENCH_COMMIT"):
        return os.environ["SKNAR_BENCH_COMMIT"]
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info():
    """Where and with what the benchmark ran."""
    import torch

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "nar_device": os.environ.get("SKNAR_BENCH_DEVICE", "cpu"),
        "versions": {
            name: _version(name)
            for name in (
                "sknar",
                "numpy",
                "scipy",
                "sklearn",
                "torch",
                "skorch",
                "xgboost",
                "lightgbm",
                "matplotlib",
            )
        },
        "git_commit": _git_commit(),
    }


# --- records ------------------------------------------------------------------------------


def format_mean_std(values, digits=2):
    """``"mean ± std"`` of the values that are not None (population std), ``"-"`` if none."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def mean_std(values):
    """Mean, sample standard deviation (0 for one value) and count."""
    values = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if values.size == 0:
        return float("nan"), float("nan"), 0
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return float(values.mean()), std, int(values.size)


@functools.lru_cache(maxsize=4)
def unseen_networks(key, n_train, seed):
    """Mask over a split's test architectures: those whose network has no training twin.

    Twins are cells with the same :meth:`~sknar.spaces.SearchSpace.representatives` (on
    NAS-Bench-201 the benchmark's ``UniqueString`` classes); on spaces with one cell per
    network every test architecture is an unseen network.
    """
    data = load_benchmark(key)
    space, archs = data["space"], data["archs"]
    train_idx, test_idx = split_benchmark(len(archs), n_train, random_state=seed)
    seen = {space.hash(rep) for rep in space.representatives([archs[i] for i in train_idx])}
    tested = space.representatives([archs[i] for i in test_idx])
    return np.fromiter((space.hash(rep) not in seen for rep in tested), bool, len(tested))


@functools.lru_cache(maxsize=4)
def encoded_split(key, encoding, n_train, seed):
    """Cached :func:`encode_split` of one benchmark split, shared by the models of a run."""
    data = load_benchmark(key)
    train_idx, test_idx = split_benchmark(len(data["archs"]), n_train, random_state=seed)
    X_train, X_test, encode_s = encode_split(data, encoding, train_idx, test_idx)
    return train_idx, test_idx, X_train, X_test, encode_s


def evaluate_model(spec, key, n_train, seed, targets=None):
    """Fit one model on a split of ``key`` and score its ranking of the test set.

    Parameters
    ----------
    spec : ModelSpec
    key : str
        The benchmark whose architectures and target train the model.
    n_train, seed : int
    targets : dict of str -> ndarray, default=None
        Other targets over the same architectures (e.g. another dataset's accuracies) to
        score the same predictions against; the training target is always scored as ``key``.

    Returns
    -------
    record : dict
        The model, split, timings and, per target, the ranking metrics (or a ``skipped``
        note when an optional package is missing); ``metrics_unseen`` holds the same
        restricted to the ``n_test_unseen`` test architectures whose network has no twin in
        the training set (:func:`unseen_networks`), when some test architectures have one.
    """
    record = {
        "model": spec.name,
        "encoding": spec.encoding,
        "benchmark": key,
        "n_train": n_train,
        "seed": seed,
    }
    try:
        estimator = spec.build(seed)
    except MissingDependency as exc:
        return {**record, "skipped": str(exc)}
    data = load_benchmark(key)
    train_idx, test_idx, X_train, X_test, encode_s = encoded_split(
        key, spec.encoding, n_train, seed
    )
    scores, fit_s, predict_s = fit_and_score(estimator, X_train, data["y"][train_idx], X_test)
    record.update(n_test=len(test_idx), encode_s=encode_s, fit_s=fit_s, predict_s=predict_s)
    all_targets = {key: data["y"], **(targets or {})}
    record["metrics"] = {
        name: ranking_report(np.asarray(y)[test_idx], scores, k=RANKING_CUTOFFS)
        for name, y in all_targets.items()
    }
    unseen = unseen_networks(key, n_train, seed)
    record["n_test_unseen"] = int(unseen.sum())
    # Where every test architecture is an unseen network the metrics would be a copy.
    if 2 <= unseen.sum() < len(unseen):
        record["metrics_unseen"] = {
            name: ranking_report(np.asarray(y)[test_idx][unseen], scores[unseen], k=RANKING_CUTOFFS)
            for name, y in all_targets.items()
        }
    return record
