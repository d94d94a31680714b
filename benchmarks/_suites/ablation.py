"""Ablations that justify the design: number of tiers, rank loss, tier sampling.

- ``n_tiers`` 1 (no tier classification: the rank loss alone), 3, 5, 10;
- rank loss on (the ranker's default weight) or off (``rank_loss_weight=0``);
- tier search with the TierSampler's guided candidates (``noise`` of the search config)
  against uniform candidates (``noise=1``), the ranker and everything else equal.
"""

from .. import _common as common
from . import search as search_suite
from ._task import Task

# The ablations vary one network with every token on cells encoded as written, as
# ablation.json was measured: an ensemble would blur each component's effect with the
# members' averaging.
ONE_NETWORK = {"n_members": 1, "merge_identical_tokens": False}
AS_WRITTEN = {"merge_isomorphic": False}
CONFIGS = {
    "full": {
        "benchmark": "nb201-cifar10",
        "sizes": [424, 1000],
        "n_tiers": [1, 3, 5, 10],
        "rank_loss": [True, False],
        "nar_ranker": ONE_NETWORK,
        "search": {
            **search_suite.CONFIGS["full"],
            # ablation.json's searches were measured before tier search ranked the mutants
            # of its best architectures (n_parents=0 reproduces them).
            "tier_search": {**search_suite.CONFIGS["full"]["tier_search"], "n_parents": 0},
            "budget": 200,
            "nar_ranker": ONE_NETWORK,
            "nar_encoder": AS_WRITTEN,
        },
        "search_seeds": 10,
    },
    "quick": {
        "benchmark": "nb201-cifar10",
        "sizes": [60],
        "n_tiers": [1, 3],
        "rank_loss": [True, False],
        "nar_ranker": {"n_members": 1},
        "search": {**search_suite.CONFIGS["quick"], "nar_ranker": {"n_members": 1}},
        "search_seeds": 1,
    },
}
DEFAULT_SEEDS = {"full": 3, "quick": 1}


def _variant(name, quick, base, **params):
    def build(seed):
        return common.nar_ranker(seed=seed, quick=quick, **{**base, **params})

    return common.ModelSpec(name, "nar-as-written", build, "nar")


def ranker_record(spec, key, n_train, seed, factor, level):
    try:
        record = common.evaluate_model(spec, key, n_train, seed)
    except ValueError as exc:
        # A variant the ranker refuses is a finding of the ablation, not a crash of the run.
        record = {
            "model": spec.name,
            "benchmark": key,
            "n_train": n_train,
            "seed": seed,
            "skipped": f"refused: {exc}",
        }
    return {**record, "factor": factor, "level": level}


def tasks(config, seeds, quick):
    out = []
    key = config["benchmark"]
    base = config.get("nar_ranker", {})
    variants = [
        ("n_tiers", n, _variant(f"n_tiers={n}", quick, base, n_tiers=n))
        for n in config["n_tiers"]
    ]
    variants += [
        (
            "rank_loss",
            on,
            _variant(
                f"rank loss {'on' if on else 'off'}",
                quick,
                base,
                **({} if on else {"rank_loss_weight": 0.0}),
            ),
        )
        for on in config["rank_loss"]
    ]
    for n_train in config["sizes"]:
        for seed in seeds:
            for factor, level, spec in variants:
                out.append(
                    Task(
                        f"{factor}={level} n={n_train} seed={seed}",
                        lambda s=spec, n=n_train, sd=seed, f=factor, lv=level: [
                            ranker_record(s, key, n, sd, f, lv)
                        ],
                    )
                )
    search = config["search"]
    for seed in range(config["search_seeds"]):
        for label, noise in (("tier sampling", None), ("uniform candidates", 1.0)):
            out.append(
                Task(
                    f"search {label} seed={seed}",
                    lambda sd=seed, lb=label, nz=noise: [
                        {
                            "factor": "candidates",
                            "level": lb,
                            **search_suite.run_search(
                                key, "tier search", sd, search, quick, noise=nz
                            ),
                        }
                    ],
                )
            )
    return out


def report(payload):
    records = payload["records"]
    lines = [
        "## Ablations",
        "",
        f"NARRanker (default preset) on {common.BENCHMARK_LABELS[payload['config']['benchmark']]}"
        f", one factor changed at a time; Kendall tau on all held-out architectures, mean ± "
        f"std over seeds {payload['seeds']}.",
        "",
        "| factor | setting | n_train | Kendall tau | precision@50 | fit s |",
        "|---|---|---|---|---|---|",
    ]
    cells = {}
    for r in records:
        if r["factor"] != "candidates":
            cells.setdefault((r["factor"], str(r["level"]), r.get("n_train")), []).append(r)
    for (factor, level, n_train), runs in cells.items():
        done = [r for r in runs if "metrics" in r]
        if not done:
            lines.append(f"| {factor} | {level} | {n_train} | {runs[0]['skipped']} | | |")
            continue
        tau = common.mean_std([r["metrics"][r["benchmark"]]["kendall_tau"] for r in done])
        p50 = common.mean_std([r["metrics"][r["benchmark"]].get("precision_at_50") for r in done])
        fit = common.mean_std([r["fit_s"] for r in done])
        lines.append(
            f"| {factor} | {level} | {n_train} | {tau[0]:.3f} ± {tau[1]:.3f} | "
            f"{p50[0]:.2f} | {fit[0]:.1f} |"
        )
    searches = [r for r in records if r["factor"] == "candidates"]
    if searches:
        budget = searches[0]["budget"]
        lines += [
            "",
            f"Tier search, budget {budget}, {len({r['seed'] for r in searches})} seeds:",
            "",
            "| candidates | mean best | std | optimum found |",
            "|---|---|---|---|",
        ]
        for level in dict.fromkeys(r["level"] for r in searches):
            runs = [r for r in searches if r["level"] == level]
            mean, std, _ = common.mean_std([r["best"] for r in runs])
            found = sum(r["found_optimum"] for r in runs)
            lines.append(f"| {level} | {mean:.3f} | {std:.3f} | {found}/{len(runs)} |")
    return "\n".join(lines) + "\n"
