"""The machinery both trainers share (emoreason.train) and the GRPO step's pure helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from emoreason.rl.rollouts import Stream, sampling_seed, update_windows
from emoreason.sft.config import load_config as load_sft_config
from emoreason.train.config import OptimSection, build_optimizer
from emoreason.train.update import RunningMeans


def test_update_windows_by_hand() -> None:
    # 10 rollouts, minibatches of 4: [0-3] [4-7] [8-9]; accumulation 2: two optimizer steps
    assert update_windows(10, 4, 2) == [[[0, 1, 2, 3], [4, 5, 6, 7]], [[8, 9]]]
    # default accumulation: every minibatch in one window, one optimizer step per pass
    assert update_windows(10, 4, None) == [[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]]
    assert update_windows(3, 8, None) == [[[0, 1, 2]]]
    assert update_windows(0, 8, None) == []


def test_sampling_seeds_by_hand_and_distinct() -> None:
    assert sampling_seed(0, 0, Stream.ROLLOUTS, 0) == 0
    assert sampling_seed(1, 2, Stream.HINTED, 3) == 1_000_003 + 2 * 1009 + 101 + 3
    assert sampling_seed(10**6, 0, Stream.ROLLOUTS, 0) == (10**6 * 1_000_003) % 2**31
    seeds = {sampling_seed(7, step, stream, rank) for step in range(200) for stream in Stream for rank in range(8)}
    assert len(seeds) == 200 * len(Stream) * 8


def test_running_means() -> None:
    means = RunningMeans()
    for value in (1.0, 2.0, 6.0):
        means.add("loss", value)
    means.add("grad_norm", 0.5)
    assert means.means() == {"loss": 3.0, "grad_norm": 0.5}


def test_one_optimizer_section_with_recipe_defaults() -> None:
    sft = load_sft_config(None, [])
    assert isinstance(sft.train, OptimSection)
    assert (sft.train.lr, sft.train.scheduler) == (2e-4, "cosine")  # SFT's own defaults
    assert (OptimSection().lr, OptimSection().scheduler) == (1e-5, "constant")
    model = torch.nn.Linear(3, 2)
    model.bias.requires_grad_(False)
    optimizer, scheduler = build_optimizer(model, OptimSection(lr=0.1, warmup_steps=2, scheduler="linear"), 10)
    assert [p for group in optimizer.param_groups for p in group["params"]] == [model.weight]  # trainable only
    assert scheduler.get_last_lr() == [0.0]  # warm-up starts at 0


def test_grpo_start_resumes_once(tmp_path: Path, tiny_models: dict[str, Path]) -> None:
    from emoreason.rl.trainer import GRPOTrainer
    from test_rl_trainer import TEXT_SAMPLES, VADER, make_config, vowel_reward

    def trainer() -> GRPOTrainer:
        config = make_config(
            tmp_path,
            tiny_models["causal_lm"],
            run={"max_steps": 3, "save_every": 2, "resume": True},
            hints={"enabled": False},
        )
        return GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)

    first = trainer()
    assert first.start() is None  # nothing to resume from
    first.train(max_steps=2)
    again = trainer()
    assert again.start() == 2 and again.start() == 2 and again.step_index == 2
    assert [r["step"] for r in again.train()] == [3]  # train() did not resume a second time
    with pytest.raises(FileNotFoundError):
        again.run.resume(tmp_path / "no-such-checkpoint")
