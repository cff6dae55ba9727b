"""The GRPO recipe: one typed config, read from YAML plus `key=value` overrides.

    config = load_config("configs/c2f_vader_smollm2.yaml", ["run.max_steps=3", "hints.mode=prompt"])

Every section is a pydantic model that forbids unknown keys, so a typo or a wrong type fails
before any model is loaded, with the dotted key path in the message
(`algorithm.loss_typ: unknown key; valid keys: ...`). Defaults follow METHOD.md; where a
default is our choice the field's description says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from emoreason.recipes import ConfigError, Section, dump_recipe, load_recipe, parse_recipe
from emoreason.recipes import expand_override as _expand
from emoreason.rl.run import RunSection

__all__ = ["ConfigError", "GRPOConfig", "Section", "dump_config", "expand_override", "load_config", "parse_config"]


class RunConfig(RunSection):
    output_dir: str = Field("runs/grpo", description="Checkpoints, metrics.jsonl and TensorBoard logs go here.")
    max_steps: int = Field(100, ge=1, description="Policy-update steps (one step = one batch of prompts).")


class LoraConfig(Section):
    enabled: bool = True
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: str | list[str] = Field("all-linear", description="peft target_modules.")


class ModelConfig(Section):
    name: str = Field("default", description="`default`, a model folder, a .gguf file or a hub id.")
    adapter: str | None = Field(None, description="Start from this LoRA adapter (e.g. the SFT one); it is trained further.")
    family: str = "auto"
    dtype: str = "auto"
    device: str = "auto"
    lora: LoraConfig = Field(default_factory=LoraConfig)
    gradient_checkpointing: bool = False


class DataConfig(Section):
    dataset: str | list[str] = Field("vader:movies", description="A dataset spec, as in `emoreason data list`, "
                                     "or a list of specs of one task, pooled (e.g. [vader:tweets, vader:products]).")
    split: str = "train"
    limit: int | None = Field(None, ge=1, description="The first N samples of each dataset's split.")
    format: Literal["c2f", "emor3", "r1"] = "c2f"
    shuffle: bool = True
    cues: bool = Field(False, description="Put the sample's cue text (if any) into the prompt.")


class RolloutConfig(Section):
    prompts_per_step: int = Field(2, ge=1, description="Prompts per step on each process.")
    group_size: int = Field(4, ge=2, description="G: completions per prompt.")
    max_new_tokens: int = Field(256, ge=1)
    temperature: float = Field(1.0, gt=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    top_k: int = Field(0, ge=0)
    batch_size: int | Literal["auto"] = "auto"
    use_audio_in_video: bool = False


class RewardConfig(Section):
    preset: Literal["c2f", "emor3", "r1"] = Field("c2f", description="Component weights of METHOD.md for the method.")
    weights: dict[str, float] | None = Field(None, description="Override the preset's component weights.")
    score_kind: Literal["linear", "squared", "gaussian", "threshold"] = "linear"
    score_params: dict[str, float] = Field(default_factory=dict)


class HintsSection(Section):
    enabled: bool = Field(True, description="Hint-GRPO; false is the paper's no-hint ablation.")
    mode: Literal["prefix", "prompt"] = Field("prefix", description="(our choice) prefix: the assistant turn starts "
                                              "with the gold polarity tag; prompt: a hint sentence in the user turn.")
    fraction: float = Field(1.0, gt=0.0, le=1.0, description="(our choice) share of the re-sampled group that is hinted.")
    drop_hard: bool = Field(False, description="Ablation: hard groups leave the batch instead.")


class ReflectionSection(Section):
    enabled: bool = Field(False, description="EMO-R3 reflective reward (needs coherence/consistency weights).")
    coherence: bool = True
    consistency: bool = True
    temperature: float = Field(0.6, gt=0.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_new_tokens: int = Field(16, ge=1)


class AlgorithmConfig(Section):
    advantage_scale: Literal["group", "batch", "none"] = "group"
    advantage_eps: float = Field(1e-4, ge=0.0)
    loss_type: Literal["grpo", "dapo", "dr_grpo"] = "grpo"
    beta: float = Field(0.0, ge=0.0, description="KL (k3) coefficient to the reference policy: the starting weights (with LoRA: the adapter loaded from model.adapter, else the base model); EMO-R3 uses 0.01.")
    eps_low: float = Field(0.2, gt=0.0, lt=1.0)
    eps_high: float = Field(0.2, gt=0.0)
    num_iterations: int = Field(1, ge=1, description="Updates on each batch of rollouts (mu).")


class OptimConfig(Section):
    lr: float = Field(1e-5, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    betas: tuple[float, float] = (0.9, 0.999)
    scheduler: Literal["constant", "linear", "cosine", "constant_with_warmup"] = "constant"
    warmup_steps: int = Field(0, ge=0)
    minibatch_size: int = Field(8, ge=1, description="Rollouts per forward/backward pass.")
    gradient_accumulation: int | None = Field(None, ge=1, description="Minibatches per optimizer step "
                                              "(default: all of a step's rollouts, one optimizer step per iteration).")
    max_grad_norm: float | None = Field(1.0, gt=0.0)


class GRPOConfig(Section):
    run: RunConfig = Field(default_factory=RunConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    rollout: RolloutConfig = Field(default_factory=RolloutConfig)
    reward: RewardConfig = Field(default_factory=RewardConfig)
    hints: HintsSection = Field(default_factory=HintsSection)
    reflection: ReflectionSection = Field(default_factory=ReflectionSection)
    algorithm: AlgorithmConfig = Field(default_factory=AlgorithmConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)

    @model_validator(mode="after")
    def _consistent(self) -> GRPOConfig:
        if self.reflection.enabled:
            weights = self.reward.weights or {}
            preset_has = self.reward.preset == "emor3"
            if not preset_has and not {"coherence", "consistency"} & set(weights):
                raise ValueError("reflection.enabled needs a reward with coherence/consistency weights "
                                 "(reward.preset=emor3 or reward.weights)")
        return self


def parse_config(data: dict[str, Any]) -> GRPOConfig:
    return parse_recipe(GRPOConfig, data)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> GRPOConfig:
    """YAML recipe (optional) merged with dotted `key=value` overrides, validated."""
    return load_recipe(GRPOConfig, path, overrides)


def expand_override(item: str) -> str:
    return _expand(GRPOConfig, item)


def dump_config(config: BaseModel) -> str:
    return dump_recipe(config)
