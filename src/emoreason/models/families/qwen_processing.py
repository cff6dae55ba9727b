"""What both Qwen families (`qwen2_5_vl`, `qwen2_5_omni`) do alike: put the processor together,
turn a conversation into Qwen content parts, and merge per-conversation encodings into one
left-padded batch. A module of its own so that neither family module imports the other.

Processor without torchvision: transformers 5 implements Qwen's video processor
(`Qwen2VLVideoProcessor`) with torchvision only, so `AutoProcessor.from_pretrained` fails where
torchvision is missing (there is no CPU build of it here). In that case the processor is
assembled from its parts with `PilQwen2VLVideoProcessor` (in `qwen_video_processor.py`), a
numpy/Pillow port of the same resize-normalize-patchify steps; the image processor then is
transformers' own Pillow backend.
With torchvision installed the checkpoint's own processor is used unchanged.

Encoding goes one conversation at a time through the processor, and the results are merged:
each conversation's video keeps its own frame rate (the Omni processor takes a single `fps`
per call), and token counts never depend on the other rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from emoreason.models.families.base import Conversation
from emoreason.models.families.qwen_video_processor import PilQwen2VLVideoProcessor

#: Tensors with one entry per token (`(batch, seq)`), left-padded when rows are merged.
PER_TOKEN_KEYS = ("input_ids", "attention_mask", "mm_token_type_ids")
#: Masked features (audio frames) whose rows may differ in length: right-padded with zeros.
RIGHT_PADDED_KEYS = ("input_features", "feature_attention_mask")

#: `Conversation.options` read by the Qwen families: frame sampling (see
#: `emoreason.models.media.load_video_frames`) and the pixel budget per image / per frame
#: (`*_min_pixels`, `*_max_pixels`; the checkpoint's processor settings otherwise).
OPTIONS = (
    "video_fps",
    "video_num_frames",
    "video_min_frames",
    "video_max_frames",
    "image_min_pixels",
    "image_max_pixels",
    "video_min_pixels",
    "video_max_pixels",
)


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def _torchvision_available() -> bool:
    from transformers.utils import is_torchvision_available

    return bool(is_torchvision_available())


def _file(path: str | Path, name: str) -> Path | None:
    """A file of a local model folder or hub repo (downloaded into the HF cache), or None."""
    local = Path(path)
    if local.is_dir():
        candidate = local / name
        return candidate if candidate.is_file() else None
    from transformers.utils import cached_file

    try:
        found = cached_file(
            str(path), name, _raise_exceptions_for_missing_entries=False, _raise_exceptions_for_connection_errors=False
        )
    except OSError:
        return None
    return Path(found) if found else None


def _json(path: str | Path, name: str) -> dict[str, Any]:
    file = _file(path, name)
    return json.loads(file.read_text()) if file is not None else {}


def _chat_template(path: str | Path, tokenizer: Any) -> str | None:
    jinja = _file(path, "chat_template.jinja")
    if jinja is not None:
        return jinja.read_text()
    for name in ("chat_template.json", "processor_config.json"):
        template = _json(path, name).get("chat_template")
        if template:
            return template
    return getattr(tokenizer, "chat_template", None)


_PROCESSOR_SUBCLASSES: dict[type, type] = {}


def _without_torchvision(processor_class: type) -> type:
    """The processor class, accepting `PilQwen2VLVideoProcessor` as its video processor.

    `ProcessorMixin.__init__` checks each part against a base class looked up by name on the
    `transformers` module; without torchvision `transformers.VideoProcessorMixin` is not exported,
    so the check fails for any video processor. The subclass keeps the original name, so a
    saved processor names the real class."""
    cached = _PROCESSOR_SUBCLASSES.get(processor_class)
    if cached is None:

        def check_argument_for_proper_class(self: Any, argument_name: str, argument: Any) -> Any:
            if argument_name == "video_processor" and isinstance(argument, PilQwen2VLVideoProcessor):
                return PilQwen2VLVideoProcessor
            return processor_class.check_argument_for_proper_class(self, argument_name, argument)

        cached = type(
            processor_class.__name__,
            (processor_class,),
            {
                "check_argument_for_proper_class": check_argument_for_proper_class,
                "__module__": processor_class.__module__,
                "__doc__": processor_class.__doc__,
            },
        )
        _PROCESSOR_SUBCLASSES[processor_class] = cached
    return cached


def load_qwen_processor(path: str | Path, processor_class: type, audio: bool = False) -> Any:
    """The checkpoint's processor, assembled from its parts when torchvision is missing."""
    if _torchvision_available():
        processor = processor_class.from_pretrained(path)
    else:
        from transformers import AutoTokenizer
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

        tokenizer = AutoTokenizer.from_pretrained(path)
        image_processor = Qwen2VLImageProcessorPil.from_pretrained(path)
        # where the video settings live: their own file (Qwen's repos), processor_config.json
        # (what transformers 5 saves), or only the image settings (older checkpoints)
        video_config = (
            _json(path, "video_preprocessor_config.json")
            or _json(path, "processor_config.json").get("video_processor")
            or _json(path, "preprocessor_config.json")
        )
        video_processor = PilQwen2VLVideoProcessor.from_config_dict(video_config)
        parts: dict[str, Any] = dict(
            image_processor=image_processor,
            video_processor=video_processor,
            tokenizer=tokenizer,
            chat_template=_chat_template(path, tokenizer),
        )
        if audio:
            from transformers import WhisperFeatureExtractor

            parts["feature_extractor"] = WhisperFeatureExtractor.from_pretrained(path)
        processor = _without_torchvision(processor_class)(**parts)
    processor.tokenizer.padding_side = "left"
    if processor.tokenizer.pad_token is None:
        processor.tokenizer.pad_token = processor.tokenizer.eos_token
    return processor


