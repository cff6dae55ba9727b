"""Does the probit margin's floor matter? (`formats.readout.PROBIT_FLOOR`, 1e-3.)

For each floor, the shipped line's terms (confidence, margin, probit margin) are fitted by least squares
on two domains' valid answers of the shipped default and read raw on the third; Pearson r on each held-out
domain and their mean. The answers are `runs/polarity_sft/valid/sv-<domain>-all` (rl_anchor/run.sh makes
them); their probabilities are stored to 4 decimals, so floors below 1e-4 cannot be told apart here.

    .venv/bin/python docs/results/score_line/floor.py > docs/results/score_line/floor.txt
"""

from pathlib import Path
from statistics import NormalDist

import numpy as np

from emoreason.eval.compare import read_run
from emoreason.inference import record_fit_features

VALID = Path("runs/polarity_sft/valid")
DOMAINS = ("tweets", "products", "movies")
FLOORS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
_NORMAL = NormalDist()


def answers(domain: str) -> tuple[list[tuple[float, dict[str, float]]], np.ndarray]:
    records, _ = read_run(VALID / f"sv-{domain}-all")
    rows, gold = [], []
    for key in sorted(records):
        record = records[key]
        features = record_fit_features(record)
        if features is None or record.get("gold_score") is None:
            continue
        rows.append((features[0], record["polarity_probs"]))
        gold.append(float(record["gold_score"]))
    return rows, np.array(gold)


def design(rows: list[tuple[float, dict[str, float]]], floor: float) -> np.ndarray:
    def probit(p: float) -> float:
        return _NORMAL.inv_cdf(min(max(p, floor), 1 - floor))

    return np.array(
        [
            [confidence, p["positive"] - p["negative"], probit(p["positive"]) - probit(p["negative"]), 1.0]
            for confidence, p in rows
        ]
    )


def main() -> None:
    data = {domain: answers(domain) for domain in DOMAINS}
    print(
        "floor    "
        + "  ".join(f"{d:>8}" for d in DOMAINS)
        + "      mean   (r on the domain the line was not fitted on)"
    )
    for floor in FLOORS:
        held_out = []
        for held in DOMAINS:
            x = np.vstack([design(data[d][0], floor) for d in DOMAINS if d != held])
            y = np.concatenate([data[d][1] for d in DOMAINS if d != held])
            coef = np.linalg.lstsq(x, y, rcond=None)[0]
            held_out.append(float(np.corrcoef(design(data[held][0], floor) @ coef, data[held][1])[0, 1]))
        print(f"{floor:<8g} " + "  ".join(f"{r:8.4f}" for r in held_out) + f"  {np.mean(held_out):8.4f}")


if __name__ == "__main__":
    main()
