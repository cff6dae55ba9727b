"""The trained policy and its reference, for both trainers.

`prepare_policy` turns a loaded model into what is trained: a new LoRA adapter, the adapter
it was loaded with (trained further), or all of its weights. `setup_reference` decides what
the KL term anchors to, and `reference_model` runs it:

- full fine-tuning: a frozen deep copy of the starting weights;
- LoRA on a bare model: the same model with the adapter switched off (no second copy);
- LoRA continuing a loaded adapter (GRPO after SFT): a frozen copy of that adapter beside the
  trainable one, since "adapter off" would be the base model, which never learned the format
  (TRL's ref_adapter_name idea).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from emoreason.models.loading import LoadedModel, bf16_where_native
from emoreason.train.config import ModelConfig
from emoreason.train.weights import is_peft

POLICY_ADAPTER = "default"  # peft's name for the adapter a model is created or loaded with
REFERENCE_ADAPTER = "reference"


def load_trainable(
    settings: ModelConfig, accelerator: Any, media: Mapping[str, str] | None = None, specs: Sequence[str] = ()
) -> LoadedModel:
    """The model a recipe's `model` section names, on the accelerator's device unless the
    section names one, loaded for training. `media` (a kind of medium the data holds -> a file of it):
    what the model's family cannot read is refused from its config, before the weights load, naming
    `specs` (the dataset specs the media come from) as they would give the media as cue text."""
    from emoreason.models.loading import load_model, model_family

    if media:
        model_family(settings.name, settings.family).refuse_unsupported(dict(media), specs)
    device = str(accelerator.device) if settings.device == "auto" else settings.device
    dtype = settings.dtype
    if not settings.lora.enabled:  # full fine-tuning trains the loaded weights themselves
        if dtype == "auto":  # which is bf16 on a GPU: updates below bf16's step at the weight's size round away
            dtype = "float32"
        elif dtype not in ("float32", "fp32"):
            raise ValueError(
                f"model.dtype={dtype} with model.lora.enabled=false trains {dtype} weights, gradients and optimizer "
                "state, and small updates round away: set model.dtype=float32 (or auto); train.precision=bf16 "
                "still multiplies in bf16"
            )
    return load_model(
        settings.name, settings.adapter, family=settings.family, dtype=dtype, device=device, trainable=True
    )


def prepare_policy(loaded: LoadedModel, settings: ModelConfig) -> torch.nn.Module:
    """LoRA (a new adapter, or the one loaded, as trainable) or full fine-tuning, in train mode."""
    model = loaded.model
    if settings.lora.enabled:
        if not is_peft(model):
            from peft import LoraConfig, get_peft_model

            lora = settings.lora
            # peft's notice about a transformers attribute is hidden by load_model (models.notices)
            model = get_peft_model(
                model,
                LoraConfig(
                    r=lora.r,
                    lora_alpha=lora.alpha,
                    lora_dropout=lora.dropout,
                    target_modules=lora.target_modules,
                    task_type="CAUSAL_LM",
                ),
            )
    else:
        if is_peft(model):
            raise ValueError(
                "model.adapter is a LoRA adapter but model.lora.enabled is false; enable LoRA to "
                "continue training it, or merge it first"
            )
        for param in model.parameters():
            param.requires_grad_(True)
    if settings.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if hasattr(model, "enable_input_require_grads"):
            model.enable_input_require_grads()
    model.train()
    return model


def without_dropout(model: torch.nn.Module) -> dict[str, float]:
    """Sets every dropout in `model` to 0 (its dropout layers, LoRA's among them, and the attention
    dropout rate attention layers keep as a float); returns the names and rates it turned off.

    For policy-gradient training: the old and reference log-probs are taken in eval mode and the update
    in train mode, so with dropout on, the first pass's importance ratio is not 1 and the KL is not 0
    on the very weights it was measured at (TRL's GRPO turns dropout off by default for the same reason)."""
    turned_off: dict[str, float] = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.modules.dropout._DropoutNd) and module.p > 0:
            turned_off[name] = float(module.p)
            module.p = 0.0
        rate = getattr(module, "attention_dropout", None)
        if isinstance(rate, float) and rate > 0:
            turned_off[f"{name}.attention_dropout"] = rate
            module.attention_dropout = 0.0
    return turned_off


def setup_reference(policy: torch.nn.Module, loaded: LoadedModel) -> tuple[torch.nn.Module | None, str | None]:
    """(frozen copy, reference adapter name): at most one is set; neither means "the policy
    with its LoRA adapter off". Call only when the KL term is on (beta > 0)."""
    if not is_peft(policy):
        return copy.deepcopy(policy).eval().requires_grad_(False), None
    if loaded.adapters:
        policy.load_adapter(loaded.adapters[0], adapter_name=REFERENCE_ADAPTER, is_trainable=False)
        policy.set_adapter(POLICY_ADAPTER)
        return None, REFERENCE_ADAPTER
    return None, None


