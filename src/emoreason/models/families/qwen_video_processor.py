"""Qwen2-VL's video processor in numpy/Pillow, for environments without torchvision.

transformers 5 implements Qwen's video processor (`Qwen2VLVideoProcessor`) with torchvision only,
and there is no CPU build of torchvision here. `PilQwen2VLVideoProcessor` ports the same
resize-normalize-patchify steps; `qwen_processing.load_qwen_processor` assembles the processor
with it where torchvision is missing. Moved out of `qwen_processing.py`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def _video_processor_base() -> type:
    """transformers' torchvision-free base of video processors. Releases without it (5.17 has
    only the torchvision-backed `BaseVideoProcessor`) get the image processors' base, so that this
    module, and with it every Qwen family, still imports: there the port is only used where
    torchvision is missing, and with torchvision the checkpoint's own processor is loaded."""
    from transformers import video_processing_utils

    mixin = getattr(video_processing_utils, "VideoProcessorMixin", None)
    if mixin is None:
        from transformers.image_processing_utils import BaseImageProcessor

        return BaseImageProcessor
    return mixin


def _smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's resize rule: sides divisible by `factor`, area within [min, max], aspect kept."""
    import math

    ratio = max(height, width) / min(height, width)
    if ratio > 200:
        raise ValueError(f"absolute aspect ratio must be smaller than 200, got {ratio}")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return max(h_bar, factor), max(w_bar, factor)


