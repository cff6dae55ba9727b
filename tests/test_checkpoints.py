"""Resuming from checkpoints that are planted, damaged or written for another config, and runs
whose output folder cannot be written: each stops or falls back with one clear message, never
runs code from a checkpoint and never leaves the model half-loaded."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from emoreason.rl.trainer import GRPOTrainer
from emoreason.train.checkpoint import CheckpointError, OutputDirError, prepare_output_dir, resume_candidates
from emoreason.train.rng import rng_state, set_rng_state
from emoreason.train.weights import ADAPTER_FILE
from test_rl_trainer import TEXT_SAMPLES, VADER, make_config, vowel_reward

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


class RunsAShellCommand:
    """What an attacker plants as a checkpoint file: unpickling it runs `touch <marker>`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def grpo(parent: Path, model: Path, **lora: Any) -> GRPOTrainer:
    """A two-step LoRA GRPO run in parent/run that checkpoints after each step and resumes."""
    config = make_config(
        parent,
        model,
        run={"max_steps": 2, "save_every": 1, "save_latest": False, "resume": True},
        hints={"enabled": False},
        model={"lora": {"enabled": True, "r": 4, "alpha": 8, **lora}},
    )
    return GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)


@pytest.fixture(scope="module")
def causal(tiny_models: dict[str, Path]) -> Path:
    return tiny_models["causal_lm"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory, causal: Path) -> Path:
    parent = tmp_path_factory.mktemp("finished")
    grpo(parent, causal).train()
    run = parent / "run"
    assert [folder.name for folder in resume_candidates(run)] == ["checkpoint-2", "checkpoint-1"]
    return run


@pytest.fixture
def run_copy(finished_run: Path, tmp_path: Path) -> Path:
    """A copy of the finished run for a test to damage: tmp_path/run, the output_dir of grpo(tmp_path, ...)."""
    return Path(shutil.copytree(finished_run, tmp_path / "run"))


def truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def adapter_weights(trainer: GRPOTrainer) -> dict[str, torch.Tensor]:
    from peft import get_peft_model_state_dict

    return {k: v.detach().clone() for k, v in get_peft_model_state_dict(trainer.policy).items()}


