"""Teachers: whatever writes a reasoning chain for a training sample.

A teacher answers `TeacherRequest`s (the chat messages a student would see, plus the sample's
media and, in rationalization mode, the gold answer) with `TeacherReply`s. Four kinds:

- `lexicon`: the deterministic VADER-lexicon writer (text, C2F), for demos and tests;
- `hf`: a local model through the generation engine, batched;
- `openai`: any OpenAI-compatible chat endpoint (`emoreason.distill.openai_teacher`);
- `cues`: label chains from measured voice/face cues (`emoreason.distill.cue_teacher`).

`make_teacher(cfg, task)` builds the one a distillation recipe names.

Teachers report each reply through `on_reply(index, reply)` as soon as it exists, so the
runner can cache it on disk before the next one: an interrupted run loses nothing.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emoreason.data.schema import Sample, TaskInfo
from emoreason.formats import format_number
from emoreason.formats.base import Message, ReasoningFormat

if TYPE_CHECKING:
    from emoreason.distill.config import DistillConfig

OnReply = Callable[[int, "TeacherReply"], None]


@dataclass(frozen=True)
class TeacherRequest:
    sample: Sample
    messages: list[Message]  # system + user, plain text; media travel in `sample`
    gold: dict[str, Any] | None = None  # set in rationalization mode: the answer to explain


@dataclass(frozen=True)
class TeacherReply:
    text: str | None  # None when the request failed for good
    error: str | None = None
    # a filter reason (`filter.REASONS`) where the teacher had nothing to answer from, so the request did not fail:
    # "no_cues", "no_text", "no_gold". None: `distill` files a reply without text under "request_failed"
    reason: str | None = None
    attempts: int = 1
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.text is not None


def rationalization_messages(messages: list[Message], gold: dict[str, Any], fmt: ReasoningFormat) -> list[Message]:
    """STaR-style rationalization: the user turn also gives the gold answer and asks for the
    reasoning that leads to it. The student never sees this sentence (its SFT prompt is the
    plain one)."""
    parts = []
    if gold.get("polarity"):
        parts.append(f"polarity {gold['polarity']}")
    if gold.get("score") is not None:
        parts.append(f"score {gold['score']:g}")
    if gold.get("label"):
        parts.append(f"label {gold['label']}")
    note = (
        f"\n\nThe correct answer is {', '.join(parts)}. Write the {fmt.name} answer that reaches it, "
        "reasoning from the cues themselves; do not mention that you were told the answer."
    )
    out = copy.deepcopy(messages)
    out[-1]["content"] = str(out[-1]["content"]) + note
    return out


class Teacher(ABC):
    #: registry name, recorded in every SFT record and cache key
    name: str
    #: the model behind it (or a fixed string for the lexicon teacher)
    model: str
    #: whether its answer to one request depends on the other requests it is given (a model fitted on them,
    #: as the cues teacher's): then every run asks it for all of them, cached answers or not
    answers_depend_on_the_set: bool = False

    def params(self) -> dict[str, Any]:
        """Everything besides the prompt that changes the answer (part of the cache key)."""
        return {}

    def check_samples(self, samples: Sequence[Sample]) -> None:
        """Raise ValueError, before anything is asked, when the teacher cannot answer these samples at all."""

    @abstractmethod
    def run(self, requests: Sequence[TeacherRequest], on_reply: OnReply) -> None:
        """Answer every request; call `on_reply(i, reply)` once per request, in any order."""


class LexiconTeacher(Teacher):
    """Writes C2F chains from the VADER lexicon (see `emoreason.distill.lexicon`)."""

    name = "lexicon"
    model = "vader-lexicon"

    def __init__(self, fmt: ReasoningFormat, task: TaskInfo):
        if fmt.name != "c2f":
            raise ValueError(f"the lexicon teacher writes c2f chains only, not {fmt.name}")
        if task.scale is None:
            raise ValueError(f"the lexicon teacher needs a score task; {task.name} has labels")
        self.format, self.task = fmt, task

    def run(self, requests: Sequence[TeacherRequest], on_reply: OnReply) -> None:
        from emoreason.distill.lexicon import analyse_text, render_chain

        for index, request in enumerate(requests):
            sample = request.sample
            if not sample.text.strip():
                on_reply(
                    index, TeacherReply(None, "the lexicon teacher needs text; this sample has none", reason="no_text")
                )
                continue
            analysis = analyse_text(sample.text)
            if request.gold is not None and request.gold.get("score") is not None:
                # the gold as the answer's <score> writes it, so the chain's "about N" and the
                # polarity read off it agree with that tag (a rater mean has many decimals)
                score = float(format_number(float(request.gold["score"]), self.format.score_decimals))
                polarity = self.task.score_polarity(score)
            else:
                score = analysis.score(self.task)
                polarity = self.task.score_polarity(score)
            chain = render_chain(analysis, self.task, polarity, score, rationalized=request.gold is not None)
            text = self.format.render_target(self.task, reasoning=chain, polarity=polarity, score=score)
            on_reply(index, TeacherReply(text))


class HFTeacher(Teacher):
    """A local model (any family `load_model` takes) answering through the generation engine."""

    name = "hf"

    def __init__(
        self,
        model: str,
        adapter: list[str] | None = None,
        *,
        max_new_tokens: int = 512,
        temperature: float = 0.0,
        top_p: float = 1.0,
        batch_size: int = 8,
        stop_strings: tuple[str, ...] = (),
        family: str = "auto",
        dtype: str = "auto",
        device: str = "auto",
        seed: int = 0,
    ):
        self.model = model + (f"+{','.join(adapter)}" if adapter else "")
        self._spec = (model, adapter, family, dtype, device)
        self.max_new_tokens, self.temperature, self.top_p = max_new_tokens, temperature, top_p
        self.batch_size, self.stop_strings, self.seed = batch_size, stop_strings, seed
        self._engine: Any = None

    def params(self) -> dict[str, Any]:
        return {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
        }

    def _load(self) -> Any:
        if self._engine is None:
            from emoreason.generation import TransformersEngine
            from emoreason.models import load_model

            model, adapter, family, dtype, device = self._spec
            self._engine = TransformersEngine(
                load_model(model, adapter, family=family, dtype=dtype, device=device), batch_size=self.batch_size
            )
        return self._engine

    def run(self, requests: Sequence[TeacherRequest], on_reply: OnReply) -> None:
        from emoreason.generation import SamplingParams
        from emoreason.models.families.base import Conversation

        if not requests:
            return
        engine = self._load()
        params = SamplingParams(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop_strings=self.stop_strings,
            seed=self.seed,
        )
        for start in range(0, len(requests), self.batch_size):
            chunk = list(requests[start : start + self.batch_size])
            conversations = [
                Conversation(messages=r.messages, image=r.sample.image, video=r.sample.video, audio=r.sample.audio)
                for r in chunk
            ]
            # each batch its own numbers (a sampling teacher drew the same ones for every batch), the same on a rerun
            outputs = engine.generate(conversations, params.for_batch([r.sample.id for r in chunk]))
            for offset, out in enumerate(outputs):
                completion = out[0]
                usage = {"completion_tokens": completion.num_tokens}
                on_reply(start + offset, TeacherReply(completion.text, usage=usage))


def make_teacher(cfg: DistillConfig, task: TaskInfo, *, api_key: str | None = None) -> Teacher:
    """The teacher that `cfg.teacher.name` names, set up from the recipe for `task`. The API key is
    an argument, not a recipe key, so that no dumped config holds it (None: `$OPENAI_API_KEY`).
    Raises `ValueError` for a teacher that cannot serve this format or task, or lacks its model."""
    from emoreason.formats import get_format

    fmt, teacher = get_format(cfg.data.format), cfg.teacher
    if teacher.name == "lexicon":
        return LexiconTeacher(fmt, task)
    if teacher.name == "cues":
        from emoreason.distill.cue_teacher import CueTeacher  # imports the cue extractors

        return CueTeacher(fmt, task, specs=cfg.data.specs)
    if teacher.name == "hf":
        return HFTeacher(
            teacher.model or "default",
            teacher.adapters,
            max_new_tokens=teacher.max_new_tokens,
            temperature=teacher.temperature,
            batch_size=teacher.batch_size,
            stop_strings=fmt.stop_strings,
        )
    if not teacher.model:
        raise ValueError("the openai teacher needs teacher.model (--model: the model name the endpoint serves)")
    from emoreason.distill.openai_teacher import OpenAITeacher, RetryPolicy

    return OpenAITeacher(
        teacher.model,
        teacher.base_url,
        api_key,
        max_tokens=teacher.max_new_tokens,
        temperature=teacher.temperature,
        concurrency=teacher.concurrency,
        timeout=teacher.timeout,
        retry=RetryPolicy(max_attempts=teacher.max_attempts),
    )


__all__ = [
    "HFTeacher",
    "LexiconTeacher",
    "OnReply",
    "Teacher",
    "TeacherReply",
    "TeacherRequest",
    "make_teacher",
    "rationalization_messages",
]
