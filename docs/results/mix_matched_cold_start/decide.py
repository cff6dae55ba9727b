"""run.sh's rule applied to its comparisons (A = the cold start on the chains as the filter keeps them,
B = the same on `distill --match-mix` chains): prints the paired table, each side's answers per
polarity against the gold, and the verdict.

    .venv/bin/python docs/results/mix_matched_cold_start/decide.py runs/mixcold/valid \
        > docs/results/mix_matched_cold_start/valid.txt
    .venv/bin/python docs/results/mix_matched_cold_start/decide.py runs/mixcold/test \
        > docs/results/mix_matched_cold_start/test.txt
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from emoreason.data.base import load_dataset

DOMAINS = ("tweets", "products", "movies")
SHOWN = ("pearson_r", "mae", "acc_3", "uar_3", "recall_negative", "recall_neutral", "recall_positive")
POLARITIES = ("positive", "negative", "neutral")


def answers(folder: Path) -> Counter[str]:
    """Greedy answers per polarity, from an `evaluate` folder."""
    return Counter(json.loads(line)["polarity"] for line in (folder / "predictions.jsonl").open())


def gold(domain: str, folder: Path) -> Counter[str]:
    """The gold polarities of the sentences an `evaluate` folder (under runs/mixcold/<split>/) answered."""
    dataset = load_dataset(f"vader:{domain}")
    ids = {json.loads(line)["id"] for line in (folder / "predictions.jsonl").open()}
    return Counter(dataset.task.score_polarity(s.score) for s in dataset.split(folder.parent.name) if s.id in ids)


def main(folder: Path) -> None:
    runs = {d: json.loads((folder / f"plain-vs-matched-{d}.json").read_text()) for d in DOMAINS}
    print(f"| {folder.name} | n | " + " | ".join(SHOWN) + " | answers pos/neg/neu: plain, matched (gold) |")
    print("|---|---|" + "---|" * (len(SHOWN) + 1))
    for d, run in runs.items():
        cells = []
        for name in SHOWN:
            m = run["metrics"][name]
            cells.append(f"{m['a']:.3f} -> {m['b']:.3f}, {m['difference']:+.3f} [{m['low']:+.3f}, {m['high']:+.3f}]")
        counts = [answers(folder / f"{v}-{d}") for v in ("plain", "matched")] + [gold(d, folder / f"plain-{d}")]
        mix = "{}, {} (gold {})".format(*("/".join(str(c[p]) for p in POLARITIES) for c in counts))
        print(f"| {d} | {run['n_shared']} | " + " | ".join(cells) + f" | {mix} |")
    uar = [r["metrics"]["uar_3"] for r in runs.values()]
    higher = sum(m["difference"] > 0 for m in uar)
    clear = any(m["low"] > 0 for m in uar)
    r_below = [d for d, r in runs.items() if r["metrics"]["pearson_r"]["high"] < 0]
    print()
    print(f"uar_3 higher with the matched chains in {higher} of 3 domains; an interval above 0: {clear}")
    print(f"pearson_r intervals wholly below 0: {', '.join(r_below) or 'none'}")
    verdict = higher >= 2 and clear and not r_below
    if folder.name != "valid":
        return  # the rule is applied on valid only
    print("verdict: " + ("filter.match_mix becomes the cold-start recipe's setting" if verdict else "the recipe stays"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
