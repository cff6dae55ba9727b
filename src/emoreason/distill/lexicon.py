"""The `lexicon` teacher: a deterministic, CPU-only writer of grounded C2F chains for text.

It is what its name says: no language model, only the VADER lexicon (Hutto & Gilbert 2014,
valences on the same -4..+4 scale as the VADER human ratings) and VADER's rules for negation,
intensifiers, contrast and emphasis. Every cue it cites is a word or mark that occurs in the
sentence, with the number that made it a cue, so each chain can be checked against its input.

    analysis = analyse_text("Not bad at all, though the sequel felt a little rushed.")
    chain = render_chain(analysis, task)              # {"text": ..., "combined": ...}

The predicted score is VADER's compound value (-1..1) scaled to the task's scale; it is a
lexicon's judgment, so the distillation filter keeps only chains that agree with the gold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from emoreason.data.schema import Polarity, TaskInfo
from emoreason.metrics.valence import (
    NEGATION_SCALAR,
    balance_sentence,
    capitalised_cues,
    cue_valence,
    negation_before,
    rationale_sentence,
    signed,
    vader_boosters,
    vader_words,
)

CONTRAST_WORDS = ("but", "however", "though", "although", "yet", "nevertheless", "except")


@dataclass(frozen=True, slots=True)
class WordCue:
    word: str  # as written in the sentence
    valence: float  # the lexicon's valence, -4..4
    negated_by: str | None = None
    intensified_by: str | None = None
    after_contrast: bool = False

    @property
    def effective(self) -> float:
        """The word's direction after negation (VADER scales a negated valence by -0.74)."""
        return NEGATION_SCALAR * self.valence if self.negated_by else self.valence


@dataclass(frozen=True, slots=True)
class LexiconAnalysis:
    text: str
    words: tuple[WordCue, ...]
    contrast: str | None  # the contrast word, as written, if any
    exclamations: int
    questions: int
    capitalised: tuple[str, ...]  # ALL-CAPS sentiment words (VADER's emphasis rule)
    compound: float  # VADER's normalised sentence score, -1..1
    extra: dict[str, Any] = field(default_factory=dict)

    def score(self, task: TaskInfo) -> float:
        """The compound value mapped linearly onto the task's scale (rounded to 0.1)."""
        if task.scale is None:
            raise ValueError(f"the lexicon teacher needs a score scale; task {task.name!r} has none")
        low, high = task.scale
        middle, half = (low + high) / 2, (high - low) / 2
        return round(middle + self.compound * half, 1)


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def analyse_text(text: str) -> LexiconAnalysis:
    analyser = _vader()
    lexicon: dict[str, float] = analyser.lexicon
    boosters = vader_boosters()
    words = vader_words(text)
    lowered = [w.lower() for w in words]
    contrast_at = next((i for i, w in enumerate(lowered) if w in CONTRAST_WORDS), None)
    cues: list[WordCue] = []
    for i, word in enumerate(words):
        valence = cue_valence(word, lexicon)
        if valence is None:
            continue
        at = negation_before(lowered, i)
        negated = words[at] if at is not None else None
        booster = words[i - 1] if i > 0 and lowered[i - 1] in boosters else None
        cues.append(WordCue(word, valence, negated, booster, contrast_at is not None and i > contrast_at))
    capitalised = capitalised_cues(words, lexicon)
    return LexiconAnalysis(
        text=text,
        words=tuple(cues),
        contrast=words[contrast_at] if contrast_at is not None else None,
        exclamations=text.count("!"),
        questions=text.count("?"),
        capitalised=tuple(capitalised),
        compound=float(analyser.polarity_scores(text)["compound"]),
    )


def _quote(word: str) -> str:
    """Cited words go in double quotes: words of the sentence may hold apostrophes (don't)."""
    return f'"{word}"'


def _cue_phrase(cue: WordCue) -> str:
    phrase = f"{_quote(cue.word)} ({signed(cue.valence)})"
    if cue.intensified_by:
        phrase += f", strengthened by {_quote(cue.intensified_by)}"
    if cue.negated_by:
        phrase += f", negated by {_quote(cue.negated_by)} so it reads {signed(cue.effective)}"
    return phrase


def _strength(score: float, task: TaskInfo) -> str:
    assert task.scale is not None
    share = abs(score - sum(task.scale) / 2) / ((task.scale[1] - task.scale[0]) / 2)
    if share >= 0.6:
        return "strongly"
    if share >= 0.3:
        return "clearly"
    return "mildly"


def render_chain(
    analysis: LexiconAnalysis, task: TaskInfo, polarity: Polarity, score: float, rationalized: bool = False
) -> dict[str, str]:
    """The C2F reasoning parts: what the words say (cue by cue), then how they combine into the
    given polarity and score. With `rationalized`, the polarity/score are the gold ones and the
    combined part says where the lexicon cues disagree with them."""
    positive = [c for c in analysis.words if c.effective > 0]
    negative = [c for c in analysis.words if c.effective < 0]
    sentences = []
    if positive:
        sentences.append("Positive cues: " + "; ".join(_cue_phrase(c) for c in positive) + ".")
    if negative:
        sentences.append("Negative cues: " + "; ".join(_cue_phrase(c) for c in negative) + ".")
    if not analysis.words:
        sentences.append("No word in the sentence carries sentiment in the lexicon; the wording is factual.")
    if analysis.contrast:
        after = [c.word for c in analysis.words if c.after_contrast]
        weight = f" ({', '.join(_quote(w) for w in after)})" if after else ""
        sentences.append(
            f"The contrast word {_quote(analysis.contrast)} shifts the weight to the clause after it{weight}."
        )
    emphasis = []
    if analysis.exclamations:
        emphasis.append(f"{analysis.exclamations} exclamation mark{'s' if analysis.exclamations > 1 else ''}")
    if analysis.capitalised:
        emphasis.append("capitals on " + ", ".join(_quote(w) for w in analysis.capitalised))
    if emphasis:
        sentences.append("Emphasis: " + " and ".join(emphasis) + " raise the intensity.")
    if analysis.questions:
        sentences.append("A question mark makes part of it a question rather than a statement.")

    lexicon_polarity = task.score_polarity(analysis.score(task))
    balance = balance_sentence([c.effective for c in positive], [c.effective for c in negative])
    verdict = (
        f"Overall the sentiment is {_strength(score, task) + ' ' if polarity != 'neutral' else ''}"
        f"{polarity}, about {score:g} on the {task.scale[0]:g}..{task.scale[1]:g} scale."
        if task.scale
        else f"Overall the sentiment is {polarity}."
    )
    if rationalized and polarity != lexicon_polarity:
        balance += " " + rationale_sentence(lexicon_polarity, polarity)
    return {"text": " ".join(sentences), "combined": f"{balance} {verdict}"}


_WORD_CHARS = re.compile(r"[\w']+")


def cue_words(analysis: LexiconAnalysis) -> list[str]:
    """Every word the chain cites (sentiment words, their modifiers, the contrast word)."""
    cited = []
    for cue in analysis.words:
        cited.append(cue.word)
        cited.extend(w for w in (cue.negated_by, cue.intensified_by) if w)
    if analysis.contrast:
        cited.append(analysis.contrast)
    return cited


__all__ = ["CONTRAST_WORDS", "LexiconAnalysis", "WordCue", "analyse_text", "cue_words", "render_chain"]
