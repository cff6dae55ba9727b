"""What a checkpoint that cannot be resumed reports: `CheckpointError`, and the two ways to
build one that the readers of its parts (`checkpoint`, `weights`, `rng`) share, so that every
message names the folder, the file and the reason alike.

A checkpoint is either damaged (a file missing, truncated or refused as unsafe: an older one
may stand in) or intact but written for another model or config (the run stops and says with
which settings it was written). It lives apart from `checkpoint` so that the modules that
module imports can raise it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

START_FRESH = (
    "rerun with run.resume=false (the run found there is then moved to its earlier-runs/ folder) or with a new "
    "run.output_dir"
)


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed; the message names it, the file and the reason.

    `damaged`: a file is missing, truncated or refused as unsafe, so an older checkpoint may
    stand in. Otherwise the checkpoint is intact but was written for another model or config."""

    def __init__(self, message: str, folder: str | Path, damaged: bool = True, problem: str | None = None):
        super().__init__(message)
        self.folder, self.damaged, self.problem = Path(folder), damaged, problem or message


def damaged_checkpoint(folder: Path, problem: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {folder} cannot be resumed: {problem}", folder, problem=problem)


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]


def _written_for(state: dict[str, Any]) -> str:
    """How the checkpoint's own run was configured, from the config in its state file."""
    model = (state.get("config") or {}).get("model") or {}
    if "name" not in model:
        return ""
    lora = model.get("lora") or {}
    how = f"LoRA rank {lora.get('r')}" if lora.get("enabled") else "full fine-tuning"
    return f" It was written for model.name={model['name']} with {how}."


def unfit_checkpoint(folder: Path, problem: str, state: dict[str, Any]) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {folder} does not fit this model and config: {problem}.{_written_for(state)} "
        f"Resume it with the settings it was written with, or, to start fresh, {START_FRESH}.",
        folder,
        damaged=False,
    )


__all__ = ["START_FRESH", "CheckpointError", "damaged_checkpoint", "first_line", "unfit_checkpoint"]
