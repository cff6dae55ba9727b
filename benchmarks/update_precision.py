"""What bf16 autocast changes in the update (`optim.precision` / SFT `train.precision`).

Two measurements on the embedded default model with a fresh LoRA adapter (the SFT setting):

1. one fixed batch, fp32 against bf16: the loss's relative error, the gradient's relative
   error (||g_bf16 - g_fp32|| / ||g_fp32||, over all trainable parameters) and their cosine, and
   the forward+backward time of each (median of `--repeats`, the two taking turns);
2. with `--steps N`: N SFT steps each way from the same seed and data, then the held-out loss
   of each (the SFT trainer's `eval/loss`) and the mean step time; `--seeds 0,1,2` repeats the
   pair for each seed (LoRA initialisation, data order and held-out split change with it), so
   the bf16 - fp32 difference can be told from seed-to-seed noise.

The training chains come from the lexicon teacher on VADER tweets (`emoreason distill`, run
here into a temporary folder, no model needed).

    python benchmarks/update_precision.py [--batch-size 8] [--repeats 5] [--steps 50] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from emoreason.data import load_pooled
from emoreason.distill import LexiconTeacher, distill
from emoreason.formats import get_format
from emoreason.sft.config import parse_config
from emoreason.sft.trainer import SFTTrainer


def sft_config(train_file: Path, out: Path, precision: str, args: argparse.Namespace, seed: int = 0) -> Any:
    return parse_config(
        {
            "run": {"output_dir": str(out), "max_steps": max(args.steps, 1), "save_every": 0, "save_latest": False,
                    "report_to": ["jsonl"], "resume": False, "seed": seed},
            "model": {"name": "default", "adapter": None, "device": "cpu", "dtype": "float32",
                      "lora": {"enabled": True, "r": 16, "alpha": 32}},
            "data": {"train_file": str(train_file), "eval_fraction": 0.1},
            "train": {"batch_size": args.batch_size, "lr": 2e-4, "scheduler": "cosine", "warmup_steps": 5,
                      "precision": precision},
            "eval": {"every": 0, "loss_examples": 64, "generate_examples": 0},
        }
    )  # fmt: skip


def gradient(trainer: SFTTrainer, batch: list) -> tuple[float, torch.Tensor, float]:
    """Loss (token mean), the flattened gradient of the trainable parameters, and the seconds."""
    trainer.model.zero_grad(set_to_none=True)
    began = time.perf_counter()
    nll, tokens = trainer._nll(trainer.model, batch)
    (nll / tokens).backward()
    seconds = time.perf_counter() - began
    grads = [p.grad.flatten() for p in trainer.policy.parameters() if p.requires_grad and p.grad is not None]
    return float(nll / tokens), torch.cat(grads).double(), seconds


def fixed_batch(trainers: dict[str, SFTTrainer], repeats: int) -> None:
    batch = trainers["fp32"].batches_for_step(0)[0]
    results: dict[str, list[tuple[float, torch.Tensor, float]]] = {"fp32": [], "bf16": []}
    for _ in range(repeats):
        for precision, trainer in trainers.items():
            results[precision].append(gradient(trainer, batch))
    (loss32, grad32, _), (loss16, grad16, _) = results["fp32"][0], results["bf16"][0]
    print(f"fixed batch of {len(batch)} examples, LoRA r=16 on the default model")
    print(f"  loss fp32 {loss32:.6f}  bf16 {loss16:.6f}  relative error {abs(loss16 - loss32) / abs(loss32):.2e}")
    error = float((grad16 - grad32).norm() / grad32.norm())
    cosine = float(torch.nn.functional.cosine_similarity(grad16, grad32, dim=0))
    print(f"  gradient relative error {error:.2e}  cosine {cosine:.6f}  ({grad32.numel():,} values)")
    for precision in ("fp32", "bf16"):
        times = [seconds for _, _, seconds in results[precision]]
        print(f"  forward+backward {precision}: median {statistics.median(times):.2f} s (min {min(times):.2f})")


def train_each_way(train_file: Path, root: Path, args: argparse.Namespace, seed: int) -> dict[str, float]:
    """The held-out loss after the run, per precision."""
    final = {}
    for precision in ("fp32", "bf16"):
        trainer = SFTTrainer(sft_config(train_file, root / f"run_{precision}_{seed}", precision, args, seed))
        began = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - began
        evals = [r for r in trainer.log_history if "eval/loss" in r]
        steps = [r["time/step"] for r in trainer.log_history if "time/step" in r]
        print(
            f"  {precision}: held-out loss {evals[0]['eval/loss']:.4f} -> {evals[-1]['eval/loss']:.4f} after "
            f"{trainer.step_index} steps; mean step {statistics.mean(steps):.2f} s; {seconds:.0f} s in all"
        )
        final[precision] = evals[-1]["eval/loss"]
    return final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=0, help="SFT steps each way (0: the fixed batch only)")
    parser.add_argument("--examples", type=int, default=600, help="training chains to distill")
    parser.add_argument("--seeds", default="0", help="comma-separated run seeds for --steps (default 0)")
    parser.add_argument("--skip-fixed", action="store_true", help="skip the fixed-batch comparison")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="update_precision_") as tmp:
        root = Path(tmp)
        samples, task = load_pooled(["vader:tweets"], "train", args.examples)
        distill(samples, task, get_format("c2f"), LexiconTeacher(get_format("c2f"), task), root / "distill")
        train_file = root / "distill" / "sft.jsonl"
        if not args.skip_fixed:
            trainers = {p: SFTTrainer(sft_config(train_file, root / f"fixed_{p}", p, args)) for p in ("fp32", "bf16")}
            fixed_batch(trainers, args.repeats)
            del trainers
        if args.steps:
            gaps = []
            for seed in seeds:
                print(f"{args.steps} SFT steps each way, batch {args.batch_size}, seed {seed}, same data")
                final = train_each_way(train_file, root, args, seed)
                gaps.append(final["bf16"] - final["fp32"])
            print("held-out loss bf16 - fp32 per seed: " + ", ".join(f"{g:+.4f}" for g in gaps))
    print(f"threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
