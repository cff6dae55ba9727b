"""Run by tests/test_rl_distributed.py, under `torchrun --nproc_per_node 2` (batch 1 a process) or
alone (batch 2): one SFT step on two chains of very different lengths, the same global batch either
way; rank 0 writes the gradient the optimizer stepped with and the step's logged figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from emoreason.data.schema import vader_task
from emoreason.sft.config import parse_config
from emoreason.sft.data import load_sft_file
from emoreason.sft.trainer import SFTTrainer


def chains(path: Path) -> Path:
    task = vader_task("tweets").to_dict()
    rows = []
    for i, (text, score, think) in enumerate(
        (("I love this", 3.0, "love " * 40), ("awful", -2.6, "bad")), start=1
    ):  # about 60 target tokens against 8: a process's own token mean weighs them far apart
        polarity = "positive" if score > 0 else "negative"
        answer = f"<polarity>{polarity}</polarity><think>{think}</think><score>{score:g}</score>"
        messages = [
            {"role": "system", "content": "Judge the sentiment."},
            {"role": "user", "content": text},
            {"role": "assistant", "content": answer},
        ]
        gold = {"polarity": polarity, "score": score}
        rows.append({"id": f"s{i}", "format": "c2f", "task": task, "gold": gold, "messages": messages})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def main(model: str, out: str, batch_size: int) -> None:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    train_file = chains(folder / "chains.jsonl")
    config = parse_config(
        {
            "run": {"output_dir": out, "max_steps": 1, "save_every": 0, "report_to": ["jsonl"], "resume": False},
            "model": {"name": model, "device": "cpu", "lora": {"enabled": True, "r": 4, "alpha": 8}},
            "data": {"train_file": str(train_file), "eval_fraction": 0.0, "shuffle": False},
            "train": {"batch_size": batch_size, "lr": 1e-2, "scheduler": "constant", "max_grad_norm": None},
            "eval": {"every": 0, "generate_examples": 0},
        }
    )
    trainer = SFTTrainer(config, train=load_sft_file(train_file), eval_examples=[])
    grads: dict[str, torch.Tensor] = {}
    step = trainer.optimizer.step

    def recording_step(*args: object, **kwargs: object) -> object:
        for name, param in trainer.policy.named_parameters():
            if param.grad is not None:
                grads[name] = param.grad.detach().clone()
        return step(*args, **kwargs)

    trainer.optimizer.step = recording_step  # type: ignore[method-assign]
    trainer.start()
    stats = trainer.step()
    if trainer.rank == 0:
        torch.save(grads, folder / "grads.pt")
        (folder / "stats.json").write_text(json.dumps({"world": trainer.world, **stats}))
    trainer.run.end()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