class MergedForGeneration:
    """Sampling from a LoRA policy with its deltas folded into the base weights, then the base
    weights restored bit for bit.

    Why: unmerged, every linear layer runs two extra small matmuls per token (x A, then B), which
    on a CPU costs more than the layer itself at decoding shapes. Why restore from a copy rather
    than with peft's `unmerge` (which subtracts B A again): floating-point addition does not undo
    exactly, and the trained weights must not drift step after step. The copies are allocated
    once and reused, so a step costs two copies of the adapted weights and one merge.
    Full fine-tuning and models without LoRA pass through unchanged."""

    def __init__(self, policy: torch.nn.Module):
        from peft.tuners.lora import LoraLayer

        self.layers = [m for m in policy.modules() if isinstance(m, LoraLayer)] if is_peft(policy) else []
        self.saved: list[torch.Tensor] = []

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if not self.layers:
            yield
            return
        weights = [layer.get_base_layer().weight for layer in self.layers]
        with torch.no_grad():
            if not self.saved:
                self.saved = [torch.empty_like(w) for w in weights]
            for backup, weight in zip(self.saved, weights):
                backup.copy_(weight)
            for layer in self.layers:
                layer.merge()  # the active (trained) adapter only; a frozen reference adapter stays apart
        try:
            yield
        finally:
            with torch.no_grad():
                for layer, backup, weight in zip(self.layers, self.saved, weights):
                    weight.copy_(backup)
                    layer.merged_adapters.clear()


def _plain_name(peft_name: str) -> str:
    """A policy parameter's name in the same model without peft's wrappers."""
    return peft_name.removeprefix("base_model.model.").replace(".base_layer.", ".")


def _without_lora(model: torch.nn.Module) -> torch.nn.Module:
    """`model` with each LoRA-wrapped layer replaced by the layer it wraps, and without peft's
    outer wrapper: a plain model, whichever way the adapter was attached (a peft `PeftModel`, or
    transformers' own adapter loading, which injects the same layers)."""
    from peft.tuners.lora import LoraLayer

    if hasattr(model, "get_base_model"):
        model = model.get_base_model()
    for name, module in list(model.named_modules()):
        if isinstance(module, LoraLayer):
            parent_name, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent_name) if parent_name else model, child, module.get_base_layer())
    return model


class RolloutWeights:
    """The weights rollouts are sampled from: the policy itself with its LoRA deltas merged in
    place (`MergedForGeneration`), or, with `dtype` bfloat16, a bf16 copy of the merged model
    without peft's wrappers, refreshed from the fp32 policy before each step's sampling (the
    copy costs half the policy's size in memory; bf16 matmuls decode about twice as fast here,
    and change some answers: RESULTS says how many).

        weights = RolloutWeights(loaded, merge=True, dtype="bfloat16")
        engine = TransformersEngine(weights.loaded)
        with weights():
            engine.generate(...)
    """

    def __init__(self, loaded: LoadedModel, merge: bool = True, dtype: str = "float32"):
        policy = loaded.model
        #: "float32" or "bfloat16", "auto" resolved for this device (`bf16_where_native`)
        self.dtype = bf16_where_native(dtype, loaded.device, bf16="bfloat16", fp32="float32", name="rollout.dtype")
        self.merged = MergedForGeneration(policy) if merge or self.dtype != "float32" else None
        self.copy: torch.nn.Module | None = None
        self.loaded = loaded
        if self.dtype == "float32":
            return
        self.copy = _without_lora(copy.deepcopy(policy)).to(torch.bfloat16).eval().requires_grad_(False)
        self.loaded = dataclasses.replace(loaded, model=self.copy, dtype=torch.bfloat16)
        self.sources = {_plain_name(name): param for name, param in policy.named_parameters() if "lora_" not in name}

    def _refresh_copy(self) -> None:
        with torch.no_grad():
            for name, param in self.copy.named_parameters():  # type: ignore[union-attr]
                param.copy_(self.sources[name])

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self.merged is None:
            yield
        elif self.copy is None:
            with self.merged():
                yield
        else:
            with self.merged():  # the copy takes the merged weights; the policy is restored at once
                self._refresh_copy()
            yield


@contextmanager
def reference_model(
    policy: torch.nn.Module, frozen: torch.nn.Module | None, adapter: str | None
) -> Iterator[torch.nn.Module]:
    """The module that computes reference log-probs, as `setup_reference` set it up."""
    if frozen is not None:
        yield frozen
    elif adapter is not None:
        policy.set_adapter(adapter)
        try:
            yield policy
        finally:
            policy.set_adapter(POLICY_ADAPTER)  # peft makes the active adapter the trainable one
    else:
        with policy.disable_adapter():
            yield policy


__all__ = [
    "POLICY_ADAPTER",
    "REFERENCE_ADAPTER",
    "load_trainable",
    "prepare_policy",
    "reference_model",
    "setup_reference",
]
