"""The SFT recipe (cold start, METHOD.md §1 step 2): typed sections, YAML plus overrides.

    config = load_config("configs/sft_c2f_vader_smollm2.yaml", ["max_steps=20"])

The model, run and optimizer sections are the ones both trainers share (`emoreason.train.config`),
so an SFT adapter and the GRPO run that continues it are described the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from emoreason.config_loader import ConfigError, Section, dump_recipe, load_recipe, parse_recipe
from emoreason.train.config import ModelConfig, OptimSection, RunSection, Scheduler


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
        description="(our choice) share of train_file held out for evaluation when eval_file is not given.",
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


class SFTPolarityConfig(Section):
    """(our choice, off by default) A second loss on the polarity word's distribution where the
    answer starts, against a target read off each sentence's gold score (`emoreason.sft.polarity`),
    on every scored sentence of `dataset`: the shipped readout reads the score mostly off that
    distribution, and chain SFT teaches it only one hard word per kept chain."""

    weight: float = Field(
        0.0,
        ge=0.0,
        description="Weight of the polarity loss beside the chains' token-mean loss (0: off). At 1 the "
        "distribution at the polarity position counts as much as a whole chain.",
    )
    dataset: str | list[str] = Field(
        default_factory=list,
        description="Dataset spec(s) whose scored sentences the polarity loss reads (as in `emoreason data "
        "list`), e.g. [vader:tweets, vader:products]; needed when weight > 0.",
    )
    split: str = Field("train", description="The split of `dataset` to read.")
    format: str = Field("c2f", description="The format whose answer starts with the polarity (c2f).")
    batch_size: int = Field(16, ge=1, description="Sentences per optimizer step on each process.")
    rater_sd: float = Field(
        1.0,
        gt=0.0,
        description="(our choice) Spread of one rater's reading around the gold score, in scale units: the "
        "target's polarity shares are that normal's mass below, inside and above the neutral band.",
    )

    balance: Literal["none", "domain"] = Field(
        "none",
        description="How each step's sentences are drawn from a pool of several datasets. none: by pool share "
        "(a domain with twice the sentences gets twice the draws); domain: the domains take turns, so each "
        "gets an equal share of every step whatever its size (needs two or more domains in `dataset`).",
    )

    @property
    def enabled(self) -> bool:
        return self.weight > 0

    @model_validator(mode="after")
    def _data_when_on(self) -> SFTPolarityConfig:
        if self.enabled and not self.dataset:  # "" or []
            raise ValueError("polarity.weight > 0 needs polarity.dataset (the scored sentences to read)")
        return self


class SFTConfig(Section):
    run: SFTRunConfig = Field(default_factory=SFTRunConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: SFTDataConfig = Field(default_factory=SFTDataConfig)
    train: SFTTrainConfig = Field(default_factory=SFTTrainConfig)
    eval: SFTEvalConfig = Field(default_factory=SFTEvalConfig)
    polarity: SFTPolarityConfig = Field(default_factory=SFTPolarityConfig)

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
