"""run.sh's rule, read off its answers: d_s = r(step 60, seed s) - r(SFT 600) on the 761 movies test
sentences outside the seeded 300, each with its paired interval, and their mean (d_1 + d_2) / 2 with
one paired bootstrap (the same 1,000 resamples of the sentences for both seeds); then tweets and
products valid, r and acc-3 per seed, as description. Written before any answer existed.

    .venv/bin/python docs/results/rl_seeds/analyze.py [runs/rl_seeds]
"""

import json
import sys
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.eval.compare import regression_metric_fns
from emoreason.metrics.bootstrap import paired_difference

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/rl_seeds")
SEEDS = ("s1", "s2")
RECORDED_D0 = 0.003  # seed 0, the nineteenth session: +0.003 [-0.011, +0.018]


def scores(folder: Path) -> dict[str, tuple[float, float]]:
    """{id: (score, gold)}; an unparsed answer scores the scale's midpoint, as the metrics do."""
    rows = (json.loads(line) for line in (folder / "predictions.jsonl").open())
    return {r["id"]: (0.0 if r["score"] is None else float(r["score"]), float(r["gold_score"])) for r in rows}


def table(split: str, name: str, metrics: tuple[str, ...]) -> dict[str, float]:
    fns = regression_metric_fns(load_dataset(f"vader:{name.split('-')[0]}").task)
    base = scores(ROOT / split / f"sft600-{name}")
    runs = {seed: scores(ROOT / split / f"{seed}-{name}") for seed in SEEDS}
    ids = sorted(set(base).intersection(*runs.values()))
    gold = np.array([base[i][1] for i in ids])
    a = np.array([base[i][0] for i in ids])
    found = {}
    for seed, run in runs.items():
        b = np.array([run[i][0] for i in ids])
        for metric in metrics:
            d = paired_difference(fns[metric], a, b, gold, n=1000, seed=0)
            interval = f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
            print(f"  {name} {seed} - sft600 {metric}: {d.a:.3f} -> {d.b:.3f}, {interval}")
            found[f"{seed}/{metric}"] = d.difference
    print(f"  (n={len(ids)})")
    return found, ids, gold, a, runs


def main() -> None:
    print("movies test, the 761 outside the seeded 300")
    found, ids, gold, a, runs = table("test", "movies-outside300", ("pearson_r", "mae", "acc_3"))
    both = np.column_stack([a, a])
    seeds = np.column_stack([[runs[s][i][0] for i in ids] for s in SEEDS])
    r = regression_metric_fns(load_dataset("vader:movies").task)["pearson_r"]

    def mean_r(pred, true):
        return float(np.mean([r(pred[:, k], true) for k in range(pred.shape[1])]))

    d = paired_difference(mean_r, both, seeds, gold, n=1000, seed=0)
    print(f"  mean of the two seeds' r differences: {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
    holds = d.low > 0 and RECORDED_D0 > 0 and all(found[f"{s}/pearson_r"] > 0 for s in SEEDS)
    d1, d2 = found["s1/pearson_r"], found["s2/pearson_r"]
    verdict = "reproduces" if holds else "does not reproduce"
    print(f"rule: d_0 {RECORDED_D0:+.3f} (recorded), d_1 {d1:+.3f}, d_2 {d2:+.3f}; the claim {verdict} here")
    for dom in ("tweets", "products"):
        print(f"{dom} valid, every sentence")
        table("valid", f"{dom}-all", ("pearson_r", "acc_3"))


if __name__ == "__main__":
    main()
