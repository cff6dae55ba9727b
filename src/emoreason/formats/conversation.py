"""The prompt a model is given for one sample: the format's messages, the sample's media, and
an optional polarity hint (Hint-GRPO, METHOD.md §1.3).

A hint goes in one of two places (`HINT_MODES`): ``"prefix"`` pre-fills the assistant turn
with the format's polarity part (`ReasoningFormat.hint_prefix`), ``"prompt"`` adds a hint
sentence to the user turn. Formats without a leading polarity part (emor3, r1) cannot take a
prefix, so prefix falls back to prompt there (`effective_mode`, the one place that decides).
"""

from __future__ import annotations

from typing import Any

from emoreason.data.schema import Polarity, Sample, TaskInfo, quotable_source
from emoreason.formats.base import ReasoningFormat
from emoreason.models.families.base import Conversation

HINT_MODES: tuple[str, ...] = ("prefix", "prompt")


def check_hint_mode(mode: str) -> str:
    if mode not in HINT_MODES:
        raise ValueError(f"unknown hint mode {mode!r}; choose one of {', '.join(HINT_MODES)}")
    return mode


def effective_mode(mode: str, fmt: ReasoningFormat) -> str:
    """The mode actually used with `fmt`: ``"prefix"`` falls back to ``"prompt"`` when the
    format has no leading polarity part to pre-fill (``supports_prefix_hint`` False: emor3, r1)."""
    check_hint_mode(mode)
    if mode == "prefix" and not fmt.supports_prefix_hint:
        return "prompt"
    return mode


def build_conversation(
    sample: Sample,
    fmt: ReasoningFormat,
    task: TaskInfo,
    hint: Polarity | None = None,
    hint_mode: str = "prompt",
    cues: str | None = None,
    options: dict[str, Any] | None = None,
) -> Conversation:
    """The prompt for one sample, with its media attached and an optional polarity hint."""
    prefix = ""
    prompt_hint = hint
    if hint is not None and effective_mode(hint_mode, fmt) == "prefix":
        prefix, prompt_hint = fmt.hint_prefix(hint), None
    return Conversation(
        messages=fmt.messages(sample, task, hint=prompt_hint, cues=cues),
        image=sample.image,
        video=sample.video,
        audio=sample.audio,
        assistant_prefix=prefix,
        options=dict(options or {}),
        evidence=quotable_source(sample.text, cues) or None,
        input_text=sample.text or "",
    )


__all__ = ["HINT_MODES", "build_conversation", "check_hint_mode", "effective_mode"]
