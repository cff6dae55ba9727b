"""Model loading and per-family adapters.

The names below are imported on first use (PEP 562), so that modules which only need the light
`Conversation` record (the data formats, and through them `emoreason --help`) do not load torch
and transformers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emoreason.models.families import Conversation, MediaError, ModelFamily, detect_family, get_family
    from emoreason.models.loading import LoadedModel, load_model, pick_device, pick_dtype, resolve_model_path
    from emoreason.models.soup import average_adapters

_HOME = {
    "Conversation": "emoreason.models.families",
    "MediaError": "emoreason.models.families",
    "ModelFamily": "emoreason.models.families",
    "detect_family": "emoreason.models.families",
    "get_family": "emoreason.models.families",
    "LoadedModel": "emoreason.models.loading",
    "load_model": "emoreason.models.loading",
    "pick_device": "emoreason.models.loading",
    "pick_dtype": "emoreason.models.loading",
    "resolve_model_path": "emoreason.models.loading",
    "average_adapters": "emoreason.models.soup",
}

__all__ = [
    "Conversation",
    "LoadedModel",
    "MediaError",
    "ModelFamily",
    "average_adapters",
    "detect_family",
    "get_family",
    "load_model",
    "pick_device",
    "pick_dtype",
    "resolve_model_path",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'emoreason.models' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value