#: Config fields naming the multimodal placeholder and boundary tokens.
PLACEHOLDER_FIELDS = (
    "image_token_id",
    "video_token_id",
    "audio_token_id",
    "vision_start_token_id",
    "vision_end_token_id",
    "audio_start_token_id",
    "audio_end_token_id",
)


def placeholder_token_ids(config: Any) -> list[int]:
    ids = {getattr(config, name, None) for name in PLACEHOLDER_FIELDS}
    return sorted(i for i in ids if isinstance(i, int))


def finish_loading(model: torch.nn.Module, processor: Any, device: torch.device | str) -> torch.nn.Module:
    """Eval mode on the device, a pad token for generate(), and the multimodal placeholder tokens
    suppressed in generate(): a sampled `<|image_pad|>` (untrained or collapsing models do sample
    them) would make the next forward over prompt + completion count one image token too many
    and fail."""
    model = model.to(device).eval()
    tokenizer = processor.tokenizer
    generation_config = getattr(model, "generation_config", None)
    if generation_config is not None:
        if getattr(generation_config, "pad_token_id", None) is None:
            generation_config.pad_token_id = tokenizer.pad_token_id
        suppressed = set(generation_config.suppress_tokens or []) | set(placeholder_token_ids(model.config))
        generation_config.suppress_tokens = sorted(suppressed)
    return model


# --------------------------------------------------------------------------------------
# Encoding helpers
# --------------------------------------------------------------------------------------


