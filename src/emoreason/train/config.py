"""The config sections both trainers share: the model, the run, the optimizer and the polarity objective.

A GRPO recipe and the SFT recipe whose adapter it continues describe the model the same way
(`ModelConfig`), keep their outputs and checkpoints the same way (`RunSection`) and build
their optimizer from the same six fields (`OptimSection`); each recipe subclasses a section
only to add what is its own (GRPO's minibatches, SFT's batch size) or to change a default.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import torch
from pydantic import Field, model_validator

from emoreason.config_loader import Section
from emoreason.data.schema import HELD_OUT_SPLITS

log = logging.getLogger(__name__)


class LoraConfig(Section):
    enabled: bool = True
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(
        0.0, ge=0.0, lt=1.0, description="LoRA dropout (SFT only: GRPO turns every dropout in the policy off)."
    )
    target_modules: str | list[str] = Field("all-linear", description="peft target_modules.")


class ModelConfig(Section):
    name: str = Field("default", description="`default`, a model folder, a .gguf file or a hub id.")
    adapter: str | None = Field(
        None, description="Start from this LoRA adapter (e.g. the SFT one); it is trained further."
    )
    family: str = "auto"
    dtype: str = "auto"
    device: str = "auto"
    lora: LoraConfig = Field(default_factory=LoraConfig)
    gradient_checkpointing: bool = False


class RunSection(Section):
    """Fields of the `run` section common to GRPO and SFT."""

    output_dir: str = Field("runs/train", description="Checkpoints, metrics.jsonl and TensorBoard logs go here.")
    save_every: int = Field(25, ge=0, description="Checkpoint every N steps (0: only at the end).")
    keep_checkpoints: int = Field(2, ge=1, description="Older checkpoints beyond this many are deleted.")
    save_latest: bool = Field(
        True,
        description="Between numbered checkpoints, rewrite checkpoint-latest after "
        "every step, so a killed run loses at most the step in flight.",
    )
    seed: int = 0
    report_to: list[Literal["jsonl", "tensorboard"]] = Field(default_factory=lambda: ["jsonl", "tensorboard"])
    resume: bool = Field(True, description="Continue from the newest checkpoint in output_dir if there is one.")
    resume_with_changes: bool = Field(
        False,
        description="Resume a checkpoint written with other settings (lr, data, batch size...) and go on with the "
        "new ones; without it such a resume stops and names each difference. config.yaml then holds the new "
        "settings and the old file is kept as config.until-step-N.yaml.",
    )


Scheduler = Literal["constant", "linear", "cosine", "constant_with_warmup"]


class OptimSection(Section):
    """AdamW and its learning-rate schedule."""

    lr: float = Field(1e-5, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    betas: tuple[float, float] = (0.9, 0.999)
    scheduler: Scheduler = "constant"
    warmup_steps: int = Field(0, ge=0)
    max_grad_norm: float | None = Field(1.0, gt=0.0)
    precision: Literal["fp32", "bf16", "auto"] = Field(
        "fp32",
        description="Forward and backward of the update: fp32, bf16 autocast (matmuls in bf16; trainable "
        "weights, gradients and optimizer state stay fp32), or auto: bf16 where the device has native bf16 "
        "matmuls (AVX512-BF16/AMX CPUs, bf16 GPUs), else fp32. Generation is not affected.",
    )


class PolarityObjectiveConfig(Section):
    """(our choice, off by default) A loss on the polarity word's distribution where the answer
    starts, against a target read off each sentence's gold score (`emoreason.train.polarity`), on a
    batch of `dataset`'s scored sentences each optimizer step: the shipped readout reads the score
    mostly off that distribution. SFT adds it beside the chains' loss (chain SFT teaches that
    position one hard word per kept chain); GRPO beside the policy loss, as an anchor that keeps the
    distribution calibrated while the rewards shape the answer."""

    weight: float = Field(
        0.0,
        ge=0.0,
        description="Weight of the polarity loss beside the trainer's own loss (0: off). In SFT, at 1 the "
        "distribution at the polarity position counts as much as a whole chain's token-mean loss.",
    )
    dataset: str | list[str] = Field(
        default_factory=list,
        description="Dataset spec(s) whose scored sentences the polarity loss reads (as in `emoreason data "
        "list`), e.g. [vader:tweets, vader:products]; needed when weight > 0.",
    )
    split: Literal["train", "valid", "test", "all"] = Field("train", description="The split of `dataset` to read.")
    allow_test: bool = Field(
        False, description="Let `split` be test (or all, which holds it): the loss then trains on test sentences."
    )
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
    def _data_when_on(self) -> PolarityObjectiveConfig:
        if self.enabled and not self.dataset:  # "" or []
            raise ValueError("polarity.weight > 0 needs polarity.dataset (the scored sentences to read)")
        if self.split in HELD_OUT_SPLITS and not self.allow_test:
            raise ValueError(
                f"polarity.split={self.split} trains on the test sentences; read train, or set "
                "polarity.allow_test=true for a dataset that has no other split (its test figures are then no report)"
            )
        return self


def build_optimizer(
    model: torch.nn.Module, optim: OptimSection, total_updates: int, key: str = "optim"
) -> tuple[torch.optim.Optimizer, Any]:
    """AdamW over the trainable parameters and its scheduler, sized for `total_updates`
    optimizer steps. The scheduler is stepped by the trainer, not by accelerate, whose wrapper
    would step it once per process. `key`: the recipe's name for the `optim` section (SFT's is `train`)."""
    from transformers import get_scheduler

    if optim.scheduler != "constant" and 0 < total_updates <= optim.warmup_steps:
        # the warm-up starts from 0: a short try (max_steps=1) would train at lr 0 and look broken
        log.warning(
            "%s.warmup_steps %d covers all %d optimizer steps of this run: the learning rate rises from 0 "
            "and never reaches %s.lr %g (the first step trains nothing); for a short try add %s.warmup_steps=0",
            key,
            optim.warmup_steps,
            total_updates,
            key,
            optim.lr,
            key,
        )
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=optim.lr, betas=optim.betas, weight_decay=optim.weight_decay)
    scheduler = get_scheduler(
        optim.scheduler, optimizer, num_warmup_steps=optim.warmup_steps, num_training_steps=total_updates
    )
    return optimizer, scheduler


__all__ = ["LoraConfig", "ModelConfig", "OptimSection", "PolarityObjectiveConfig", "RunSection", "build_optimizer"]
