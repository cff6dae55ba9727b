"""The rule of run_p2.sh: does P2 (rater_sd 0.5) replace P1 (rater_sd 1.0)? Each is read off its own
line, fitted on its tweets + products valid answers.

    .venv/bin/python docs/results/polarity_sft/ship_p2.py > docs/results/polarity_sft/ship_p2.txt
    .venv/bin/python docs/results/polarity_sft/ship_p2.py test > docs/results/polarity_sft/test_p2.txt

With `test` (written before any test answer of P2 existed): the same figures on every test sentence,
P1's answers from test.sh and P2's from test_p2.sh, each adapter read off its line fitted on its valid
answers as above; no verdict, test decides nothing.

Two more arguments name another pair (first the incumbent): `ship_p2.py valid p2 p3` is run_p3.sh's rule
(-> ship_p3.txt), `ship_p2.py test p2 p3` its test figures (-> test_p3.txt); likewise `valid p2 pa`,
`valid p2 pb` and `test p2 pb` (-> ship_pa.txt, ship_pb.txt, test_pb.txt), `valid pb pc` and `test pb pc`
(run_pc.sh's rule -> ship_pc.txt, test_pc.txt).

TERMS (comma-separated, environment) fits each line on other terms than the three of the day; run_ph.sh
uses the shipped line's: TERMS=confidence,margin,probit_margin.
"""

import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from emoreason.eval.compare import paired_metrics, read_run, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.formats.readout import FIT_FEATURES
from emoreason.inference import with_fitted_score

# the line of its day: confidence, margin, cue sum (the probit margin came later, score_line/)
THREE_TERMS = ("confidence", "margin", "cues")
TERMS = tuple(os.environ["TERMS"].split(",")) if os.environ.get("TERMS") else THREE_TERMS

VALID = Path("runs/polarity_sft/valid")
SPLIT = sys.argv[1] if len(sys.argv) > 1 else "valid"
ANSWERS = Path(f"runs/polarity_sft/{SPLIT}")
A, B = sys.argv[2:4] if len(sys.argv) > 3 else ("p1", "p2")
DOMAINS = ("tweets", "products", "movies")
METRICS = ("pearson_r", "mae", "acc_3")


def recall(scores, gold, task, polarity: str) -> float:
    mask = np.array([task.score_polarity(g) == polarity for g in gold])
    return float(np.mean([task.score_polarity(s) == polarity for s in scores[mask]]))


def main() -> None:
    lines = {
        who: fit_score_runs([VALID / f"{who}-tweets-all", VALID / f"{who}-products-all"], terms=TERMS) for who in (A, B)
    }
    for who, line in lines.items():
        weights = dict(zip(FIT_FEATURES, line.weights, strict=True))
        named = ", ".join(f"{weights[t]:.3f} x {t}" for t in TERMS)
        print(f"{who}'s line: {named}, intercept {line.intercept:+.3f}")
    r = {A: [], B: []}
    parse_ok = True
    for domain in DOMAINS:
        runs = {who: read_run(ANSWERS / f"{who}-{domain}-all") for who in (A, B)}
        task = runs[A][1]
        ids = sorted(runs[A][0])
        if sorted(runs[B][0]) != ids:
            raise SystemExit(f"{domain}: the two runs answered different sentences")
        records = {who: [with_fitted_score(runs[who][0][i], lines[who], task) for i in ids] for who in runs}
        gold = np.array([float(x["gold_score"]) for x in records[A]])
        scores = {who: np.array([usable_score(x, task) for x in recs]) for who, recs in records.items()}
        differences = paired_metrics(task, scores[A], scores[B], gold, names=METRICS)
        parts = [f"{metric} {d}" for metric, d in differences.items()]
        r[A].append(differences["pearson_r"].a)
        r[B].append(differences["pearson_r"].b)
        rates = {who: float(np.mean([bool(x.get("parse_ok")) for x in recs])) for who, recs in records.items()}
        parse_ok &= rates[B] >= rates[A] - 0.01
        mix = {who: Counter(x.get("polarity") or "none" for x in recs) for who, recs in records.items()}
        neutral = {who: recall(scores[who], gold, task, "neutral") for who in scores}
        print(f"{domain} ({len(ids)}), {A.upper()} -> {B.upper()}: " + "; ".join(parts))
        print(
            f"  neutral recall {neutral[A]:.3f} -> {neutral[B]:.3f}; answers pos/neg/neu "
            + ", ".join(f"{who} {m['positive']}/{m['negative']}/{m['neutral']}" for who, m in mix.items())
            + f"; parse rate {rates[A]:.3f} -> {rates[B]:.3f}"
        )
    means = f"{A.upper()} {np.mean(r[A]):.4f}, {B.upper()} {np.mean(r[B]):.4f}"
    print(f"mean {SPLIT} r: {means}; parse rates kept: {parse_ok}")
    if SPLIT != "valid":
        return
    wins = np.mean(r[B]) > np.mean(r[A])
    verdict = "replaces" if wins and parse_ok else "does not replace"
    print(f"verdict: {B.upper()} {verdict} {A.upper()}" + ("; read test before shipping" if wins and parse_ok else ""))


if __name__ == "__main__":
    main()