def chat_messages(conversation: Conversation, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation's messages with the media parts put before the text of the last user
    turn (a user turn is added when there is none)."""
    messages: list[dict[str, Any]] = [dict(m) for m in conversation.messages]
    if not parts:
        return messages
    last_user = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].get("role") == "user"), None)
    if last_user is None:
        messages.append({"role": "user", "content": ""})
        last_user = len(messages) - 1
    text = messages[last_user].get("content") or ""
    content = list(parts)
    if text:
        content.append({"type": "text", "text": text})
    messages[last_user] = {"role": "user", "content": content}
    return messages


def render_prompt(processor: Any, conversation: Conversation, parts: list[dict[str, Any]]) -> str:
    """Chat-template text ending with the generation prompt and the assistant prefix."""
    messages = chat_messages(conversation, parts)
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if isinstance(text, list):
        text = text[0]
    return text + conversation.assistant_prefix


#: Qwen2-VL's image and video processors refuse a picture whose long side is more than this many times its
#: short side (their `smart_resize`), in words that name neither the file nor a way out
MAX_ASPECT_RATIO = 200


def check_aspect(path: str | Path, kind: str, width: int, height: int) -> None:
    """Raise `MediaError` naming the file when the processor would refuse its shape."""
    from emoreason.models.media import MediaError

    ratio = max(width, height) / max(1, min(width, height))
    if ratio > MAX_ASPECT_RATIO:
        raise MediaError(
            f"{kind} file {path} is {width}x{height} pixels, {ratio:.0f} times as long as it is wide; Qwen2.5-VL "
            f"and Qwen2.5-Omni read at most {MAX_ASPECT_RATIO} times: crop it or pad it"
        )


def image_input(conversation: Conversation) -> Any:
    """The conversation's image, read upright as RGB, in a shape the processor takes."""
    from emoreason.models import media

    assert conversation.image is not None
    image = media.load_image(conversation.image)
    check_aspect(conversation.image, "image", *image.size)
    return image


def video_frames(conversation: Conversation) -> Any:
    from emoreason.models import media

    options = conversation.options
    kwargs: dict[str, Any] = {}
    if options.get("video_fps") is not None:
        kwargs["fps"] = float(options["video_fps"])
    if options.get("video_num_frames") is not None:
        kwargs["num_frames"] = int(options["video_num_frames"])
    if options.get("video_min_frames") is not None:
        kwargs["min_frames"] = int(options["video_min_frames"])
    if options.get("video_max_frames") is not None:
        kwargs["max_frames"] = int(options["video_max_frames"])
    frames = media.load_video_frames(conversation.video, **kwargs)  # type: ignore[arg-type]
    height, width = frames.frames[0].shape[:2]
    check_aspect(conversation.video, "video", width, height)  # type: ignore[arg-type]
    return frames


def _edge(size: Any, key: str) -> Any:
    if size is None:
        return None
    if isinstance(size, dict):
        return size.get(key)
    return getattr(size, key, None)


def size_override(processor: Any, conversation: Conversation, kind: str) -> dict[str, Any]:
    """`{"size": ...}` for the processor call when the conversation sets `<kind>_min_pixels` or
    `<kind>_max_pixels` (kind: image or video), else {}."""
    low = conversation.options.get(f"{kind}_min_pixels")
    high = conversation.options.get(f"{kind}_max_pixels")
    if low is None and high is None:
        return {}
    if kind == "image":
        default = processor.image_processor.size
    else:  # the processor's own video defaults (Qwen2.5-Omni sets some) win over the video processor's
        default = (getattr(processor, "videos_kwargs", None) or {}).get("size") or processor.video_processor.size
    low = int(low) if low is not None else int(_edge(default, "shortest_edge"))
    high = int(high) if high is not None else int(_edge(default, "longest_edge"))
    return {"size": {"shortest_edge": min(low, high), "longest_edge": high}}


def merge_encodings(encodings: list[dict[str, Any]], pad_token_id: int) -> dict[str, Any]:
    """One left-padded batch from single-row encodings: per-token tensors are left-padded (ids
    with the pad token, masks and type ids with 0), the other tensors (pixels, grids, audio
    features: one row per media item) are concatenated in row order (audio features first
    right-padded to one length; their mask covers the padding), and non-tensor values (flags)
    must agree across rows."""
    width = max(e["input_ids"].shape[1] for e in encodings)
    keys: list[str] = []
    for encoding in encodings:
        keys.extend(k for k in encoding if k not in keys)
    merged: dict[str, Any] = {}
    for key in keys:
        if key in PER_TOKEN_KEYS:
            rows = []
            fill = pad_token_id if key == "input_ids" else 0
            for encoding in encodings:
                value = encoding.get(key)
                if value is None:
                    value = torch.zeros_like(encoding["input_ids"])
                pad = width - value.shape[1]
                if pad:
                    value = torch.cat([value.new_full((value.shape[0], pad), fill), value], dim=1)
                rows.append(value)
            merged[key] = torch.cat(rows, dim=0)
            continue
        values = [e[key] for e in encodings if key in e]
        if key in RIGHT_PADDED_KEYS:
            length = max(v.shape[-1] for v in values)
            values = [torch.nn.functional.pad(v, (0, length - v.shape[-1])) for v in values]
        if all(torch.is_tensor(v) for v in values):
            merged[key] = torch.cat([v if v.ndim else v[None] for v in values], dim=0)
        else:
            if any(v != values[0] for v in values[1:]):
                raise ValueError(f"rows disagree on {key}: {values}")
            merged[key] = values[0]
    return merged


def to_tensor_dict(batch: Any) -> dict[str, Any]:
    return {
        k: (v if torch.is_tensor(v) else torch.as_tensor(v)) if not isinstance(v, bool) else v
        for k, v in dict(batch).items()
    }


__all__ = [
    "OPTIONS",
    "PER_TOKEN_KEYS",
    "RIGHT_PADDED_KEYS",
    "chat_messages",
    "finish_loading",
    "load_qwen_processor",
    "merge_encodings",
    "placeholder_token_ids",
    "render_prompt",
    "size_override",
    "to_tensor_dict",
    "video_frames",
]
