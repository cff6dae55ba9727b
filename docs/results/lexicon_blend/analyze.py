"""Does the lexicon's own reading of the input, added to the shipped score line, read the gold score
better out of domain?

Written before any of the answers it reads existed (runs/blend/valid/shipped-<domain>-all: the shipped
default's greedy answers to every sentence of each VADER valid split, `valid.sh`).

Why: the shipped chain usually quotes one cue ("loved", and not "superb", "happy", "cry"), and the
shipped line (`formats.readout`, `score_calibration/`) reads the score off the answer alone:
confidence, margin P(positive) - P(negative), the chain's cue sum. VADER's compound score reads every
lexicon word of the input with its rules. Out of domain on movies test it is far weaker than the model
(r 0.435 against 0.679), but it may carry what the one quoted cue leaves out.

Features: confidence, margin, cues (exactly the shipped line's, `record_fit_features`), and
  lexicon  VADER's compound score of the sample's input text, in [-1, 1].

The candidate, fixed here: `blend` = ordinary least squares of the gold score on
[confidence, margin, cues, lexicon, 1], kept on the written polarity's side of the neutral band as the
shipped line is (so no label changes). It is compared with `shipped` = the same least squares without
`lexicon`, fitted on the same answers (on tweets + products valid this is the shipped line itself).

Rule, fixed here:
  (c1) out of domain: fitted on every tweets + products valid answer, scored on every movies valid
       answer, `blend` - `shipped` r has a paired 95% interval entirely above 0;
  (c2) in domain, two folds (fit on tweets valid, score products valid, and the other way round):
       neither r difference has an interval entirely below 0.
If both hold, `lexicon` becomes a feature of the product's score line (fitted on tweets + products
valid) and the whole test splits are read once, each difference reported with its paired interval.
Printed as descriptions, not chosen: VADER alone (least squares on [lexicon, 1]) against `shipped`,
and the MAE and acc-3 of each.

    python docs/results/lexicon_blend/analyze.py [runs/blend/valid]
"""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from emoreason.data import load_dataset
from emoreason.eval.compare import regression_metric_fns
from emoreason.formats.readout import fitted_score
from emoreason.inference import record_fit_features
from emoreason.metrics.bootstrap import paired_difference

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/blend/valid")
METRICS = ("pearson_r", "mae", "acc_3")
SHIPPED, BLEND, VADER_ONLY = [0, 1, 2], [0, 1, 2, 3], [3]
VADER = SentimentIntensityAnalyzer()


def load(dom):
    texts = {s.id: s.text for s in load_dataset(f"vader:{dom}").split("valid")}
    rows = [json.loads(line) for line in (ROOT / f"shipped-{dom}-all" / "predictions.jsonl").open()]
    feats, gold, answers = [], [], []
    for r in rows:
        base = record_fit_features(r)
        base = base[:3] if base is not None else None  # the three-term line of its day
        lexicon = VADER.polarity_scores(texts[r["id"]])["compound"]
        feats.append((*(base or (0.0, 0.0, 0.0)), lexicon))
        gold.append(float(r["gold_score"]))
        # what the product's line reads beside the features: the written score and polarity (None: unparsed)
        answers.append((r.get("written_score"), r["polarity"]) if base is not None else None)
    return np.array(feats), np.array(gold), answers


def fit(x, y, cols):
    design = np.column_stack([x[:, cols], np.ones(len(x))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef


def predict(coef, x, cols, answers, task):
    """The product's fitted readout (`formats.readout.fitted_score`) of the line `coef` over `cols`;
    an unparsed answer scores the scale's midpoint, as the metrics score it."""
    # any number of terms (ScoreFit holds exactly the product's four): fitted_score reads only these two
    line = SimpleNamespace(weights=tuple(coef[:-1]), intercept=float(coef[-1]))
    return np.array(
        [
            0.0 if answer is None else fitted_score(line, row[cols], answer[0], answer[1], task)
            for row, answer in zip(x, answers)
        ]
    )


def line(fns, a, b, g):
    parts = []
    for m in METRICS:
        d = paired_difference(fns[m], a, b, g, n=1000, seed=0)
        parts.append(f"{m} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
    return "; ".join(parts)


def main():
    data = {d: load(d) for d in ("tweets", "products", "movies")}
    tasks = {d: load_dataset(f"vader:{d}").task for d in data}
    plans = [(("tweets", "products"), "movies"), (("tweets",), "products"), (("products",), "tweets")]
    for fit_on, score_on in plans:
        x = np.concatenate([data[d][0] for d in fit_on])
        y = np.concatenate([data[d][1] for d in fit_on])
        xs, gold, pol = data[score_on]
        fns = regression_metric_fns(tasks[score_on])
        preds = {}
        for name, cols in (("shipped", SHIPPED), ("blend", BLEND), ("VADER alone", VADER_ONLY)):
            coef = fit(x, y, cols)
            preds[name] = predict(coef, xs, cols, pol, tasks[score_on])
            print(f"fit {'+'.join(fit_on)} -> {score_on} (n={len(gold)}): {name} coef {np.round(coef, 3).tolist()}")
        print(f"  shipped -> blend:       {line(fns, preds['shipped'], preds['blend'], gold)}")
        print(f"  shipped -> VADER alone: {line(fns, preds['shipped'], preds['VADER alone'], gold)}")


if __name__ == "__main__":
    main()
