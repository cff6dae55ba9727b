"""A cheap proxy for the question behind sft.yaml: does a third training domain help a domain that
no model saw? With a bag-of-words model (TF-IDF of words and word pairs + ridge, scikit-learn), for
each VADER domain held out: trained on one other domain's train split, and on both others'; Pearson r
on the held-out domain's valid split, and the paired-bootstrap difference (1,000 resamples, same
sentences). More domains also means more sentences, so a third column trains on both others subsampled
(seeded) to the single domain's size: variety at equal size. Seconds of CPU; not the explaining model,
only whether more variety helps a simple one.

    .venv/bin/python docs/results/all_domains/lodo_tfidf.py > docs/results/all_domains/lodo_tfidf.txt
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge

from emoreason.data.base import load_dataset

DOMAINS = ("tweets", "products", "movies")


def split(domain: str, name: str) -> tuple[list[str], np.ndarray]:
    samples = load_dataset(f"vader:{domain}").split(name)
    return [s.text for s in samples], np.array([float(s.score) for s in samples])


def fit_predict(train: list[str], gold: np.ndarray, test: list[str]) -> np.ndarray:
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = Ridge(alpha=1.0).fit(vectorizer.fit_transform(train), gold)
    return model.predict(vectorizer.transform(test))


def paired_r_difference(gold: np.ndarray, a: np.ndarray, b: np.ndarray, resamples: int = 1000) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(resamples):
        i = rng.integers(0, len(gold), len(gold))
        diffs.append(np.corrcoef(gold[i], b[i])[0, 1] - np.corrcoef(gold[i], a[i])[0, 1])
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    data = {d: {name: split(d, name) for name in ("train", "valid")} for d in DOMAINS}
    print(
        "held-out domain | trained on | r | trained on both others | r | difference [95% paired] | "
        "both others at the one's size: r, difference [95% paired]"
    )
    for held in DOMAINS:
        others = [d for d in DOMAINS if d != held]
        texts, gold = data[held]["valid"]
        pooled_texts = data[others[0]]["train"][0] + data[others[1]]["train"][0]
        pooled_gold = np.concatenate([data[others[0]]["train"][1], data[others[1]]["train"][1]])
        both = fit_predict(pooled_texts, pooled_gold, texts)
        r_both = np.corrcoef(gold, both)[0, 1]
        for one in others:
            alone = fit_predict(*data[one]["train"], texts)
            r_one = np.corrcoef(gold, alone)[0, 1]
            low, high = paired_r_difference(gold, alone, both)
            size = len(data[one]["train"][0])
            keep = np.random.default_rng(0).choice(len(pooled_texts), size=size, replace=False)
            even = fit_predict([pooled_texts[i] for i in keep], pooled_gold[keep], texts)
            r_even = np.corrcoef(gold, even)[0, 1]
            even_low, even_high = paired_r_difference(gold, alone, even)
            print(
                f"{held} ({len(gold)}) | {one} ({size}) | {r_one:.3f} | {' + '.join(others)} "
                f"({len(pooled_texts)}) | {r_both:.3f} | {r_both - r_one:+.3f} [{low:+.3f}, {high:+.3f}] | "
                f"{r_even:.3f}, {r_even - r_one:+.3f} [{even_low:+.3f}, {even_high:+.3f}]"
            )


if __name__ == "__main__":
    main()
