"""Reading a score off an answer: the number it wrote, or that number weighted by how sure the
model was of the polarity it wrote first.

Why: on the shipped VADER model, the written magnitude carries almost nothing beyond the
polarity (Pearson r of the written scores 0.674 on tweets valid; of -1/0/+1 by polarity alone
0.661), while the probability the model gave its polarity word does: an unsure "positive" is,
on average, a weaker positive. `confidence` multiplies the written score by that probability
and keeps the result on the written polarity's side of the neutral band, so the answer's
polarity, and every class metric, stay what the chain says; only the number moves toward 0
when the model hesitated (RESULTS, "Reading the score off the polarity's probability").

    choice = polarity_choice(tokenizer, fmt)        # {"positive": id, ...} or None
    params = SamplingParams(..., choice_tokens=tuple(choice.values()))
    probs = polarity_probs(completion.choice_probs, choice)
    score = confidence_weighted_score(parsed.score, parsed.polarity, probs, task)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emoreason.data.schema import POLARITIES, Polarity, TaskInfo
from emoreason.formats.base import ReasoningFormat

#: how a score is read off an answer: `confidence` (default) or `written`
SCORE_READOUTS: tuple[str, ...] = ("confidence", "written")


def effective_readout(score_readout: str, fmt: ReasoningFormat, task: TaskInfo) -> str:
    """The readout `score_readout` amounts to for this format and task: `confidence` needs a
    scored task and a format that writes its polarity first; anything else is read as written.
    Raises ValueError for an unknown name."""
    if score_readout not in SCORE_READOUTS:
        raise ValueError(f"score readout must be one of {', '.join(SCORE_READOUTS)}, got {score_readout!r}")
    if score_readout == "confidence" and task.is_regression and fmt.supports_prefix_hint:
        return "confidence"
    return "written"


def polarity_choice(tokenizer: Any, fmt: ReasoningFormat) -> dict[Polarity, int] | None:
    """The token id that starts each polarity word where the format writes it, or None when the
    format writes no leading polarity (`supports_prefix_hint`) or the tokenizer does not tell the
    three words apart at one token after the same prefix."""
    if not fmt.supports_prefix_hint:
        return None
    encoded = {p: tokenizer(fmt.hint_prefix(p), add_special_tokens=False)["input_ids"] for p in POLARITIES}
    width = min(len(ids) for ids in encoded.values())
    at = next((i for i in range(width) if len({ids[i] for ids in encoded.values()}) > 1), None)
    if at is None or any(ids[:at] != encoded[POLARITIES[0]][:at] for ids in encoded.values()):
        return None
    starts = {p: ids[at] for p, ids in encoded.items()}
    return starts if len(set(starts.values())) == len(POLARITIES) else None


def polarity_probs(
    choice_probs: Mapping[int, float] | None, choice: Mapping[Polarity, int] | None
) -> dict[Polarity, float] | None:
    """`Completion.choice_probs` keyed by polarity word; None when either is missing."""
    if not choice_probs or not choice:
        return None
    return {p: float(choice_probs[token]) for p, token in choice.items() if token in choice_probs} or None


def confidence_weighted_score(
    score: float, polarity: Polarity | None, probs: Mapping[Polarity, float] | None, task: TaskInfo
) -> float:
    """`score` times the probability of the written `polarity`, kept on that polarity's side of
    the task's neutral band (at the band's edge when the product would fall inside it).

    The written score comes back unchanged when there is nothing to weigh it by: no
    probabilities, no polarity, or a score whose side of the band disagrees with the written
    polarity (an inconsistent answer is reported as written, not repaired)."""
    if probs is None or polarity not in probs or task.score_polarity(score) != polarity:
        return score
    weighted = score * probs[polarity]
    if task.score_polarity(weighted) == polarity:
        return weighted
    if polarity == "neutral":  # a band that does not hold 0 (never seen): leave the answer alone
        return score
    band = task.neutral
    # the nearest value on the polarity's side: the edge itself when the band leaves it open
    step = task.scale_range / 1000 if task.scale is not None else 1e-3
    if polarity == "positive":
        return band.high + (step if band.high_closed else 0.0)
    return band.low - (step if band.low_closed else 0.0)


__all__ = ["SCORE_READOUTS", "confidence_weighted_score", "effective_readout", "polarity_choice", "polarity_probs"]
