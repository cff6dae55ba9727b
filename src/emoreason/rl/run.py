"""What the GRPO and SFT trainers share besides the model set-up: the run section of their
recipes, a data order that depends only on (seed, position), the metrics log, and resume.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from emoreason.recipes import Section
from emoreason.rl import checkpoint as ckpt

log = logging.getLogger(__name__)


class RunSection(Section):
    """Fields of the `run` section common to GRPO and SFT."""

    output_dir: str = Field("runs/train", description="Checkpoints, metrics.jsonl and TensorBoard logs go here.")
    save_every: int = Field(25, ge=0, description="Checkpoint every N steps (0: only at the end).")
    keep_checkpoints: int = Field(2, ge=1, description="Older checkpoints beyond this many are deleted.")
    save_latest: bool = Field(True, description="Between numbered checkpoints, rewrite checkpoint-latest after "
                              "every step, so a killed run loses at most the step in flight.")
    seed: int = 0
    report_to: list[Literal["jsonl", "tensorboard"]] = Field(default_factory=lambda: ["jsonl", "tensorboard"])
    resume: bool = Field(True, description="Continue from the newest checkpoint in output_dir if there is one.")


def epoch_position(index: int, size: int, seed: int, shuffle: bool = True) -> int:
    """Which of `size` items sits at global position `index` of an endless stream of epochs,
    each a fresh permutation drawn from (seed, epoch): a resumed run draws exactly what an
    uninterrupted one would have."""
    epoch, offset = divmod(index, size)
    if not shuffle:
        return offset
    return int(np.random.default_rng([seed, epoch]).permutation(size)[offset])


class RunLog:
    """Metrics log and resume for a trainer that has `config.run`, `accelerator`, `output_dir`,
    `policy`, `optimizer`, `scheduler`, `rank`, `world`, `step_index` and `log_history`."""

    config: Any
    accelerator: Any
    output_dir: Path
    policy: Any
    optimizer: Any
    scheduler: Any
    rank: int
    world: int
    step_index: int
    log_history: list[dict[str, Any]]

    def _metrics_file(self) -> Path:
        return self.output_dir / "metrics.jsonl"

    def _truncate_log(self, step: int) -> None:
        """Steps logged after the checkpoint were lost with the crash; they are redone."""
        file = self._metrics_file()
        if not self.accelerator.is_main_process or not file.is_file():
            return
        kept = [line for line in file.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
        file.write_text("".join(line + "\n" for line in kept))

    def _log(self, stats: dict[str, float]) -> None:
        record = {"step": self.step_index, **{k: round(v, 6) for k, v in stats.items()}}
        self.log_history.append(record)
        if not self.accelerator.is_main_process:
            return
        if "jsonl" in self.config.run.report_to:
            with self._metrics_file().open("a") as handle:
                handle.write(json.dumps(record) + "\n")
        if self.accelerator.trackers:
            self.accelerator.log(stats, step=self.step_index)

    def resume(self, folder: str | Path | None = None) -> bool:
        """Load the newest checkpoint in output_dir (or `folder`); False when there is none."""
        folder = Path(folder) if folder else ckpt.latest_checkpoint(self.output_dir)
        if folder is None:
            return False
        state = ckpt.load_checkpoint(folder, model=self.policy, optimizer=self.optimizer, scheduler=self.scheduler,
                                     rank=self.rank)
        if state.get("world_size", 1) != self.world:
            log.warning("checkpoint was written by %s processes, resuming with %s: the data order changes",
                        state.get("world_size"), self.world)
        self.step_index = int(state["step"])
        self._truncate_log(self.step_index)
        return True


__all__ = ["RunLog", "RunSection", "epoch_position"]
