"""How each seed's GRPO run went, from its metrics.jsonl: the rollouts' mean reward, agreement and
polarity mix over steps 1-10 and 51-60, and the KL to SFT 600 at step 60. Seed 0 is the nineteenth
session's run (docs/results/rl_agreement/metrics.jsonl); seeds 1 and 2 are run.sh's, seed 3 seed3.sh's (copied here).

    .venv/bin/python docs/results/rl_seeds/training.py
"""

import json
from pathlib import Path
from statistics import mean

HERE = Path(__file__).parent
RUNS = {
    "seed 0": HERE.parent / "rl_agreement" / "metrics.jsonl",
    "seed 1": HERE / "metrics_s1.jsonl",
    "seed 2": HERE / "metrics_s2.jsonl",
    "seed 3": HERE / "metrics_s3.jsonl",
}
KEYS = {  # column: metrics.jsonl key
    "reward": "reward/mean",
    "agreement": "reward/agreement/mean",
    "negative": "rollouts/negative_share",
    "neutral": "rollouts/neutral_share",
    "s/step": "time/step",
}


def main() -> None:
    print(f"{'run':7} {'steps':6} " + " ".join(f"{column:>10}" for column in KEYS) + f" {'kl at end':>10}")
    for name, path in RUNS.items():
        rows = [json.loads(line) for line in path.open() if "reward/mean" in line]
        for low, high in ((1, 10), (51, 60)):
            window = [r for r in rows if low <= r["step"] <= high]
            kl = next((r["kl"] for r in window if r["step"] == high), float("nan"))
            figures = " ".join(f"{mean(r[key] for r in window):>10.3f}" for key in KEYS.values())
            print(f"{name:7} {low:>2}-{high:<3} {figures} {kl:>10.3f}")


if __name__ == "__main__":
    main()
