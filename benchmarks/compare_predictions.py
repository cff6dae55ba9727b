"""How far two evaluation runs of the same samples agree (e.g. fp32 against bf16 weights).

Reads two `predictions.jsonl` files written by `emoreason evaluate` and prints, over the ids
they share: identical completions, same polarity, same label, parse rates, and the mean
absolute difference and correlation of the scores.

    python benchmarks/compare_predictions.py RUN_A/predictions.jsonl RUN_B/predictions.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def load(path: Path) -> dict[str, dict]:
    return {record["id"]: record for record in map(json.loads, path.read_text().splitlines()) if record}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args()
    a, b = load(args.a), load(args.b)
    ids = [i for i in a if i in b]
    if not ids:
        raise SystemExit(f"{args.a} and {args.b} share no sample ids")
    print(f"{len(ids)} shared samples")
    print(f"identical completions: {sum(a[i]['raw_completion'] == b[i]['raw_completion'] for i in ids)}")
    print(f"same polarity:         {sum(a[i]['polarity'] == b[i]['polarity'] for i in ids)}")
    if any(a[i].get("label") or b[i].get("label") for i in ids):  # label tasks
        print(f"same label:            {sum(a[i].get('label') == b[i].get('label') for i in ids)}")
    print(
        f"parsed:                {sum(bool(a[i]['parse_ok']) for i in ids)} / "
        f"{sum(bool(b[i]['parse_ok']) for i in ids)}"
    )
    pairs = np.array(
        [
            (a[i]["score"], b[i]["score"])
            for i in ids
            if a[i].get("score") is not None and b[i].get("score") is not None
        ],
        dtype=float,
    )
    if len(pairs) > 1:
        print(
            f"scores (both parsed, n={len(pairs)}): mean |a - b| {np.abs(pairs[:, 0] - pairs[:, 1]).mean():.3f}, "
            f"r(a, b) {np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]:.3f}"
        )


if __name__ == "__main__":
    main()
