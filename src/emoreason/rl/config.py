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

from emoreason.config_loader import ConfigError, Section, dump_recipe, load_recipe, parse_recipe
from emoreason.config_loader import expand_override as _expand
from emoreason.data.schema import HELD_OUT_SPLITS
from emoreason.rl.hints import HintConfig
from emoreason.rl.reflection import ReflectionConfig
from emoreason.train.config import ModelConfig, OptimSection, PolarityObjectiveConfig, RunSection
from emoreason.train.validation import ValidationConfig

__all__ = ["ConfigError", "GRPOConfig", "Section", "dump_config", "expand_override", "load_config", "parse_config"]


class RunConfig(RunSection):
    output_dir: str = Field("runs/grpo", description="Checkpoints, metrics.jsonl and TensorBoard logs go here.")
    max_steps: int = Field(100, ge=1, description="Policy-update steps (one step = one batch of prompts).")


class DataConfig(Section):
    dataset: str | list[str] = Field(
        "vader:movies",
        description="A dataset spec, as in `emoreason data list`, "
        "or a list of specs of one task, pooled (e.g. [vader:tweets, vader:products]).",
    )
    split: Literal["train", "valid", "test", "all"] = "train"
    allow_test: bool = Field(
        False,
        description="Let `split` be test (or all, which holds it): GRPO then trains on the sentences test reports.",
    )
    limit: int | None = Field(None, ge=1, description="The first N samples of each dataset's split.")
    format: Literal["c2f", "emor3", "r1"] = "c2f"
    shuffle: bool = True
    cues: bool = Field(False, description="Put the sample's cue text (if any) into the prompt.")
    balance: Literal["none", "polarity", "label", "domain_polarity"] = Field(
        "none",
        description="polarity: draw prompts from the gold polarities in turn (each step as balanced as its size "
        "allows), so the pool's majority polarity does not become the policy's prior; label: the gold labels "
        "in turn (label tasks); domain_polarity: each pooled domain's gold polarities in turn (strata like "
        "tweets/negative), so each domain can keep a polarity mix of its own.",
    )
    balance_weights: dict[str, int] = Field(
        default_factory=dict,
        description="Turns per cycle of each balanced polarity or label (default 1 each), e.g. "
        "{negative: 2, positive: 2, neutral: 1} keeps neutral prompts at a fifth instead of a third. Under "
        "domain_polarity a key names a polarity (every domain's) or one stratum, e.g. tweets/positive: 4.",
    )

    @model_validator(mode="after")
    def _weights_need_balance(self) -> DataConfig:
        if self.balance_weights and self.balance == "none":
            raise ValueError("data.balance_weights needs data.balance: polarity, label or domain_polarity")
        bad = {name: w for name, w in self.balance_weights.items() if not isinstance(w, int) or w < 1}
        if bad:
            raise ValueError(f"data.balance_weights must be positive integers, got {bad}")
        if self.split in HELD_OUT_SPLITS and not self.allow_test:
            raise ValueError(
                f"data.split={self.split} trains on the test sentences; train on train, or set data.allow_test=true "
                "for a dataset that has no other split (its test figures are then no report)"
            )
        return self


