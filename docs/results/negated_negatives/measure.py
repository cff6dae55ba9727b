"""Where the shipped default reads a negated word: its polarity word's probabilities (the thing its
score is read off) on every sentence of a split, by whether the sentence negates a word the lexicon
rates negatively ("not bad"), positively ("not good"), or neither.

    .venv/bin/python docs/results/negated_negatives/measure.py [ADAPTER] [SPLIT] > out.txt

ADAPTER: "default" (the shipped one) or an adapter folder; SPLIT: valid (default) or train (counts only
matter there: how many train sentences the polarity objective could learn "not bad" from).
"""

import sys

import numpy as np
import torch

from emoreason.data import load_pooled
from emoreason.data.schema import POLARITIES
from emoreason.generation.logprobs import continuation_logprobs, encode_with_continuations
from emoreason.metrics.valence import negated_words, vader_lexicon
from emoreason.models.loading import load_model
from emoreason.train.config import PolarityObjectiveConfig
from emoreason.train.polarity import PolaritySentences

ADAPTER = sys.argv[1] if len(sys.argv) > 1 else "default"
SPLIT = sys.argv[2] if len(sys.argv) > 2 else "valid"
DOMAINS = ("tweets", "products", "movies")
LEXICON = vader_lexicon()


def kind(text: str) -> str:
    """'neg-negated' when the text negates a negatively rated word, 'pos-negated' a positively rated
    one (both: the first found in sorted order decides nothing, so 'both'), else 'plain'."""
    signs = {np.sign(LEXICON[w]) for w in negated_words(text) if w in LEXICON}
    if signs == {-1.0}:
        return "neg-negated"
    if signs == {1.0}:
        return "pos-negated"
    return "both" if signs else "plain"


@torch.no_grad()
def probabilities(loaded, sentences, batch: int = 16) -> np.ndarray:
    """[N, 3] P(polarity) renormalised over the three words, columns in POLARITIES order."""
    config = PolarityObjectiveConfig(weight=1.0, dataset=[f"vader:{d}" for d in DOMAINS], split=SPLIT)
    reader = PolaritySentences.load(config, loaded.processor)
    out = []
    for start in range(0, len(sentences), batch):
        chunk = sentences[start : start + batch]
        conversations, continuations = reader.rows(chunk)
        encoded = encode_with_continuations(loaded, conversations, continuations, share_prefix=True)
        logp, _ = continuation_logprobs(loaded.model, encoded)
        choice = logp[:, len(continuations[0]) - 1].reshape(len(chunk), len(POLARITIES))
        out.append(torch.softmax(choice.float(), -1).numpy())
    return np.concatenate(out)


def main() -> None:
    loaded = None if SPLIT == "train" else load_model("default", None if ADAPTER == "default" else [ADAPTER])
    print(f"adapter {ADAPTER}, {SPLIT} split; P = the polarity word's probabilities renormalised over three")
    for domain in DOMAINS:
        samples, task = load_pooled([f"vader:{domain}"], SPLIT)
        samples = [s for s in samples if s.score is not None]
        kinds = np.array([kind(s.text) for s in samples])
        gold = np.array([float(s.score) for s in samples])
        counts = ", ".join(f"{k} {int((kinds == k).sum())}" for k in ("plain", "neg-negated", "pos-negated", "both"))
        print(f"\n{domain} ({len(samples)}): {counts}")
        if loaded is None:
            for s, k in zip(samples, kinds):
                if k == "neg-negated":
                    print(f"  {float(s.score):+.2f}  {s.text[:110]}")
            continue
        probs = probabilities(loaded, samples)
        margin = probs[:, POLARITIES.index("positive")] - probs[:, POLARITIES.index("negative")]
        picked = np.array([POLARITIES[i] for i in probs.argmax(1)])
        gold_pol = np.array([task.neutral.polarity(g) for g in gold])
        for k in ("plain", "neg-negated", "pos-negated"):
            m = kinds == k
            if m.sum() < 3:
                continue
            acc = float((picked[m] == gold_pol[m]).mean())
            print(
                f"  {k:12s} n={int(m.sum()):4d} gold mean {gold[m].mean():+.2f}, gold positive share "
                f"{(gold_pol[m] == 'positive').mean():.2f}; argmax acc-3 {acc:.3f}; "
                f"mean margin {margin[m].mean():+.3f}; "
                f"r(margin, gold) {np.corrcoef(margin[m], gold[m])[0, 1]:.3f}"
            )
        for i in np.flatnonzero(kinds == "neg-negated"):
            p = dict(zip(POLARITIES, probs[i].round(2)))
            print(f"    gold {gold[i]:+.2f} P {p}  {samples[i].text[:90]}")


if __name__ == "__main__":
    main()
