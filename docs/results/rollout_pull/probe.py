"""Tabulate probe.sh: per step and valid split, the mean probability of each polarity at the
answer's first tag and the mean log-odds log p(negative) / p(positive), by gold polarity."""

import json
import math
import sys
from pathlib import Path

root = Path(sys.argv[1])
steps = sorted({int(p.name.split("-")[0]) for p in root.iterdir() if p.is_dir()})
print("step domain gold n | p(neg) p(neu) p(pos) | log-odds neg:pos | answers neg/neu/pos")
for domain in ("movies", "tweets", "products"):
    for gold in ("negative", "neutral", "positive", "all"):
        for step in steps:
            path = root / f"{step}-{domain}" / "predictions.jsonl"
            if not path.is_file():
                continue
            rows = [json.loads(line) for line in path.open()]
            rows = [r for r in rows if r.get("polarity_probs") and gold in ("all", r["gold_polarity"])]
            n = len(rows)
            if not n:
                continue
            mean = {p: sum(r["polarity_probs"][p] for r in rows) / n for p in ("negative", "neutral", "positive")}
            odds = (
                sum(
                    math.log(max(r["polarity_probs"]["negative"], 1e-6) / max(r["polarity_probs"]["positive"], 1e-6))
                    for r in rows
                )
                / n
            )
            answers = [sum(r["polarity"] == p for r in rows) for p in ("negative", "neutral", "positive")]
            print(
                f"{step:4d} {domain:8s} {gold:8s} {n:3d} | {mean['negative']:.3f} {mean['neutral']:.3f} "
                f"{mean['positive']:.3f} | {odds:+.3f} | {'/'.join(map(str, answers))}"
            )
        print()

# Bias or discrimination: a shift of every gold's log-odds by the same amount moves the threshold
# only; a widening gap between negative-gold and positive-gold sentences (or a higher AUC of
# p(negative) - p(positive) for telling them apart) is a better reading of the sentences.
from sklearn.metrics import roc_auc_score  # noqa: E402

print("step domain | mean log-odds neg:pos on gold negative, neutral, positive | gap neg-pos | AUC neg vs pos")
for domain in ("movies", "tweets", "products"):
    for step in steps:
        path = root / f"{step}-{domain}" / "predictions.jsonl"
        if not path.is_file():
            continue
        rows = [json.loads(line) for line in path.open()]
        rows = [r for r in rows if r.get("polarity_probs")]

        def odds(r):
            probs = r["polarity_probs"]
            return math.log(max(probs["negative"], 1e-6) / max(probs["positive"], 1e-6))

        by_gold = {g: [odds(r) for r in rows if r["gold_polarity"] == g] for g in ("negative", "neutral", "positive")}
        means = {g: sum(v) / len(v) for g, v in by_gold.items() if v}
        polar = [r for r in rows if r["gold_polarity"] in ("negative", "positive")]
        auc = roc_auc_score(
            [r["gold_polarity"] == "negative" for r in polar],
            [r["polarity_probs"]["negative"] - r["polarity_probs"]["positive"] for r in polar],
        )
        print(
            f"{step:4d} {domain:8s} | {means['negative']:+.3f} {means.get('neutral', float('nan')):+.3f} "
            f"{means['positive']:+.3f} | {means['negative'] - means['positive']:.3f} | {auc:.4f}"
        )
    print()
