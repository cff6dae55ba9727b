"""One run per output folder (`emoreason.locking`): two runs writing one folder interleaved their records."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emoreason.locking import LOCK_FILE, FolderBusy, FolderLock


def test_a_held_folder_refuses_a_second_run_naming_the_first(tmp_path: Path) -> None:
    with FolderLock(tmp_path / "run", "evaluate"):
        with pytest.raises(FolderBusy, match=rf"run is in use by another run \(evaluate, process {os.getpid()}\)"):
            FolderLock(tmp_path / "run", "sft run").acquire()
    again = FolderLock(tmp_path / "run", "sft run").acquire()  # released: free again
    assert (tmp_path / "run" / LOCK_FILE).read_text() == f"sft run, process {os.getpid()}"
    again.release()


def test_a_lock_dies_with_its_holder(tmp_path: Path) -> None:
    """A killed run leaves the file, never the lock: the OS drops it with the process's files."""
    holder = FolderLock(tmp_path, "grpo run").acquire()
    del holder  # a process that ends closes its files; here the file object is collected
    FolderLock(tmp_path, "evaluate").acquire().release()


def test_two_training_runs_and_two_evaluations_cannot_share_a_folder(
    tmp_path: Path, tiny_models: dict[str, Path]
) -> None:
    from emoreason.data import Dataset, LoadReport, Sample, vader_task
    from emoreason.eval.runner import evaluate_model
    from emoreason.generation import SamplingParams
    from emoreason.rl.trainer import GRPOTrainer
    from emoreason.train.checkpoint import OutputDirError
    from test_rl_trainer import TEXT_SAMPLES, VADER, make_config, vowel_reward

    busy = FolderLock(tmp_path / "grpo" / "run", "another run").acquire()
    config = make_config(tmp_path / "grpo", tiny_models["causal_lm"])
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    with pytest.raises(OutputDirError, match="in use by another run \\(another run"):
        trainer.start()
    busy.release()
    samples = [Sample(id="a", text="fine", score=1.0)]
    dataset = Dataset("d", vader_task("t"), samples, LoadReport("d"))
    with FolderLock(tmp_path / "eval", "evaluate"), pytest.raises(ValueError, match="in use by another run"):
        evaluate_model(None, dataset, samples, tmp_path / "eval", "m", "c2f", SamplingParams(), 1, [])  # type: ignore[arg-type]
