"""SFT files: the chat-messages JSONL that `emoreason distill` writes (and anyone can write).

One example a line:

    {"id": "tweets/4", "messages": [{"role": "system", ...}, {"role": "user", ...},
     {"role": "assistant", "content": "<polarity>positive</polarity>..."}],
     "format": "c2f", "task": {...TaskInfo.to_dict()...},
     "gold": {"polarity": "positive", "score": 3.1, "label": null},
     "image": "...", "audio": "...", "video": "..."}          # media: optional

Only `messages` (ending with the assistant turn) is required; `format`, `task` and `gold` let
the trainer's generation eval parse answers and score their polarity. A bad line fails with
the file, line and field, and says how to fix it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.data.errors import DataError
from emoreason.data.jsonl import read_jsonl_strict
from emoreason.data.schema import TaskInfo
from emoreason.models.families.base import Conversation


@dataclass(frozen=True)
class SFTExample:
    id: str
    conversation: Conversation  # system + user turns with media; the student's prompt
    target: str  # the assistant turn to learn
    format: str | None = None
    task: TaskInfo | None = None
    gold: dict[str, Any] = field(default_factory=dict)
    #: who speaks in the clip, where the data says (`distill` copies a sample's `meta.speaker`): the
    #: held-out share is drawn by speaker, so no voice is heard in both (`split_eval`)
    speaker: str | None = None


def _example(record: dict[str, Any], file: str, line: int) -> SFTExample:
    def bad(field_name: str, message: str) -> DataError:
        return DataError(message, file=file, line=line, field=field_name)

    messages = record.get("messages")
    if not isinstance(messages, list) or len(messages) < 2:
        raise bad("messages", "needs a list of at least a user and an assistant message")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
            raise bad(f"messages[{i}].role", "each message needs role system, user or assistant")
        if not isinstance(message.get("content"), str):
            raise bad(f"messages[{i}].content", "content must be a string (media go in the image/audio/video fields)")
    if messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
        raise bad("messages", "the last message must be a non-empty assistant turn (the target)")
    media = {}
    for kind in ("image", "audio", "video"):
        value = record.get(kind)
        if value is not None:
            if not isinstance(value, str):
                raise bad(kind, "must be a file path")
            path = Path(value)
            if not path.is_absolute():
                path = Path(file).parent / path
            if not path.is_file():
                raise bad(kind, f"media file not found: {path}")
            media[kind] = str(path)
    task = None
    if record.get("task") is not None:
        try:
            task = TaskInfo.from_dict(record["task"])
        except (KeyError, TypeError, ValueError) as err:
            raise bad("task", f"not a task description ({err}); write TaskInfo.to_dict() or leave it out") from None
    if record.get("split") == "test":  # distill records each chain's split; allow_test lets test rows through
        raise bad(
            "split",
            "a chain of a test sentence: training on it leaves the model no test figures to report; distill the "
            "train split (or leave this line out)",
        )
    sample_id = str(record.get("id", f"line{line}"))
    speaker = record.get("speaker")
    if speaker is not None and not isinstance(speaker, (str, int)):
        raise bad("speaker", "must be a name or a number (who speaks in the clip), or left out")
    return SFTExample(
        id=sample_id,
        conversation=Conversation(messages=[dict(m) for m in messages[:-1]], **media),
        target=messages[-1]["content"],
        format=record.get("format"),
        task=task,
        gold=dict(record.get("gold") or {}),
        speaker=None if speaker in (None, "") else str(speaker),
    )


def load_sft_file(path: str | Path) -> list[SFTExample]:
    file = Path(path)
    if not file.is_file():
        raise DataError(
            f"SFT file not found: {file}; write one with `emoreason distill ... --out DIR` (DIR/sft.jsonl)",
            file=str(file),
        )
    records = read_jsonl_strict(file, hint="each line must be a JSON object with a `messages` list")
    examples = [_example(record, str(file), number) for number, record in records]
    if not examples:
        raise DataError("the SFT file has no examples", file=str(file))
    return examples


def split_eval(examples: Sequence[SFTExample], fraction: float, seed: int) -> tuple[list[SFTExample], list[SFTExample]]:
    """A fixed random share held out for evaluation (the same for a given seed). Where examples name
    their speaker, whole speakers are held out (an example without one is a speaker of its own), so the
    held-out loss is of voices never trained on: speakers in a seeded order that fit within the share,
    then the one that brings the count nearest it (at least one example; never every speaker). With a
    single speaker, examples are drawn one by one."""
    if fraction <= 0 or len(examples) < 2:
        return list(examples), []
    n_eval = max(1, int(round(fraction * len(examples))))
    groups = [e.speaker if e.speaker is not None else f"\0{i}" for i, e in enumerate(examples)]
    if len(set(groups)) < 2:
        groups = [str(i) for i in range(len(examples))]
    sizes = Counter(groups)
    names = list(sizes)  # first seen first: the seeded order below is a function of the file alone
    order = [names[int(i)] for i in np.random.default_rng([seed, 7]).permutation(len(names))]
    held: set[str] = set()
    count = 0
    for name in order:
        if count + sizes[name] <= n_eval and len(held) < len(names) - 1:
            held.add(name)
            count += sizes[name]
    rest = [name for name in order if name not in held]
    if count < n_eval and rest and len(held) < len(names) - 1:
        nearest = min(rest, key=lambda name: abs(count + sizes[name] - n_eval))  # ties: earlier in the order
        if count == 0 or abs(count + sizes[nearest] - n_eval) <= n_eval - count:
            held.add(nearest)
    return [e for e, g in zip(examples, groups) if g not in held], [e for e, g in zip(examples, groups) if g in held]


__all__ = ["SFTExample", "load_sft_file", "split_eval"]
