"""Model loading and per-family adapters."""

from emoreason.models.families import Conversation, MediaError, ModelFamily, detect_family, get_family
from emoreason.models.loading import LoadedModel, load_model, pick_device, pick_dtype, resolve_model_path
from emoreason.models.soup import average_adapters

__all__ = [
    "Conversation",
    "LoadedModel",
    "average_adapters",
    "MediaError",
    "ModelFamily",
    "detect_family",
    "get_family",
    "load_model",
    "pick_device",
    "pick_dtype",
    "resolve_model_path",
]