class RolloutConfig(Section):
    prompts_per_step: int = Field(2, ge=1, description="Prompts per step on each process.")
    group_size: int = Field(4, ge=2, description="G: completions per prompt.")
    max_new_tokens: int = Field(256, ge=1)
    temperature: float = Field(1.0, gt=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    top_k: int = Field(0, ge=0)
    batch_size: int | Literal["auto"] = "auto"
    use_audio_in_video: bool = False
    dtype: Literal["float32", "bfloat16", "auto"] = Field(
        "float32",
        description="Sample from the fp32 policy, or from a bf16 copy refreshed before each step (faster on CPUs "
        "with bf16 matmuls; some rollouts differ: see RESULTS), or auto: bfloat16 where the device has native "
        "bf16 matmuls, else float32.",
    )
    merge_lora: bool = Field(
        True,
        description="Sample with the LoRA deltas merged into the base weights (faster "
        "decoding; the base weights are restored bit for bit after each step).",
    )
    log: bool = Field(
        True,
        description="Write every rollout to rollouts.jsonl in run.output_dir, one line each: step, sample id, "
        "hinted, gold, the parsed answer, the reward and its components, the advantage the update used, and the "
        "text (about 16 KB a step at 24 rollouts). A resume drops the steps after its checkpoint, as in "
        "metrics.jsonl. `emoreason rollouts RUN_DIR` sums the advantages by gold and answer.",
    )


class RewardConfig(Section):
    """The composite reward of the data format (METHOD.md's weights for c2f and emor3), with
    its weights replaced (`weights`) or extra components added (`add`)."""

    weights: dict[str, float] | None = Field(None, description="Replace the format's component weights.")
    add: dict[str, float] = Field(
        default_factory=dict,
        description="Components added to the format's weights "
        "(e.g. {polarity: 0.5} with emor3); a name already weighted gets this weight.",
    )
    score_kind: Literal["linear", "squared", "gaussian", "threshold"] = "linear"
    score_params: dict[str, float] = Field(default_factory=dict)


class AlgorithmConfig(Section):
    advantage_scale: Literal["group", "batch", "none"] = "group"
    advantage_eps: float = Field(1e-4, ge=0.0)
    advantage_balance: Literal["none", "gold"] = Field(
        "none",
        description="gold: rescale each step's advantages so the groups of every gold answer (polarity, or "
        "label for label tasks) carry the same total |advantage| (`rl.core.balance_advantages`), whatever the "
        "stream's mix and however often each answer is missed (on the VADER recipe it did not help: RESULTS). "
        "The shares before rescaling are logged as advantages/share/<answer> either way.",
    )
    advantage_center: Literal["none", "answer", "answer_and_group"] = Field(
        "none",
        description="Remove the push a step gives each answer (polarity, or label) on every prompt at once, "
        "after advantage_balance; answers that did not parse are left out. answer: subtract the step's mean "
        "advantage of the rollouts that gave the same answer (`rl.core.center_advantages`); it zeroes each "
        "answer's sum but breaks the groups' sums, and on the VADER recipe the shared shift stayed (RESULTS, "
        '"Advantages centred per answer"). answer_and_group: subtract the least-squares fit by an answer term '
        "plus a group term (`rl.core.center_advantages_in_groups`), so answers and groups all sum to 0 and the "
        "shared first-order push is 0 (on the VADER recipe the answers' mix and r stayed the SFT start's: RESULTS, "
        '"Centred by answer and by group"). With several processes each centres its own rollouts, so the '
        "step's sums are 0 as well. The sums before centring are logged as advantages/pull/<answer> either way.",
    )
    advantage_balance_max_weight: float = Field(
        3.0,
        ge=1.0,
        description="With advantage_balance: gold, the largest factor (and 1/this the smallest) a class's "
        "advantages are scaled by, so a class whose only spread is score noise is not blown up.",
    )
    train_polarity_word: bool = Field(
        True,
        description="false: the token where the answer chooses its polarity word gets no policy-gradient term "
        "(`formats.readout.polarity_word_index`; hinted or sampled); its KL term, with beta > 0, still anchors it "
        "to the reference. The fitted score is read mostly off that token's probabilities, which a polarity "
        "reward pushes towards certainty; with this off the rewards shape the chain and the written score only "
        "(the shared weights still move, so the probabilities drift). Needs a format that writes its polarity "
        "first (c2f).",
    )
    loss_type: Literal["grpo", "dapo", "dr_grpo"] = "grpo"
    beta: float = Field(
        0.0,
        ge=0.0,
        description="KL (k3) coefficient to the reference policy: the starting weights (with LoRA: the adapter "
        "loaded from model.adapter, else the base model); EMO-R3 uses 0.01.",
    )
    eps_low: float = Field(0.2, gt=0.0, lt=1.0)
    eps_high: float = Field(0.2, gt=0.0)
    num_iterations: int = Field(1, ge=1, description="Updates on each batch of rollouts (mu).")
    skip_zero_advantage: bool = Field(
        True,
        description="Without a KL term (beta 0) and on one process, skip the forward and backward pass of "
        "rollouts whose advantage is exactly 0 (every group whose rewards are all equal): they add exactly 0 "
        "to the loss and its gradient, and the loss is still normalised over all rollouts. Entropy and clip "
        "ratios are then logged over the rollouts that ran.",
    )


class OptimConfig(OptimSection):
    minibatch_size: int = Field(8, ge=1, description="Rollouts per forward/backward pass.")
    gradient_accumulation: int | None = Field(
        None,
        ge=1,
        description="Minibatches per optimizer step "
        "(default: all of a step's rollouts, one optimizer step per iteration).",
    )


class GRPOConfig(Section):
    run: RunConfig = Field(default_factory=RunConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    rollout: RolloutConfig = Field(default_factory=RolloutConfig)
    reward: RewardConfig = Field(default_factory=RewardConfig)
    hints: HintConfig = Field(default_factory=HintConfig)
    reflection: ReflectionConfig = Field(default_factory=ReflectionConfig)
    algorithm: AlgorithmConfig = Field(default_factory=AlgorithmConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    polarity: PolarityObjectiveConfig = Field(
        default_factory=PolarityObjectiveConfig,
        description="(our choice, off by default) The SFT polarity objective added to every optimizer step "
        "(`emoreason.train.polarity`): the fitted score is read mostly off the polarity word's "
        "probabilities, which GRPO's rewards push towards certainty; this term keeps them on the gold "
        "score's calibrated targets while the rewards shape the answer.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> GRPOConfig:
        if self.reflection.enabled:
            from emoreason.rewards import reward_weights

            weights = reward_weights(self.data.format, None, self.reward.weights, self.reward.add)
            if not {"coherence", "consistency"} & set(weights):
                raise ValueError(
                    "reflection.enabled needs a reward with coherence/consistency weights "
                    "(data.format=emor3, reward.weights or reward.add)"
                )
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
