"""The interface every model family implements.

A family knows how to load its model and processor, and how to turn conversations (chat
messages plus media files) into the tensors its forward pass takes. Everything else, generation
and log-probabilities, is shared code in `emoreason.generation`, which only relies on this
contract: `encode` returns left-padded `input_ids` and `attention_mask` (prompt ends at the
right edge, so completions can be appended) plus whatever extra tensors the model needs
(`pixel_values`, `image_grid_thw`, `input_features`, ...), which are passed unchanged to
`model(...)` and `model.generate(...)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing the data formats must not load torch
    import torch


@dataclass(frozen=True)
class Conversation:
    """One prompt: plain-text chat messages, the media attached to the (last) user turn, and an
    optional assistant prefix (hint mode `prefix`) that the completion continues."""

    messages: list[dict[str, str]]
    image: str | None = None
    video: str | None = None
    audio: str | None = None
    assistant_prefix: str = ""
    # Family-specific switches (e.g. {"use_audio_in_video": True} for Qwen2.5-Omni).
    options: dict[str, Any] = field(default_factory=dict)
    # What the answer's citations must quote (the sample's text and cue text), for grounded
    # quoting (`SamplingParams.ground_quotes`); None: nothing to check against.
    evidence: str | None = None
    # The sample's own words, without the cue text: what grounded quoting's lexicon rules read (which words
    # a cue list owes, the input's "!", its negations). The cue text's labels ("voice clarity", "no
    # reference") are measurements' names, not sentiment words of the input. None: the same as `evidence`.
    input_text: str | None = None

    @property
    def media(self) -> dict[str, str]:
        return {k: v for k, v in (("image", self.image), ("video", self.video), ("audio", self.audio)) if v}


class MediaError(ValueError):
    """A media file is missing, unreadable, or of a kind the model family cannot take."""


class ModelFamily(ABC):
    #: registry name used by `--family` and in configs
    name: str
    #: the media kinds the family accepts besides text
    modalities: frozenset[str] = frozenset()

    @classmethod
    @abstractmethod
    def matches(cls, config: Any) -> bool:
        """Whether a transformers config belongs to this family (used for auto-detection)."""

    @abstractmethod
    def load(self, path: str | Path, dtype: torch.dtype, device: torch.device | str) -> tuple[torch.nn.Module, Any]:
        """Model (in eval mode, on device) and processor/tokenizer from a local directory or hub id."""

    @abstractmethod
    def tokenizer(self, processor: Any) -> Any:
        """The text tokenizer inside the processor (the processor itself for text models)."""

    @abstractmethod
    def encode(self, processor: Any, conversations: list[Conversation]) -> dict[str, torch.Tensor]:
        """Left-padded model inputs for a batch, with the generation prompt and assistant prefix
        appended, so that generation continues right after the prefix."""

    def refuse_unsupported(self, media: dict[str, str], specs: Sequence[str] = ()) -> None:
        """Raise MediaError, naming the file and the way out, for the first medium this family
        cannot read; `media` maps a kind (`audio`, ...) to its path. `specs`, the dataset specs the
        media come from, are named as they would measure their media into cue text
        (`data.spec_options.measured_spec`: a folder's `?cues=only`, a file's `?measure=only`)."""
        from emoreason.data.spec_options import measured_spec

        for kind, path in media.items():
            if kind in self.modalities:
                continue
            takes = (
                f"the {self.name} family takes {', '.join(sorted(self.modalities)) or 'text only'}, not {kind} ({path})"
            )
            measured = [m for m in map(measured_spec, specs) if m is not None]
            if measured and len(measured) == len(specs):
                raise MediaError(
                    f"{takes}; give the data as {', '.join(repr(m) for m in measured)} instead, which gives each "
                    f"sample's {kind} as measured cue text (as analyze and serve do), or use a model of a family "
                    "that reads it"
                )
            raise MediaError(
                f"{takes}; use a model of another family or describe the media as cue text "
                "(a dataset spec's ?cues=only, e.g. ravdess:DIR?cues=only; analyze and serve do it themselves)"
            )

    def check_media(self, conversation: Conversation) -> None:
        """Fail early, naming the file, when media are missing or not supported."""
        self.refuse_unsupported(conversation.media)
        for kind, path in conversation.media.items():
            if not Path(path).is_file():
                raise MediaError(f"{kind} file not found: {path}")
