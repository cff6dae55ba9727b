"""What the held-out-polarity GRPO run (G1) changed against its start (P2), on every valid sentence
(described, not a rule; written before G1's answers existed). Per split, paired over the same
sentences (1,000 resamples): the r with gold of the written score alone (what the rewards could
shape), of the polarity margin P(positive) - P(negative) alone (what the held token's probabilities
give), the mean absolute change of that margin, and how many answers changed their written polarity.

    .venv/bin/python docs/results/rl_polarity_held/describe.py > docs/results/rl_polarity_held/describe.txt
    .venv/bin/python docs/results/rl_polarity_held/describe.py g2 > docs/results/rl_polarity_held/describe_g2.txt

An argument names another run against P2 (G2: G1 at lr 1.5e-4); a second names its start instead of
P2 (G3, from PB):

    .venv/bin/python docs/results/rl_polarity_held/describe.py g3 pb > docs/results/rl_polarity_held/describe_g3.txt
"""

import sys
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr

from emoreason.eval.compare import read_run
from emoreason.metrics.bootstrap import paired_difference

VALID = Path("runs/polarity_sft/valid")
WHO = sys.argv[1] if len(sys.argv) > 1 else "g1"
START = sys.argv[2] if len(sys.argv) > 2 else "p2"


def r(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(pearsonr(pred, gold)[0])


def main() -> None:
    for domain in ("tweets", "products", "movies"):
        (a, _), (b, _) = read_run(VALID / f"{START}-{domain}-all"), read_run(VALID / f"{WHO}-{domain}-all")
        ids = [
            i
            for i in sorted(a)
            if i in b and a[i].get("written_score") is not None and b[i].get("written_score") is not None
        ]
        gold = np.array([float(a[i]["gold_score"]) for i in ids])
        parts = []
        for name, value in (
            ("written score", lambda x: float(x["written_score"])),
            ("margin", lambda x: x["polarity_probs"]["positive"] - x["polarity_probs"]["negative"]),
        ):
            sa, sb = np.array([value(a[i]) for i in ids]), np.array([value(b[i]) for i in ids])
            d = paired_difference(r, sa, sb, gold, n=1000, seed=0)
            parts.append(f"{name} r {d}")
        shift = np.mean(
            [
                abs(
                    (b[i]["polarity_probs"]["positive"] - b[i]["polarity_probs"]["negative"])
                    - (a[i]["polarity_probs"]["positive"] - a[i]["polarity_probs"]["negative"])
                )
                for i in ids
            ]
        )
        flips = sum(a[i]["polarity"] != b[i]["polarity"] for i in ids)
        print(f"{domain} ({len(ids)} with a written score in both): " + "; ".join(parts))
        print(f"  mean |margin change| {shift:.3f}; written polarity changed on {flips}")


if __name__ == "__main__":
    main()
