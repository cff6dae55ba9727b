"""Checkpoints that resume exactly: trainable weights, optimizer, scheduler, RNG states and the
step counter, written to a temporary folder and renamed into place, so a run killed at any
moment leaves either the previous checkpoint or the new one, never half of one.

This module lists the checkpoints of a run, reads and writes whole ones, and holds the
optimizer, scheduler and state files; the parts with rules of their own live beside it:
`weights` (the adapter or full model weights), `rng` (the RNG states), and `checkpoint_errors`
(`CheckpointError`, which all three raise).

Loading is safe and all or nothing:

- every pickled file (optimizer.pt, scheduler.pt, rng_rank*.pt) is read with
  `torch.load(weights_only=True)`, so a planted file cannot run code (the rng files with the
  small allow-list of `rng.numpy_array_globals`, for the runs of earlier versions);
- `read_checkpoint` reads every file and checks it against the live model and optimizer before
  `apply_checkpoint` loads anything into them, so a checkpoint that fails leaves the run as it
  was, and `read_newest_checkpoint` can fall back to an older one: it does so for a damaged
  checkpoint, and stops at one that does not fit the model or config (it says why);
- what fails is a `CheckpointError` naming the folder, the file and the reason in one message.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from emoreason.train.checkpoint_errors import (
    START_FRESH,
    CheckpointError,
    damaged_checkpoint,
    first_line,
    unfit_checkpoint,
)
from emoreason.train.rng import check_rng_state, numpy_array_globals, rng_state, set_rng_state
from emoreason.train.weights import put_weights, read_weights, save_weights

log = logging.getLogger(__name__)

STATE_FILE = "trainer_state.json"
LATEST = "checkpoint-latest"  # rewritten after every step, so a crash loses at most the step in flight
_NAME = re.compile(r"^checkpoint-(\d+)$")


class OutputDirError(ValueError):
    """run.output_dir cannot be created or written."""


# -- where checkpoints are ------------------------------------------------------------------


def prepare_output_dir(output_dir: str | Path) -> None:
    """Create the run's folder and prove a file can be written there, so that a folder the run
    cannot write stops it at once, with its name, rather than at the first checkpoint."""
    folder = Path(output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OutputDirError(
            f"cannot write to run.output_dir {folder}: {err.strerror or first_line(err)}; "
            "choose a folder this user can write (run.output_dir=...)"
        ) from None


# -- replacing a folder, and what a run cut short leaves ------------------------------------

#: what a run writes into run.output_dir (glob patterns; the tracker's folder, named after the run, aside)
RUN_ARTIFACTS = (
    "checkpoint-*",
    "best",
    "best.*",
    "final",
    "final.*",
    "validation",
    "metrics.jsonl",
    "rollouts.jsonl",
    "config.yaml",
    "config.until-step-*.yaml",
    "curves.png",
)
EARLIER_RUNS = "earlier-runs"  # where a fresh start moves the run found in its folder


def replace_folder(tmp: Path, final: Path) -> None:
    """Put the complete folder `tmp` in `final`'s place such that a kill at any moment leaves a whole
    copy under a name `recover_folder` reads: the old one is renamed to `final.old` first and deleted
    last (deleting it before the rename left no copy at all for that moment)."""
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def recover_folder(final: Path, complete: str) -> bool:
    """After a `replace_folder` cut short, put a whole copy back under `final`: the new one (`final.tmp`,
    complete once it holds the file `complete`, written last), else the old one (`final.old`). True when
    one was put back."""
    if final.exists():
        return False
    for leftover in (final.with_name(final.name + ".tmp"), final.with_name(final.name + ".old")):
        if (leftover / complete).is_file():
            leftover.rename(final)
            log.warning("%s was being replaced when the run stopped; %s is put back in its place", final, leftover)
            return True
    return False


def set_aside_earlier_run(output_dir: str | Path, tracker: str) -> Path | None:
    """Move what an earlier run left in `output_dir` (`RUN_ARTIFACTS` and the `tracker` folder) into
    `earlier-runs/<UTC time>/`, so that a fresh start neither mixes its checkpoints with the earlier
    run's (whose higher steps made it prune its own and resume theirs) nor deletes them. Returns the
    folder they went to, None when there was nothing."""
    import time

    root = Path(output_dir)
    found = sorted({path for pattern in (*RUN_ARTIFACTS, tracker) for path in root.glob(pattern)})
    if not found:
        return None
    target = root / EARLIER_RUNS / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    target.mkdir(parents=True, exist_ok=True)
    for path in found:
        path.rename(target / path.name)
    return target


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


def _rolling_step(folder: Path) -> int | None:
    try:
        return int(json.loads((folder / STATE_FILE).read_text())["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resume_candidates(output_dir: str | Path) -> list[Path]:
    """Checkpoints to resume from, newest first: the numbered ones by their step, the rolling
    `checkpoint-latest` by the step in its state file (after a numbered one of the same step).
    A rolling one whose state file does not read comes first, so that trying it reports the
    damage instead of passing over it in silence."""
    numbered = list(reversed(list_checkpoints(output_dir)))
    folders = [folder for _, folder in numbered]
    rolling = Path(output_dir) / LATEST
    if (rolling / STATE_FILE).is_file():
        step = _rolling_step(rolling)
        newer = 0 if step is None else sum(1 for number, _ in numbered if number >= step)
        folders.insert(newer, rolling)
    return folders


# -- reading files --------------------------------------------------------------------------


def _torch_load(folder: Path, name: str, allow: Sequence[Any] = (), device: torch.device | str = "cpu") -> Any:
    """A pickled file of the checkpoint, read with weights_only=True (tensors and plain data
    only, plus the types in `allow`), its tensors onto `device`."""
    file = folder / name
    if not file.is_file():
        raise damaged_checkpoint(folder, f"{name} is missing")
    try:
        with torch.serialization.safe_globals(list(allow)):
            return torch.load(file, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        if "weights only" in str(err).lower():
            raise damaged_checkpoint(
                folder,
                f"{name} holds objects other than tensors and plain data, so it was refused unread "
                "(loading it could run code); this program never writes such objects",
            ) from None
        raise damaged_checkpoint(folder, f"{name} is truncated or garbled ({first_line(err)})") from None
    except Exception as err:  # a truncated archive: RuntimeError, EOFError, OSError
        raise damaged_checkpoint(folder, f"{name} is truncated or garbled ({first_line(err)})") from None


def _read_state(folder: Path) -> dict[str, Any]:
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except FileNotFoundError:
        raise damaged_checkpoint(folder, f"{STATE_FILE} is missing") from None
    except (OSError, ValueError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise damaged_checkpoint(folder, f"{STATE_FILE} is truncated or garbled ({first_line(err)})") from None
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise damaged_checkpoint(folder, f"{STATE_FILE} has no step number")
    return state


# -- optimizer ------------------------------------------------------------------------------


def _check_optimizer_fits(folder: Path, saved: Any, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """The saved optimizer state covers the same parameters, in the same groups and shapes, as
    `optimizer`; torch itself checks only the group sizes, and a wrong shape would fail at the
    next step instead."""
    try:
        saved_groups = [list(group["params"]) for group in saved["param_groups"]]
        saved_state = dict(saved["state"])
    except (KeyError, TypeError, ValueError):
        raise damaged_checkpoint(folder, "optimizer.pt does not hold an optimizer state") from None
    groups = [list(group["params"]) for group in optimizer.param_groups]
    if [len(g) for g in saved_groups] != [len(g) for g in groups]:
        raise unfit_checkpoint(
            folder,
            f"optimizer.pt holds {sum(map(len, saved_groups))} trained tensors, this run trains "
            f"{sum(map(len, groups))}",
            state,
        )
    parameters = dict(zip([i for g in saved_groups for i in g], [p for g in groups for p in g]))
    for index, entry in saved_state.items():
        if index not in parameters or not isinstance(entry, dict):
            raise damaged_checkpoint(
                folder, f"optimizer.pt has a state for tensor {index}, which none of its groups holds"
            )
        for name, value in entry.items():
            shape = parameters[index].shape
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != shape:
                raise unfit_checkpoint(
                    folder,
                    f"optimizer.pt's {name} of tensor {index} has shape {list(value.shape)}, the parameter here "
                    f"{list(shape)}",
                    state,
                )


# -- whole checkpoints ----------------------------------------------------------------------


@dataclass
class Checkpoint:
    """A checkpoint read into memory and checked against the run, not yet loaded into it."""

    folder: Path
    state: dict[str, Any]  # trainer_state.json
    weights: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    rng: dict[str, Any] | None  # None when no state of this process's rank was saved


def read_checkpoint(
    folder: str | Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, rank: int = 0
) -> Checkpoint:
    """Read every file of a checkpoint and check that it fits `model` and `optimizer`, touching
    neither. CheckpointError names what is wrong; FileNotFoundError when there is no such folder.

    An RNG state of this rank may be absent (a run resumed with more processes than wrote it)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no checkpoint folder {folder}")
    state = _read_state(folder)
    weights = read_weights(folder, model, state)
    # onto the parameters' device, where load_state_dict would move it anyway: no host copy of a full model's moments
    device = next((p.device for group in optimizer.param_groups for p in group["params"]), torch.device("cpu"))
    optimizer_state = _torch_load(folder, "optimizer.pt", device=device)
    _check_optimizer_fits(folder, optimizer_state, optimizer, state)
    scheduler_state = _torch_load(folder, "scheduler.pt")
    if not isinstance(scheduler_state, dict):
        raise damaged_checkpoint(folder, "scheduler.pt does not hold a scheduler state")
    rng_name, rng = f"rng_rank{rank}.pt", None
    if (folder / rng_name).is_file():
        rng = _torch_load(folder, rng_name, allow=numpy_array_globals())
        check_rng_state(folder, rng_name, rng)
    return Checkpoint(folder, state, weights, optimizer_state, scheduler_state, rng)


