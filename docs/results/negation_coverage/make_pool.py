"""The GRPO prompt pool for the `negation_coverage` run: every tweets and products train sentence
once, and the sentences where VADER's rule negates a lexicon word COPIES times in all, so that
enough groups a step have a negation to get right. Also writes the probe file: a seeded 40 of
those sentences, each PROBE_COPIES times under its own id, to see how often a start adapter names
the negation when sampling (`evaluate --temperature 0.8` on it samples each row apart).

    .venv/bin/python docs/results/negation_coverage/make_pool.py runs/negcov
"""

import json
import random
import sys
from pathlib import Path

from emoreason.data import load_dataset
from emoreason.metrics.valence import negation_coverage, vader_lexicon

COPIES = 4
PROBE = 40
PROBE_COPIES = 4


def row(sample, copy: int) -> dict:
    return {
        "id": f"{sample.id}#{copy}",
        "text": sample.text,
        "score": sample.score,
        "split": "train",
        "domain": sample.domain,
    }


def main(out: Path) -> None:
    lexicon = vader_lexicon()
    samples = [s for d in ("tweets", "products") for s in load_dataset(f"vader:{d}").samples if s.split == "train"]
    negated = [s for s in samples if negation_coverage([], s.text, lexicon).expected > 0]
    out.mkdir(parents=True, exist_ok=True)
    rows = [row(s, 0) for s in samples] + [row(s, k) for s in negated for k in range(1, COPIES)]
    (out / "pool.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    probe = random.Random(0).sample(negated, PROBE)
    (out / "probe.jsonl").write_text("".join(json.dumps(row(s, k)) + "\n" for s in probe for k in range(PROBE_COPIES)))
    share = len(negated) * COPIES / len(rows)
    print(
        f"{len(samples)} train sentences, {len(negated)} with a negated lexicon word "
        f"({len(negated) / len(samples):.3f}); pool {len(rows)} rows, {share:.3f} of them negated -> {out}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
