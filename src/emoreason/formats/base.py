"""The contract every reasoning format fulfils: prompts, gold targets, and a parser.

A format never raises on model text: `parse` always returns a `ParseResult` whose `errors`
say which part failed and why.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from emoreason.data.schema import Polarity, Sample, TaskInfo

Message = dict[str, Any]


#: the error of a part the generation's token limit stopped inside (`ReasoningFormat.parse(cut=True)`)
CUT_OFF = "cut off at the token limit"


@dataclass(frozen=True, slots=True)
class ParseError:
    part: str  # e.g. "polarity", "think", "score", "step2", "boxed", "structure"
    message: str

    def __str__(self) -> str:
        return f"{self.part}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What a model's completion said, part by part.

    `ok` is true only when every part the format requires parsed and the score (if any) lies
    in the task's scale. An out-of-range score is kept as written (never clipped silently)
    and flagged with `score_out_of_range` plus an error entry.
    """

    format: str
    ok: bool
    polarity: Polarity | None = None
    score: float | None = None
    label: str | None = None
    reasoning: dict[str, str] = field(default_factory=dict)
    errors: tuple[ParseError, ...] = ()
    score_out_of_range: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "parse_ok": self.ok,
            "polarity": self.polarity,
            "score": self.score,
            "label": self.label,
            "reasoning": dict(self.reasoning),
            "errors": [str(e) for e in self.errors],
            "score_out_of_range": self.score_out_of_range,
        }


class ReasoningFormat(ABC):
    """A reasoning template: how to ask, what a gold answer looks like, how to read one."""

    #: registry name ("c2f", "emor3", "r1")
    name: str
    #: the tag or text after which generation may stop
    stop_strings: tuple[str, ...] = ()
    #: whether `hint_prefix` gives a real assistant-turn prefix; formats without a leading
    #: polarity part return "" and hint-guided sampling falls back to the prompt hint
    supports_prefix_hint: bool = False
    #: EMO-R3 reflection (METHOD.md §2): the reasoning parts shown to the coherence question
    #: ("step1..step2") and the part shown to the consistency question ("step1"); None: the
    #: parts a parse found are used
    reflection_parts: tuple[tuple[str, ...], str] | None = None
    #: regexes of where the answer begins (the final score or label, or a part that already
    #: gives the judgement away): text shown to a reflection question stops before them
    answer_markers: tuple[str, ...] = ()

    @abstractmethod
    def system_prompt(self, task: TaskInfo) -> str:
        """Instructions that describe the output structure for this task's scale/labels."""

    @abstractmethod
    def user_prompt(self, sample: Sample, task: TaskInfo, hint: Polarity | None = None, cues: str | None = None) -> str:
        """The user turn: the sample's text, which media are attached, optional cue text,
        and (hint mode `prompt`) a sentence giving the gold polarity."""

    def messages(
        self, sample: Sample, task: TaskInfo, hint: Polarity | None = None, cues: str | None = None
    ) -> list[Message]:
        """Chat messages (system + user) in the plain-text OpenAI form."""
        return [
            {"role": "system", "content": self.system_prompt(task)},
            {"role": "user", "content": self.user_prompt(sample, task, hint=hint, cues=cues)},
        ]

    @abstractmethod
    def render_target(
        self,
        task: TaskInfo,
        *,
        reasoning: dict[str, str] | str,
        polarity: Polarity | None = None,
        score: float | None = None,
        label: str | None = None,
    ) -> str:
        """A gold completion for SFT."""

    @abstractmethod
    def hint_prefix(self, polarity: Polarity) -> str:
        """The assistant-turn prefix used by hint mode `prefix` (e.g. `<polarity>negative</polarity>`)."""

    @abstractmethod
    def parse(self, text: str, task: TaskInfo | None = None, cut: bool = False) -> ParseResult:
        """Read a completion; never raises. `cut`: the generation stopped at its token limit, so a part
        left open at the end is cut off, not finished (`_tags.scan_tags`)."""
