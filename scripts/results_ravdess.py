#!/usr/bin/env python
"""Summarise RAVDESS recipe runs (scripts/reproduce_ravdess.py) for docs/RESULTS.md.

For each run and each evaluated system (`eval/<system>_<split>/`) on the valid and test actors:
WAR and UAR with 95% percentile-bootstrap intervals (1000 resamples over clips, seed 0),
per-class recall, the labels it predicts, parse rate, cue-citation grounding (the cue citations of
its chains that occur, with the same z-score, in the cue text its prompt carried), and how often
its label is the cue classifier's first choice. Beside them the classifier itself on the same
clips (the run's cue_classifier.json), and paired bootstrap differences on the same clips:
each system minus the classifier, and grpo minus sft. Copies each evaluation's metrics.json,
predictions.jsonl and report.md, the training logs, the distillation statistics and the stage
times to OUT/<run name>/, writes summary.json there, and prints markdown tables.

    .venv/bin/python scripts/results_ravdess.py --data ../shared/data/ravdess_speech16k \\
        --run runs/ravdess_gold --run runs/ravdess_top
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
SYSTEMS = ("sft", "grpo")
SPLITS = ("valid", "test")


def scorers(labels: list[str]) -> dict[str, Any]:
    from emoreason.metrics.classification import classification_metrics

    return {
        name: (lambda p, g, name=name: classification_metrics(list(p), list(g), labels)[name])
        for name in ("war", "uar")
    }


def summarise(pred: list[str], gold: list[str], labels: list[str], records: list[dict] | None, samples: dict) -> dict:
    from emoreason.metrics.bootstrap import bootstrap_ci
    from emoreason.metrics.classification import classification_metrics
    from emoreason.metrics.grounding import citation_grounding, grounding_summary

    p, g = np.array(pred, dtype=object), np.array(gold, dtype=object)
    metrics = classification_metrics(pred, gold, labels)
    out: dict[str, Any] = {"n": len(pred)}
    for name, fn in scorers(labels).items():
        out[name], out[f"{name}_ci"] = metrics[name], bootstrap_ci(fn, p, g)
    out["recall"] = metrics["per_class_recall"]
    out["predicted"] = dict(Counter(pred).most_common())
    if records is not None:
        citations = [
            citation_grounding(
                r["raw_completion"], "\n".join(x for x in (samples[r["id"]].text, samples[r["id"]].cues) if x)
            )
            for r in records
        ]
        out["parsed"] = int(sum(bool(r["parse_ok"]) for r in records))
        out.update(grounding_summary(citations))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, action="append", required=True, help="A run folder (repeatable).")
    parser.add_argument("--data", type=Path, required=True, help="The RAVDESS folder the runs used (for the cue text).")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "ravdess_ranked")
    parser.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="NAME=PREDICTIONS",
        help="An earlier system's test predictions.jsonl (repeatable): a row, and each system minus it, paired.",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from emoreason.cues import CueClassifier, add_ranking
    from emoreason.data import load_dataset
    from emoreason.metrics.bootstrap import paired_difference

    dataset = load_dataset(f"ravdess:{args.data.resolve()}?cues=only")
    labels = list(dataset.task.labels or ())
    summary: dict[str, Any] = {}
    for run in args.run:
        classifier = CueClassifier.load(run / "cue_classifier.json")
        out = args.out / run.name
        out.mkdir(parents=True, exist_ok=True)
        summary[run.name] = {}
        for split in SPLITS:
            samples = {s.id: s for s in add_ranking(dataset.split(split), classifier)}
            ids = sorted(samples)
            gold = [samples[i].label or "" for i in ids]
            first = {i: classifier.ranking(samples[i].meta["cue_z"], i, 1)[0][0] for i in ids}
            rows: dict[str, Any] = {"classifier": summarise([first[i] for i in ids], gold, labels, None, samples)}
            preds: dict[str, list[str]] = {"classifier": [first[i] for i in ids]}
            for system in SYSTEMS:
                folder = run / "eval" / f"{system}_{split}"
                if not (folder / "predictions.jsonl").is_file():
                    continue
                records = {r["id"]: r for r in map(json.loads, (folder / "predictions.jsonl").read_text().splitlines())}
                ordered = [records[i] for i in ids]
                preds[system] = [r["label"] or "(none)" for r in ordered]
                rows[system] = summarise(preds[system], gold, labels, ordered, samples)
                rows[system]["follows_classifier"] = float(np.mean([r["label"] == first[r["id"]] for r in ordered]))
                for name in ("metrics.json", "predictions.jsonl", "report.md"):
                    if (folder / name).is_file():
                        shutil.copy(folder / name, out / f"eval_{system}_{split}_{name}")
            systems = [s for s in SYSTEMS if s in preds]
            pairs = [("classifier", s) for s in systems] + ([("sft", "grpo")] if "grpo" in preds else [])
            for name, path in (item.split("=", 1) for item in args.reference if split == "test"):
                earlier = {r["id"]: r for r in map(json.loads, Path(path).read_text().splitlines()) if r}
                preds[name] = [earlier[i]["label"] or "(none)" for i in ids]
                rows[name] = summarise(preds[name], gold, labels, None, samples)
                pairs += [(name, s) for s in systems]
            rows["paired"] = {
                f"{b}-{a}": {
                    name: paired_difference(fn, preds[a], preds[b], gold).to_dict()
                    for name, fn in scorers(labels).items()
                }
                for a, b in pairs
            }
            summary[run.name][split] = rows
        for source in (
            "sft/metrics.jsonl",
            "grpo/metrics.jsonl",
            "distill/stats.json",
            "stages.json",
            "grpo/best/best.json",
        ):
            if (run / source).is_file():
                shutil.copy(run / source, out / source.replace("/", "_"))
        for curves in ("sft/curves.png", "grpo/curves.png"):
            if (run / curves).is_file():
                shutil.copy(run / curves, out / curves.replace("/", "_"))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    print(
        "| run | split | system | WAR [95% CI] | UAR [95% CI] | parsed | cue citations grounded | follows classifier |"
    )
    print("|---|---|---|---|---|---:|---:|---:|")
    for run, splits in summary.items():
        for split, rows in splits.items():
            for system, s in rows.items():
                if system == "paired":
                    continue
                grounded = "" if not s.get("n_citations") else f"{s['citations_grounded_rate']:.2f}"
                parsed = f"{s['parsed']}/{s['n']}" if "parsed" in s else ""
                follows = f"{s['follows_classifier']:.2f}" if "follows_classifier" in s else ""
                print(
                    f"| {run} | {split} | {system} | {s['war']:.3f} [{s['war_ci'][0]:.3f}, {s['war_ci'][1]:.3f}] | "
                    f"{s['uar']:.3f} [{s['uar_ci'][0]:.3f}, {s['uar_ci'][1]:.3f}] | {parsed} | {grounded} | {follows} |"
                )
    print("\n| run | split | pair (B-A) | WAR diff [95% CI] | UAR diff [95% CI] |\n|---|---|---|---|---|")
    for run, splits in summary.items():
        for split, rows in splits.items():
            for pair, d in rows["paired"].items():
                w, u = d["war"], d["uar"]
                print(
                    f"| {run} | {split} | {pair} | {w['difference']:+.3f} [{w['low']:+.3f}, {w['high']:+.3f}] | "
                    f"{u['difference']:+.3f} [{u['low']:+.3f}, {u['high']:+.3f}] |"
                )
    for run, splits in summary.items():
        for system, s in splits.get("test", {}).items():
            if system != "paired":
                print(f"{run} test {system} recall: " + ", ".join(f"{k} {v:.2f}" for k, v in s["recall"].items()))
                print(f"{run} test {system} predicted: " + ", ".join(f"{k} {v}" for k, v in s["predicted"].items()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
