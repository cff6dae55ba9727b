"""Which of several sampled answers to one question speaks for them all (`votes`).

Asking the model k times at a temperature above 0 and keeping the answer most chains agree on
(self-consistency) trades k times the generation for a steadier answer. What is kept is one
of the chains, unedited, so the explanation still reads as the model wrote it and its score is
the one its own chain concludes:

1. the answers that parsed vote with their label (label tasks) or polarity (score tasks); the
   most common wins, a tie going to the value whose first vote came first;
2. among the winners, the one whose score is nearest the winners' median score (the first such
   one on a tie; the first winner for label tasks) is the answer.

No answer parsed: the first answer stands, with no votes.

`vote_temperature` is the sampling temperature a number of votes asks for: greedy for one
answer, `VOTE_TEMPERATURE` for several unless one is given (RESULTS, "Votes").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emoreason.formats.base import ParseResult

#: the temperature several votes sample at unless told otherwise (the one measured in RESULTS, not tuned)
VOTE_TEMPERATURE = 0.7


def vote_temperature(votes: int, temperature: float | None = None) -> float:
    """The temperature to sample `votes` answers per question at: `temperature` when given, else
    0 (greedy) for one vote and `VOTE_TEMPERATURE` for several. Raises ValueError for fewer than one
    vote, a temperature below 0, and several votes at temperature 0, whose answers would all be the same."""
    if votes < 1:
        raise ValueError(f"votes must be at least 1, got {votes}")
    if temperature is not None and not 0 <= temperature < math.inf:  # NaN too
        raise ValueError(f"temperature must be 0 (greedy) or above, and finite; got {temperature}")
    if temperature is None:
        return VOTE_TEMPERATURE if votes > 1 else 0.0
    if votes > 1 and temperature == 0:
        raise ValueError(
            f"{votes} votes at temperature 0 would be {votes} copies of one greedy answer; give a temperature above 0"
        )
    return temperature


@dataclass(frozen=True, slots=True)
class Consensus:
    """The chosen answer's position, how many answers agreed with its verdict, how many parsed."""

    index: int
    votes: int
    parsed: int


def verdict(answer: ParseResult) -> str | None:
    """What an answer votes for: its label where it has one, else its polarity."""
    return answer.label if answer.label is not None else answer.polarity


def choose_consensus(answers: Sequence[ParseResult]) -> Consensus:
    """The answer that speaks for `answers` (rules in the module text). Raises ValueError when
    `answers` is empty."""
    if not answers:
        raise ValueError("no answers to choose from")
    voters = [i for i, a in enumerate(answers) if a.ok and verdict(a) is not None]
    if not voters:
        return Consensus(index=0, votes=0, parsed=0)
    counts = Counter(verdict(answers[i]) for i in voters)
    top = max(counts.values())
    winner = next(verdict(answers[i]) for i in voters if counts[verdict(answers[i])] == top)
    agreeing = [i for i in voters if verdict(answers[i]) == winner]
    scored = [i for i in agreeing if answers[i].score is not None]
    if not scored:
        return Consensus(index=agreeing[0], votes=top, parsed=len(voters))
    scores = np.array([answers[i].score for i in scored], dtype=float)
    nearest = int(np.argmin(np.abs(scores - np.median(scores))))  # argmin: the first on a tie
    return Consensus(index=scored[nearest], votes=top, parsed=len(voters))


__all__ = ["VOTE_TEMPERATURE", "Consensus", "choose_consensus", "verdict", "vote_temperature"]
