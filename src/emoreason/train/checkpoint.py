"""Checkpoints that resume exactly: trainable weights, optimizer, scheduler, RNG states and the
step counter, written to a temporary folder and renamed into place, so a run killed at any
moment leaves either the previous checkpoint or the new one, never half of one.

With LoRA only the adapter is stored (`adapter/`, a regular peft folder that `--adapter`
loads); with full fine-tuning, `model/` holds the whole model as safetensors.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

STATE_FILE = "trainer_state.json"
LATEST = "checkpoint-latest"  # rewritten after every step, so a crash loses at most the step in flight
_NAME = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_dir(output_dir: str | Path, step: int) -> Path:
    return Path(output_dir) / f"checkpoint-{step}"


def list_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (those with a state file), oldest first."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _NAME.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    """The checkpoint of the highest step: a numbered one or the rolling `checkpoint-latest`."""
    found = list_checkpoints(output_dir)
    rolling = Path(output_dir) / LATEST / STATE_FILE
    if rolling.is_file():
        step = int(json.loads(rolling.read_text())["step"])
        if not found or step > found[-1][0]:
            return rolling.parent
    return found[-1][1] if found else None


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def is_peft(model: torch.nn.Module) -> bool:
    return hasattr(model, "peft_config")


def save_weights(model: torch.nn.Module, folder: Path, processor: Any = None) -> None:
    if is_peft(model):
        # only the trained adapter: a frozen reference copy (policy.REFERENCE_ADAPTER) stays out
        model.save_pretrained(folder / "adapter", selected_adapters=["default"])
    else:
        model.save_pretrained(folder / "model", safe_serialization=True)
        if processor is not None:
            processor.save_pretrained(folder / "model")


def load_weights(model: torch.nn.Module, folder: Path) -> None:
    from safetensors.torch import load_file

    if is_peft(model):
        from peft import set_peft_model_state_dict

        file = folder / "adapter" / "adapter_model.safetensors"
        if not file.is_file():
            raise FileNotFoundError(
                f"{folder} has no adapter weights ({file}); it was written by a full "
                "fine-tuning run, set model.lora.enabled=false to resume it"
            )
        result = set_peft_model_state_dict(model, load_file(str(file)))
        unexpected = getattr(result, "unexpected_keys", [])
        if unexpected:
            raise ValueError(f"{file} does not fit this model's adapter (unexpected keys such as {unexpected[0]})")
        return
    model_dir = folder / "model"
    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(
            f"{folder} has no full model weights in {model_dir}; it was written by a LoRA "
            "run, set model.lora.enabled=true to resume it"
        )
    state: dict[str, torch.Tensor] = {}
    for file in files:
        state.update(load_file(str(file)))
    missing, unexpected = model.load_state_dict(state, strict=False)
    # tied embeddings are saved once; anything else missing means the wrong model
    missing = [k for k in missing if "lm_head" not in k]
    if missing or unexpected:
        raise ValueError(f"{model_dir} does not fit this model: missing {missing[:3]}, unexpected {unexpected[:3]}")


def save_checkpoint(
    output_dir: str | Path,
    step: int,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: dict[str, Any],
    processor: Any = None,
    rank: int = 0,
    world_size: int = 1,
    barrier: Any = None,
    keep: int = 2,
    rolling: bool = False,
) -> Path:
    """Write checkpoint-<step> (or, with `rolling`, replace checkpoint-latest). Every rank
    stores its RNG state; rank 0 stores the rest. `barrier()` (the accelerator's
    wait_for_everyone) separates the phases."""
    final = Path(output_dir) / LATEST if rolling else checkpoint_dir(output_dir, step)
    tmp = final.with_name(final.name + ".tmp")
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    if barrier:
        barrier()
    torch.save(rng_state(), tmp / f"rng_rank{rank}.pt")
    if rank == 0:
        save_weights(model, tmp, processor)
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    if barrier:
        barrier()
    if rank == 0:
        (tmp / STATE_FILE).write_text(json.dumps({**state, "step": step, "world_size": world_size}, indent=2))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        for _, old in list_checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    if barrier:
        barrier()
    return final


def load_checkpoint(
    folder: str | Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, rank: int = 0
) -> dict[str, Any]:
    folder = Path(folder)
    state = json.loads((folder / STATE_FILE).read_text())
    load_weights(model, folder)
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=False))
    scheduler.load_state_dict(torch.load(folder / "scheduler.pt", weights_only=False))
    rng_file = folder / f"rng_rank{rank}.pt"
    if rng_file.is_file():
        set_rng_state(torch.load(rng_file, weights_only=False))
    return state


__all__ = ["checkpoint_dir", "latest_checkpoint", "list_checkpoints", "load_checkpoint", "save_checkpoint"]
