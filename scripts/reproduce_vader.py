#!/usr/bin/env python
"""The C2F recipe on the VADER human-rated sets, end to end, stage by stage.

Source domains vader:tweets + vader:products (train splits), out-of-domain target
vader:movies; the embedded SmolLM2-135M-Instruct with LoRA:

  1. distill   lexicon-teacher C2F chains, consistency-filtered
  2. sft       cold start on the kept chains
  3. grpo_*    from the SFT adapter, same budget each: Hint-GRPO (hints), no hints
               (nohints), hard groups dropped (drop); each keeps best/, the step its
               in-training validation (valid splits) chose, which is what is evaluated
  4. eval_*    every system (base, sft, grpo_*) on the test splits of all three domains,
               and on the movies valid split, which picks the best adapter (select)

Every stage is the CLI command it prints (run here in one process), so each can be rerun by hand. A stage that
finished leaves OUT/<stage>.done.json (command, wall time) and is skipped on a rerun; a
stage cut short resumes (its command resumes from its own checkpoints or predictions).
Seeds are fixed in the recipes.

    scripts/reproduce_vader.sh                         # the full budget, about six and a half hours here
    scripts/reproduce_vader.sh --toy --model DIR       # seconds, for the test suite
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("tweets", "products", "movies")
SOURCES = ("vader:tweets", "vader:products")
VARIANTS = {"hints": [], "nohints": ["hints.enabled=false"], "drop": ["hints.drop_hard=true"]}


@dataclass
class Budget:
    """Sizes of one run. `full` is the recipe of the default shipped from 2026-12-02 to 2026-12-04 (600 SFT
    steps, 60 GRPO steps per variant; today's default came from the polarity objective, README): about six
    and a half hours on a 2-core AVX512-BF16 CPU, resumable stage by stage."""

    sft_steps: int = 600
    grpo_steps: int = 60
    eval_limit: int = 300  # a seeded random N of each test split (`evaluate --sample`; the movies file is sorted)
    valid_limit: int = 150
    distill_limit: int | None = None
    max_new_tokens: int = 192
    extra_sft: list[str] = field(default_factory=list)
    extra_grpo: list[str] = field(default_factory=list)


BUDGETS = {
    "full": Budget(),
    "toy": Budget(
        sft_steps=2,
        grpo_steps=1,
        eval_limit=2,
        valid_limit=2,
        distill_limit=12,
        max_new_tokens=8,
        extra_sft=[
            "eval.generate_examples=1",
            "eval.loss_examples=2",
            "eval.max_new_tokens=4",
            "train.batch_size=2",
            "model.lora.r=4",
            "run.report_to=[jsonl]",
        ],
        extra_grpo=[
            "rollout.max_new_tokens=6",
            "rollout.prompts_per_step=1",
            "rollout.group_size=2",
            "optim.minibatch_size=2",
            "model.lora.r=4",
            "run.report_to=[jsonl]",
            "validation.sample=2",
            "validation.datasets=[vader:movies]",
            "validation.max_new_tokens=6",
            "validation.best_metric=mean/parse_rate",  # a random tiny model's r is undefined (constant answers)
        ],
    ),
}


def emoreason(args: list[str]) -> int:
    """Run one CLI command in this process (the imports are paid once for all stages)."""
    import click

    from emoreason.cli import app

    try:
        # without standalone mode click returns a command's exit code (typer.Exit) instead of raising it
        result = app(args=args, prog_name="emoreason", standalone_mode=False)
        if isinstance(result, int) and result != 0:
            return result
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except SystemExit as done:
        return int(done.code or 0)
    finally:
        import gc

        gc.collect()
    return 0


def chosen_adapter(run: Path, steps: int) -> Path:
    """The adapter a GRPO run's in-training validation chose (best/, picked on the valid splits),
    else its last checkpoint's."""
    best = run / "best" / "adapter"
    return best if best.is_dir() else run / f"checkpoint-{steps}" / "adapter"


def run_stage(name: str, args: list[str], out: Path, log: list[dict]) -> None:
    marker = out / f"{name}.done.json"
    if marker.is_file():
        done = json.loads(marker.read_text())
        print(f"[{name}] done earlier in {done['seconds']:.0f} s, skipped", flush=True)
        log.append(done)
        return
    command = "emoreason " + shlex.join(args)
    print(f"[{name}] $ {command}", flush=True)
    began = time.perf_counter()
    code = emoreason(args)
    seconds = time.perf_counter() - began
    if code != 0:
        sys.exit(
            f"[{name}] failed with exit code {code} after {seconds:.0f} s; fix the cause and "
            "rerun the same command to continue from this stage"
        )
    record = {"stage": name, "command": command, "seconds": round(seconds, 1)}
    marker.write_text(json.dumps(record, indent=2) + "\n")
    log.append(record)
    print(f"[{name}] {seconds:.0f} s", flush=True)


def write_stage_log(out: Path, log: list[dict], began: float) -> None:
    """OUT/stages.json (each stage's command and wall time) and a one-line summary."""
    total = time.perf_counter() - began
    (out / "stages.json").write_text(json.dumps({"stages": log, "seconds_this_run": round(total, 1)}, indent=2) + "\n")
    print("stage wall times (s): " + ", ".join(f"{r['stage']} {r['seconds']:.0f}" for r in log), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "vader_recipe", help="Where every stage writes.")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="full")
    parser.add_argument("--toy", action="store_true", help="Shorthand for --budget toy.")
    parser.add_argument("--model", default="default", help="Base model (default: the embedded SmolLM2-135M-Instruct).")
    parser.add_argument(
        "--stages", default="all", help="Comma-separated subset: distill,sft,grpo,eval,select (default: all)."
    )
    args = parser.parse_args(argv)
    budget = BUDGETS["toy" if args.toy else args.budget]
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.stages.split(",")) if args.stages != "all" else {"distill", "sft", "grpo", "eval", "select"}
    os.chdir(ROOT)  # the recipes' relative paths
    exe: list[str] = []
    log: list[dict] = []
    began = time.perf_counter()

    if "distill" in wanted:
        command = exe + ["distill", "--teacher", "lexicon", "--split", "train", "--out", str(out / "distill")]
        for spec in SOURCES:
            command += ["-d", spec]
        if budget.distill_limit:
            command += ["--limit", str(budget.distill_limit)]
        run_stage("distill", command, out, log)

    sft_adapter = out / "sft" / "final" / "adapter"
    if "sft" in wanted:
        run_stage(
            "sft",
            exe
            + [
                "sft",
                "--config",
                "configs/sft_c2f_vader_smollm2.yaml",
                f"data.train_file={out / 'distill' / 'sft.jsonl'}",
                f"run.output_dir={out / 'sft'}",
                f"run.max_steps={budget.sft_steps}",
                f"model.name={args.model}",
            ]
            + budget.extra_sft,
            out,
            log,
        )

    adapters = {"base": None, "sft": sft_adapter}
    for variant, overrides in VARIANTS.items():
        folder = out / f"grpo_{variant}"
        adapters[f"grpo_{variant}"] = folder
        if "grpo" in wanted:
            run_stage(
                f"grpo_{variant}",
                exe
                + [
                    "grpo",
                    "--config",
                    "configs/c2f_vader_smollm2.yaml",
                    f"model.name={args.model}",
                    f"model.adapter={sft_adapter}",
                    f"run.output_dir={folder}",
                    f"run.max_steps={budget.grpo_steps}",
                    f"run.save_every={budget.grpo_steps}",
                ]
                + overrides
                + budget.extra_grpo,
                out,
                log,
            )

    if "eval" in wanted:
        for system, adapter in adapters.items():
            for domain, split, limit in [(d, "test", budget.eval_limit) for d in DOMAINS] + [
                ("movies", "valid", budget.valid_limit)
            ]:
                command = exe + [
                    "evaluate",
                    "-d",
                    f"vader:{domain}",
                    "--split",
                    split,
                    "--sample",
                    str(limit),
                    "--model",
                    args.model,
                    "--max-new-tokens",
                    str(budget.max_new_tokens),
                    "--baselines",
                    "vader",
                    "--free-quotes",  # the models' own quoting: grounding is one of the things compared
                    "--out",
                    str(out / "eval" / system / f"{domain}-{split}"),
                ]
                # `none`: the bare model, even once the package ships its default adapter
                weights = chosen_adapter(adapter, budget.grpo_steps) if system.startswith("grpo_") else adapter
                command += ["--adapter", str(weights) if weights is not None else "none"]
                run_stage(f"eval_{system}_{domain}_{split}", command, out, log)

    if "select" in wanted:
        scores = {}
        for system in adapters:
            metrics = out / "eval" / system / "movies-valid" / "metrics.json"
            if system != "base" and metrics.is_file():
                value = json.loads(metrics.read_text())["rows"]["model"]["pearson_r"]
                # undefined r (null in metrics.json, e.g. constant answers) ranks last
                scores[system] = value if isinstance(value, (int, float)) and value == value else float("-inf")
        if scores:
            best = max(scores, key=lambda s: scores[s])
            # the adapter folder evaluated (a GRPO run's best/ or last checkpoint), which ship_default_adapter.py copies
            chosen = adapters[best]
            if best.startswith("grpo_"):
                chosen = chosen_adapter(chosen, budget.grpo_steps)
            choice = {"best": best, "adapter": str(chosen), "movies_valid_pearson_r": scores}
            (out / "best.json").write_text(json.dumps(choice, indent=2) + "\n")
            print(f"[select] best adapter by movies valid r: {best} {scores}", flush=True)

    write_stage_log(out, log, began)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
