"""The rule of run.sh: does a score line fitted on more domains read an unseen one better?

.venv/bin/python docs/results/line_domains/analyze.py > docs/results/line_domains/analyze.txt

The same question for another line and other answers (described, the rule's verdict line decides
nothing there): RUNS, a folder pattern with {domain}, and TERMS, the line's terms, e.g. the probit line
on the score_line answers:

RUNS='runs/score_line/valid-{domain}' TERMS=confidence,margin,probit_margin \
  .venv/bin/python docs/results/line_domains/analyze.py > docs/results/score_line/line_domains.txt
"""

import os
from itertools import combinations
from pathlib import Path

import numpy as np

from emoreason.eval.compare import read_run, regression_metric_fns, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.formats.readout import FIT_FEATURES
from emoreason.inference import with_fitted_score
from emoreason.metrics.bootstrap import paired_difference

# the line of its day: confidence, margin, cue sum (the probit margin came later, score_line/)
TERMS = tuple(os.environ.get("TERMS", "confidence,margin,cues").split(","))
RUNS = os.environ.get("RUNS", "runs/line_domains/valid/shipped-{domain}-all")
DOMAINS = ("tweets", "products", "movies")


def run(domain: str) -> Path:
    return Path(RUNS.format(domain=domain))


def line_text(fit) -> str:
    weights = ", ".join(f"{fit.weights[FIT_FEATURES.index(t)]:.3f}" for t in TERMS)
    return f"weights {weights} ({', '.join(TERMS)}), intercept {fit.intercept:+.3f}, n {fit.n}"


def read(domain: str):
    """The domain's answers in a fixed order, its gold scores and its task."""
    records, task = read_run(run(domain))
    ids = sorted(records)
    return [records[i] for i in ids], np.array([float(records[i]["gold_score"]) for i in ids]), task


def scores(records, fit, task) -> np.ndarray:
    """Each answer's score read off `fit`, as `emoreason compare` counts it."""
    return np.array([usable_score(with_fitted_score(r, fit, task), task) for r in records])


def main() -> None:
    subsets = [tuple(sorted(ds)) for k in (1, 2, 3) for ds in combinations(DOMAINS, k)]
    fits = {ds: fit_score_runs([run(d) for d in ds], terms=TERMS) for ds in subsets}
    for ds, fit in fits.items():
        print(f"line fitted on {' + '.join(ds)}: {line_text(fit)}")
    print()
    deltas = []
    for held in DOMAINS:
        records, gold, task = read(held)
        pearson = regression_metric_fns(task)["pearson_r"]
        others = tuple(sorted(d for d in DOMAINS if d != held))
        both = scores(records, fits[others], task)
        for one in others:
            single = scores(records, fits[(one,)], task)
            d = paired_difference(pearson, single, both, gold, n=1000, seed=0)
            deltas.append(d)
            print(
                f"held out {held} ({len(gold)}): fitted on {one} r {d.a:.4f} -> on {' + '.join(others)} r {d.b:.4f}, "
                f"delta {d.difference:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"
            )
    l1 = all(d.low >= 0 for d in deltas)
    mean = float(np.mean([d.difference for d in deltas]))
    l2 = mean > 0
    print(f"\n(l1) no delta with its interval below 0: {l1}")
    print(f"(l2) mean of the six deltas {mean:+.4f} > 0: {l2}")
    verdict = "replaces the shipped line" if l1 and l2 else "does not replace the shipped line"
    print(f"verdict: the line fitted on all three valid splits {verdict}")
    print("\ndescribed, not a condition (in sample for the splits each line was fitted on):")
    shipped, every = fits[("products", "tweets")], fits[("movies", "products", "tweets")]
    for domain in DOMAINS:
        records, gold, task = read(domain)
        pearson = regression_metric_fns(task)["pearson_r"]
        a, b = scores(records, shipped, task), scores(records, every, task)
        d = paired_difference(pearson, a, b, gold, n=1000, seed=0)
        print(
            f"{domain}: tweets + products line r {d.a:.4f} -> all-three line r {d.b:.4f}, "
            f"{d.difference:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"
        )


if __name__ == "__main__":
    main()
