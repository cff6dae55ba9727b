#!/usr/bin/env python
"""Summarise a RAVDESS recipe run (scripts/reproduce_ravdess.py) for docs/RESULTS.md.

For each evaluated system (grpo, sft, base) on the test actors: WAR and UAR with 95%
percentile-bootstrap intervals (1000 resamples over clips, seed 0), per-class recall, the labels
it predicts, polarity accuracy, parse rate, and citation grounding (the cue citations of its
chains that occur, with the same z-score, in the cue text its prompt carried;
`emoreason.metrics.grounding`). Copies each evaluation's metrics.json, predictions.jsonl and
report.md, the SFT and GRPO training logs, the distillation statistics and the stage times into
docs/results/ravdess_recipe/, and writes summary.json there. Prints a markdown table.

    .venv/bin/python scripts/results_ravdess.py --run runs/ravdess_recipe2 --data ../shared/data/ravdess_speech16k
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = {
    "base": "base model, prompted",
    "sft": "SFT (cues-teacher chains)",
    "grpo": "SFT + EMO-R3 GRPO",
    "grpo_kl": "SFT + EMO-R3 GRPO, KL 0.04 to the SFT adapter",
}  # the last: a separate run, see RESULTS


def summarise(records: list[dict[str, Any]], samples: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    from emoreason.metrics.bootstrap import bootstrap_ci
    from emoreason.metrics.classification import classification_metrics
    from emoreason.metrics.grounding import citation_grounding, grounding_summary

    def war(p: np.ndarray, g: np.ndarray) -> float:
        return classification_metrics(list(p), list(g), labels)["war"]

    def uar(p: np.ndarray, g: np.ndarray) -> float:
        return classification_metrics(list(p), list(g), labels)["uar"]

    pred = np.array([r["label"] or "(none)" for r in records], dtype=object)
    gold = np.array([r["gold_label"] for r in records], dtype=object)
    metrics = classification_metrics(list(pred), list(gold), labels)
    citations = [
        citation_grounding(
            r["raw_completion"], "\n".join(p for p in (samples[r["id"]].text, samples[r["id"]].cues) if p)
        )
        for r in records
    ]
    return {
        "n": len(records),
        "war": metrics["war"],
        "war_ci": bootstrap_ci(war, pred, gold),
        "uar": metrics["uar"],
        "uar_ci": bootstrap_ci(uar, pred, gold),
        "recall": metrics["per_class_recall"],
        "predicted": dict(Counter(pred.tolist()).most_common()),
        "polarity_accuracy": float(np.mean([r["polarity"] == r["gold_polarity"] for r in records])),
        "parsed": int(sum(bool(r["parse_ok"]) for r in records)),
        **grounding_summary(citations),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "ravdess_recipe")
    parser.add_argument("--data", type=Path, required=True, help="The RAVDESS folder the run used (for the cue text).")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "ravdess_recipe")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from emoreason.data import load_dataset

    dataset = load_dataset(f"ravdess:{args.data.resolve()}?cues=only")
    samples = {s.id: s for s in dataset.split("test")}
    labels = list(dataset.task.labels or ())
    args.out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    for system in SYSTEMS:
        folder = args.run / "eval" / system
        if not (folder / "predictions.jsonl").is_file():
            print(f"{system}: not evaluated yet, left out")
            continue
        records = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines() if line.strip()]
        summary[system] = summarise(records, samples, labels)
        for name in ("metrics.json", "predictions.jsonl", "report.md"):
            if (folder / name).is_file():
                shutil.copy(folder / name, args.out / f"eval_{system}_{name}")
    for source, target in (
        ("sft/metrics.jsonl", "sft_metrics.jsonl"),
        ("grpo/metrics.jsonl", "grpo_metrics.jsonl"),
        ("grpo_kl/metrics.jsonl", "grpo_kl_metrics.jsonl"),
        ("distill/stats.json", "distill_stats.json"),
        ("stages.json", "stages.json"),
    ):
        if (args.run / source).is_file():
            shutil.copy(args.run / source, args.out / target)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    print(
        "| system | WAR [95% CI] | UAR [95% CI] | polarity acc. | parsed | cue citations grounded | predicted labels |"
    )
    print("|---|---|---|---:|---:|---:|---|")
    for system, s in summary.items():
        grounded = "–" if not s["n_citations"] else f"{s['citations_grounded_rate']:.2f} of {s['n_citations']}"
        print(
            f"| {SYSTEMS[system]} | {s['war']:.3f} [{s['war_ci'][0]:.3f}, {s['war_ci'][1]:.3f}] | "
            f"{s['uar']:.3f} [{s['uar_ci'][0]:.3f}, {s['uar_ci'][1]:.3f}] | {s['polarity_accuracy']:.3f} | "
            f"{s['parsed']}/{s['n']} | {grounded} | " + ", ".join(f"{k} {v}" for k, v in s["predicted"].items()) + " |"
        )
    for system, s in summary.items():
        print(f"{system} recall: " + ", ".join(f"{k} {v:.2f}" for k, v in s["recall"].items()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
