"""Does the score line, refitted to the chains the number rules write, take back what they cost the shown
score? Prompted by the test reading (test.txt: products r -0.0113 [-0.0234, -0.0014], tweets MAE +0.0235
[+0.0037, +0.0437]), which is after valid decided to keep the rules; so valid decides this too, by a rule
written here before any refitted figure was read.

The shipped line (score_fit.json: confidence, margin, probit margin) was fitted on the tweets + products
valid answers of the chains before these rules; its confidence term multiplies the number the chain
writes at its end, which the new chains write differently. L5: the same terms refitted on the new
chains' tweets + products valid answers (runs/chain_numbers/valid-*). Rule: L5 replaces the shipped line
iff its mean valid r over the three domains, on the new answers, is higher than the shipped line's, and
on movies (which neither line is fitted on) the paired interval of L5 - shipped in r is not wholly below 0.
Either way every test figure is then read once (the product's answers today with the shipped line, the new
answers with the shipped line and with L5), paired on the same sentences.

    .venv/bin/python docs/results/chain_numbers/refit.py > docs/results/chain_numbers/refit.txt
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np

from emoreason.eval.compare import paired_metrics, read_run, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.formats.readout import DEFAULT_FIT_TERMS, ScoreFit
from emoreason.inference import with_fitted_score

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("full_lists_check", HERE.parent / "full_lists" / "check.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)  # type: ignore[union-attr]

NEW = Path("runs/chain_numbers")
DOMAINS = ("tweets", "products", "movies")
METRICS = ("pearson_r", "mae", "acc_3")


def main() -> None:
    shipped = ScoreFit.load(check.rated.LINE)
    refit = fit_score_runs([NEW / f"valid-{d}" for d in ("tweets", "products")], terms=DEFAULT_FIT_TERMS)
    for name, line in (("shipped", shipped), ("L5", refit)):
        print(f"{name}: weights {', '.join(f'{w:.3f}' for w in line.weights)}, intercept {line.intercept:+.3f}")
    mean_r: dict[str, list[float]] = {"shipped": [], "L5": []}
    movies = None
    for split in ("valid", "test"):
        for domain in DOMAINS:
            new, task = read_run(NEW / f"{split}-{domain}")
            old = check.current(split, domain)
            ids = sorted(new)
            gold = np.array([float(new[i]["gold_score"]) for i in ids])

            def shown(rows: dict, line: ScoreFit) -> np.ndarray:
                return np.array([usable_score(with_fitted_score(rows[i], line, task), task) for i in ids])

            today, kept, refitted = shown(old, shipped), shown(new, shipped), shown(new, refit)
            versus = paired_metrics(task, kept, refitted, gold, names=METRICS)
            print(
                f"{domain} {split} ({len(ids)}), new chains, shipped line -> L5: "
                + "; ".join(f"{m} {d}" for m, d in versus.items())
            )
            if split == "test":
                for label, scores in (("shipped line", kept), ("L5", refitted)):
                    against = paired_metrics(task, today, scores, gold, names=METRICS)
                    print(
                        f"  the product today -> new chains, {label}: "
                        + "; ".join(f"{m} {d}" for m, d in against.items())
                    )
            else:
                mean_r["shipped"].append(versus["pearson_r"].a)
                mean_r["L5"].append(versus["pearson_r"].b)
                movies = versus["pearson_r"] if domain == "movies" else movies
        if split == "valid":
            assert movies is not None
            replaces = np.mean(mean_r["L5"]) > np.mean(mean_r["shipped"]) and movies.high >= 0
            print(
                f"valid mean r: shipped {np.mean(mean_r['shipped']):.4f}, L5 {np.mean(mean_r['L5']):.4f}; movies "
                f"L5 - shipped {movies.difference:+.4f} [{movies.low:+.4f}, {movies.high:+.4f}] -> "
                f"{'L5 replaces the shipped line' if replaces else 'the shipped line stays'}"
            )


if __name__ == "__main__":
    sys.exit(main())
