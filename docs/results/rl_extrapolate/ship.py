"""(e4) of run.sh: does the chosen extrapolation replace the shipped default?

Written with run.sh, before any candidate existed. The candidate's answers to every sentence of the
three valid splits (runs/rl_extrapolate/valid/<who>-<domain>-all, confidence readout) are read off its
own score line, fitted on its tweets + products valid answers with the product's `fit_score_runs`, as
the shipped default's line was fitted on its own. The shipped default's answers are
runs/blend/valid/shipped-<domain>-all (its fitted readout, as it ships). The candidate ships iff its
mean r over the three splits is above the shipped default's. The paired difference per split is
printed as a description.

    python docs/results/rl_extrapolate/ship.py x2
"""

import sys
from pathlib import Path

import numpy as np

from emoreason.eval.compare import read_run, regression_metric_fns, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.inference import with_fitted_score
from emoreason.metrics.bootstrap import paired_difference

# the line of its day: confidence, margin, cue sum (the probit margin came later, score_line/)
THREE_TERMS = ("confidence", "margin", "cues")

WHO = sys.argv[1]
VALID = Path("runs/rl_extrapolate/valid")
SHIPPED = Path("runs/blend/valid")
DOMAINS = ("tweets", "products", "movies")


def scores(records, task, ids):
    """The score each answer in `ids`' order counts with, as `emoreason compare` counts it."""
    return np.array([usable_score(records[i], task) for i in ids])


def main() -> None:
    fit = fit_score_runs([VALID / f"{WHO}-tweets-all", VALID / f"{WHO}-products-all"], terms=THREE_TERMS)
    print(f"{WHO}'s line: weights {[round(w, 3) for w in fit.weights]}, intercept {fit.intercept:+.3f}, n {fit.n}")
    mean = {"shipped": [], WHO: []}
    for domain in DOMAINS:
        mine, task = read_run(VALID / f"{WHO}-{domain}-all")
        mine = {i: with_fitted_score(r, fit, task) for i, r in mine.items()}
        shipped, _ = read_run(SHIPPED / f"shipped-{domain}-all")
        ids = sorted(shipped)
        if sorted(mine) != ids:
            raise SystemExit(f"{domain}: the two runs answered different sentences")
        gold = np.array([float(shipped[i]["gold_score"]) for i in ids])
        a, b = scores(shipped, task, ids), scores(mine, task, ids)
        fns = regression_metric_fns(task)
        parts = []
        for metric in ("pearson_r", "mae", "acc_3"):
            d = paired_difference(fns[metric], a, b, gold, n=1000, seed=0)
            parts.append(f"{metric} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
        mean["shipped"].append(fns["pearson_r"](a, gold))
        mean[WHO].append(fns["pearson_r"](b, gold))
        print(f"{domain} ({len(ids)}), shipped -> {WHO}: " + "; ".join(parts))
    shipped_mean, my_mean = np.mean(mean["shipped"]), np.mean(mean[WHO])
    verdict = "ships" if my_mean > shipped_mean else "does not ship"
    print(f"(e4) mean valid r: shipped {shipped_mean:.4f}, {WHO} {my_mean:.4f}: {WHO} {verdict}")


if __name__ == "__main__":
    main()
