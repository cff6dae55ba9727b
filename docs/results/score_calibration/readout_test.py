"""The fitted readout as the product computes it (`inference.with_fitted_score`), against the
confidence readout of the same answers: the line fitted on every tweets + products valid answer of
the shipped default (`emoreason fit-score`, score_fit.json here), read on each whole valid split
(a check that the product gives what analyze.py found) and each whole test split (the report),
where the fitted scores are also set against MiniLM + ridge's (docs/results/minilm_ridge).
Paired bootstrap, 1,000 resamples, seed 0.

    python docs/results/score_calibration/readout_test.py [runs/calib]
"""

import json
import sys
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.eval.compare import regression_metric_fns
from emoreason.formats.readout import ScoreFit
from emoreason.inference import with_fitted_score
from emoreason.metrics.bootstrap import paired_difference

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/calib")
FIT = ScoreFit.load(Path(__file__).with_name("score_fit.json"))
METRICS = ("pearson_r", "mae", "acc_3")


def scores(records, task):
    """Each answer's confidence score and fitted score. A run made with the fitted readout (the
    default once the shipped adapter carried the line) kept the confidence one as `confidence_score`;
    its fitted score is checked against the line here."""
    conf, fitted, gold = [], [], []
    for r in records:
        if r.get("score_readout") == "fitted":
            again = with_fitted_score(r | {"score": r["confidence_score"], "score_readout": "confidence"}, FIT, task)
            assert abs(again["score"] - r["score"]) < 1e-9, (r["id"], again["score"], r["score"])
            r = r | {"score": r["confidence_score"], "score_readout": "confidence"}
        conf.append(0.0 if r["score"] is None else float(r["score"]))  # unparsed: the scale midpoint
        f = with_fitted_score(r, FIT, task)
        fitted.append(0.0 if f["score"] is None else float(f["score"]))
        gold.append(float(r["gold_score"]))
    return np.array(conf), np.array(fitted), np.array(gold)


print(f"line: weights {FIT.weights}, intercept {FIT.intercept}, fitted on {', '.join(FIT.fitted_on)}")
for split in ("valid", "test"):
    for dom in ("tweets", "products", "movies"):
        path = ROOT / split / f"shipped-{dom}-all" / "predictions.jsonl"
        if not path.exists():
            print(f"{split} {dom}: no answers at {path}")
            continue
        task = load_dataset(f"vader:{dom}").task
        records = [json.loads(line) for line in path.open()]
        conf, fitted, gold = scores(records, task)
        fns = regression_metric_fns(task)
        parts = []
        for m in METRICS:
            d = paired_difference(fns[m], conf, fitted, gold, n=1000, seed=0)
            parts.append(f"{m} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
        print(f"{split} {dom} (n={len(gold)}) confidence -> fitted: " + "; ".join(parts))
        if split == "test":
            ridge_path = Path("docs/results/minilm_ridge") / f"{dom}-test" / "predictions.jsonl"
            ridge = {r["id"]: r["score"] for r in map(json.loads, ridge_path.open())}
            ridge_scores = np.array([ridge[r["id"]] for r in records])
            parts = []
            for m in ("pearson_r", "mae"):
                d = paired_difference(fns[m], ridge_scores, fitted, gold, n=1000, seed=0)
                parts.append(f"{m} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
            print("  MiniLM + ridge -> fitted: " + "; ".join(parts))
