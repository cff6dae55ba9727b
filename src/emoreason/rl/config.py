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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RunConfig(Section):
    output_dir: str = Field("runs/grpo", description="Checkpoints, metrics.jsonl and TensorBoard logs go here.")
    max_steps: int = Field(100, ge=1, description="Policy-update steps (one step = one batch of prompts).")
    save_every: int = Field(25, ge=0, description="Checkpoint every N steps (0: only at the end).")
    keep_checkpoints: int = Field(2, ge=1, description="Older checkpoints beyond this many are deleted.")
    save_latest: bool = Field(True, description="Between numbered checkpoints, rewrite checkpoint-latest after "
                              "every step, so a killed run loses at most the step in flight.")
    seed: int = 0
    report_to: list[Literal["jsonl", "tensorboard"]] = Field(default_factory=lambda: ["jsonl", "tensorboard"])
    resume: bool = Field(True, description="Continue from the newest checkpoint in output_dir if there is one.")


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
    dataset: str = Field("vader:movies", description="A dataset spec, as in `emoreason data list`.")
    split: str = "train"
    limit: int | None = Field(None, ge=1)
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
    beta: float = Field(0.0, ge=0.0, description="KL (k3) coefficient to the reference policy; EMO-R3 uses 0.01.")
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


class ConfigError(ValueError):
    """A recipe that does not validate; the message names each bad key path."""


def _describe(err: ValidationError) -> str:
    lines = []
    for problem in err.errors():
        path = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        if problem["type"] == "extra_forbidden":
            section = _section_at(problem["loc"][:-1])
            valid = ", ".join(section.model_fields) if section else ""
            lines.append(f"{path}: unknown key" + (f"; valid keys here: {valid}" if valid else ""))
        else:
            lines.append(f"{path}: {problem['msg']} (got {problem.get('input')!r})")
    return "\n".join(lines)


def _section_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = GRPOConfig
    for key in path:
        field = model.model_fields.get(str(key))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def parse_config(data: dict[str, Any]) -> GRPOConfig:
    try:
        return GRPOConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_describe(err)) from None


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> GRPOConfig:
    """YAML recipe (optional) merged with dotted `key=value` overrides, validated."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    base = OmegaConf.create({})
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            base = OmegaConf.load(path)
        except (OmegaConfBaseException, ValueError) as err:  # yaml errors carry line and column
            raise ConfigError(f"{path}: not valid YAML: {err}") from None
    dotlist = [expand_override(item) for item in overrides or []]
    try:
        merged = OmegaConf.merge(base, OmegaConf.from_dotlist(dotlist))
        data = OmegaConf.to_container(merged, resolve=True)
    except OmegaConfBaseException as err:
        raise ConfigError(f"cannot apply overrides {overrides}: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    try:
        return parse_config(data)
    except ConfigError as err:
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}invalid config\n{err}") from None


def expand_override(item: str) -> str:
    """`key=value` with a full dotted path, or with a bare field name that exactly one section
    has (`max_steps=3` -> `run.max_steps=3`; `lr=1e-4` -> `optim.lr=1e-4`)."""
    if "=" not in item:
        raise ConfigError(f"override {item!r} must look like key=value (e.g. run.max_steps=3)")
    key, value = item.split("=", 1)
    key = key.strip()
    if "." in key or key in GRPOConfig.model_fields:
        return f"{key}={value}"
    owners = [name for name, f in GRPOConfig.model_fields.items()
              if isinstance(f.annotation, type) and key in f.annotation.model_fields]
    if len(owners) == 1:
        return f"{owners[0]}.{key}={value}"
    if owners:
        raise ConfigError(f"override {key!r} is ambiguous: write one of {', '.join(o + '.' + key for o in owners)}")
    raise ConfigError(f"override {key!r}: unknown key; sections are {', '.join(GRPOConfig.model_fields)} "
                      "(write section.key=value)")


def dump_config(config: GRPOConfig) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(config.model_dump(mode="json")))
