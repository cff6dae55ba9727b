"""RAVDESS speech emotion (8 classes) on the test actors: baselines, cue classifiers, and the model.

Systems, all scored on the same test actors (21-24 by default) with WAR (= accuracy), UAR
(mean per-class recall) and the confusion matrix:

- chance: a uniform guess, expected value (WAR = UAR = 1/8; no run, no confusion matrix);
- majority: the most frequent train label (ties: the first in label order);
- logreg / gboost: scikit-learn on the voice-cue vectors of `emoreason.cues` (per-speaker
  z-scores, labels never used for them), trained on the train actors, regularisation picked on
  the valid actors; `logreg (no speaker norm)` uses dataset-level z-scores instead;
- model, text only: the prompt has the sentence (the same for every clip) and no audio: a
  sanity check, expected at chance;
- model, cue text: the same prompt plus the clip's cue description (cue-to-text).

The model runs use `emoreason.inference.analyze` with the r1 format (think, then the label).
On a CPU the embedded 135M model takes about a second per sample; `--limit-per-class N`
keeps the first N test clips of each emotion (the numbers written say what ran).

    python benchmarks/ravdess.py --data ../shared/data/ravdess_speech16k [--limit-per-class 4] [--skip-model]

Writes OUT/metrics.json (every system: metrics, confusion matrix, sizes, settings),
OUT/confusion.md and OUT/predictions_<system>.jsonl for the model runs (OUT defaults to
docs/results/ravdess).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from emoreason.cues import AudioCues, CueCache, CueReference, build_references, cue_texts, prepare_cues
from emoreason.data import Sample, load_dataset
from emoreason.metrics import INVALID, classification_metrics

FEATURES = [m.name for m in AudioCues.MEASURES]


def cue_matrix(samples: list[Sample], clips, reference: CueReference, per_speaker: bool) -> np.ndarray:
    """Z-scored voice measures, one row per sample; a measure that could not be taken is 0 (the mean)."""
    rows = []
    for sample in samples:
        audio = clips[sample.id].audio
        z = reference.zscores(audio, sample.speaker if per_speaker else None) if audio else {}
        rows.append([z.get(name) if z.get(name) is not None else 0.0 for name in FEATURES])
    return np.asarray(rows, dtype=np.float64)


def fit_select(make, grid, x_train, y_train, x_valid, y_valid):
    """The grid value with the best valid UAR (ties: the first), refitted on train."""
    from sklearn.metrics import balanced_accuracy_score

    scores = []
    for value in grid:
        model = make(value).fit(x_train, y_train)
        scores.append(balanced_accuracy_score(y_valid, model.predict(x_valid)))
    best = grid[int(np.argmax(scores))]
    return make(best).fit(x_train, y_train), best, max(scores)


def run_model(args, test: list[Sample], task, texts: dict[str, str | None]) -> dict[str, dict]:
    from emoreason.formats import get_format
    from emoreason.generation import SamplingParams, TransformersEngine
    from emoreason.inference import analyze
    from emoreason.models import load_model

    loaded = load_model(args.model)
    engine = TransformersEngine(loaded, batch_size=args.batch_size)
    fmt = get_format(args.format)
    params = SamplingParams(max_new_tokens=args.max_new_tokens, stop_strings=fmt.stop_strings)
    text_only = [s.with_(audio=None) for s in test]  # the text model cannot take audio: cues are its only access
    results = {}
    for name, cues in (("model, text only", {}), ("model, cue text", {s.id: texts.get(s.id) for s in test})):
        began = time.perf_counter()
        records = analyze(engine, text_only, task, fmt.name, loaded.name, params, args.batch_size, cues=cues)
        seconds = time.perf_counter() - began
        for record in records:
            record["cues"] = cues.get(record["id"])
        results[name] = {"records": records, "seconds": round(seconds, 1)}
        print(f"{name}: {len(records)} samples in {seconds:.0f} s", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/ravdess_speech16k"))
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs/results/ravdess"))
    parser.add_argument("--model", default="default")
    parser.add_argument("--format", default="r1", help="label format for the model runs: r1 or emor3")
    parser.add_argument("--limit-per-class", type=int, default=None, help="model runs: first N test clips per emotion")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--skip-model", action="store_true", help="only the baselines and cue classifiers")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    dataset = load_dataset(f"ravdess:{args.data}")
    task, labels = dataset.task, list(dataset.task.labels)
    samples = dataset.split("all")
    clips, report = prepare_cues(samples, CueCache(), kinds=("audio",))
    print(report.summary())
    references = build_references(samples, clips)
    reference = references["audio"]
    split = {name: dataset.split(name) for name in ("train", "valid", "test")}
    test = split["test"]
    gold = [s.label for s in test]
    systems: dict[str, dict] = {}

    def score(name: str, predictions: list[str | None], gold_labels: list[str], **extra) -> None:
        metrics = classification_metrics(predictions, gold_labels, labels)
        systems[name] = {"n": len(gold_labels), **extra, **metrics}

    systems["chance (uniform, expected)"] = {
        "n": len(test),
        "accuracy": 1 / len(labels),
        "war": 1 / len(labels),
        "uar": 1 / len(labels),
        "note": "expected value; no run",
    }
    counts = Counter(s.label for s in split["train"])
    majority = max(labels, key=lambda label: (counts[label], -labels.index(label)))
    score("majority (train)", [majority] * len(test), gold, predicted=majority)

    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = {name: [s.label for s in part] for name, part in split.items()}
    for per_speaker in (True, False):
        x = {name: cue_matrix(part, clips, reference, per_speaker) for name, part in split.items()}

        def logreg(c: float):
            return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))

        model, c, valid_uar = fit_select(logreg, [0.01, 0.1, 1.0, 10.0], x["train"], y["train"], x["valid"], y["valid"])
        name = "logreg, voice cues" + ("" if per_speaker else " (no speaker norm)")
        score(
            name,
            list(model.predict(x["test"])),
            gold,
            C=c,
            valid_uar=round(valid_uar, 4),
            features=FEATURES,
            normalisation="per speaker" if per_speaker else "dataset (train actors)",
        )
        if per_speaker:

            def gboost(depth: int):
                return GradientBoostingClassifier(
                    max_depth=depth, n_estimators=200, learning_rate=0.05, random_state=args.seed
                )

            model, depth, valid_uar = fit_select(gboost, [2, 3], x["train"], y["train"], x["valid"], y["valid"])
            score(
                "gboost, voice cues",
                list(model.predict(x["test"])),
                gold,
                max_depth=depth,
                valid_uar=round(valid_uar, 4),
                features=FEATURES,
                normalisation="per speaker",
            )

    if not args.skip_model:
        chosen = test
        if args.limit_per_class is not None:
            seen: Counter[str] = Counter()
            chosen = []
            for sample in sorted(test, key=lambda s: s.id):
                if seen[sample.label] < args.limit_per_class:
                    seen[sample.label] += 1
                    chosen.append(sample)
        texts = cue_texts(chosen, clips, references)
        from emoreason.rewards import extract_label

        for name, result in run_model(args, chosen, task, texts).items():
            records = result["records"]
            by_id = {s.id: s for s in chosen}
            gold_labels = [by_id[r["id"]].label for r in records]
            # lenient reading: the one label the raw answer names, tags or not (rewards.extract_label)
            lenient = classification_metrics(
                [extract_label(r["raw_completion"], labels) for r in records], gold_labels, labels
            )
            score(
                name,
                [r["label"] for r in records],
                gold_labels,
                lenient={k: lenient[k] for k in ("war", "uar", "n_invalid", "confusion_matrix")},
                parse_rate=round(sum(r["parse_ok"] for r in records) / len(records), 4),
                mean_completion_tokens=round(float(np.mean([r["completion_tokens"] for r in records])), 1),
                seconds=result["seconds"],
                model=records[0]["model"],
                format=args.format,
                max_new_tokens=args.max_new_tokens,
                greedy=True,
                subset=f"first {args.limit_per_class} test clips per emotion"
                if args.limit_per_class
                else "all test clips",
            )
            slug = name.replace(", ", "_").replace(" ", "_")
            with (out / f"predictions_{slug}.jsonl").open("w", encoding="utf-8") as handle:
                for record in records:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    summary = {
        "dataset": f"ravdess:{Path(args.data).name}",
        "test_actors": sorted({s.meta["actor"] for s in test}),
        "split_sizes": {k: len(v) for k, v in split.items()},
        "test_label_counts": dict(Counter(gold)),
        "labels": labels,
        "cue_extraction": report.to_dict(),
        "systems": systems,
    }
    (out / "metrics.json").write_text(json.dumps(summary, indent=1, default=float))
    write_confusion(out / "confusion.md", systems, labels)
    print_table(systems)
    print(f"wrote {out / 'metrics.json'}, {out / 'confusion.md'}")


def write_confusion(path: Path, systems: dict[str, dict], labels: list[str]) -> None:
    lines = ["# RAVDESS test actors: confusion matrices (rows gold, columns predicted)", ""]
    for name, metrics in systems.items():
        if "confusion_matrix" not in metrics:
            continue
        lines += [
            f"## {name} (n = {metrics['n']})",
            "",
            "| gold \\ pred | " + " | ".join([*labels, INVALID]) + " |",
            "|---" * (len(labels) + 2) + "|",
        ]
        for label, row in zip(labels, metrics["confusion_matrix"]):
            lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
        lines.append("")
    path.write_text("\n".join(lines))


def print_table(systems: dict[str, dict]) -> None:
    print(f"\n{'system':<36} {'n':>4} {'WAR':>7} {'UAR':>7} {'parse':>6} {'WAR*':>7} {'UAR*':>7}")
    for name, m in systems.items():
        parse = f"{m['parse_rate']:.2f}" if "parse_rate" in m else ""
        lenient = f"{m['lenient']['war']:>7.4f} {m['lenient']['uar']:>7.4f}" if "lenient" in m else ""
        print(f"{name:<36} {m['n']:>4} {m['war']:>7.4f} {m['uar']:>7.4f} {parse:>6} {lenient}")
    print("WAR*/UAR*: the label the raw answer names anywhere (one label, tags or not); WAR/UAR: parsed answers only")


if __name__ == "__main__":
    main()
