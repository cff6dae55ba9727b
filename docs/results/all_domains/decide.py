"""sft.yaml's rule applied to valid.sh's comparisons (A = the shipped default, C = the run):
(v1) the mean of C's three valid r above A's; (v2) on tweets and products, neither r nor acc-3 of C
falls with its paired interval entirely below 0. Prints the table and the verdict. With `--uar`
(mix_matched_cold_start/grpo600.sh's rule) the mean uar-3 of C must also be above A's.

    .venv/bin/python docs/results/all_domains/decide.py runs/alldomains/valid > docs/results/all_domains/valid.txt
    .venv/bin/python docs/results/all_domains/decide.py runs/alldomains/valid C_sft_matched > .../valid_matched.txt
    .venv/bin/python docs/results/all_domains/decide.py runs/mixcold/valid600 C600 --uar > ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DOMAINS = ("tweets", "products", "movies")
SHOWN = ("pearson_r", "mae", "acc_3", "recall_negative", "recall_neutral", "recall_positive", "parse_rate")


def main(folder: Path, name: str = "C", uar: bool = False) -> None:
    runs = {d: json.loads((folder / f"A-vs-{name}-{d}.json").read_text()) for d in DOMAINS}
    shown = SHOWN[:3] + ("uar_3",) + SHOWN[3:] if uar else SHOWN
    print("| valid, every sentence | n | " + " | ".join(shown) + " |")
    print("|---|---|" + "---|" * len(shown))
    for d, run in runs.items():
        cells = []
        for metric in shown:
            m = run["metrics"][metric]
            cells.append(f"{m['a']:.3f} -> {m['b']:.3f}, {m['difference']:+.3f} [{m['low']:+.3f}, {m['high']:+.3f}]")
        print(f"| {d} | {run['n_shared']} | " + " | ".join(cells) + " |")
    mean_a = sum(r["metrics"]["pearson_r"]["a"] for r in runs.values()) / len(runs)
    mean_b = sum(r["metrics"]["pearson_r"]["b"] for r in runs.values()) / len(runs)
    v1 = mean_b > mean_a
    falls = [
        f"{d} {metric}"
        for d in ("tweets", "products")
        for metric in ("pearson_r", "acc_3")
        if runs[d]["metrics"][metric]["high"] < 0
    ]
    v2 = not falls
    print(f"\n(v1) mean valid r: A {mean_a:.4f}, C {mean_b:.4f}: {'holds' if v1 else 'fails'}")
    below = ", ".join(falls) or "none"
    print(f"(v2) in-domain r and acc-3 intervals entirely below 0: {below}: {'holds' if v2 else 'fails'}")
    v3 = True
    if uar:
        uar_a, uar_b = (sum(r["metrics"]["uar_3"][side] for r in runs.values()) / len(runs) for side in "ab")
        v3 = uar_b > uar_a
        print(f"(v3) mean valid uar-3: A {uar_a:.4f}, C {uar_b:.4f}: {'holds' if v3 else 'fails'}")
    print(f"verdict: {'C replaces the shipped default' if v1 and v2 and v3 else 'the shipped default stays'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the folder of the A-vs-NAME-DOMAIN.json comparisons")
    parser.add_argument("name", nargs="?", default="C", help="the compared run's name in those files")
    parser.add_argument("--uar", action="store_true", help="also require the mean uar-3 above A's")
    args = parser.parse_args()
    main(args.folder, args.name, uar=args.uar)