def apply_checkpoint(
    checkpoint: Checkpoint, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> dict[str, Any]:
    """Load a checkpoint that `read_checkpoint` accepted into the run; returns its state.

    The optimizer's hyperparameters (lr, weight decay, betas, eps) stay the recipe's: the optimizer
    and scheduler states bring back the ones the checkpoint was trained with, which differ only when
    the run resumes with changes (`run.resume_with_changes`), and then the change is what was asked
    (an lr of 5e-6 in the recipe trained on at the checkpoint's 1e-5, which the log called 5e-6)."""
    put_weights(model, checkpoint.weights)
    configured = [{k: v for k, v in group.items() if k not in ("params", "lr")} for group in optimizer.param_groups]
    optimizer.load_state_dict(checkpoint.optimizer)
    scheduler.load_state_dict(checkpoint.scheduler)
    for group, own in zip(optimizer.param_groups, configured, strict=True):
        group.update(own)
    if isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR):  # every schedule build_optimizer makes
        scheduler.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        for group, base, factor in zip(optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas, strict=True):
            group["lr"] = base * factor(scheduler.last_epoch)
        scheduler._last_lr = [group["lr"] for group in optimizer.param_groups]  # what get_last_lr() reports
    if checkpoint.rng is not None:
        set_rng_state(checkpoint.rng)
    return checkpoint.state


