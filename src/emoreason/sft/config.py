"""The SFT recipe (cold start, METHOD.md §1 step 2): typed sections, YAML plus overrides.

    config = load_config("configs/sft_c2f_vader_smollm2.yaml", ["max_steps=20"])

The model, run and optimizer sections are the ones both trainers share (`emoreason.train.config`),
so an SFT adapter and the GRPO run that continues it are described the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from emoreason.config_loader import ConfigError, Section, dump_recipe, load_recipe, parse_recipe
from emoreason.train.config import ModelConfig, OptimSection, PolarityObjectiveConfig, RunSection, Scheduler


class SFTRunConfig(RunSection):
    output_dir: str = Field("runs/sft", description="Checkpoints, final/, metrics.jsonl and TensorBoard logs go here.")
    max_steps: int | None = Field(None, ge=1, description="Optimizer steps; default: epochs over the training file.")
    epochs: float = Field(1.0, gt=0.0, description="Used when max_steps is not set.")
    save_every: int = Field(50, ge=0, description="Checkpoint every N steps (0: only at the end).")


class SFTDataConfig(Section):
    train_file: str | None = Field(
        "runs/distill/sft.jsonl",
        description="SFT JSONL written by `emoreason distill` (chat messages + id + media + gold + task); null "
        "trains the polarity objective alone (polarity.weight > 0 and run.max_steps needed).",
    )
    eval_file: str | None = Field(None, description="Held-out SFT JSONL; default: eval_fraction of train_file.")
    eval_fraction: float = Field(
        0.05,
        ge=0.0,
        lt=1.0,
        description="(our choice) share of train_file held out for evaluation when eval_file is not given "
        "(whole speakers where its lines name a `speaker`).",
    )
    limit: int | None = Field(None, ge=1, description="Use only the first N training examples.")
    max_target_tokens: int = Field(
        512,
        ge=8,
        description="Longer assistant turns are dropped (counted) instead "
        "of truncated, which would teach unfinished answers.",
    )
    shuffle: bool = True
    train_polarity_word: bool = Field(
        True,
        description="false: the token where each chain writes its polarity word is left out of the chains' loss "
        "(`formats.readout.polarity_word_index`), so chains teach the cues and the score that follow a polarity "
        "and the polarity objective alone shapes that token's distribution, which the fitted score reads. Needs "
        "chains in a format that writes its polarity first (c2f).",
    )


class SFTTrainConfig(OptimSection):
    """The optimizer (shared fields, SFT defaults) and the batches it steps on."""

    batch_size: int = Field(8, ge=1, description="Examples per forward/backward pass on each process.")
    gradient_accumulation: int = Field(1, ge=1)
    lr: float = Field(2e-4, gt=0.0, description="(our choice) a LoRA learning rate; use ~1e-5 for full fine-tuning.")
    scheduler: Scheduler = "cosine"


class SFTEvalConfig(Section):
    every: int = Field(25, ge=0, description="Evaluate every N steps and at the end (0: only at the end).")
    loss_examples: int = Field(64, ge=0, description="Held-out examples for the eval loss.")
    generate_examples: int = Field(
        16, ge=0, description="Held-out examples answered greedily for parse rate and polarity accuracy."
    )
    max_new_tokens: int = Field(192, ge=1)
    batch_size: int = Field(8, ge=1)


class SFTConfig(Section):
    run: SFTRunConfig = Field(default_factory=SFTRunConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: SFTDataConfig = Field(default_factory=SFTDataConfig)
    train: SFTTrainConfig = Field(default_factory=SFTTrainConfig)
    eval: SFTEvalConfig = Field(default_factory=SFTEvalConfig)
    polarity: PolarityObjectiveConfig = Field(default_factory=PolarityObjectiveConfig)

    @model_validator(mode="after")
    def _something_to_train(self) -> SFTConfig:
        if self.data.train_file is None and not (self.polarity.enabled and self.run.max_steps):
            raise ValueError(
                "data.train_file: null leaves no chains to train on; it needs the polarity objective "
                "(polarity.weight > 0, polarity.dataset) and run.max_steps"
            )
        return self


def parse_config(data: dict[str, Any]) -> SFTConfig:
    return parse_recipe(SFTConfig, data)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> SFTConfig:
    return load_recipe(SFTConfig, path, overrides)


def dump_config(config: BaseModel) -> str:
    return dump_recipe(config)


__all__ = ["ConfigError", "SFTConfig", "dump_config", "load_config", "parse_config"]
