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
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from emoreason.models.loading import LoadedModel
from emoreason.train.checkpoint import is_peft
from emoreason.train.config import ModelConfig

POLICY_ADAPTER = "default"  # peft's name for the adapter a model is created or loaded with
REFERENCE_ADAPTER = "reference"


def load_trainable(settings: ModelConfig, accelerator: Any) -> LoadedModel:
    """The model a recipe's `model` section names, on the accelerator's device unless the
    section names one, loaded for training."""
    from emoreason.models.loading import load_model

    device = str(accelerator.device) if settings.device == "auto" else settings.device
    return load_model(
        settings.name, settings.adapter, family=settings.family, dtype=settings.dtype, device=device, trainable=True
    )


def prepare_policy(loaded: LoadedModel, settings: ModelConfig) -> torch.nn.Module:
    """LoRA (a new adapter, or the one loaded, as trainable) or full fine-tuning, in train mode."""
    model = loaded.model
    if settings.lora.enabled:
        if not is_peft(model):
            from peft import LoraConfig, get_peft_model

            lora = settings.lora
            with warnings.catch_warnings():  # peft reads a transformers attribute deprecated in v5
                warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
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
