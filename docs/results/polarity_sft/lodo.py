"""One train domain more in the polarity objective, read on a domain that neither run's polarity
objective trained on. Default: Q1 (tweets alone) against P2 (tweets + products) on movies valid, which
neither they nor their start trained on (run_q1.sh has the why and the reading, written before Q1).
Three arguments name another pair and its unseen domain: `lodo.py q1 q2 products` is run_q2.sh's.

    .venv/bin/python docs/results/polarity_sft/lodo.py > docs/results/polarity_sft/lodo_q1.txt
    .venv/bin/python docs/results/polarity_sft/lodo.py q1 q2 products > docs/results/polarity_sft/lodo_q2.txt
"""

import sys
from pathlib import Path

import numpy as np

from emoreason.eval.compare import paired_metrics, read_run, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.inference import with_fitted_score

# the line of its day: confidence, margin, cue sum (the probit margin came later, score_line/)
THREE_TERMS = ("confidence", "margin", "cues")

VALID = Path("runs/polarity_sft/valid")
# the valid splits each run's score line is fitted on: its chains' domains it was trained on, never
# the unseen one (for Q2, as for PB, not the domain it adds either)
LINE_DOMAINS = {"q1": ("tweets",), "p2": ("tweets", "products"), "q2": ("tweets",)}
A, B, UNSEEN = sys.argv[1:4] if len(sys.argv) > 3 else ("q1", "p2", "movies")


def margin(record: dict) -> float:
    probs = record["polarity_probs"]
    return float(probs["positive"] - probs["negative"])


def paired_split(domain: str, lines: dict) -> tuple:
    """The task, gold scores and, per run, its records read off its line, over the sentences of `domain`
    valid that both runs answered (they must be the same)."""
    runs = {who: read_run(VALID / f"{who}-{domain}-all") for who in (A, B)}
    task = runs[A][1]
    ids = sorted(runs[A][0])
    if sorted(runs[B][0]) != ids:
        raise SystemExit(f"{domain}: the two runs answered different sentences")
    gold = np.array([float(runs[A][0][i]["gold_score"]) for i in ids])
    records = {who: [with_fitted_score(runs[who][0][i], lines[who], task) for i in ids] for who in (A, B)}
    return task, gold, records


def main() -> None:
    lines = {}
    for who in (A, B):
        domains = LINE_DOMAINS[who]
        line = lines[who] = fit_score_runs([VALID / f"{who}-{d}-all" for d in domains], terms=THREE_TERMS)
        weights = ", ".join(f"{w:.3f}" for w in line.weights)
        print(f"{who}'s line (fitted on {' + '.join(domains)} valid): {weights}, intercept {line.intercept:+.3f}")
    task, gold, records = paired_split(UNSEEN, lines)
    on_line = {who: np.array([usable_score(x, task) for x in recs]) for who, recs in records.items()}
    differences = paired_metrics(task, on_line[A], on_line[B], gold, names=("pearson_r", "mae", "acc_3"))
    pair = f"{A.upper()} -> {B.upper()}"
    parts = "; ".join(f"{metric} {d}" for metric, d in differences.items())
    print(f"(a) {UNSEEN} valid ({len(gold)}), {pair}, each off its own line: {parts}")
    margins = {who: np.array([margin(x) for x in recs]) for who, recs in records.items()}
    bare = paired_metrics(task, margins[A], margins[B], gold, names=("pearson_r",))["pearson_r"]
    print(f"(b) {UNSEEN} valid, {pair}, r of the margin P(positive) - P(negative): {bare}")
    verdicts = (differences["pearson_r"], bare)
    if all(d.low > 0 for d in verdicts):
        reading = "adding a domain helped the unseen one"
    elif all(d.high < 0 for d in verdicts):
        reading = "adding a domain hurt the unseen one"
    else:
        reading = "no difference this pair can show"
    print(f"reading: {reading}")
    for domain in sorted(set(LINE_DOMAINS[A]) & set(LINE_DOMAINS[B])):
        # described beside the reading, not part of it: what the pair does in a domain both trained on
        task, gold, records = paired_split(domain, lines)
        scores = {who: np.array([usable_score(x, task) for x in recs]) for who, recs in records.items()}
        differences = paired_metrics(task, scores[A], scores[B], gold, names=("pearson_r", "mae"))
        parts = "; ".join(f"{metric} {d}" for metric, d in differences.items())
        print(f"(in domain for both, described) {domain} valid ({len(gold)}), {pair}: {parts}")


if __name__ == "__main__":
    main()
