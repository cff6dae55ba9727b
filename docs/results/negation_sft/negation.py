"""Rule (v1) of run.sh, and the same count for any pair of answer folders: on the sentences where
the lexicon teacher finds a negated cue, each system's acc-3 (the polarity of its reported score
against gold) with B - A's paired-bootstrap interval, and how often each writes "negated by"; on the
sentences without one, how often each writes it anyway.

    cd docs/results/negation_sft && ../../../.venv/bin/python negation.py valid shipped neg120 > negation_valid.txt
"""

import json
import sys
from pathlib import Path

import numpy as np

from emoreason.data import TaskInfo, load_dataset
from emoreason.distill.lexicon import analyse_text
from emoreason.metrics.bootstrap import paired_difference

ROOT = Path(__file__).resolve().parents[3] / "runs" / "negation_sft"
DOMAINS = ("tweets", "products", "movies")


def answers(split: str, who: str, domain: str, name: str) -> dict[str, dict]:
    path = ROOT / split / f"{who}-{domain}-{name}" / "predictions.jsonl"
    return {r["id"]: r for r in map(json.loads, path.open())}


def accuracy(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(np.mean(pred == gold))


def main(split: str, a_name: str, b_name: str, name: str = "all") -> None:
    # negated cue in the sentence -> (domain, gold, answer A, answer B, A's polarity, B's polarity)
    rows = {True: [], False: []}
    for domain in DOMAINS:
        dataset = load_dataset(f"vader:{domain}")
        a, b = answers(split, a_name, domain, name), answers(split, b_name, domain, name)
        for sample in dataset.split(split):
            if sample.id not in a or sample.id not in b:
                continue
            negated = any(cue.negated_by for cue in analyse_text(sample.text).words)
            answer_a, answer_b = a[sample.id], b[sample.id]
            gold = dataset.task.score_polarity(sample.score)
            polarities = (_polarity(answer_a, dataset.task), _polarity(answer_b, dataset.task))
            rows[negated].append((domain, gold, answer_a, answer_b, *polarities))
    for negated, part in rows.items():
        says = [sum("negated by" in r[k]["raw_completion"] for r in part) for k in (2, 3)]
        print(
            f"{split}, sentences {'with' if negated else 'without'} a negated cue: n={len(part)}; "
            f"'negated by' written by {a_name} {says[0]}, by {b_name} {says[1]}"
        )
        if not negated:
            continue
        for domain in (*DOMAINS, "all"):
            sub = [r for r in part if domain in ("all", r[0])]
            gold = np.array([r[1] for r in sub])
            pred_a, pred_b = np.array([r[4] for r in sub]), np.array([r[5] for r in sub])
            d = paired_difference(accuracy, pred_a, pred_b, gold)
            print(
                f"  {domain:8s} n={len(sub):4d} acc-3 {d.a:.3f} -> {d.b:.3f}  {d.difference:+.3f} "
                f"[{d.low:+.3f}, {d.high:+.3f}]"
            )


def _polarity(answer: dict, task: TaskInfo) -> str:
    """acc-3 reads the reported score's band (as `evaluate` does); no score: no polarity."""
    return "" if answer["score"] is None else task.score_polarity(answer["score"])


if __name__ == "__main__":
    main(*sys.argv[1:])
