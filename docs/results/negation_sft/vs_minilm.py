"""The shipped default against MiniLM + ridge (RESULTS, "conventional baselines") on the same whole
test splits: Pearson r and MAE of each, and the shipped default's minus MiniLM + ridge's with its
95% paired-bootstrap interval (1,000 resamples, seed 0). Movies is out of domain for both. Reads
test.sh's answers and docs/results/minilm_ridge/<domain>-test/predictions.jsonl.

    cd docs/results/negation_sft && ../../../.venv/bin/python vs_minilm.py > vs_minilm.txt
"""

import json
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.metrics.bootstrap import paired_difference

ROOT = Path(__file__).resolve().parents[3]


def scores(path: Path) -> dict[str, float]:
    return {r["id"]: r["score"] for r in map(json.loads, path.open())}


def pearson(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(np.corrcoef(pred.astype(float), gold.astype(float))[0, 1])


def mae(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(np.mean(np.abs(pred.astype(float) - gold.astype(float))))


for domain in ("tweets", "products", "movies"):
    samples = load_dataset(f"vader:{domain}").split("test")
    ours = scores(ROOT / "runs" / "negation_sft" / "test" / f"shipped-{domain}-all" / "predictions.jsonl")
    ridge = scores(ROOT / "docs" / "results" / "minilm_ridge" / f"{domain}-test" / "predictions.jsonl")
    # an unparsed answer has no score: evaluate counts it as the scale's midpoint, and so does this
    ours_arr = np.array([0.0 if ours[s.id] is None else ours[s.id] for s in samples])
    ridge_arr = np.array([ridge[s.id] for s in samples])
    gold = np.array([s.score for s in samples])
    print(f"{domain} test, n={len(samples)} (MiniLM + ridge -> shipped default; shipped minus MiniLM + ridge)")
    for name, fn in (("pearson_r", pearson), ("mae", mae)):
        d = paired_difference(fn, ridge_arr, ours_arr, gold)
        print(f"  {name:9s} {d.a:.3f} -> {d.b:.3f}  {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
