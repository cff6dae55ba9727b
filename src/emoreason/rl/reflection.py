"""EMO-R3 reflective reward: the policy answers two questions about its own reasoning.

What METHOD.md §2 says: after the rollouts, the *current policy itself* (no external judge,
no gradient) answers two extra questions per rollout:

- emotional coherence: shown only the text of step1..step2 (no image), "Which emotion best
  describes the text above? Answer with one category: <label list>" (reward 1 if it names the
  gold label, 0.5 if empty or unparseable, else 0);
- visual-text consistency: shown the image and the step1 text, "Can the following text
  describe the image? Answer yes or no." (1 yes, 0 no, 0.5 otherwise).

The answers only shape the reward (`ReflectionAnswers` -> `CompositeReward.emor3()`); they are
not trained on. The paper's code samples them at temperature 0.6, top_p 0.95.

Our choices:

- the conversation is a single user message, no system prompt: the reasoning text, a blank
  line, then the question;
- which parts are "step1..step2" and "step1" for other formats: each format says so
  (`ReasoningFormat.reflection_parts`); c2f and r1 have one reasoning part, ``think``, used
  for both questions;
- a rollout whose reasoning parts did not parse is still asked, on whatever reasoning text
  precedes its answer (`reasoning_text`), so every rollout of a group gets the same reward
  components (see `reasoning_text` for why that matters);
- consistency is asked only when the sample has an image; a task without labels gets no
  coherence question;
- 16 new tokens per answer (a category or yes/no needs a few), one batched `generate` call per
  question kind.

`reflect` is the only function that touches a model; the rest are pure.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pydantic import Field

from emoreason.config_loader import Section
from emoreason.data.schema import Sample, TaskInfo
from emoreason.formats import answer_start, get_format
from emoreason.formats.base import ParseResult
from emoreason.generation.engine import GenerationBackend
from emoreason.generation.params import SamplingParams
from emoreason.models.families.base import Conversation
from emoreason.rewards.composite import ReflectionAnswers

COHERENCE_QUESTION = "Which emotion best describes the text above? Answer with one category: {labels}."
CONSISTENCY_QUESTION = "Can the following text describe the image? Answer yes or no."


class ReflectionConfig(Section):
    """Whether and how the policy reflects (the `reflection` section of a GRPO recipe). Off by
    default: it costs two extra generation passes per step and only EMO-R3's reward uses it."""

    enabled: bool = Field(False, description="EMO-R3 reflective reward (needs coherence/consistency weights).")
    coherence: bool = True
    consistency: bool = Field(True, description="Only asked when the sample has an image.")
    temperature: float = Field(0.6, gt=0.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_new_tokens: int = Field(16, ge=1)

    def sampling_params(self, seed: int | None = None) -> SamplingParams:
        return SamplingParams(
            n=1, temperature=self.temperature, top_p=self.top_p, max_new_tokens=self.max_new_tokens, seed=seed
        )


def reflection_parts(fmt_name: str, parsed: ParseResult | None = None) -> tuple[tuple[str, ...], str]:
    """(coherence parts, consistency part) for a format: the format's `reflection_parts`, or
    else all the reasoning parts its parse found, and the first of them for consistency."""
    known = get_format(fmt_name).reflection_parts
    if known is not None:
        return known
    found = tuple(parsed.reasoning) if parsed is not None else ()
    if not found:
        raise ValueError(f"format {fmt_name!r} declares no reflection_parts and its parse found no reasoning part")
    return found, found[0]


def reasoning_text(parsed: ParseResult, completion: str, parts: Sequence[str]) -> str:
    r"""The reasoning a reflection question is asked about.

    The non-empty `parts` that parsed, stripped and joined with newlines. If none of them
    parsed: the completion up to its answer (the first of any format's `answer_markers`:
    ``\boxed{``, ``<score>``, ``<answer>``, ``<step3>``), stripped. For a prefix-hinted rollout
    pass the prefix + completion.

    Why always ask, even on unparsed reasoning (our choice): the composite reward leaves a
    None component out without renormalising, which is fair only if every rollout of a GRPO
    group has the same components. Skipping the broken rollouts would give them a lower
    maximum for a reason unrelated to the reflection; asking keeps the group comparable, and
    the broken rollout is already penalised by its format and accuracy rewards.
    """
    texts = [parsed.reasoning[p].strip() for p in parts if parsed.reasoning.get(p, "").strip()]
    if texts:
        return "\n".join(texts)
    text = completion if isinstance(completion, str) else ""
    end = answer_start(text)
    return (text[:end] if end is not None else text).strip()


def _ask(text: str, question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{text}\n\n{question}"}]


def coherence_conversation(
    parsed: ParseResult, completion: str, task: TaskInfo, fmt_name: str | None = None
) -> Conversation | None:
    """Text only (no media): the step1..step2 text (c2f, r1: the think text) then the coherence
    question listing `task.labels`. None when the task has no labels. `fmt_name` defaults to
    the format that produced `parsed`."""
    if not task.labels:
        return None
    parts, _ = reflection_parts(fmt_name or parsed.format, parsed)
    question = COHERENCE_QUESTION.format(labels=", ".join(task.labels))
    return Conversation(messages=_ask(reasoning_text(parsed, completion, parts), question))


def consistency_conversation(
    parsed: ParseResult, completion: str, image: str | None, fmt_name: str | None = None
) -> Conversation | None:
    """The image, the step1 text (c2f, r1: the think text) and the consistency question.
    None when there is no image."""
    if image is None:
        return None
    _, part = reflection_parts(fmt_name or parsed.format, parsed)
    return Conversation(messages=_ask(reasoning_text(parsed, completion, (part,)), CONSISTENCY_QUESTION), image=image)


def _answer_all(
    engine: GenerationBackend, conversations: list[Conversation | None], params: SamplingParams
) -> list[str | None]:
    """One batched generate call for the conversations that are not None; None where not asked."""
    asked = [(i, c) for i, c in enumerate(conversations) if c is not None]
    answers: list[str | None] = [None] * len(conversations)
    if not asked:
        return answers
    outputs = engine.generate([c for _, c in asked], params)
    if len(outputs) != len(asked):
        raise RuntimeError(f"the generation backend returned {len(outputs)} results for {len(asked)} prompts")
    for (i, _), completions in zip(asked, outputs, strict=True):
        answers[i] = completions[0].text if completions else ""
    return answers


def reflect(
    engine: GenerationBackend,
    items: Sequence[tuple[ParseResult, str, Sample]],
    task: TaskInfo,
    fmt_name: str,
    config: ReflectionConfig,
    seed: int | None = None,
) -> list[ReflectionAnswers]:
    """The policy's answers to the reflection questions, one `ReflectionAnswers` per
    (parsed rollout, completion text, sample) item; a field is None where it was not asked
    (config off, no labels, no image).

    Each question kind is answered in one `engine.generate` call over all items, with
    ``SamplingParams(n=1, temperature, top_p, max_new_tokens, seed)``. No gradient: the
    TransformersEngine already decodes under `torch.inference_mode`; `torch.no_grad` here
    covers other backends.
    """
    if not config.enabled:
        return [ReflectionAnswers() for _ in items]
    params = config.sampling_params(seed)
    with torch.no_grad():
        coherence: list[str | None] = [None] * len(items)
        if config.coherence:
            coherence = _answer_all(engine, [coherence_conversation(p, c, task, fmt_name) for p, c, _ in items], params)
        consistency: list[str | None] = [None] * len(items)
        if config.consistency:
            consistency = _answer_all(
                engine, [consistency_conversation(p, c, s.image, fmt_name) for p, c, s in items], params
            )
    return [ReflectionAnswers(coherence=a, consistency=b) for a, b in zip(coherence, consistency, strict=True)]
