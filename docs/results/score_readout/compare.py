"""Confidence readout (formats.readout, as shipped) vs the written score, same answers, paired
bootstrap (1,000 resamples), on the probe's records (seeded 200 per split, shipped default,
greedy, grounded quoting). Usage: compare.py valid|test"""

import json
import sys

import numpy as np

from emoreason.data import load_dataset
from emoreason.eval.compare import regression_metric_fns
from emoreason.formats.readout import confidence_weighted_score
from emoreason.metrics.bootstrap import paired_difference

split = sys.argv[1]
pooled = {"a": [], "b": [], "g": []}
for dom in ("tweets", "products", "movies"):
    task = load_dataset(f"vader:{dom}").task
    recs = [json.loads(line) for line in open(f"runs/readout/{dom}.{split}.jsonl")]
    greedy = {}
    for line in open(f"runs/consensus/shipped/{dom}.{split}.greedy.jsonl"):
        x = json.loads(line)["answers"][0]
        greedy[json.loads(line)["id"]] = (x["score"], x["polarity"])
    a, b, g = [], [], []
    for r in recs:
        s, pol = greedy[r["id"]]
        s = 0.0 if s is None else s  # as the metrics score an unparsed answer (scale midpoint)
        pp = r.get("p_pol")
        probs = None if pp is None else {k: v / sum(pp.values()) for k, v in pp.items()}
        a.append(s)
        b.append(confidence_weighted_score(s, pol, probs, task))
        g.append(r["gold"])
    fns = regression_metric_fns(task)
    row = []
    for m in ("pearson_r", "mae", "acc_3", "f1_3_weighted"):
        d = paired_difference(fns[m], np.array(a), np.array(b), np.array(g), n=1000, seed=0)
        row.append(f"{m} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
    print(f"{dom} {split} n={len(g)}: " + "; ".join(row))
    print(
        f"   weight P(written polarity): mean {np.mean([abs(y / x) if x else 1 for x, y in zip(a, b)]):.3f}; "
        f"moved to the band edge: {sum(1 for x, y in zip(a, b) if abs(y) == 0.5 and abs(x) != 0.5)}"
    )
