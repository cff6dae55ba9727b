"""Exploratory: metrics of candidate score readouts from the probe's records."""

import json
import sys

import numpy as np

from emoreason.data import load_dataset
from emoreason.metrics.regression import generic_regression_metrics


def readouts(rec, s):
    pp = rec.get("p_pol") or {"positive": 1 / 3, "negative": 1 / 3, "neutral": 1 / 3}
    tot = sum(pp.values())
    pp = {k: v / tot for k, v in pp.items()}
    m = abs(s)
    margin = pp["positive"] - pp["negative"]
    out = {"greedy": s}
    out["margin*|s|"] = margin * m  # symmetric-magnitude expectation, neutral 0
    out["margin*max(|s|,1)"] = margin * max(m, 1.0)
    out["margin*2"] = margin * 2.0
    # polarity kept: move the magnitude inside the written polarity's side of the band
    top = {"positive": pp["positive"], "negative": pp["negative"], "neutral": pp["neutral"]}
    wp = "positive" if s > 0.5 else "negative" if s < -0.5 else "neutral"
    if wp == "neutral":
        out["keep:neutral->margin*0.5"] = margin * 0.5
        out["keep:conf*|s|"] = margin * 0.5
        out["keep:2*margin"] = margin * 0.5
    else:
        sign = 1 if s > 0 else -1
        out["keep:neutral->margin*0.5"] = s
        out["keep:conf*|s|"] = sign * max(0.55, m * top[wp])
        out["keep:2*margin"] = sign * max(0.55, abs(2 * margin)) if margin * sign > 0 else sign * 0.55
    return out


task_cache = {}
rows_all = {}
for split in sys.argv[1:]:
    for dom in ("tweets", "products", "movies"):
        try:
            recs = [json.loads(line) for line in open(f"runs/readout/{dom}.{split}.jsonl")]
        except FileNotFoundError:
            continue
        task = load_dataset(f"vader:{dom}").task
        greedy = {}
        for line in open(f"runs/consensus/shipped/{dom}.{split}.greedy.jsonl"):
            x = json.loads(line)
            sc = x["answers"][0]["score"]
            greedy[x["id"]] = sc if sc is not None else 0.0
        g = np.array([r["gold"] for r in recs])
        R = [readouts(r, greedy[r["id"]]) for r in recs]
        for k in R[0]:
            p = np.array([x[k] for x in R])
            m = generic_regression_metrics(p, g, task.scale, task.neutral)
            print(
                f"{dom:9s}{split:6s} {k:20s} r {m['pearson_r']:.3f} mae {m['mae']:.3f}"
                f" acc3 {m['acc_3']:.3f} f1 {m['f1_3_weighted']:.3f}"
            )
