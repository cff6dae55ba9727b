"""Model loading and per-family adapters."""

from emoreason.models.families import Conversation, MediaError, ModelFamily, detect_family, get_family
from emoreason.models.loading import LoadedModel, load_model, pick_device, pick_dtype, resolve_model_path

__all__ = [
    "Conversation",
    "LoadedModel",
    "MediaError",
    "ModelFamily",
    "detect_family",
    "get_family",
    "load_model",
    "pick_device",
    "pick_dtype",
    "resolve_model_path",
]
