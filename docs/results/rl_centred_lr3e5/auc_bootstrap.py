"""Is the lr 3e-5 run's rise in AUC (negative against positive sentences, from the probe's
p(negative) - p(positive)) more than sampling noise? A paired bootstrap over the probe's
sentences: each resample draws the same sentences for the start and for the checkpoint. Run from
the project root after a run's probe.sh, with the run's folder under runs/probe (default this run):

    python docs/results/rl_centred_lr3e5/auc_bootstrap.py [centred_lr3e5|centred_in_groups|...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path("runs/probe") / (sys.argv[1] if len(sys.argv) > 1 else "centred_lr3e5")
RESAMPLES = 1000


def scores(step: int, domain: str) -> dict[str, tuple[bool, float]]:
    """Each polar sentence's (gold is negative, p(negative) - p(positive)), by id."""
    out = {}
    for line in (ROOT / f"{step}-{domain}" / "predictions.jsonl").open():
        row = json.loads(line)
        probs = row.get("polarity_probs")
        if probs and row["gold_polarity"] in ("negative", "positive"):
            out[row["id"]] = (row["gold_polarity"] == "negative", probs["negative"] - probs["positive"])
    return out


def main() -> None:
    rng = np.random.default_rng(0)
    print("| domain | step | AUC start -> step | difference [95% paired bootstrap] |")
    print("|---|---|---|---|")
    for domain in ("movies", "tweets", "products"):
        start = scores(0, domain)
        steps = sorted(int(p.name.split("-")[0]) for p in ROOT.glob(f"*-{domain}") if p.is_dir())
        for step in [s for s in steps if s > 0]:
            later = scores(step, domain)
            ids = sorted(set(start) & set(later))
            gold = np.array([start[i][0] for i in ids])
            a = np.array([start[i][1] for i in ids])
            b = np.array([later[i][1] for i in ids])
            observed = roc_auc_score(gold, b) - roc_auc_score(gold, a)
            differences = []
            for _ in range(RESAMPLES):
                pick = rng.integers(0, len(ids), len(ids))
                if gold[pick].all() or not gold[pick].any():
                    continue
                differences.append(roc_auc_score(gold[pick], b[pick]) - roc_auc_score(gold[pick], a[pick]))
            low, high = np.percentile(differences, [2.5, 97.5])
            print(
                f"| {domain} | {step} | {roc_auc_score(gold, a):.3f} -> {roc_auc_score(gold, b):.3f} | "
                f"{observed:+.3f} [{low:+.3f}, {high:+.3f}] |"
            )


if __name__ == "__main__":
    main()
