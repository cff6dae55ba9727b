"""Run by tests/test_rl_distributed.py under `torchrun --nproc_per_node 2`: two GRPO steps with
full fine-tuning on the tiny causal LM; every rank writes its final weights and its prompts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from emoreason.data.schema import Sample, vader_task
from emoreason.formats.base import ParseResult
from emoreason.rewards.composite import RewardBreakdown
from emoreason.rl.config import parse_config
from emoreason.rl.trainer import GRPOTrainer


def vowel_reward(text, gold, task, reflection) -> RewardBreakdown:
    value = sum(ch in "aeiou" for ch in text) / max(1, len(text))
    return RewardBreakdown(total=value, components={"vowels": value}, parsed=ParseResult("c2f", False))


def main(model: str, out: str) -> None:
    samples = [Sample(id=f"s{i}", text=f"sentence number {i}", score=float(i % 5 - 2), split="train") for i in range(8)]
    config = parse_config(
        {
            "run": {"output_dir": out, "max_steps": 2, "save_every": 1, "report_to": ["jsonl"], "resume": False},
            # the default `auto` where there is no CUDA (it ran each rank alone, into one folder); on a GPU
            # machine `cpu`, since two processes here are a CPU (gloo) run
            "model": {
                "name": model,
                "device": "cpu" if torch.cuda.is_available() else "auto",
                "lora": {"enabled": False},
            },
            "data": {"shuffle": True},
            "rollout": {"prompts_per_step": 2, "group_size": 4, "max_new_tokens": 6},
            "hints": {"enabled": False},
            "optim": {"lr": 1e-2, "minibatch_size": 4},
        }
    )
    trainer = GRPOTrainer(config, samples=samples, task=vader_task("movies"), reward=vowel_reward)
    rank = trainer.accelerator.process_index
    prompts = [[s.id for s in trainer.prompts_for_step(step)] for step in range(2)]
    records = trainer.train()
    weights = {n: p.detach().clone() for n, p in trainer.policy.named_parameters()}
    torch.save(weights, Path(out) / f"weights_rank{rank}.pt")
    info = {
        "rank": rank,
        "world": trainer.accelerator.num_processes,
        "prompts": prompts,
        "distributed_type": str(trainer.accelerator.distributed_type),
        "steps": [r["step"] for r in records],
    }
    (Path(out) / f"info_rank{rank}.json").write_text(json.dumps(info))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
