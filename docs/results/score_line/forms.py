"""Exploratory, on valid answers only: which numbers of an answer should the score line read? Each
form is fitted by least squares on one set of the shipped default's valid answers and read on a domain
it was not fitted on (movies from tweets + products, as the shipped line is; tweets from products;
products from tweets). Pearson r of each form, and its paired difference to the shipped form (L3) with a
95% bootstrap interval (1,000 resamples of the sentences). Nothing here is chosen on test.

    .venv/bin/python docs/results/score_line/forms.py > docs/results/score_line/forms.txt
"""

import json
from pathlib import Path

import numpy as np
from scipy.stats import norm

from emoreason.metrics.bootstrap import paired_difference

ANSWERS = Path("runs/score_line")
EPS = 1e-3  # the probabilities are stored to 4 decimals; log-odds are clipped where one side is 0


def columns(record: dict) -> dict[str, float]:
    from emoreason.inference import record_fit_features

    confidence, margin, cues, _ = record_fit_features(record)
    p = record["polarity_probs"]
    return {
        "confidence": confidence,
        "margin": margin,
        "cues": cues,
        "written": float(record.get("written_score") or 0.0),
        "log_odds": float(np.log((p["positive"] + EPS) / (p["negative"] + EPS))),
        "neutral": float(p["neutral"]),
        # the polarity objective trains P(positive) = Phi((g - 0.5) / sd), P(negative) = Phi((-0.5 - g) / sd)
        # for gold g (rater_sd 0.5, band +-0.5): their probits differ by 2g / sd, linear in g
        "probit": float(
            norm.ppf(np.clip(p["positive"], EPS, 1 - EPS)) - norm.ppf(np.clip(p["negative"], EPS, 1 - EPS))
        ),
    }


FORMS = {
    "L3 (shipped: confidence, margin, cues)": ("confidence", "margin", "cues"),
    "L2 (confidence, margin)": ("confidence", "margin"),
    "margin": ("margin",),
    "confidence": ("confidence",),
    "written": ("written",),
    "log-odds": ("log_odds",),
    "L2 + log-odds": ("confidence", "margin", "log_odds"),
    "L2 + P(neutral)": ("confidence", "margin", "neutral"),
    "written, margin": ("written", "margin"),
    "probit margin": ("probit",),
    "L2 + probit margin": ("confidence", "margin", "probit"),
}


def load(domain: str) -> tuple[list[dict[str, float]], np.ndarray]:
    rows, gold = [], []
    for line in (ANSWERS / f"valid-{domain}" / "predictions.jsonl").open():
        record = json.loads(line)
        if record.get("polarity_probs") and record.get("score") is not None:
            rows.append(columns(record))
            gold.append(float(record["gold_score"]))
    return rows, np.array(gold)


def design(rows: list[dict[str, float]], terms: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([[r[t] for r in rows] for t in terms] + [np.ones(len(rows))])


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def main() -> None:
    data = {d: load(d) for d in ("tweets", "products", "movies")}
    for fit_on, read_on in ((("tweets", "products"), "movies"), (("products",), "tweets"), (("tweets",), "products")):
        rows = [r for d in fit_on for r in data[d][0]]
        gold = np.concatenate([data[d][1] for d in fit_on])
        test_rows, test_gold = data[read_on]
        print(f"fitted on {' + '.join(fit_on)} valid ({len(rows)}), read on {read_on} valid ({len(test_rows)}):")
        predictions = {}
        for name, terms in FORMS.items():
            coef, *_ = np.linalg.lstsq(design(rows, terms), gold, rcond=None)
            predictions[name] = design(test_rows, terms) @ coef
        base = next(iter(FORMS))
        for name, pred in predictions.items():
            if name == base:
                print(f"  {name:40s} r {pearson(pred, test_gold):.3f}")
                continue
            d = paired_difference(pearson, predictions[base], pred, test_gold, 1000, 0, 0.05)
            print(
                f"  {name:40s} r {pearson(pred, test_gold):.3f}, - L3 {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
            )


if __name__ == "__main__":
    main()
