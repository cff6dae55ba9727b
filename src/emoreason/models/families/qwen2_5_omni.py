"""`qwen2_5_omni`: the thinker of Qwen2.5-Omni (audio, video, image and text in; text out).

Only the thinker is loaded (`Qwen2_5OmniThinkerForConditionalGeneration`); the talker and the
token2wav vocoder that turn its text into speech are never built. The thinker loads both from a
thinker-only folder and from a full Qwen2.5-Omni checkpoint: transformers picks the
`thinker_config` out of the full config.json (by its model_type) and strips the `thinker.`
prefix from the weight names; the talker and token2wav weights are left unused.

Options (`Conversation.options`): those both Qwen families read (`qwen_processing.OPTIONS`:
frame sampling, pixel budgets; note Qwen2.5-Omni's processor sets its own video pixel range,
128 to 768 tokens per pair of frames, unless `video_min_pixels` / `video_max_pixels` are
given), and

`use_audio_in_video`: feed the video's sound track too. The track is
decoded with PyAV and its tokens are interleaved with the video's in 2-second chunks, as
Qwen2.5-Omni was trained; `encode` then returns `use_audio_in_video=True` (a bool, not a
tensor), which the model needs to place those tokens. A video without a sound track counts as
silent. All conversations of one batch that have a video must agree on the option.

`encode` returns input_ids, attention_mask and, as the prompts need them, pixel_values +
image_grid_thw, pixel_values_videos + video_grid_thw + video_second_per_grid, input_features +
feature_attention_mask (one row per audio clip, a video's sound track included), and
use_audio_in_video.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
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

log = logging.getLogger(__name__)

SAMPLING_RATE = 16000


AUDIO_KEYS = ("input_features", "feature_attention_mask")


def audio_padding(feature_extractor: Any, clips: list[Any]) -> int:
    """Samples to pad the clips to: just past the longest one, not the feature extractor's full
    window.

    The processor pads every clip to the feature extractor's `n_samples` (30 s here, 300 s in
    Qwen2.5-Omni's own config), which costs ~0.7 s of CPU and 15 MB per clip for 300 s. Only
    the frames under `feature_attention_mask` reach the model, and those are the same with the
    shorter padding: the margin of `n_fft` samples gives the last real frames the same zeros to
    their right, and the log-mel range is set by the loudest (real) frame either way."""
    hop = int(getattr(feature_extractor, "hop_length", 160))
    n_fft = int(getattr(feature_extractor, "n_fft", 400))
    limit = int(getattr(feature_extractor, "n_samples", 480000))
    longest = max(int(np.asarray(clip).shape[-1]) for clip in clips)
    wanted = -(-(longest + n_fft) // hop) * hop
    return min(limit, wanted)


def install_audio_expansion(model: torch.nn.Module) -> None:
    """Make `generate(num_return_sequences=n)` repeat audio clips per prompt, not per clip.

    `generate` expands every tensor argument with `repeat_interleave(n, dim=0)`. Audio features
    have one row per clip, not per prompt, so a prompt with two clips (a video's sound track
    and a separate audio file) [a, b] became [a, a, b, b] where its n copies need
    [a, b, a, b]: the copies silently heard the wrong sounds. Images and videos are expanded
    correctly by transformers (per prompt, from their encoder outputs)."""
    if getattr(model, "_emoreason_audio_expansion", False):
        return
    original = model._expand_inputs_for_generation
    audio_start = model.config.audio_start_token_id

    def expand(
        expand_size: int = 1,
        is_encoder_decoder: bool = False,
        input_ids: torch.Tensor | None = None,
        **model_kwargs: Any,
    ) -> tuple[torch.Tensor | None, dict[str, Any]]:
        features = {k: model_kwargs.get(k) for k in AUDIO_KEYS}
        if expand_size == 1 or input_ids is None or any(v is None for v in features.values()):
            return original(
                expand_size=expand_size, is_encoder_decoder=is_encoder_decoder, input_ids=input_ids, **model_kwargs
            )
        mask = model_kwargs.get("attention_mask")
        starts = input_ids == audio_start
        if mask is not None:
            starts = starts & mask.bool()
        clips_per_row = starts.sum(dim=1).tolist()
        if sum(clips_per_row) != features["input_features"].shape[0]:  # unexpected layout: leave as is
            return original(
                expand_size=expand_size, is_encoder_decoder=is_encoder_decoder, input_ids=input_ids, **model_kwargs
            )
        order: list[int] = []
        first = 0
        for count in clips_per_row:
            order.extend(list(range(first, first + count)) * expand_size)
            first += count
        index = torch.tensor(order, dtype=torch.long, device=features["input_features"].device)
        for key in AUDIO_KEYS:
            model_kwargs.pop(key)
        input_ids, model_kwargs = original(
            expand_size=expand_size, is_encoder_decoder=is_encoder_decoder, input_ids=input_ids, **model_kwargs
        )
        for key, value in features.items():
            model_kwargs[key] = value.index_select(0, index.to(value.device))
        return input_ids, model_kwargs

    model._expand_inputs_for_generation = expand
    model._emoreason_audio_expansion = True


class Qwen25OmniFamily(ModelFamily):
    """Qwen2.5-Omni thinker: an image, a video (optionally with its sound) and/or an audio clip."""

    name = "qwen2_5_omni"
    modalities = frozenset({"image", "video", "audio"})

    @classmethod
    def matches(cls, config: Any) -> bool:
        return getattr(config, "model_type", None) in ("qwen2_5_omni", "qwen2_5_omni_thinker")

    def load(self, path: str | Path, dtype: torch.dtype, device: torch.device | str) -> tuple[torch.nn.Module, Any]:
        from transformers import Qwen2_5OmniProcessor, Qwen2_5OmniThinkerForConditionalGeneration

        processor = load_qwen_processor(path, Qwen2_5OmniProcessor, audio=True)
        model = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(path, dtype=dtype)
        install_audio_expansion(model)
        return finish_loading(model, processor, device), processor

    def tokenizer(self, processor: Any) -> Any:
        return processor.tokenizer

    def encode(self, processor: Any, conversations: list[Conversation]) -> dict[str, torch.Tensor]:
        from emoreason.models import media

        for conversation in conversations:
            self.check_media(conversation)
        audio_in_video = {bool(c.options.get("use_audio_in_video", False)) for c in conversations if c.video}
        if len(audio_in_video) > 1:
            raise ValueError(
                "conversations of one batch disagree on use_audio_in_video; the model takes one "
                "setting per batch, so batch them separately"
            )
        use_audio_in_video = audio_in_video == {True}
        sr = int(getattr(processor.feature_extractor, "sampling_rate", SAMPLING_RATE))
        max_seconds = getattr(processor.feature_extractor, "n_samples", 30 * sr) / sr

        encodings = []
        for conversation in conversations:
            parts: list[dict[str, Any]] = []
            kwargs: dict[str, Any] = {}
            audio: list[Any] = []
            audio_sources: list[int | None] = []  # per audio slot: the video it comes from, or None
            if conversation.image:
                kwargs["images"] = [image_input(conversation)]
                kwargs["images_kwargs"] = size_override(processor, conversation, "image")
                parts.append({"type": "image"})
            if conversation.video:
                frames = video_frames(conversation)
                kwargs["videos"] = [frames.frames]
                # the processor spaces temporal positions by `fps`; give it this video's own
                kwargs["videos_kwargs"] = {
                    "fps": frames.sampled_fps,
                    "do_sample_frames": False,
                    **size_override(processor, conversation, "video"),
                }
                parts.append({"type": "video"})
                if use_audio_in_video:
                    track = media.extract_audio_from_video(conversation.video, sr=sr)
                    if track is None or track.size == 0:
                        log.warning("%s has no sound track; using silence for use_audio_in_video", conversation.video)
                        track = media.silence(max(frames.duration, 0.1), sr)
                    audio.append(track)
                    audio_sources.append(0)
            if conversation.audio:
                audio.append(media.load_audio(conversation.audio, sr=sr))
                audio_sources.append(None)
                parts.append({"type": "audio"})
            for clip in audio:
                if clip.size / sr > max_seconds:
                    log.warning(
                        "audio longer than %.0f s is cut to its first %.0f s by the feature extractor",
                        max_seconds,
                        max_seconds,
                    )
            if audio:
                kwargs["audio"] = audio
                kwargs["audio_kwargs"] = {"max_length": audio_padding(processor.feature_extractor, audio)}
            if use_audio_in_video and conversation.video:
                kwargs["load_audio_from_video"] = True
                kwargs["audio_from_video_indices"] = audio_sources
            text = render_prompt(processor, conversation, parts)
            batch = processor(text=[text], return_tensors="pt", padding=False, **kwargs)
            encodings.append(to_tensor_dict(batch))
        merged = merge_encodings(encodings, processor.tokenizer.pad_token_id)
        if use_audio_in_video:
            merged["use_audio_in_video"] = True
        return merged


__all__ = ["Qwen25OmniFamily"]
