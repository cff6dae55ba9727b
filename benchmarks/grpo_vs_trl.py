"""GRPO step time: emoreason's GRPO trainer vs TRL's `GRPOTrainer`, on one identical setting.

What is measured: the wall time of one training step (rollout generation + reward +
policy update), median over the timed steps after the warm-up steps, for each trainer, and
the ratio ours/TRL (< 1: ours is faster). Also the split of a step into generation / reward /
update for both (TRL's split comes from timing its `_generate` and `_calculate_rewards`;
"update" is the rest of the step) and the mean completion length, since a step's cost
scales with the tokens generated.

The setting, the same on both sides:
  * model: the embedded default SmolLM2-135M-Instruct (the converted local folder, base
    weights, no shipped adapter), fp32 on CPU, offline;
  * LoRA r=16, alpha=32, dropout 0 on all linear layers, fresh adapter;
  * prompts: the c2f chat prompts of the first 2*(warmup+steps) `vader:movies` train samples,
    in order, 2 prompts per step, G=4 completions each (8 rollouts, one forward/backward
    minibatch of 8, one optimizer step per training step);
  * sampling: temperature 1.0, top-p 1, top-k off, --max-new-tokens (48) new tokens;
  * reward: the c2f composite (format + polarity + score, weights 1/1/1): TRL gets one reward
    function per component from `emoreason.rewards.adapters.trl_reward_functions` with
    `reward_weights`, ours uses `CompositeReward.c2f()`;
  * loss: GRPO (per-sequence token mean), group-scaled advantages, clip eps 0.2, beta=0 (no
    reference model), one iteration per batch; AdamW (torch), lr 1e-5 constant, no weight
    decay, grad-norm clip 1.0; no gradient checkpointing.

One difference is kept on purpose: our trainer stops a completion at the c2f end tag
`</score>` (the format's stop string), TRL only at EOS, so ours may generate fewer tokens. The
"tokens" column shows it; `--no-stop-strings` makes ours generate to EOS like TRL (equal work).
Ours also runs without hints (`hints.enabled=false`: TRL has no Hint-GRPO). And ours skips the
forward/backward of rollouts whose advantage is exactly 0 (`algorithm.skip_zero_advantage`, on by
default: every rollout of a group whose rewards are all equal), which add exactly nothing to the
gradient; TRL computes them. From a fresh adapter that is most groups, since the base model rarely
writes the format; from the SFT adapter few. `--no-skip` makes ours compute them too: equal work.

`--from-sft` is the realistic mode: both sides start from the shipped SFT adapter (the default
adapter: LoRA r=16, alpha 32 on all linear layers, the shape above) instead of a fresh one, so the
completions already write the C2F format, the rewards vary within groups and every step has an
update to make; it is what a user's GRPO run from `emoreason sft`'s output costs. From a fresh
adapter the base model rarely writes the format, most rewards are equal and the step is cheap.

Each trainer runs in its own fresh subprocess (with `--only both`), one after the other. With
`--rounds N` the two take turns N times (TRL, ours, TRL, ours, ...), each turn a fresh subprocess
with its warm-up and timed steps: the machines here have drifted by up to 1.7x in speed within an
hour, so a ratio of two runs minutes apart can move by more than a change being measured. Each
round's ratio is then printed (two runs next to each other in time), and the figures of the table
are the medians over all rounds' timed steps (per-phase columns: the median of the rounds'
medians); the headline ratio is the median of the rounds' ratios.

    python benchmarks/grpo_vs_trl.py                       # both, --steps 5 --warmup 1
    python benchmarks/grpo_vs_trl.py --only ours --steps 1 --warmup 0 --max-new-tokens 8
    python benchmarks/grpo_vs_trl.py --json grpo_vs_trl.json
    python benchmarks/grpo_vs_trl.py --from-sft --max-new-tokens 160 --precision bf16
    python benchmarks/grpo_vs_trl.py --rounds 3 --steps 3          # the sides take turns 3 times

Run it on an otherwise idle machine: both sides use all of torch's CPU threads.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

SIDES = ("trl", "ours")
PHASES = ("generation", "reward", "update")
LORA = {"r": 16, "alpha": 32, "dropout": 0.0, "target_modules": "all-linear"}
PROMPTS_PER_STEP, GROUP_SIZE, TEMPERATURE, SEED = 2, 4, 1.0, 0


def training_data(n: int):
    """The first `n` vader:movies train samples, their task, and their c2f chat prompts."""
    from emoreason.data import load_dataset
    from emoreason.formats import get_format

    dataset = load_dataset("vader:movies")
    samples = dataset.split("train")[:n]
    if len(samples) < n:
        raise SystemExit(f"vader:movies has only {len(samples)} train samples, {n} needed")
    fmt = get_format("c2f")
    return samples, dataset.task, [fmt.messages(s, dataset.task) for s in samples]


def sft_adapter() -> Path:
    """The shipped SFT adapter (`--from-sft`)."""
    from emoreason.models.shipped import shipped_adapter

    adapter = shipped_adapter("sentiment")
    if adapter is None:
        raise SystemExit("--from-sft: the shipped sentiment adapter is missing from this install")
    return adapter


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(side: str, steps: list[dict[str, float]], warmup: int, extra: dict[str, Any]) -> dict[str, Any]:
    """Per-step records (time/step, time/<phase>, tokens) -> the figures of one side."""
    timed = steps[warmup:]
    if not timed:
        raise SystemExit(f"{side}: no timed steps ({len(steps)} steps run, {warmup} warm-up)")
    out: dict[str, Any] = {
        "side": side,
        "timed_steps": len(timed),
        "step_s": [round(s["time/step"], 4) for s in timed],
        "median_step_s": median([s["time/step"] for s in timed]),
        "phases_s": {p: median([s.get(f"time/{p}", float("nan")) for s in timed]) for p in PHASES},
        "mean_completion_tokens": statistics.fmean(s["tokens"] for s in timed),
        "reward_mean": statistics.fmean(s["reward"] for s in timed),
        "warmup_step_s": [round(s["time/step"], 4) for s in steps[:warmup]],
    }
    # each step's own remainder, then its median (a difference of medians can even be negative)
    out["phases_s"]["other"] = median([s["time/step"] - sum(s.get(f"time/{p}", 0.0) for p in PHASES) for s in timed])
    out.update(extra)
    return out


# --- TRL ---------------------------------------------------------------------------------


def run_trl(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from emoreason.models.default import ensure_default_model
    from emoreason.rewards.adapters import trl_reward_functions

    total = args.warmup + args.steps
    samples, task, prompts = training_data(PROMPTS_PER_STEP * total)
    # The gold columns the reward functions read (score, polarity); rows repeat per generation in TRL.
    dataset = Dataset.from_list(
        [
            {"prompt": messages, "score": s.score, "polarity": task.gold_polarity(s)}
            for s, messages in zip(samples, prompts)
        ]
    )
    funcs, weights = trl_reward_functions("c2f", task=task)

    began = time.perf_counter()
    path = str(ensure_default_model())
    torch.manual_seed(SEED)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
    peft_config = LoraConfig(
        r=LORA["r"],
        lora_alpha=LORA["alpha"],
        lora_dropout=LORA["dropout"],
        target_modules=LORA["target_modules"],
        task_type="CAUSAL_LM",
    )
    if args.from_sft:  # the SFT adapter itself is trained, as ours does with model.adapter
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(sft_adapter()), is_trainable=True)
        peft_config = None

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.steps: list[dict[str, float]] = []
            self.parts: dict[str, float] = {}
            self.began = 0.0

        def on_step_begin(self, args, state, control, **kwargs):
            self.parts = {}
            self.began = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            elapsed = time.perf_counter() - self.began
            record = {"time/step": elapsed, **{f"time/{k}": v for k, v in self.parts.items()}}
            record["time/update"] = elapsed - sum(self.parts.values())
            self.steps.append(record)

        def on_log(self, args, state, control, logs=None, **kwargs):
            # logging_steps=1: one log per step, after on_step_end
            if logs and "completions/mean_length" in logs and self.steps:
                self.steps[-1]["tokens"] = float(logs["completions/mean_length"])
                self.steps[-1]["reward"] = float(logs.get("reward", float("nan")))

        def timed(self, phase: str, fn):
            def wrapper(*a, **kw):
                t = time.perf_counter()
                try:
                    return fn(*a, **kw)
                finally:
                    self.parts[phase] = self.parts.get(phase, 0.0) + time.perf_counter() - t

            return wrapper

    timer = StepTimer()
    with tempfile.TemporaryDirectory(prefix="grpo_vs_trl_trl_") as tmp:
        config = GRPOConfig(
            output_dir=tmp,
            # one step = one generation batch = 2 prompts x G=4, trained as one minibatch of 8
            per_device_train_batch_size=PROMPTS_PER_STEP * GROUP_SIZE,
            gradient_accumulation_steps=1,
            steps_per_generation=1,  # so generation_batch_size = 8 and no old-logprob pass
            num_generations=GROUP_SIZE,
            num_iterations=1,
            max_completion_length=args.max_new_tokens,
            temperature=TEMPERATURE,
            top_p=1.0,
            top_k=0,
            learning_rate=args.lr,
            lr_scheduler_type="constant",  # TRL default: linear decay
            warmup_steps=0,
            weight_decay=0.0,
            optim="adamw_torch",  # ours: torch.optim.AdamW (TRL/transformers default: fused)
            max_grad_norm=1.0,
            beta=0.0,
            epsilon=0.2,
            loss_type="grpo",  # TRL default: dapo
            scale_rewards="group",
            reward_weights=weights,
            shuffle_dataset=False,  # prompts in dataset order, like ours with data.shuffle=false
            max_steps=total,
            logging_steps=1,
            report_to="none",
            use_cpu=True,
            bf16=args.precision == "bf16",  # GRPOConfig default: bf16 unless fp16; --precision sets both sides
            fp16=False,
            gradient_checkpointing=False,  # GRPOConfig default: True; ours: off
            save_strategy="no",
            seed=SEED,
            dataloader_num_workers=0,
            disable_tqdm=True,
            log_completions=False,
        )
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=funcs,
            args=config,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=[timer],
        )
        trainer._generate = timer.timed("generation", trainer._generate)
        trainer._calculate_rewards = timer.timed("reward", trainer._calculate_rewards)
        setup_s = time.perf_counter() - began
        began = time.perf_counter()
        trainer.train()
        train_s = time.perf_counter() - began
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    for step in timer.steps:
        step.setdefault("tokens", float("nan"))
        step.setdefault("reward", float("nan"))
        step["time/update"] = step["time/step"] - step.get("time/generation", 0.0) - step.get("time/reward", 0.0)
    return summarize(
        "trl",
        timer.steps,
        args.warmup,
        {
            "setup_s": setup_s,
            "train_s": train_s,
            "trainable_params": trainable,
            "generation_batch_size": config.generation_batch_size,
            "steps_per_generation": config.steps_per_generation,
        },
    )


# --- ours --------------------------------------------------------------------------------


def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    import dataclasses

    from emoreason.models.default import ensure_default_model
    from emoreason.rl.config import parse_config
    from emoreason.rl.trainer import GRPOTrainer

    total = args.warmup + args.steps
    samples, task, _ = training_data(PROMPTS_PER_STEP * total)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grpo_vs_trl_ours_") as tmp:
        config = parse_config(
            {
                "run": {
                    "output_dir": tmp,
                    "max_steps": total,
                    "save_every": 0,
                    "report_to": [],
                    "resume": False,
                    "seed": SEED,
                },
                # the base folder, not "default": no shipped adapter, same weights as TRL gets
                "model": {
                    "name": str(ensure_default_model()),
                    "device": "cpu",
                    "dtype": "float32",
                    "gradient_checkpointing": False,
                    "lora": {"enabled": True, **LORA},
                    "adapter": str(sft_adapter()) if args.from_sft else None,
                },
                "data": {"dataset": "vader:movies", "split": "train", "format": "c2f", "shuffle": False},
                "rollout": {
                    "prompts_per_step": PROMPTS_PER_STEP,
                    "group_size": GROUP_SIZE,
                    "max_new_tokens": args.max_new_tokens,
                    "temperature": TEMPERATURE,
                    "top_p": 1.0,
                    "top_k": 0,
                    "merge_lora": not args.no_merge,
                    # TRL's bf16=True autocasts its generation too (accelerate wraps the model's forward)
                    "dtype": "bfloat16" if args.precision == "bf16" else "float32",
                },
                "reward": {},
                "hints": {"enabled": False},  # TRL has no hints: equal work
                "algorithm": {
                    "beta": 0.0,
                    "loss_type": "grpo",
                    "advantage_scale": "group",
                    "eps_low": 0.2,
                    "eps_high": 0.2,
                    "num_iterations": 1,
                    "skip_zero_advantage": not args.no_skip,
                },
                "optim": {
                    "lr": args.lr,
                    "weight_decay": 0.0,
                    "scheduler": "constant",
                    "warmup_steps": 0,
                    "minibatch_size": PROMPTS_PER_STEP * GROUP_SIZE,
                    "max_grad_norm": 1.0,
                    "precision": args.precision,
                },
            }
        )
        trainer = GRPOTrainer(config, samples=samples, task=task)
        if args.no_stop_strings:
            sampling = trainer.sampling
            trainer.sampling = lambda n, seed: dataclasses.replace(sampling(n, seed), stop_strings=())
        setup_s = time.perf_counter() - began
        began = time.perf_counter()
        records = trainer.train()
        train_s = time.perf_counter() - began
    trainable = sum(p.numel() for p in trainer.policy.parameters() if p.requires_grad)
    steps = [
        {**r, "tokens": r.get("completion/mean_length", float("nan")), "reward": r.get("reward/mean", float("nan"))}
        for r in records
    ]
    return summarize(
        "ours",
        steps,
        args.warmup,
        {
            "setup_s": setup_s,
            "train_s": train_s,
            "trainable_params": trainable,
            "stop_strings": not args.no_stop_strings,
            "skipped_share": statistics.fmean(r.get("update/skipped_share", 0.0) for r in records[args.warmup :]),
        },
    )


# --- driver ------------------------------------------------------------------------------


def pooled(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """One figure set per side from several rounds: step times pooled (their median), each
    phase the median of the rounds' medians, and each round's own ratio ours/TRL."""
    if len(rounds) == 1:
        return dict(rounds[0])
    out: dict[str, Any] = {}
    for side in SIDES:
        runs = [r[side] for r in rounds]
        merged = dict(runs[0])
        merged["step_s"] = [t for run in runs for t in run["step_s"]]
        merged["warmup_step_s"] = [t for run in runs for t in run["warmup_step_s"]]
        merged["timed_steps"] = len(merged["step_s"])
        merged["median_step_s"] = median(merged["step_s"])
        merged["phases_s"] = {p: median([run["phases_s"][p] for run in runs]) for p in runs[0]["phases_s"]}
        merged["mean_completion_tokens"] = statistics.fmean(run["mean_completion_tokens"] for run in runs)
        merged["reward_mean"] = statistics.fmean(run["reward_mean"] for run in runs)
        merged["setup_s"] = median([run["setup_s"] for run in runs])
        out[side] = merged
    out["round_ratios"] = [r["ours"]["median_step_s"] / r["trl"]["median_step_s"] for r in rounds]
    return out


def run_side(side: str, args: argparse.Namespace) -> dict[str, Any]:
    """One side in a fresh subprocess (its own accelerate state, allocator and caches)."""
    with tempfile.TemporaryDirectory(prefix="grpo_vs_trl_") as tmp:
        out = Path(tmp) / f"{side}.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--only",
            side,
            "--steps",
            str(args.steps),
            "--warmup",
            str(args.warmup),
            "--max-new-tokens",
            str(args.max_new_tokens),
            "--lr",
            str(args.lr),
            "--json",
            str(out),
            "--quiet",
        ]
        command += ["--precision", args.precision] + (["--no-merge"] if args.no_merge else [])
        command += ["--from-sft"] if args.from_sft else []
        command += ["--no-skip"] if args.no_skip else []
        if args.no_stop_strings:
            command.append("--no-stop-strings")
        print(f"running {side} ...", file=sys.stderr, flush=True)
        done = subprocess.run(command)
        if done.returncode != 0:
            raise SystemExit(f"{side} failed (exit {done.returncode})")
        return json.loads(out.read_text())["results"][side]


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    import torch

    print(
        f"\nGRPO step time, SmolLM2-135M-Instruct {args.precision} update, CPU ({torch.get_num_threads()} threads), "
        f"LoRA r=16 all-linear{', ours unmerged' if args.no_merge else ''}"
        f"{', from the shipped SFT adapter' if args.from_sft else ', fresh adapter'}, "
        f"{PROMPTS_PER_STEP} prompts x G={GROUP_SIZE}, max {args.max_new_tokens} new tokens, "
        f"{args.warmup} warm-up + {args.steps} timed steps"
    )
    header = (
        f"{'trainer':<8} {'median step s':>13} {'gen s':>7} {'reward s':>8} {'update s':>8} {'other s':>7} "
        f"{'tokens':>6} {'reward':>6} {'setup s':>7}"
    )
    print(header)
    print("-" * len(header))
    for side in SIDES:
        if side not in results:
            continue
        r, p = results[side], results[side]["phases_s"]
        print(
            f"{side:<8} {r['median_step_s']:>13.3f} {p['generation']:>7.3f} {p['reward']:>8.4f} {p['update']:>8.3f} "
            f"{p['other']:>7.3f} {r['mean_completion_tokens']:>6.1f} {r['reward_mean']:>6.2f} {r['setup_s']:>7.1f}"
        )
    if "trl" in results and "ours" in results:
        round_ratios = results.get("round_ratios")
        if round_ratios and len(round_ratios) > 1:
            ratio = median(round_ratios)
            each = ", ".join(f"{r:.2f}" for r in round_ratios)
            print(f"\nratio ours/TRL, median of {len(round_ratios)} rounds: {ratio:.2f}  (each round: {each})")
        else:
            ratio = results["ours"]["median_step_s"] / results["trl"]["median_step_s"]
            print(f"\nratio ours/TRL (median step time): {ratio:.2f}  ({'ours faster' if ratio < 1 else 'TRL faster'})")
        results["ratio_ours_over_trl"] = ratio
    for side in SIDES:
        if side in results:
            print(f"{side} step times (s): {results[side]['step_s']}  warm-up: {results[side]['warmup_step_s']}")
    print(
        "tokens: mean completion length (tokens) over the timed steps; "
        "TRL 'update' = step - _generate - _calculate_rewards; 'other' = each step minus its three phases; "
        "every column is a median over the timed steps"
    )
    if "ours" in results and "skipped_share" in results["ours"]:
        print(
            f"ours skipped the forward/backward of {results['ours']['skipped_share']:.0%} of the timed rollouts: "
            "their advantage was exactly 0 (a group whose rewards were all equal), so they add nothing to the "
            "gradient; TRL computes them (--no-skip: ours does too)"
        )
    if "ours" in results and results["ours"].get("stop_strings"):
        print("ours stops at </score> (c2f stop string), TRL at EOS only; --no-stop-strings for equal work")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("trl", "ours", "both"), default="both")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed warm-up steps first (default 1)")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-5)
    parser.add_argument(
        "--no-stop-strings", action="store_true", help="ours generates to EOS like TRL, not stopping at </score>"
    )
    parser.add_argument(
        "--precision", choices=("fp32", "bf16"), default="fp32",
        help="precision on both sides: TRL's bf16=True; ours optim.precision=bf16 and rollout.dtype=bfloat16",
    )  # fmt: skip
    parser.add_argument("--no-merge", action="store_true", help="ours samples with the LoRA path unmerged")
    parser.add_argument(
        "--no-skip",
        action="store_true",
        help="ours also runs the forward/backward of zero-advantage rollouts (algorithm.skip_zero_advantage=false)",
    )
    parser.add_argument(
        "--from-sft", action="store_true", help="both sides start from the shipped SFT adapter (realistic rewards)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="with both sides: let them take turns this many times (default 1)"
    )
    parser.add_argument("--json", metavar="OUT", help="also write the figures to this JSON file")
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--steps and --rounds must be >= 1 and --warmup >= 0")

    if args.quiet:
        warnings.filterwarnings("ignore")
        logging.disable(logging.WARNING)
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()

    results: dict[str, Any] = {}
    if args.only == "both":
        rounds: list[dict[str, Any]] = []
        for _ in range(args.rounds):
            rounds.append({side: run_side(side, args) for side in SIDES})
        results.update(pooled(rounds))
    else:
        results[args.only] = run_trl(args) if args.only == "trl" else run_ours(args)
    if not args.quiet:
        report(results, args)
    if args.json:
        settings = {
            "model": "SmolLM2-135M-Instruct",
            "dtype": "float32",
            "device": "cpu",
            "lora": LORA,
            "prompts_per_step": PROMPTS_PER_STEP,
            "group_size": GROUP_SIZE,
            "temperature": TEMPERATURE,
            "max_new_tokens": args.max_new_tokens,
            "lr": args.lr,
            "beta": 0.0,
            "loss_type": "grpo",
            "steps": args.steps,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "dataset": "vader:movies",
            "format": "c2f",
            "no_stop_strings": args.no_stop_strings,
            "from_sft": args.from_sft,
        }
        Path(args.json).write_text(json.dumps({"settings": settings, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