class PilQwen2VLVideoProcessor(_video_processor_base()):  # type: ignore[misc]
    """Qwen2-VL video processing in numpy/Pillow, for environments without torchvision.

    Same output as transformers' `Qwen2VLVideoProcessor` for already decoded frames (no frame
    sampling: frames come from `emoreason.models.media.load_video_frames`): every frame resized
    with `smart_resize`, rescaled and normalized, the frame count padded to a multiple of the
    temporal patch by repeating the last frame, then flattened into patches in the order the
    vision encoder expects.
    """

    model_input_names = ["pixel_values_videos", "video_grid_thw"]
    size = {"shortest_edge": 128 * 28 * 28, "longest_edge": 28 * 28 * 768}
    image_mean = [0.48145466, 0.4578275, 0.40821073]
    image_std = [0.26862954, 0.26130258, 0.27577711]
    rescale_factor = 1 / 255
    do_resize = True
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    resample = 3  # bicubic
    patch_size = 14
    temporal_patch_size = 2
    merge_size = 2
    min_frames = 4
    max_frames = 768
    do_sample_frames = False
    return_metadata = False

    def __init__(self, **kwargs: Any) -> None:
        size = dict(kwargs.pop("size", None) or self.size)
        if (min_pixels := kwargs.pop("min_pixels", None)) is not None:
            size["shortest_edge"] = min_pixels
        if (max_pixels := kwargs.pop("max_pixels", None)) is not None:
            size["longest_edge"] = max_pixels
        super().__init__(size={"shortest_edge": size["shortest_edge"], "longest_edge": size["longest_edge"]}, **kwargs)

    @classmethod
    def from_config_dict(cls, config: dict[str, Any]) -> PilQwen2VLVideoProcessor:
        keep = (
            "size",
            "min_pixels",
            "max_pixels",
            "image_mean",
            "image_std",
            "rescale_factor",
            "do_resize",
            "do_rescale",
            "do_normalize",
            "do_convert_rgb",
            "resample",
            "patch_size",
            "temporal_patch_size",
            "merge_size",
            "min_frames",
            "max_frames",
        )
        kwargs = {k: config[k] for k in keep if config.get(k) is not None}
        size = kwargs.get("size")
        if isinstance(size, dict) and not {"shortest_edge", "longest_edge"} <= set(size):
            kwargs.pop("size")  # e.g. {"height": .., "width": ..}: min/max pixels decide
        return cls(**kwargs)

    def __call__(self, videos: Any, **kwargs: Any) -> Any:
        return self.preprocess(videos, **kwargs)

    def preprocess(self, videos: Any, **kwargs: Any) -> Any:
        from PIL import Image
        from transformers.feature_extraction_utils import BatchFeature
        from transformers.video_utils import VideoMetadata, make_batched_videos

        size = kwargs.get("size") or self.size
        size = dict(size.items()) if hasattr(size, "items") else dict(size)
        min_pixels = kwargs.get("min_pixels") or size.get("shortest_edge")
        max_pixels = kwargs.get("max_pixels") or size.get("longest_edge")
        patch = int(kwargs.get("patch_size") or self.patch_size)
        merge = int(kwargs.get("merge_size") or self.merge_size)
        temporal = int(kwargs.get("temporal_patch_size") or self.temporal_patch_size)
        mean = np.asarray(kwargs.get("image_mean") or self.image_mean, dtype=np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(kwargs.get("image_std") or self.image_std, dtype=np.float32).reshape(1, -1, 1, 1)
        rescale = float(kwargs.get("rescale_factor") or self.rescale_factor)
        resample = kwargs.get("resample") or self.resample

        patches_all, grids = [], []
        batch = make_batched_videos(videos)
        for video in batch:
            array = np.asarray(video)
            if array.ndim != 4:
                raise ValueError(f"expected a video of shape (frames, height, width, 3), got {array.shape}")
            if array.shape[-1] not in (1, 3, 4) and array.shape[1] in (1, 3, 4):
                array = array.transpose(0, 2, 3, 1)  # channels first -> last
            if array.dtype != np.uint8:
                array = np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
            height, width = array.shape[1:3]
            if self.do_resize:
                height, width = _smart_resize(height, width, patch * merge, int(min_pixels), int(max_pixels))
            frames = []
            for frame in array:
                image = Image.fromarray(frame).convert("RGB")
                if image.size != (width, height):
                    image = image.resize((width, height), resample=int(resample))
                frames.append(np.asarray(image, dtype=np.float32))
            stack = np.stack(frames).transpose(0, 3, 1, 2)  # (T, C, H, W)
            if self.do_rescale:
                stack = stack * rescale
            if self.do_normalize:
                stack = (stack - mean) / std
            if pad := -stack.shape[0] % temporal:
                stack = np.concatenate([stack, np.repeat(stack[-1:], pad, axis=0)], axis=0)
            t, c = stack.shape[0] // temporal, stack.shape[1]
            gh, gw = height // patch, width // patch
            blocks = stack.reshape(t, temporal, c, gh // merge, merge, patch, gw // merge, merge, patch)
            blocks = blocks.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
            patches_all.append(blocks.reshape(t * gh * gw, c * temporal * patch * patch))
            grids.append([t, gh, gw])

        data: dict[str, Any] = {
            "pixel_values_videos": torch.from_numpy(np.concatenate(patches_all, axis=0).astype(np.float32)),
            "video_grid_thw": torch.tensor(grids, dtype=torch.long),
        }
        if kwargs.get("return_metadata"):
            metadata = kwargs.get("video_metadata")
            if metadata is None:
                metadata = [VideoMetadata(total_num_frames=len(v), fps=None) for v in batch]
            elif not isinstance(metadata, (list, tuple)):
                metadata = [metadata]
            data["video_metadata"] = [m if isinstance(m, VideoMetadata) else VideoMetadata(**m) for m in metadata]
        return BatchFeature(data=data)

    def to_dict(self) -> dict[str, Any]:
        # saved as the class transformers knows, so a saved processor loads where torchvision is
        output = super().to_dict()
        output["video_processor_type"] = "Qwen2VLVideoProcessor"
        return output

    def get_num_of_video_patches(self, num_frames: int, height: int, width: int, videos_kwargs: Any = None) -> int:
        size = (videos_kwargs or {}).get("size") or self.size
        factor = self.patch_size * self.merge_size
        h, w = _smart_resize(height, width, factor, size["shortest_edge"], size["longest_edge"])
        grid_t = (num_frames + -num_frames % self.temporal_patch_size) // self.temporal_patch_size
        return grid_t * (h // self.patch_size) * (w // self.patch_size)


__all__ = ["PilQwen2VLVideoProcessor"]
