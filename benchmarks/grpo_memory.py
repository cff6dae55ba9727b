"""Resident memory of a GRPO run, step by step: does it grow with the steps, is the growth live tensors
or heap the allocator keeps, and what does handing freed heap back after each step (`train.heap`, glibc's
`malloc_trim`, which the training loop does by default) change?

What is measured, after each step (after the loop's trim, if any): the process's resident memory (VmRSS)
and the part of it that is the brk heap ([heap] in /proc/self/smaps, where glibc serves the allocations
below its mmap threshold, tensors of a few MB included); with `--tensors`, the number and bytes of live
torch tensors the garbage collector can reach (a leak of tensors grows these; a heap that only keeps
freed memory does not). `--keep-heap` turns the loop's trim off (the behaviour before `train.heap`). At
the end: the growth per step of each figure (least squares over the steps after `--warmup`).

The run: `emoreason grpo` on a recipe (default: docs/results/rl_agreement/grpo.yaml from the shipped
default adapter with the polarity word held, the 600-step run of issue 18), validation and checkpoints
off, into a temporary folder, `--steps` steps. KEY=VALUE arguments override the recipe.

    python benchmarks/grpo_memory.py --steps 30 --tensors
    python benchmarks/grpo_memory.py --steps 30 --keep-heap
    python benchmarks/grpo_memory.py --steps 5 --config my_grpo.yaml model.name=...

Memory, not time: other work on the machine changes the step times printed but not what they show.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import gc
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

RECIPE = "docs/results/rl_agreement/grpo.yaml"
FROM_DEFAULT = ["model.adapter=src/emoreason/resources/default_adapter", "algorithm.train_polarity_word=false"]


def resident_mb() -> tuple[float, float]:
    """(VmRSS, the [heap] mapping's Rss), MB."""
    from emoreason.train.heap import resident_gb

    heap, name = 0.0, ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            name = fields[5] if len(fields) > 5 else ""
        elif fields and fields[0] == "Rss:" and name == "[heap]":
            heap += int(fields[1]) / 1024
    return (resident_gb() or 0.0) * 1024, heap


def live_tensors() -> tuple[int, float]:
    """(count, MB) of the torch tensors the garbage collector reaches (parameters and their gradients included)."""
    import torch

    count, storages = 0, {}  # views share their base's storage: each storage is counted once
    with warnings.catch_warnings():  # isinstance on some library objects warns (deprecated module proxies)
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():
            if isinstance(obj, torch.Tensor):
                count += 1
                if obj.device.type == "cpu":
                    storage = obj.untyped_storage()
                    storages[storage.data_ptr()] = storage.nbytes()
    return count, sum(storages.values()) / 2**20


def slope(values: list[float]) -> float:
    return float(np.polyfit(np.arange(len(values)), values, 1)[0]) if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="recipe KEY=VALUE overrides")
    parser.add_argument(
        "--config", default=RECIPE, help=f"the GRPO recipe (default {RECIPE}, from the shipped default)"
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3, help="steps left out of the growth fit")
    parser.add_argument(
        "--keep-heap", action="store_true", help="no malloc_trim after the steps (as before train.heap)"
    )
    parser.add_argument("--tensors", action="store_true", help="count live tensors after each step")
    parser.add_argument("--json", type=Path, help="write the per-step figures here")
    args = parser.parse_args()

    from emoreason.rl.config import load_config
    from emoreason.rl.trainer import GRPOTrainer
    from emoreason.train import heap

    if args.keep_heap:
        heap.release_free_heap = lambda: False  # what HeapKeeper calls: the loop then only reads the size

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as out:
        given = FROM_DEFAULT if args.config == RECIPE else []
        settings = [*given, "validation.every=0", "run.save_every=0", f"run.max_steps={args.steps}"]
        config = load_config(args.config, [*settings, f"run.output_dir={out}", *args.overrides])
        trainer = GRPOTrainer(config)
        began = time.perf_counter()

        def after_step(record: dict) -> None:
            nonlocal began
            row = {"step": record["step"], "seconds": time.perf_counter() - began}
            row["rss"], row["heap"] = resident_mb()
            if args.tensors:
                row["tensors"], row["tensor_mb"] = live_tensors()
            rows.append(row)
            shown = "  ".join(f"{k} {v:.0f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
            print(shown, flush=True)
            began = time.perf_counter()

        trainer.train(progress=after_step)
    kept = rows[args.warmup :]
    for key in ("rss", "heap", "tensors", "tensor_mb"):
        if kept and key in kept[0]:
            print(f"{key}: {kept[0][key]:.0f} -> {kept[-1][key]:.0f}, {slope([r[key] for r in kept]):+.1f} a step")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
