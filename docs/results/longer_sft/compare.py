"""The comparisons of valid.sh and test.sh: B - A on the same sentences (paired bootstrap, 1,000
resamples; `emoreason.eval.compare.compare_runs`), each system's mean r, and its answers per
polarity against the gold's. Run from the project root after both scripts."""

import json
from collections import Counter
from pathlib import Path

from emoreason.data import load_dataset
from emoreason.eval.compare import compare_runs

DOMAINS = ("tweets", "products", "movies")
METRICS = ("pearson_r", "mae", "acc_3", "uar_3", "f1_3_weighted")
SPLITS = {"valid": ("sft150", "sft600"), "test": ("shipped", "sft600")}

for split, (a, b) in SPLITS.items():
    root = Path("runs/longer_sft") / split
    mean_r: dict[str, dict[str, float]] = {a: {}, b: {}}
    for d in DOMAINS:
        if not (root / f"{a}-{d}" / "metrics.json").is_file() or not (root / f"{b}-{d}" / "metrics.json").is_file():
            print(f"{split} {d}: not evaluated")
            continue
        out = compare_runs(root / f"{a}-{d}", root / f"{b}-{d}")
        parts = []
        for m in METRICS:
            x = out["metrics"][m]
            parts.append(f"{m} {x['a']:.3f} -> {x['b']:.3f} {x['difference']:+.3f} [{x['low']:+.3f}, {x['high']:+.3f}]")
        mean_r[a][d], mean_r[b][d] = out["metrics"]["pearson_r"]["a"], out["metrics"]["pearson_r"]["b"]
        print(f"{split} {d} n={out['n_shared']} {b} - {a}: " + "; ".join(parts))
        task = load_dataset(f"vader:{d}").task
        for who in (a, b):
            rows = [json.loads(line) for line in (root / f"{who}-{d}" / "predictions.jsonl").open()]
            said = Counter(r.get("polarity") for r in rows)
            gold = Counter(task.score_polarity(r["gold_score"]) for r in rows)
            print(
                f"  {who}: answers positive/negative/neutral {said['positive']}/{said['negative']}/{said['neutral']}"
                f" (gold {gold['positive']}/{gold['negative']}/{gold['neutral']}),"
                f" parse {sum(bool(r['parse_ok']) for r in rows)}/{len(rows)}"
            )
    for who, by in mean_r.items():
        if by:
            print(
                f"{split} {who}: r "
                + ", ".join(f"{d} {r:.3f}" for d, r in by.items())
                + f"; mean {sum(by.values()) / len(by):.3f}"
            )
