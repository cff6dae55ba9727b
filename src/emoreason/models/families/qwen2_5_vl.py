"""`qwen2_5_vl`: Qwen2.5-VL (images and video frames, text out).

What it shares with the Qwen2.5-Omni family (the processor, content parts, merging rows into
one batch) is in `qwen_processing.py`; `Conversation.options` are listed there (`OPTIONS`).

`encode` returns input_ids, attention_mask, mm_token_type_ids and, as the prompts need them,
pixel_values + image_grid_thw, pixel_values_videos + video_grid_thw + second_per_grid_ts.
`mm_token_type_ids` has one entry per token; callers that append completion tokens may pass it
unchanged (a hook installed by `load` pads it, see `_complete_mm_token_type_ids`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from emoreason.models.families.base import Conversation, ModelFamily
from emoreason.models.families.qwen_processing import (
    finish_loading,
    image_input,
    load_qwen_processor,
    merge_encodings,
    render_prompt,
    size_override,
    to_tensor_dict,
    video_frames,
)

# --------------------------------------------------------------------------------------
# mm_token_type_ids for appended completions
# --------------------------------------------------------------------------------------


def _complete_mm_token_type_ids(module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]) -> tuple | None:
    """Forward pre-hook on `Qwen2_5_VLModel`: Qwen2.5-VL builds its 3D (mrope) positions from
    `mm_token_type_ids` (0 text, 1 image, 2 video), one entry per token. Callers that append
    completion tokens to `encode()`'s `input_ids` (log-probabilities, training) pass the
    prompt's `mm_token_type_ids` unchanged; the appended tokens are text, so the ids are
    right-padded with 0. When they are missing altogether they are derived from the image and
    video placeholder tokens, exactly as the processor does. Without this the forward fails
    (shape mismatch) or silently falls back to 1D positions."""
    input_ids = kwargs.get("input_ids")
    if input_ids is None or input_ids.ndim != 2:
        return None
    # transformers passes the cache as `cache` from 5.24 on, as `past_key_values` before (generation.kv_cache)
    cache = kwargs.get("cache", kwargs.get("past_key_values"))
    if cache is not None and getattr(cache, "get_seq_length", lambda: 1)() > 0:
        return None  # decoding steps: generate() keeps the ids itself
    type_ids = kwargs.get("mm_token_type_ids")
    if type_ids is None:
        if kwargs.get("image_grid_thw") is None and kwargs.get("video_grid_thw") is None:
            return None
        config = module.config
        type_ids = torch.zeros_like(input_ids, dtype=torch.int)
        type_ids[input_ids == config.image_token_id] = 1
        type_ids[input_ids == config.video_token_id] = 2
    elif type_ids.shape[1] < input_ids.shape[1]:
        extra = input_ids.shape[1] - type_ids.shape[1]
        type_ids = torch.cat([type_ids, type_ids.new_zeros((type_ids.shape[0], extra))], dim=1)
    else:
        return None
    kwargs["mm_token_type_ids"] = type_ids
    return args, kwargs


def install_mm_token_type_hook(model: torch.nn.Module) -> None:
    inner = getattr(model, "model", None)
    if inner is None or getattr(inner, "_emoreason_mm_hook", False):
        return
    inner.register_forward_pre_hook(_complete_mm_token_type_ids, with_kwargs=True)
    inner._emoreason_mm_hook = True


# --------------------------------------------------------------------------------------
# The family
# --------------------------------------------------------------------------------------


class Qwen25VLFamily(ModelFamily):
    """Qwen2.5-VL: an image and/or a video per prompt, text out."""

    name = "qwen2_5_vl"
    modalities = frozenset({"image", "video"})

    @classmethod
    def matches(cls, config: Any) -> bool:
        return getattr(config, "model_type", None) == "qwen2_5_vl"

    def load(self, path: str | Path, dtype: torch.dtype, device: torch.device | str) -> tuple[torch.nn.Module, Any]:
        from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

        processor = load_qwen_processor(path, Qwen2_5_VLProcessor)
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(path, dtype=dtype)
        install_mm_token_type_hook(model)
        return finish_loading(model, processor, device), processor

    def tokenizer(self, processor: Any) -> Any:
        return processor.tokenizer

    def encode(self, processor: Any, conversations: list[Conversation]) -> dict[str, torch.Tensor]:

        for conversation in conversations:
            self.check_media(conversation)
        encodings = []
        for conversation in conversations:
            parts: list[dict[str, Any]] = []
            kwargs: dict[str, Any] = {}
            if conversation.image:
                kwargs["images"] = [image_input(conversation)]
                kwargs["images_kwargs"] = size_override(processor, conversation, "image")
                parts.append({"type": "image"})
            if conversation.video:
                frames = video_frames(conversation)
                kwargs["videos"] = [frames.frames]
                kwargs["videos_kwargs"] = {
                    "video_metadata": [frames.metadata()],
                    "do_sample_frames": False,
                    **size_override(processor, conversation, "video"),
                }
                parts.append({"type": "video"})
            text = render_prompt(processor, conversation, parts)
            batch = processor(text=[text], return_tensors="pt", padding=False, **kwargs)
            encodings.append(to_tensor_dict(batch))
        return merge_encodings(encodings, processor.tokenizer.pad_token_id)


__all__ = ["Qwen25VLFamily"]
