"""Which numbers should the shipped score line read? Two rules, each written before the answers it
decides on were read.

(1) Written (and committed) before any answer of answers.sh was finished or read: PG's line weighs the
chain's cue sum slightly negatively (-0.051), so the reported score leans against the numbers the chain
states. Fit L3 (confidence, margin, cue sum: the shipped form) and L2 (confidence, margin) on the
shipped default's tweets + products valid answers and read every valid answer of the three domains off
each. L2 replaces L3 iff its mean valid r over the three domains is at least L3's - 0.001 and on no
domain is the paired interval of L2 - L3 in r wholly below 0: the simpler line wins unless it costs.

(2) Written after forms.py (exploratory, valid only) and before any test answer was read: L4 (confidence,
margin, probit margin) replaces L2 iff its mean valid r over the three domains is higher and on movies,
the domain the line is not fitted on, the paired interval of L4 - L2 in r lies above 0. forms.py looked at
eleven forms on valid, so valid's figures for L4 carry that choice; test is the check.

    .venv/bin/python docs/results/score_line/lines.py > docs/results/score_line/valid.txt
    .venv/bin/python docs/results/score_line/lines.py test > docs/results/score_line/test.txt

With `test`: the same lines (fitted on valid) on every test answer, read once; it decides nothing. It
also sets L4 against MiniLM + ridge (docs/results/minilm_ridge/<domain>-test, trained on the tweets and
products train splits), paired on every test sentence.
"""

import json
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
TERMS = {
    "L3": ("confidence", "margin", "cues"),
    "L2": ("confidence", "margin"),
    "L4": ("confidence", "margin", "probit_margin"),
}
PAIRS = (("L3", "L2"), ("L2", "L4"))


def main() -> None:
    fitted_on = [ANSWERS / f"valid-{d}" for d in ("tweets", "products")]
    lines = {name: fit_score_runs(fitted_on, terms=terms) for name, terms in TERMS.items()}
    for name, line in lines.items():
        weights = ", ".join(f"{w:.3f}" for w in line.weights)
        print(f"{name}: {weights}, intercept {line.intercept:+.3f} ({line.n} answers)")
    r = {pair: {name: [] for name in pair} for pair in PAIRS}
    intervals = {pair: {} for pair in PAIRS}
    for domain in DOMAINS:
        records, task = read_run(ANSWERS / f"{SPLIT}-{domain}")
        ids = sorted(records)
        read = {name: [with_fitted_score(records[i], line, task) for i in ids] for name, line in lines.items()}
        gold = np.array([float(records[i]["gold_score"]) for i in ids])
        scores = {name: np.array([usable_score(x, task) for x in recs]) for name, recs in read.items()}
        parse = np.mean([bool(records[i].get("parse_ok")) for i in ids])
        mix = Counter(records[i].get("polarity") or "none" for i in ids)
        print(
            f"{domain} {SPLIT} ({len(ids)}): parse rate {parse:.3f}; answers pos/neg/neu "
            f"{mix['positive']}/{mix['negative']}/{mix['neutral']}"
        )
        for a, b in PAIRS:
            differences = paired_metrics(task, scores[a], scores[b], gold, names=METRICS)
            r[(a, b)][a].append(differences["pearson_r"].a)
            r[(a, b)][b].append(differences["pearson_r"].b)
            intervals[(a, b)][domain] = differences["pearson_r"]
            print(f"  {a} -> {b}: " + "; ".join(f"{m} {d}" for m, d in differences.items()))
        if SPLIT == "test":
            path = Path(f"docs/results/minilm_ridge/{domain}-test/predictions.jsonl")
            ridge = {r["id"]: float(r["score"]) for r in map(json.loads, path.open())}
            if sorted(ridge) != ids:
                raise SystemExit(f"{domain}: MiniLM + ridge answered other sentences")
            ridge_scores = np.array([ridge[i] for i in ids])
            versus = paired_metrics(task, ridge_scores, scores["L4"], gold, names=METRICS)
            print("  MiniLM + ridge -> L4: " + "; ".join(f"{m} {d}" for m, d in versus.items()))
    for (a, b), rs in r.items():
        print(f"mean {SPLIT} r: {a} {np.mean(rs[a]):.4f}, {b} {np.mean(rs[b]):.4f}")
    if SPLIT != "valid":
        return
    mean = {pair: {name: np.mean(v) for name, v in rs.items()} for pair, rs in r.items()}
    below = [d for d, diff in intervals[("L3", "L2")].items() if diff.high < 0]
    wins = mean[("L3", "L2")]["L2"] >= mean[("L3", "L2")]["L3"] - 0.001 and not below
    print(f"rule 1: L2 {'replaces' if wins else 'does not replace'} L3" + (f" (below 0: {below})" if below else ""))
    wins = mean[("L2", "L4")]["L4"] > mean[("L2", "L4")]["L2"] and intervals[("L2", "L4")]["movies"].low > 0
    print(f"rule 2: L4 {'replaces' if wins else 'does not replace'} L2")


if __name__ == "__main__":
    main()
