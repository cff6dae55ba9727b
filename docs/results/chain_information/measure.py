"""How much of a VADER answer's score comes from what the answer writes after its polarity word?

In the c2f format the polarity word comes first and the chain and the written score follow it, so
everything the chain could add to the score reaches the product only through the written score
(inside the `confidence` term) and the cue sum. This reads saved answers (greedy, every valid
sentence, `emoreason evaluate --score-readout confidence`) and, for each domain in turn, fits two
lines on the other two domains' answers and scores the held-out one:

- `word`: least squares of gold on the polarity word's probabilities alone (the margin
  P(positive) - P(negative) and its probit), nothing the answer wrote after the word;
- `all`: the same plus what follows the word: the written score, the confidence score
  (written x the word's probability) and the chain's cue sum.

Both lines are read raw (no clipping to the written polarity's side), so they differ only in their
terms; the difference all - word is paired on the same sentences (1,000 bootstrap resamples). The
partial correlation is that of gold with the written score once the word's two terms are fitted
out, in the domain itself; `within` fits both lines on one half of the held-out domain's own sentences
and scores the other (two folds by sorted id), the most the written part adds where a line knows the
domain.

    .venv/bin/python docs/results/chain_information/measure.py sv a1 ph > docs/results/chain_information/measure.txt

Each argument names answers under runs/polarity_sft/valid/<name>-<domain>-all.
"""

import sys
from pathlib import Path

import numpy as np

from emoreason.eval.compare import paired_metrics, read_run
from emoreason.inference import record_fit_features

VALID = Path("runs/polarity_sft/valid")
DOMAINS = ("tweets", "products", "movies")
WORD = ("margin", "probit_margin")
ALL = ("margin", "probit_margin", "written", "confidence", "cues")


def rows(name: str, domain: str):
    """Per answer with the word's probabilities: the named features, the gold score; and the task."""
    records, task = read_run(VALID / f"{name}-{domain}-all")
    out, gold, ids = [], [], []
    for key in sorted(records):
        record = records[key]
        features = record_fit_features(record)
        if features is None or record.get("written_score") is None or record.get("gold_score") is None:
            continue
        confidence, margin, cues, probit = features
        named = {
            "margin": margin,
            "probit_margin": probit,
            "written": float(record["written_score"]),
            "confidence": confidence,
            "cues": cues,
        }
        out.append(named)
        gold.append(float(record["gold_score"]))
        ids.append(key)
    return out, np.array(gold), ids, task


def design(named, terms):
    return np.column_stack([np.array([row[t] for row in named]) for t in terms] + [np.ones(len(named))])


def line(train, gold, terms):
    coef, *_ = np.linalg.lstsq(design(train, terms), gold, rcond=None)
    return coef


def partial(named, gold) -> float:
    """Correlation of gold with the written score, both with the word's terms fitted out."""
    x = design(named, WORD)
    written = np.array([row["written"] for row in named])
    residual = lambda y: y - x @ np.linalg.lstsq(x, y, rcond=None)[0]  # noqa: E731
    return float(np.corrcoef(residual(gold), residual(written))[0, 1])


def main() -> None:
    for name in sys.argv[1:]:
        data = {domain: rows(name, domain) for domain in DOMAINS}
        print(f"== {name}")
        for held in DOMAINS:
            train = [row for domain in DOMAINS if domain != held for row in data[domain][0]]
            train_gold = np.concatenate([data[domain][1] for domain in DOMAINS if domain != held])
            named, gold, _, task = data[held]
            word = design(named, WORD) @ line(train, train_gold, WORD)
            every = design(named, ALL) @ line(train, train_gold, ALL)
            d = paired_metrics(task, word, every, gold, names=("pearson_r", "mae"))
            folds = np.arange(len(gold)) % 2
            word_in, every_in = np.empty(len(gold)), np.empty(len(gold))
            for fold in (0, 1):
                fit = [row for row, f in zip(named, folds) if f != fold]
                test = [row for row, f in zip(named, folds) if f == fold]
                word_in[folds == fold] = design(test, WORD) @ line(fit, gold[folds != fold], WORD)
                every_in[folds == fold] = design(test, ALL) @ line(fit, gold[folds != fold], ALL)
            within = paired_metrics(task, word_in, every_in, gold, names=("pearson_r",))["pearson_r"]
            print(
                f"{held} ({len(gold)}; lines fitted on the other two): word r {d['pearson_r'].a:.4f}, "
                f"all r {d['pearson_r'].b:.4f}; all - word: r {d['pearson_r']}, MAE {d['mae']}; "
                f"partial r(gold, written | word) {partial(named, gold):+.3f}; within: r {within}"
            )


if __name__ == "__main__":
    main()