def saved_adapter(checkpoint: Path) -> dict[str, torch.Tensor]:
    return load_file(str(checkpoint / "adapter" / ADAPTER_FILE))


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys() and a
    assert all(torch.equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------------------
# planted pickles never run
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("planted", ["optimizer.pt", "scheduler.pt", "rng_rank0.pt"])
def test_a_planted_pickle_is_refused_unrun_and_an_older_checkpoint_resumes(
    run_copy: Path, tmp_path: Path, causal: Path, planted: str, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "ran"
    file = run_copy / "checkpoint-2" / planted
    torch.save(RunsAShellCommand(marker), file)
    assert "posix.system" in torch.serialization.get_unsafe_globals_in_checkpoint(file)  # the payload is live
    trainer = grpo(tmp_path, causal)
    with caplog.at_level(logging.WARNING, logger="emoreason.train.checkpoint"):
        assert trainer.start() == 1
    assert not marker.exists()
    warning = caplog.text
    assert "checkpoint-2" in warning and planted in warning and "refused" in warning and "checkpoint-1" in warning
    assert_same(adapter_weights(trainer), saved_adapter(run_copy / "checkpoint-1"))


def test_a_planted_pickle_in_every_checkpoint_stops_sft_with_how_to_start_fresh(
    tmp_path: Path, causal: Path, sft_file: Path
) -> None:
    from typer.testing import CliRunner

    from emoreason.cli import app

    out = tmp_path / "sft"
    args = ["sft", f"model.name={causal}", "model.device=cpu", f"data.train_file={sft_file}", "max_steps=2"]
    args += [f"output_dir={out}", "report_to=[jsonl]", "model.lora.r=4", "eval_fraction=0", "train.batch_size=2"]
    assert CliRunner().invoke(app, args).exit_code == 0
    marker = tmp_path / "ran"
    for folder in resume_candidates(out):  # checkpoint-2 and the rolling checkpoint-latest of step 1
        torch.save(RunsAShellCommand(marker), folder / "optimizer.pt")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert not marker.exists()
    message = " ".join(result.output.split())
    assert "no checkpoint in" in message and "optimizer.pt" in message and "refused" in message
    assert "run.resume=false" in message and "run.output_dir" in message


@pytest.fixture(scope="module")
def sft_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four short conversations, so the tiny model trains in a second."""
    file = tmp_path_factory.mktemp("sft") / "sft.jsonl"
    replies = [("I love it", "positive"), ("so sad", "negative"), ("great fun", "positive"), ("awful", "negative")]
    lines = [
        json.dumps({"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]})
        for text, answer in replies
    ]
    file.write_text("\n".join(lines) + "\n")
    return file


# --------------------------------------------------------------------------------------
# damaged checkpoints: fall back to an older one, or stop when there is none
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damaged", ["optimizer.pt", f"adapter/{ADAPTER_FILE}", "trainer_state.json", "scheduler.pt", "rng_rank0.pt"]
)
def test_a_truncated_file_falls_back_to_the_older_checkpoint_with_a_warning(
    run_copy: Path, tmp_path: Path, causal: Path, damaged: str, caplog: pytest.LogCaptureFixture
) -> None:
    truncate(run_copy / "checkpoint-2" / damaged)
    trainer = grpo(tmp_path, causal)
    with caplog.at_level(logging.WARNING, logger="emoreason.train.checkpoint"):
        assert trainer.start() == 1 and trainer.step_index == 1
    warning = caplog.text
    assert "checkpoint-2" in warning and damaged in warning and "truncated" in warning
    assert "resuming from the older" in warning and "checkpoint-1" in warning
    # all of checkpoint-1 and nothing of checkpoint-2, although its weights (or all but one file) read well
    assert_same(adapter_weights(trainer), saved_adapter(run_copy / "checkpoint-1"))
    assert [r["step"] for r in trainer.train()] == [2]


def test_a_rolling_checkpoint_whose_state_does_not_read_is_reported_and_passed_over(
    run_copy: Path, tmp_path: Path, causal: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rolling = Path(shutil.copytree(run_copy / "checkpoint-2", run_copy / "checkpoint-latest"))
    truncate(rolling / "trainer_state.json")  # its step is unknown, so it is tried first
    assert resume_candidates(run_copy)[0] == rolling
    with caplog.at_level(logging.WARNING, logger="emoreason.train.checkpoint"):
        assert grpo(tmp_path, causal).start() == 2
    assert "checkpoint-latest cannot be resumed: trainer_state.json is truncated" in caplog.text


def test_processes_resume_from_a_checkpoint_every_one_of_them_reads(
    run_copy: Path, tmp_path: Path, causal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Process 1 met a damaged rng_rank1.pt in checkpoint-2; process 0, which read its own
    files well, resumes from checkpoint-1 with it."""
    import accelerate.utils

    damaged = run_copy / "checkpoint-2"
    report = (f"checkpoint {damaged} cannot be resumed: rng_rank1.pt is truncated", str(damaged), True, "truncated")
    gathered = iter([[None, report], [None, None]])  # checkpoint-2, then checkpoint-1
    monkeypatch.setattr(accelerate.utils, "gather_object", lambda mine: next(gathered))
    trainer = grpo(tmp_path, causal)
    trainer.run.world = 2
    assert trainer.start() == 1
    assert_same(adapter_weights(trainer), saved_adapter(run_copy / "checkpoint-1"))


def test_a_lone_damaged_checkpoint_stops_naming_it_with_nothing_loaded(
    run_copy: Path, tmp_path: Path, causal: Path
) -> None:
    shutil.rmtree(run_copy / "checkpoint-1")
    truncate(run_copy / "checkpoint-2" / "optimizer.pt")
    trainer = grpo(tmp_path, causal)
    before = adapter_weights(trainer)
    with pytest.raises(CheckpointError) as caught:
        trainer.start()
    message = str(caught.value)
    assert "checkpoint-2" in message and "optimizer.pt is truncated" in message and "\n" not in message
    assert "run.resume=false" in message and "run.output_dir" in message
    assert trainer.step_index == 0
    assert_same(adapter_weights(trainer), before)
    with pytest.raises(CheckpointError, match="optimizer.pt"):  # an explicit resume says the same of the folder
        trainer.run.resume(run_copy / "checkpoint-2")


# --------------------------------------------------------------------------------------
# checkpoints of another config stop the run instead of being passed over
# --------------------------------------------------------------------------------------


def test_another_lora_rank_stops_in_one_paragraph_without_falling_back(
    run_copy: Path, tmp_path: Path, causal: Path
) -> None:
    trainer = grpo(tmp_path, causal, r=8, alpha=16)
    before = adapter_weights(trainer)
    with pytest.raises(CheckpointError) as caught:
        trainer.start()
    error = caught.value
    message = str(error)
    assert not error.damaged and error.folder.name == "checkpoint-2"  # the newest; checkpoint-1 was not tried instead
    assert "does not fit" in message and "other shapes" in message and "LoRA rank 4" in message
    assert "size mismatch" not in message and "\n" not in message and len(message) < 800
    assert "run.resume=false" in message
    assert_same(adapter_weights(trainer), before)


def test_a_lora_checkpoint_resumed_with_full_fine_tuning_stops(run_copy: Path, tmp_path: Path, causal: Path) -> None:
    trainer = grpo(tmp_path, causal, enabled=False)
    with pytest.raises(CheckpointError, match="holds a LoRA adapter, not full model weights") as caught:
        trainer.start()
    assert not caught.value.damaged and "model.name=" in str(caught.value)


@pytest.fixture(scope="module")
def finished_full_run(tmp_path_factory: pytest.TempPathFactory, causal: Path) -> Path:
    parent = tmp_path_factory.mktemp("finished-full")
    grpo(parent, causal, enabled=False).train()
    return parent / "run"


@pytest.mark.parametrize("damage", ["truncated weights", "lost shard"])
def test_full_fine_tuning_falls_back_from_damaged_weights(
    finished_full_run: Path, tmp_path: Path, causal: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    run = Path(shutil.copytree(finished_full_run, tmp_path / "run"))
    weights = run / "checkpoint-2" / "model" / "model.safetensors"
    if damage == "truncated weights":
        truncate(weights)
    else:  # as if the model had been saved in two shards and one was lost
        index = {"weight_map": {"a": weights.name, "b": "model-00002-of-00002.safetensors"}}
        (weights.parent / "model.safetensors.index.json").write_text(json.dumps(index))
    trainer = grpo(tmp_path, causal, enabled=False)
    with caplog.at_level(logging.WARNING, logger="emoreason.train.checkpoint"):
        assert trainer.start() == 1
    assert "model/model" in caplog.text and "checkpoint-1 instead" in caplog.text
    older = load_file(str(run / "checkpoint-1" / "model" / "model.safetensors"))
    assert_same({k: v for k, v in trainer.policy.state_dict().items() if k in older}, older)


def test_a_full_fine_tuning_checkpoint_resumed_with_lora_stops(
    finished_full_run: Path, tmp_path: Path, causal: Path
) -> None:
    shutil.copytree(finished_full_run, tmp_path / "run")
    with pytest.raises(CheckpointError, match="holds full model weights, not a LoRA adapter") as caught:
        grpo(tmp_path, causal).start()
    assert not caught.value.damaged and "with full fine-tuning" in str(caught.value)


# --------------------------------------------------------------------------------------
# RNG states: no allow-list for the new format, the earlier format still resumes
# --------------------------------------------------------------------------------------


def draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_rng_states_are_saved_as_plain_data(tmp_path: Path) -> None:
    file = tmp_path / "rng.pt"
    torch.save(rng_state(), file)
    expected = draws()
    assert torch.serialization.get_unsafe_globals_in_checkpoint(file) == []
    set_rng_state(torch.load(file, weights_only=True))
    assert draws() == expected


def test_rng_files_of_the_earlier_format_still_resume(run_copy: Path, tmp_path: Path, causal: Path) -> None:
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    earlier = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    expected = draws()
    torch.save(earlier, run_copy / "checkpoint-2" / "rng_rank0.pt")  # its numpy state pickles an ndarray
    trainer = grpo(tmp_path, causal)
    assert trainer.start() == 2
    assert draws() == expected


# --------------------------------------------------------------------------------------
# an output folder the run cannot write
# --------------------------------------------------------------------------------------


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this user (root?) can write a folder of mode 0o500, so it cannot be made read-only")
        yield folder
    finally:
        folder.chmod(0o700)


def test_an_unwritable_output_dir_stops_with_its_name(read_only_dir: Path, causal: Path, sft_file: Path) -> None:
    for out in (read_only_dir, read_only_dir / "run"):  # an existing folder, and one that cannot be made
        with pytest.raises(OutputDirError, match=re.escape(f"cannot write to run.output_dir {out}: Permission denied")):
            prepare_output_dir(out)
    trainer = grpo(read_only_dir, causal)  # output_dir read-only/run
    with pytest.raises(OutputDirError, match="read-only/run"):
        trainer.start()

    from typer.testing import CliRunner

    from emoreason.cli import app

    args = ["sft", f"model.name={causal}", "model.device=cpu", f"data.train_file={sft_file}", "max_steps=1"]
    result = CliRunner().invoke(app, [*args, f"output_dir={read_only_dir}", "report_to=[jsonl]", "eval_fraction=0"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "cannot write to run.output_dir" in result.output and "read-only" in result.output


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen2_5_omni"])
def test_full_weights_of_a_multimodal_model_read_back_into_it(
    tiny_models: dict[str, Path], tmp_path: Path, family: str
) -> None:
    """Full-weight Qwen2.5-VL and Omni checkpoints never resumed: saved in the older layout of names
    (`model.embed_tokens`, `visual.*`), they were taken for another model's weights."""
    from emoreason.models import load_model
    from emoreason.train.weights import put_weights, read_weights, save_weights

    loaded = load_model(str(tiny_models[family]), "none", dtype="float32", device="cpu")
    with torch.no_grad():
        for parameter in loaded.model.parameters():
            parameter.add_(0.5)
    trained = {name: value.clone() for name, value in loaded.model.state_dict().items()}
    save_weights(loaded.model, tmp_path, loaded.processor)
    fresh = load_model(str(tiny_models[family]), "none", dtype="float32", device="cpu").model
    put_weights(fresh, read_weights(tmp_path, fresh, {}))
    for name, value in fresh.state_dict().items():
        torch.testing.assert_close(value, trained[name], atol=0, rtol=0, msg=name)
    # and the folder is still a model from_pretrained reads, as `--model checkpoint-N/model` uses it
    reloaded = load_model(str(tmp_path / "model"), "none", dtype="float32", device="cpu").model.state_dict()
    assert all(torch.equal(reloaded[name], value) for name, value in trained.items())


# --------------------------------------------------------------------------------------
# a fresh start, a swap cut short, a resume with changes, an early stop
# --------------------------------------------------------------------------------------


def test_a_fresh_start_moves_the_earlier_run_aside_instead_of_pruning_its_own(
    run_copy: Path, tmp_path: Path, causal: Path
) -> None:
    """run.resume=false in a folder holding checkpoint-1 and -2 kept them: the new run's checkpoint-1 was pruned
    as soon as written (they ranked higher), and a later resume took the earlier run's checkpoint-2."""
    config = make_config(
        tmp_path,
        causal,
        run={"max_steps": 1, "save_every": 1, "save_latest": False, "resume": False},
        hints={"enabled": False},
        model={"lora": {"enabled": True, "r": 4, "alpha": 8}},
    )
    GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward).train()
    assert [folder.name for folder in resume_candidates(run_copy)] == ["checkpoint-1"]
    (earlier,) = (run_copy / "earlier-runs").iterdir()
    assert {"checkpoint-1", "checkpoint-2", "metrics.jsonl", "config.yaml"} <= {p.name for p in earlier.iterdir()}
    steps = [json.loads(line)["step"] for line in (run_copy / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1]


def test_a_rolling_checkpoint_cut_short_while_being_replaced_is_put_back(
    run_copy: Path, tmp_path: Path, causal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """checkpoint-latest was deleted before its replacement was renamed in: a kill between the two left no
    checkpoint-latest, and the complete new one (.tmp) was passed over and then deleted by the next save."""
    from emoreason.train.checkpoint import recover_folder, replace_folder

    final, new = tmp_path / "box", tmp_path / "box.tmp"
    for folder, text in ((final, "old"), (new, "new")):
        folder.mkdir()
        (folder / "done").write_text(text)
    real_rename = Path.rename

    def killed_at_the_second(self: Path, target: Any) -> Any:
        if self == new:
            raise KeyboardInterrupt  # SIGTERM, as the command line raises it
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", killed_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        replace_folder(new, final)
    monkeypatch.undo()
    assert not final.exists() and (tmp_path / "box.old" / "done").is_file()
    assert recover_folder(final, "done") and (final / "done").read_text() == "new"  # the newer whole copy
    # in a run: only checkpoint-latest.tmp is left, and the run resumes from it
    for numbered in ("checkpoint-1", "checkpoint-2"):
        shutil.move(run_copy / numbered, run_copy / ("checkpoint-latest.tmp" if numbered.endswith("2") else "gone"))
    assert grpo(tmp_path, causal).start() == 2 and (run_copy / "checkpoint-latest").is_dir()


def test_resuming_with_a_new_lr_trains_at_it(run_copy: Path, tmp_path: Path, causal: Path) -> None:
    """With run.resume_with_changes, the optimizer and scheduler states brought back the checkpoint's lr (and
    weight decay): the warning said 1e-3 -> 5e-4 and the run went on at 1e-3."""
    changed: dict[str, Any] = {
        "run": {"max_steps": 3, "save_every": 1, "save_latest": False, "resume": True, "resume_with_changes": True},
        "hints": {"enabled": False},
        "model": {"lora": {"enabled": True, "r": 4, "alpha": 8}},
        "optim": {"lr": 5e-4, "weight_decay": 0.05},
    }
    config = make_config(tmp_path, causal, **changed)
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    assert trainer.start() == 2
    group = trainer.optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"], trainer.scheduler.get_last_lr()) == (5e-4, 0.05, [5e-4])
    trainer.run.release()
    # resumed from the same checkpoint with changes again (the first try died): the recipe it was trained with stays
    again = make_config(tmp_path, causal, **{**changed, "optim": {"lr": 2e-4}})
    assert GRPOTrainer(again, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward).start() == 2
    assert "lr: 0.001" in (run_copy / "config.until-step-2.yaml").read_text()
    assert "lr: 0.0005" in (run_copy / "config.until-step-2.2.yaml").read_text()


def test_a_longer_run_is_a_change_under_a_schedule_sized_by_its_length(tmp_path: Path, causal: Path) -> None:
    """run.max_steps resumed as a free change, but a cosine schedule is sized by it: every lr to come moved."""
    from types import SimpleNamespace

    def recipe(scheduler: str, max_steps: int) -> Any:
        sections = {"run": {"max_steps": max_steps}, "optim": {"scheduler": scheduler}, "hints": {"enabled": False}}
        return make_config(tmp_path, causal, **sections)

    trainer = GRPOTrainer(recipe("cosine", 4), samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    written = SimpleNamespace(state={"config": recipe("cosine", 2).model_dump(mode="json")}, folder=tmp_path / "c")
    with pytest.raises(CheckpointError, match=r"run.max_steps: 2 -> 4 \(the cosine lr schedule is sized by it\)"):
        trainer.run._check_same_recipe(written)
    trainer.run.config = recipe("constant", 4)
    written.state["config"] = recipe("constant", 2).model_dump(mode="json")
    assert trainer.run._check_same_recipe(written) == []  # a constant lr does not care how long the run is


class StopAtOnce:
    """An after_step hook that ends the run after its first step, as a collapse does."""

    def __init__(self, holds: bool) -> None:
        self.holds = holds

    def __call__(self, stats: dict[str, float]) -> bool:
        return True

    def still_stops(self) -> bool:
        return self.holds


def test_a_run_ended_early_stays_ended_when_rerun_while_the_stop_holds(tmp_path: Path, causal: Path) -> None:
    """The early stop (on a collapse) was not saved: rerunning the command resumed and trained past it."""

    def rerun(after_step: Any) -> tuple[int, int]:
        trainer = grpo(tmp_path, causal)
        steps = len(trainer.run.run_steps(trainer.step, 2, after_step=after_step))
        trainer.run.release()
        return steps, trainer.run.step

    assert rerun(StopAtOnce(holds=True)) == (1, 1)
    assert rerun(StopAtOnce(holds=True)) == (0, 1)  # still asked for: not trained further
    assert rerun(lambda stats: False) == (0, 1)  # a hook that cannot say whether it still holds: it does
    assert rerun(StopAtOnce(holds=False)) == (1, 2)  # released (stop_on_collapse=false): goes on
