"""Model families: one small module each behind the `ModelFamily` interface."""

from __future__ import annotations

from typing import Any

from emoreason.models.families.base import Conversation, MediaError, ModelFamily
from emoreason.models.families.causal_lm import CausalLMFamily


def _families() -> dict[str, type[ModelFamily]]:
    families: dict[str, type[ModelFamily]] = {}
    try:
        from emoreason.models.families.qwen2_5_vl import Qwen25VLFamily

        families[Qwen25VLFamily.name] = Qwen25VLFamily
    except ImportError:  # pragma: no cover - transformers without Qwen2.5-VL
        pass
    try:
        from emoreason.models.families.qwen2_5_omni import Qwen25OmniFamily

        families[Qwen25OmniFamily.name] = Qwen25OmniFamily
    except ImportError:  # pragma: no cover
        pass
    families[CausalLMFamily.name] = CausalLMFamily  # last: the catch-all for chat LLMs
    return families


def get_family(name: str) -> ModelFamily:
    families = _families()
    if name not in families:
        raise ValueError(f"unknown model family {name!r}; known: {', '.join(families)}")
    return families[name]()


def detect_family(config: Any) -> ModelFamily:
    for family in _families().values():
        if family.matches(config):
            return family()
    raise ValueError(
        f"model type {getattr(config, 'model_type', '?')!r} belongs to no supported family "
        f"({', '.join(_families())}); pass --family to force one"
    )


__all__ = ["Conversation", "MediaError", "ModelFamily", "detect_family", "get_family"]
