"""Why the 16-prompt run's gradient norm did not fall with its batch: the size of the advantages
before and after the two-way centring, over the first 16 steps of the 6-prompt and the 16-prompt
run (their rollouts.jsonl.gz). Run from the project root:

    python docs/results/rl_centred_16prompts/advantage_size.py

raw |A|: the mean |reward - group mean| (what Dr. GRPO's advantage is before centring);
centred |A|: the mean |advantage| the update used; noise scale: sqrt(sum A_i^2 * tokens_i) /
(rows * 160), the norm a sum of independent per-row gradients would have under the dr_grpo
normalisation (rows x max_new_tokens), up to one factor shared by both runs.
"""

from __future__ import annotations

import gzip
import json
import math
import statistics
from collections import defaultdict

RUNS = {"6 prompts": "rl_centred_in_groups", "16 prompts": "rl_centred_16prompts"}
STEPS, MAX_NEW_TOKENS = 16, 160


def main() -> None:
    print(
        "| run | rows a step | mean abs A, raw | mean abs A, centred | removed by centring | noise scale "
        "| gradient norm |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, folder in RUNS.items():
        steps: dict[int, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
        with gzip.open(f"docs/results/{folder}/rollouts.jsonl.gz", "rt") as lines:
            for line in lines:
                record = json.loads(line)
                if record["step"] <= STEPS:
                    steps[record["step"]][record["group"]].append(record)
        raw, centred, noise, rows = [], [], [], []
        for groups in steps.values():
            step_rows = [r for group in groups.values() for r in group]
            for group in groups.values():
                mean = statistics.mean(r["reward"] for r in group)
                raw += [abs(r["reward"] - mean) for r in group]
            centred += [abs(r["advantage"]) for r in step_rows]
            total = sum(r["advantage"] ** 2 * r["tokens"] for r in step_rows)
            noise.append(math.sqrt(total) / (len(step_rows) * MAX_NEW_TOKENS))
            rows.append(len(step_rows))
        with open(f"docs/results/{folder}/metrics.jsonl") as lines:
            norms = [m["grad_norm"] for m in map(json.loads, lines) if "grad_norm" in m and m["step"] <= STEPS]
        raw_mean, centred_mean = statistics.mean(raw), statistics.mean(centred)
        print(
            f"| {name} | {statistics.mean(rows):.0f} | {raw_mean:.3f} | {centred_mean:.3f} | "
            f"{1 - centred_mean / raw_mean:.0%} | {statistics.mean(noise):.5f} | {statistics.mean(norms):.4f} |"
        )


if __name__ == "__main__":
    main()
