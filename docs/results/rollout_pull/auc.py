"""Paired bootstrap of the AUC change (p(negative) - p(positive) telling negative from positive
sentences) of each earlier run's best/ against the start, on the probe_best.sh outputs:
1 balanced stream, 2 unbalanced stream, 3 no hints, 4 advantages balanced by gold.
Usage: python auc.py runs/rollout_pull/probe_best [DOMAIN ...]"""

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

root = Path(sys.argv[1])
domains = sys.argv[2:] or ["movies", "tweets", "products"]


def load(folder: Path) -> dict[str, tuple[bool, float]]:
    rows = {}
    for line in (folder / "predictions.jsonl").open():
        r = json.loads(line)
        if r["gold_polarity"] in ("negative", "positive"):
            probs = r["polarity_probs"]
            rows[r["id"]] = (r["gold_polarity"] == "negative", probs["negative"] - probs["positive"])
    return rows


print("domain run | AUC start -> run | change [95% paired bootstrap, 1,000 resamples]")
for domain in domains:
    start = load(root / f"0-{domain}")
    ids = sorted(start)
    gold = np.array([start[i][0] for i in ids])
    a = np.array([start[i][1] for i in ids])
    for run in (1, 2, 3, 4):
        other = load(root / f"{run}-{domain}")
        b = np.array([other[i][1] for i in ids])
        rng = np.random.default_rng(0)
        changes = []
        for _ in range(1000):
            k = rng.integers(0, len(ids), len(ids))
            if gold[k].all() or not gold[k].any():
                continue
            changes.append(roc_auc_score(gold[k], b[k]) - roc_auc_score(gold[k], a[k]))
        auc_a, auc_b = roc_auc_score(gold, a), roc_auc_score(gold, b)
        low, high = np.percentile(changes, [2.5, 97.5])
        print(f"{domain:8s} {run} | {auc_a:.4f} -> {auc_b:.4f} | {auc_b - auc_a:+.4f} [{low:+.4f}, {high:+.4f}]")
