"""P2 (polarity objective on tweets + products) against Q1 (tweets alone) on movies valid, a domain
neither they nor their start trained on (run_q1.sh has the why and the reading, written before Q1).

    .venv/bin/python docs/results/polarity_sft/lodo.py > docs/results/polarity_sft/lodo_q1.txt
"""

from pathlib import Path

import numpy as np

from emoreason.eval.compare import paired_metrics, read_run, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.inference import with_fitted_score

VALID = Path("runs/polarity_sft/valid")
TRAIN_DOMAINS = {"q1": ("tweets",), "p2": ("tweets", "products")}
UNSEEN = "movies"


def margin(record: dict) -> float:
    probs = record["polarity_probs"]
    return float(probs["positive"] - probs["negative"])


def main() -> None:
    runs = {who: read_run(VALID / f"{who}-{UNSEEN}-all") for who in TRAIN_DOMAINS}
    task = runs["q1"][1]
    ids = sorted(runs["q1"][0])
    if sorted(runs["p2"][0]) != ids:
        raise SystemExit(f"{UNSEEN}: the two runs answered different sentences")
    gold = np.array([float(runs["q1"][0][i]["gold_score"]) for i in ids])
    verdicts = []
    for who, domains in TRAIN_DOMAINS.items():
        line = fit_score_runs([VALID / f"{who}-{d}-all" for d in domains])
        weights = ", ".join(f"{w:.3f}" for w in line.weights)
        print(f"{who}'s line (fitted on {' + '.join(domains)} valid): {weights}, intercept {line.intercept:+.3f}")
        records = [with_fitted_score(runs[who][0][i], line, task) for i in ids]
        runs[who] = (records, task)
    on_line = {who: np.array([usable_score(x, task) for x in recs]) for who, (recs, _) in runs.items()}
    differences = paired_metrics(task, on_line["q1"], on_line["p2"], gold, names=("pearson_r", "mae", "acc_3"))
    print(
        f"(a) {UNSEEN} valid ({len(ids)}), Q1 -> P2, each off its own line: "
        + "; ".join(f"{m} {d}" for m, d in differences.items())
    )
    verdicts.append(differences["pearson_r"])
    margins = {who: np.array([margin(x) for x in recs]) for who, (recs, _) in runs.items()}
    bare = paired_metrics(task, margins["q1"], margins["p2"], gold, names=("pearson_r",))["pearson_r"]
    print(f"(b) {UNSEEN} valid, Q1 -> P2, r of the margin P(positive) - P(negative): {bare}")
    verdicts.append(bare)
    if all(d.low > 0 for d in verdicts):
        reading = "adding a domain helped the unseen one"
    elif all(d.high < 0 for d in verdicts):
        reading = "adding a domain hurt the unseen one"
    else:
        reading = "no difference this pair can show"
    print(f"reading: {reading}")


if __name__ == "__main__":
    main()
