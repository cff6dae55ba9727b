"""Which words a judgment rests on: each whitespace token of the input taken out in turn, and the
polarity probabilities read again.

A C2F answer states its polarity first and writes its chain after it, and the score it reports is read
mostly off the probabilities the model gives the three polarity words at that point (`formats.readout`).
The words the judgment rests on are then those whose removal moves those probabilities. For each
whitespace token of the input (the unit of `metrics.faithfulness`; "rushed." is one), the input without
it, its spaces collapsed, is asked again up to the polarity word (no answer is generated:
`generation.logprobs.choice_logprobs`), and

    reading(p) = P(positive) - P(negative)                                  in [-1, 1]
    shift      = reading(the input) - reading(the input without the token)  in [-2, 2]

A positive shift: the token pulls the judgment toward positive; negative, toward negative. Tokens are
ranked by |shift|, largest first (ties in input order).

This is what the model acts on, measured, where the chain is what it says it acts on: a token the chain
never cites may lead the ranking (context, irony, a word the lexicon does not rate). Occlusion's known
blind spot: words that each suffice alone ("awful, dreadful") each shift little, since the other still
carries the judgment; a small shift is not proof that a word does not matter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emoreason.metrics.faithfulness import TOKEN, delete_tokens


@dataclass(frozen=True)
class WordShift:
    """One token of the input and how far it moves the judgment (module doc).

    `start` and `end` count Unicode code points, as Python indexes a str: `text[start:end] == word`.
    A client whose strings count UTF-16 code units (JavaScript, Java, C#) must convert them: a character
    beyond the Basic Multilingual Plane (most emoji, some CJK) is one code point but two units there, so
    every offset after one is off by one per such character. (In JavaScript, `Array.from(text)` splits a
    string by code point: the server's page indexes the evidence spans, which count the same way, with it.)"""

    word: str  # the token as the input writes it
    start: int  # code-point offsets of the token in the input (not UTF-16 units: see above)
    end: int
    shift: float  # reading(the input) - reading(without it)
    without: dict[str, float]  # the polarity probabilities without it

    def to_dict(self) -> dict[str, Any]:
        """As audit records carry it (`attribution`): shift to three decimals, probabilities to four."""
        return {
            "word": self.word,
            "start": self.start,
            "end": self.end,
            "shift": round(self.shift, 3),
            "without": {p: round(v, 4) for p, v in self.without.items()},
        }


def occlusions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, the text without it) for each whitespace token of `text`, in order; spaces
    collapsed as `metrics.faithfulness` collapses them."""
    tokens = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
    return [(start, end, delete_tokens(text, tokens, {i})) for i, (start, end) in enumerate(tokens)]


def reading(probs: Mapping[str, float]) -> float:
    """P(positive) - P(negative)."""
    return probs.get("positive", 0.0) - probs.get("negative", 0.0)


def word_shifts(text: str, probs: Mapping[str, float], without: Sequence[Mapping[str, float]]) -> list[WordShift]:
    """The tokens of `text` ranked by how far each moves the judgment: `probs` are the polarity
    probabilities for `text`, `without[i]` those for `text` without its i-th token (`occlusions`)."""
    spans = occlusions(text)
    if len(spans) != len(without):
        raise ValueError(f"{len(spans)} tokens in the text but {len(without)} probabilities without one")
    base = reading(probs)
    shifts = [
        WordShift(text[start:end], start, end, base - reading(p), dict(p))
        for (start, end, _), p in zip(spans, without, strict=True)
    ]
    return sorted(shifts, key=lambda s: (-round(abs(s.shift), 9), s.start))  # rounded: float noise is no rank


def is_cited(token: Mapping[str, Any], spans: Sequence[Mapping[str, Any]]) -> bool:
    """Whether one of `spans` (an audit record's `citations.spans`) in the text overlaps `token` (an item of
    its `attribution`): the chain cites that word, or a phrase with it."""
    in_text = (s for s in spans if s.get("field", "text") == "text")
    return any(s["start"] < token["end"] and token["start"] < s["end"] for s in in_text)


def leading_word_cited(
    shifts: Sequence[Mapping[str, Any]], spans: Sequence[Mapping[str, Any]], min_shift: float = 0.1
) -> bool | None:
    """Whether the chain cites the word the judgment rests on most: the first of `shifts` (an audit
    record's `attribution`, ranked) is touched by one of `spans` (its `citations.spans` in the text).
    None when no token moves the reading by `min_shift` or more: nothing leads."""
    if not shifts or abs(shifts[0]["shift"]) < min_shift:
        return None
    return is_cited(shifts[0], spans)


def attribution_summary(
    answers: Sequence[tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]], min_shift: float = 0.1
) -> dict[str, Any]:
    """Figures over answers, each (its ranked `attribution`, its `citations.spans`): `n_answers`;
    `n_leading`, the answers with a leading word (`leading_word_cited` defined); over those,
    `leading_word_cited` (the share whose chain cites it) and `chance` (the mean share of their tokens the
    chain cites: what a leading word drawn at random would give); over the answers whose chain cites some
    of their tokens and not all, `mean_shift_cited` and `mean_shift_uncited`, the mean over answers of each
    group's mean |shift|. A share or mean over no answers is None."""
    cited, chance, shift_cited, shift_uncited = [], [], [], []
    for ranked, spans in answers:
        touched = [is_cited(token, spans) for token in ranked]
        lead = leading_word_cited(ranked, spans, min_shift)
        if lead is not None:
            cited.append(lead)
            chance.append(sum(touched) / len(touched))
        if any(touched) and not all(touched):
            sizes = [abs(a["shift"]) for a in ranked]
            shift_cited.append(_mean([x for x, t in zip(sizes, touched, strict=True) if t]))
            shift_uncited.append(_mean([x for x, t in zip(sizes, touched, strict=True) if not t]))
    return {
        "n_answers": len(answers),
        "n_leading": len(cited),
        "min_shift": min_shift,
        "leading_word_cited": _mean([float(c) for c in cited]),
        "chance": _mean(chance),
        "mean_shift_cited": _mean(shift_cited),
        "mean_shift_uncited": _mean(shift_uncited),
    }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


__all__ = ["WordShift", "attribution_summary", "is_cited", "leading_word_cited", "occlusions", "reading", "word_shifts"]