def read_newest_checkpoint(
    output_dir: str | Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    rank: int = 0,
    agree: Callable[[CheckpointError | None], CheckpointError | None] | None = None,
) -> Checkpoint | None:
    """The newest checkpoint in `output_dir` that reads and fits; None when there is none at all.

    A damaged one (a file missing, truncated or refused as unsafe) gives way to the next older
    one, with a warning naming both: that costs only the steps between them. One that is intact
    but does not fit this model or config stops the run (CheckpointError): the older ones were
    written with the same settings, so skipping it would end in a fresh start over the user's
    run. When every checkpoint is damaged, the error names each and says how to start fresh.

    `agree`, with several processes: given this process's error (or None), the first error any
    process met, so that all of them resume from the same checkpoint."""
    damaged: list[CheckpointError] = []
    for folder in resume_candidates(output_dir):
        checkpoint, error = None, None
        try:
            checkpoint = read_checkpoint(folder, model=model, optimizer=optimizer, rank=rank)
        except CheckpointError as err:
            error = err
        if agree is not None:
            error = agree(error)
        if error is not None and not error.damaged:
            raise error
        if error is not None:
            damaged.append(error)
            continue
        if damaged:
            log.warning("%s; resuming from the older %s instead", "; ".join(map(str, damaged)), folder)
        return checkpoint
    if damaged:
        reasons = "; ".join(f"{error.folder.name}: {error.problem}" for error in damaged)
        raise CheckpointError(
            f"no checkpoint in {output_dir} can be resumed ({reasons}). To start fresh, {START_FRESH}.", output_dir
        )
    return None


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
    settings: Mapping[str, Any] | None = None,
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
        save_weights(model, tmp, processor, settings)
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    if barrier:
        barrier()
    if rank == 0:
        (tmp / STATE_FILE).write_text(json.dumps({**state, "step": step, "world_size": world_size}, indent=2))
        replace_folder(tmp, final)
        for _, old in list_checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    if barrier:
        barrier()
    return final


__all__ = [
    "Checkpoint",
    "CheckpointError",
    "OutputDirError",
    "apply_checkpoint",
    "checkpoint_dir",
    "list_checkpoints",
    "prepare_output_dir",
    "read_checkpoint",
    "read_newest_checkpoint",
    "recover_folder",
    "replace_folder",
    "resume_candidates",
    "save_checkpoint",
    "set_aside_earlier_run",
]
