"""Does a score fitted to what one answer already carries beat the confidence readout?

Written before any of the answers it reads existed (runs/calib/valid/shipped-<domain>-all: the
shipped default's greedy answers to every sentence of each VADER valid split, `valid.sh`).

Features of one answer, all from the answer itself (no second pass, nothing outside the chain):
  readout  the shipped score: the written score times the probability of the written polarity
  margin   P(positive) - P(negative) at the polarity position
  cues     the sum of the valences the chain states for its quoted cues (after a stated negation)

The candidate, fixed here: `fitted` = ordinary least squares of the gold score on
[readout, margin, cues, 1], kept on the written polarity's side of the neutral band (at its edge
when it would cross), so the chain's label stays its label. An unparsed answer scores the scale's
midpoint under every readout, as the metrics do.

Rule, fixed here:
  (c1) out of domain: fitted on every tweets + products valid sentence, scored on every movies
       valid sentence, `fitted` - `readout` r has a paired 95% interval entirely above 0;
  (c2) in domain, two folds (fit on tweets valid, score products valid, and the other way round):
       neither r difference has an interval entirely below 0.
If both hold, the readout is built into the product (fitted on tweets + products valid) and the
whole test splits are read once, each difference reported with its paired interval. `cues only`
(least squares on [readout, cues, 1]) and `margin only` are printed as descriptions, not chosen.

    python docs/results/score_calibration/analyze.py [runs/calib/valid]
"""

import json
import sys
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.eval.compare import regression_metric_fns
from emoreason.metrics.bootstrap import paired_difference
from emoreason.metrics.evidence import cue_statements

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/calib/valid")
METRICS = ("pearson_r", "mae", "acc_3")
FEATURES = {"fitted": (0, 1, 2), "cues only": (0, 2), "margin only": (0, 1)}


def load(dom):
    rows = [json.loads(line) for line in (ROOT / f"shipped-{dom}-all" / "predictions.jsonl").open()]
    feats, gold, polarity = [], [], []
    for r in rows:
        probs = r.get("polarity_probs") or {}
        margin = probs.get("positive", 0.0) - probs.get("negative", 0.0)
        cues = sum(s.effective for s in cue_statements(r.get("raw_completion") or "") if s.effective is not None)
        readout = 0.0 if r["score"] is None else float(r["score"])
        feats.append((readout, margin, cues))
        gold.append(float(r["gold_score"]))
        polarity.append(r["polarity"] if r["score"] is not None else None)
    return np.array(feats), np.array(gold), polarity


def fit(x, y, cols):
    design = np.column_stack([x[:, cols], np.ones(len(x))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef


def predict(coef, x, cols, polarity, task):
    raw = np.column_stack([x[:, cols], np.ones(len(x))]) @ coef
    out = []
    band = task.neutral
    for value, pol, readout in zip(raw, polarity, x[:, 0]):
        if pol is None:
            out.append(readout)  # unparsed: what every readout gives it
        elif task.score_polarity(float(value)) == pol:
            out.append(float(value))
        elif pol == "positive":
            out.append(band.high + 0.004)
        elif pol == "negative":
            out.append(band.low - 0.004)
        else:  # neutral written, fitted value outside the band: the band's nearer edge
            out.append(float(np.clip(value, band.low, band.high)))
    return np.array(out)


def line(fns, a, b, g):
    parts = []
    for m in METRICS:
        d = paired_difference(fns[m], a, b, g, n=1000, seed=0)
        parts.append(f"{m} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
    return "; ".join(parts)


data = {d: load(d) for d in ("tweets", "products", "movies")}
tasks = {d: load_dataset(f"vader:{d}").task for d in data}
for name, cols in FEATURES.items():
    print(f"== {name}: least squares on {[('readout', 'margin', 'cues')[c] for c in cols]} + 1")
    plans = [(("tweets", "products"), "movies"), (("tweets",), "products"), (("products",), "tweets")]
    for fit_on, score_on in plans:
        x = np.concatenate([data[d][0] for d in fit_on])
        y = np.concatenate([data[d][1] for d in fit_on])
        coef = fit(x, y, list(cols))
        xs, gold, pol = data[score_on]
        fitted = predict(coef, xs, list(cols), pol, tasks[score_on])
        fns = regression_metric_fns(tasks[score_on])
        print(f"  fit {'+'.join(fit_on)} -> {score_on} (n={len(gold)}), coef {np.round(coef, 3).tolist()}")
        print(f"    readout -> {name}: {line(fns, xs[:, 0], fitted, gold)}")
