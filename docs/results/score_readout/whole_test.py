"""Whole VADER test splits from `evaluate` runs (runs/readout/test_all/<who>-<domain>): the
confidence readout against the written score of the same answers (paired bootstrap, 1,000
resamples, seed 0), and, when both runs exist, shipped against SFT under each readout."""

import json
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.eval.compare import regression_metric_fns
from emoreason.metrics.bootstrap import paired_difference

ROOT = Path("runs/readout/test_all")
METRICS = ("pearson_r", "mae", "acc_3")


def load(who, dom):
    path = ROOT / f"{who}-{dom}" / "predictions.jsonl"
    if not path.exists():
        return None
    recs = {json.loads(raw)["id"]: json.loads(raw) for raw in path.open()}

    def num(x):
        return 0.0 if x is None else float(x)  # unparsed: the scale midpoint, as the metrics do

    return {i: (num(r["score"]), num(r.get("written_score", r["score"])), r["gold_score"]) for i, r in recs.items()}


def line(fns, a, b, g):
    out = []
    for m in METRICS:
        d = paired_difference(fns[m], np.array(a), np.array(b), np.array(g), n=1000, seed=0)
        out.append(f"{m} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
    return "; ".join(out)


for dom in ("tweets", "products", "movies"):
    fns = regression_metric_fns(load_dataset(f"vader:{dom}").task)
    runs = {who: load(who, dom) for who in ("shipped", "sft")}
    for who, run in runs.items():
        if run is None:
            continue
        ids = sorted(run)
        conf, written, gold = ([run[i][k] for i in ids] for k in range(3))
        print(f"{dom} {who} n={len(ids)} written -> confidence: {line(fns, written, conf, gold)}")
    if runs["shipped"] and runs["sft"]:
        ids = sorted(set(runs["shipped"]) & set(runs["sft"]))
        gold = [runs["shipped"][i][2] for i in ids]
        for k, name in ((1, "written"), (0, "confidence")):
            a = [runs["sft"][i][k] for i in ids]
            b = [runs["shipped"][i][k] for i in ids]
            print(f"{dom} shipped - SFT ({name}) n={len(ids)}: {line(fns, a, b, gold)}")
