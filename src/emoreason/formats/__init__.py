"""Reasoning formats: how to ask a model, what its gold answer looks like, how to read it.

    fmt = get_format("c2f")
    messages = fmt.messages(sample, task, hint="negative")
    result = fmt.parse(completion, task)   # never raises; result.ok, result.errors

Built-in formats: `c2f` (polarity, think, score; METHOD.md §1), `emor3` (three steps and a
boxed label; §2), `r1` (think and answer; §3). A new format is one `ReasoningFormat` subclass
passed to `register_format`.
"""

from __future__ import annotations

import re
from typing import Any

from emoreason.data.schema import TaskInfo
from emoreason.formats._tags import format_number, parse_number, parse_polarity
from emoreason.formats.base import Message, ParseError, ParseResult, ReasoningFormat
from emoreason.formats.c2f import C2FFormat
from emoreason.formats.conversation import HINT_MODES, build_conversation, effective_mode
from emoreason.formats.emor3 import EmoR3Format
from emoreason.formats.r1 import R1Format

_REGISTRY: dict[str, type[ReasoningFormat]] = {"c2f": C2FFormat, "emor3": EmoR3Format, "r1": R1Format}
# Spellings people use for the same formats (the papers' names).
_ALIASES = {
    "emo-r3": "emor3",
    "emo_r3": "emor3",
    "r1-omni": "r1",
    "r1_omni": "r1",
    "msa-thinker": "c2f",
    "c2f-thinker": "c2f",
}

#: the built-in format names
FORMATS: tuple[str, ...] = tuple(_REGISTRY)


def register_format(name: str, cls: type[ReasoningFormat]) -> None:
    """Make a format available to `get_format` (and so to configs) under `name`."""
    key = name.strip().lower()
    if key in _REGISTRY and _REGISTRY[key] is not cls:
        raise ValueError(f"a different format is already registered as {key!r}")
    _REGISTRY[key] = cls


def available_formats() -> tuple[str, ...]:
    """Every registered name, built-in and added."""
    return tuple(_REGISTRY)


def get_format(name: str, **options: Any) -> ReasoningFormat:
    """A new instance of the named format; `options` go to its constructor
    (e.g. `get_format("c2f", score_decimals=3)`)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise ValueError(f"unknown reasoning format {name!r}; known formats: {', '.join(_REGISTRY)}")
    return _REGISTRY[key](**options)


def format_for(
    task: TaskInfo, name: str | None = None, adapter_format: str | None = None, *, cli: bool = False
) -> ReasoningFormat:
    """The format that answers `task`: `name` when given, else the adapter's own (`adapter_format`, its
    emoreason.json), else the one the task's kind takes (c2f for a score scale, emor3 for a label set).
    A `ValueError` saying what fits when the chosen format cannot answer the task, in the words of the
    command line (`-f emor3`, `--labels`) with `cli`, else of the Python API (`format='emor3'`, `labels=`)."""
    fmt = get_format(name or adapter_format or ("c2f" if task.is_regression else "emor3"))
    try:
        fmt.system_prompt(task)  # a format that cannot answer the task fails here
    except ValueError as err:
        say = "-f {}" if cli else "format={!r}"
        fits = say.format("c2f" if task.is_regression else "emor3")
        if name is None and adapter_format:  # the adapter's format: its task is the one to give
            wants, given = ("a score scale", "scale") if fmt.name == "c2f" else ("a label set", "labels")
            how = f"--{given} or --task" if cli else f"{given}= or task="
            fix = f"the adapter answers in {fmt.name} (its emoreason.json), for a task with {wants}: give one ({how})"
            raise ValueError(f"{err}; {fix}, or ask for {fits}") from None
        kind = "a score" if task.is_regression else "a label"
        raise ValueError(
            f"{err}; this task needs a format that answers with {kind}: {fits} (or {say.format('r1')})"
        ) from None
    return fmt


def answer_start(text: str) -> int | None:
    """Where the first answer marker of any registered format occurs in `text` (None: none).

    Every format's markers, not only the one that was asked for: a rollout that drifts into
    another format's answer tag still must not show its answer to a question that checks it."""
    pattern = "|".join(m for cls in _REGISTRY.values() for m in cls.answer_markers)
    match = re.search(pattern, text, re.IGNORECASE) if pattern else None
    return match.start() if match else None


__all__ = [
    "FORMATS",
    "HINT_MODES",
    "C2FFormat",
    "EmoR3Format",
    "Message",
    "ParseError",
    "ParseResult",
    "R1Format",
    "format_for",
    "ReasoningFormat",
    "answer_start",
    "available_formats",
    "build_conversation",
    "effective_mode",
    "format_number",
    "get_format",
    "parse_number",
    "parse_polarity",
    "register_format",
]
