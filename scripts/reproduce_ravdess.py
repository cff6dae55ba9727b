#!/usr/bin/env python
"""The EMO-R3 recipe on RAVDESS speech, cue-to-text, end to end, stage by stage.

The embedded SmolLM2-135M-Instruct (text only) reads each clip's measured voice cues as text,
plus the ranking of a cue classifier (`ravdess:DIR?cues=only&classifier=...`; actors 1-16 train,
17-20 valid, 21-24 test):

  1. classifier  logistic regression on the train actors' per-speaker cue z-scores
                 (`emoreason data fit-classifier`); train clips get rankings cross-fitted by speaker
  2. distill     `cues`-teacher EMO-R3 chains that cite the ranking and the cues for the label;
                 `--chains gold` explains every clip's gold label (rationalized), `--chains top`
                 keeps the chains whose ranking's first label is the gold one
  3. sft         cold start on the kept chains
  4. grpo        EMO-R3 GRPO from the SFT adapter (configs/emor3_ravdess_smollm2.yaml: label-balanced
                 prompts, KL anchor, reflection, hints), validated on the valid actors, best/ by UAR
  5. eval_*      grpo best/ and sft on the valid and test actors (WAR, UAR, confusion matrix)

Stages leave OUT/<stage>.done.json and are skipped on a rerun; a stage cut short resumes (the
same machinery as scripts/reproduce_vader.py).

    .venv/bin/python scripts/reproduce_ravdess.py --data ../shared/data/ravdess_speech16k
    .venv/bin/python scripts/reproduce_ravdess.py --data DIR --toy --model TINY_MODEL_DIR   # seconds
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reproduce_vader import ROOT, run_stage, write_stage_log  # noqa: E402  (one stage runner for both recipes)

FULL = {"sft": ["train.precision=auto"], "grpo": [], "grpo_steps": 20, "eval_tokens": "192"}
TOY = {
    "sft": [
        "run.max_steps=2",
        "eval.generate_examples=1",
        "eval.loss_examples=2",
        "eval.max_new_tokens=4",
        "train.batch_size=2",
        "model.lora.r=4",
        "run.report_to=[jsonl]",
    ],
    "grpo": [
        "rollout.max_new_tokens=6",
        "rollout.prompts_per_step=1",
        "rollout.group_size=2",
        "reflection.max_new_tokens=4",
        "model.lora.r=4",
        "validation.sample=2",
        "validation.max_new_tokens=4",
        "run.report_to=[jsonl]",
    ],
    "grpo_steps": 1,
    "eval_tokens": "8",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="The RAVDESS folder (manifest.csv or Actor_NN/).")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "ravdess_recipe", help="Where every stage writes.")
    parser.add_argument("--chains", choices=("gold", "top"), default="gold", help="Which cold-start chains (above).")
    parser.add_argument("--skip-grpo", action="store_true", help="Stop after SFT: evaluate the SFT adapter only.")
    parser.add_argument("--toy", action="store_true", help="A few steps and tokens, for the test suite.")
    parser.add_argument("--model", default="default", help="Base model (default: the embedded SmolLM2-135M-Instruct).")
    args = parser.parse_args(argv)
    budget = TOY if args.toy else FULL
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    classifier = out / "cue_classifier.json"
    cues_spec = f"ravdess:{args.data.resolve()}?cues=only"
    spec = f"{cues_spec}&classifier={classifier}"
    os.chdir(ROOT)  # the recipes' relative paths
    log: list[dict] = []
    began = time.perf_counter()

    run_stage("classifier", ["data", "fit-classifier", cues_spec, "--out", str(classifier)], out, log)
    rationalize = ["--rationalize"] if args.chains == "gold" else []
    distill = ["distill", "--teacher", "cues", *rationalize, "-d", spec, "--split", "train", "--format", "emor3"]
    run_stage("distill", [*distill, "--out", str(out / "distill")], out, log)
    sft_adapter = out / "sft" / "final" / "adapter"
    run_stage(
        "sft",
        [
            "sft",
            "--config",
            "configs/sft_emor3_ravdess_smollm2.yaml",
            f"data.train_file={out / 'distill' / 'sft.jsonl'}",
            f"run.output_dir={out / 'sft'}",
            f"model.name={args.model}",
        ]
        + budget["sft"],
        out,
        log,
    )
    grpo_dir = out / "grpo"
    if not args.skip_grpo:
        run_stage(
            "grpo",
            [
                "grpo",
                "--config",
                "configs/emor3_ravdess_smollm2.yaml",
                f"data.dataset={spec}",
                f"model.name={args.model}",
                f"model.adapter={sft_adapter}",
                f"run.output_dir={grpo_dir}",
                f"run.max_steps={budget['grpo_steps']}",
            ]
            + budget["grpo"],
            out,
            log,
        )
    systems = [("sft", sft_adapter)] + ([] if args.skip_grpo else [("grpo", grpo_dir / "best" / "adapter")])
    for system, adapter in systems:
        for split in ("valid", "test"):
            run_stage(
                f"eval_{system}_{split}",
                [
                    "evaluate",
                    "-d",
                    spec,
                    "--split",
                    split,
                    "--format",
                    "emor3",
                    "--model",
                    args.model,
                    "--adapter",
                    str(adapter),
                    "--max-new-tokens",
                    budget["eval_tokens"],
                    "--baselines",
                    "majority",
                    "--out",
                    str(out / "eval" / f"{system}_{split}"),
                ],
                out,
                log,
            )
    write_stage_log(out, log, began)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
