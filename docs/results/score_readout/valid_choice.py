"""Valid choice under the readout: the shipped default (its greedy answers and polarity
probabilities from the probe, which matched `evaluate` on tweets valid) against the SFT adapter
(`evaluate` runs in runs/readout/valid/sft-<domain>), the same seeded 200 per split, both read
with the confidence readout, and both as written; paired bootstrap, 1,000 resamples."""

import json

import numpy as np

from emoreason.data import load_dataset
from emoreason.eval.compare import regression_metric_fns
from emoreason.formats.readout import confidence_weighted_score
from emoreason.metrics.bootstrap import paired_difference

means = {"sft": {"written": [], "confidence": []}, "shipped": {"written": [], "confidence": []}}
for dom in ("tweets", "products", "movies"):
    task = load_dataset(f"vader:{dom}").task
    probe = {json.loads(line)["id"]: json.loads(line) for line in open(f"runs/readout/{dom}.valid.jsonl")}
    shipped = {}
    for line in open(f"runs/consensus/shipped/{dom}.valid.greedy.jsonl"):
        x = json.loads(line)
        a = x["answers"][0]
        s = a["score"] if a["score"] is not None else 0.0
        pp = probe[x["id"]].get("p_pol")
        probs = None if pp is None else {k: v / sum(pp.values()) for k, v in pp.items()}
        shipped[x["id"]] = (confidence_weighted_score(s, a["polarity"], probs, task), s, x["gold"])
    sft = {}
    for line in open(f"runs/readout/valid/sft-{dom}/predictions.jsonl"):
        r = json.loads(line)

        def num(v):
            return 0.0 if v is None else float(v)

        sft[r["id"]] = (num(r["score"]), num(r.get("written_score", r["score"])), r["gold_score"])
    ids = sorted(set(shipped) & set(sft))
    fns = regression_metric_fns(task)
    gold = np.array([shipped[i][2] for i in ids])
    for k, name in ((1, "written"), (0, "confidence")):
        a = np.array([sft[i][k] for i in ids])
        b = np.array([shipped[i][k] for i in ids])
        parts = []
        for m in ("pearson_r", "mae", "acc_3"):
            d = paired_difference(fns[m], a, b, gold, n=1000, seed=0)
            parts.append(f"{m} SFT {d.a:.3f} shipped {d.b:.3f} {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
            if m == "pearson_r":
                means["sft"][name].append(d.a)
                means["shipped"][name].append(d.b)
        print(f"{dom} valid n={len(ids)} ({name}): " + "; ".join(parts))
for who, by in means.items():
    print(who, {k: round(float(np.mean(v)), 3) for k, v in by.items() if v})
