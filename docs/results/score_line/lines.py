"""Does the shipped score line need the chain's cue sum? Its weight there is small and negative (PG's
line: -0.051), so the reported score leans slightly against the numbers the chain states. Rule, written
before any answer of answers.sh existed: fit two lines on the shipped default's tweets + products valid
answers, L3 (confidence, margin, cue sum: the shipped form) and L2 (confidence, margin; the cue sum weighs
0), and read every valid answer of the three domains off each. L2 replaces L3 iff its mean valid r over
the three domains is at least L3's - 0.001 and on no domain is the paired interval of L2 - L3 in r
wholly below 0: a score that ignores the chain's numbers is plainer to state than one that leans against
them, so the simpler line wins unless it costs.

    .venv/bin/python docs/results/score_line/lines.py > docs/results/score_line/valid.txt
    .venv/bin/python docs/results/score_line/lines.py test > docs/results/score_line/test.txt

With `test`: the same two lines (fitted on valid) on every test answer, read once; it decides nothing.
"""

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from emoreason.eval.compare import paired_metrics, read_run, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.inference import with_fitted_score

ANSWERS = Path("runs/score_line")
SPLIT = sys.argv[1] if len(sys.argv) > 1 else "valid"
DOMAINS = ("tweets", "products", "movies")
METRICS = ("pearson_r", "mae", "acc_3")
TERMS = {"L3": None, "L2": ("confidence", "margin")}


def main() -> None:
    fitted_on = [ANSWERS / f"valid-{d}" for d in ("tweets", "products")]
    lines = {name: fit_score_runs(fitted_on, terms=terms) for name, terms in TERMS.items()}
    for name, line in lines.items():
        weights = ", ".join(f"{w:.3f}" for w in line.weights)
        print(f"{name}: {weights}, intercept {line.intercept:+.3f} ({line.n} answers)")
    r = {name: [] for name in lines}
    below = []
    for domain in DOMAINS:
        records, task = read_run(ANSWERS / f"{SPLIT}-{domain}")
        ids = sorted(records)
        read = {name: [with_fitted_score(records[i], line, task) for i in ids] for name, line in lines.items()}
        gold = np.array([float(records[i]["gold_score"]) for i in ids])
        scores = {name: np.array([usable_score(x, task) for x in recs]) for name, recs in read.items()}
        differences = paired_metrics(task, scores["L3"], scores["L2"], gold, names=METRICS)
        for name, side in (("L3", "a"), ("L2", "b")):
            r[name].append(getattr(differences["pearson_r"], side))
        if differences["pearson_r"].high < 0:
            below.append(domain)
        parse = np.mean([bool(records[i].get("parse_ok")) for i in ids])
        mix = Counter(records[i].get("polarity") or "none" for i in ids)
        print(f"{domain} {SPLIT} ({len(ids)}), L3 -> L2: " + "; ".join(f"{m} {d}" for m, d in differences.items()))
        print(f"  parse rate {parse:.3f}; answers pos/neg/neu {mix['positive']}/{mix['negative']}/{mix['neutral']}")
    print(f"mean {SPLIT} r: L3 {np.mean(r['L3']):.4f}, L2 {np.mean(r['L2']):.4f}")
    if SPLIT == "valid":
        wins = np.mean(r["L2"]) >= np.mean(r["L3"]) - 0.001 and not below
        verdict = "replaces" if wins else "does not replace"
        print(f"verdict: L2 {verdict} L3" + (f" (below 0: {below})" if below else ""))


if __name__ == "__main__":
    main()
