"""Naming a negation the chain's own cue list already applies: an option of grounded quoting.

A chain in the lexicon teacher's format states a number for each quoted cue and, when the input
negates the word, says so: `Positive cues: "bad" (-2.5), negated by "Not" so it reads +1.8.` The
students trained on these chains seldom write the negation clause (the shipped default: none of
the 68 negated cues it stated on the three VADER valid splits). A third of those it still puts in
the list that the negation implies, so the chain reads `Positive cues: "bad" (-2.5).`: the list is
right, and the reason it gives is false (a negative word counted as a positive cue).

With `SamplingParams(name_negations=True)` (on by default in `analyze`, `evaluate`, `serve` and the
Python API, with grounded quoting; RESULTS, "Naming the negation a cue's list applies") the engine
completes such a statement the way the teacher's chains do. At the moment the chain has written a
quoted cue and a one-decimal number (`"bad" (-2.5`, the teacher's `{:+.1f}`), the next tokens are
forced to `), negated by "<negator>" so it reads <sign>` when all of these hold:
- the input negates the quoted word by VADER's rule (a negation among the 3 words before it,
  `metrics.valence.negation_before`), and `<negator>` is that negation as the input writes it;
- the cue heads an item of a `Positive cues:` / `Negative cues:` list whose sign is opposite to
  the stated number's (`metrics.evidence.cue_statements`), and the chain names no negation for it;
- `<sign>` is the list's sign, i.e. the negated reading's; the digits after it stay the model's.

Nothing else is forced. A negated cue listed under its own sign (`Negative cues: "bad" (-2.5)` for
"not bad") is left alone: naming the negation there would make the item contradict its list, and
the list follows the polarity the answer has already committed to; only training changes that
(RESULTS, "Forcing the input's negation into the chain at decode time"). The polarity word and its
probabilities come before any cue, so the option never changes the answer's polarity or the
probabilities a score readout uses; it changes the chain's text from that cue on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import torch

from emoreason.generation.quotes import GroundedQuotes
from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.grounding import QUOTE_MARKS
from emoreason.metrics.valence import is_negation, negation_before, vader_words

# a quoted cue and a one-decimal number just written, with its closing parenthesis still to come
_JUST_STATED = re.compile(f"[{QUOTE_MARKS}][^{QUOTE_MARKS}\\n]{{1,80}}[{QUOTE_MARKS}]\\s*\\(\\s*[+-]?\\d+\\.\\d$")


def input_negations(source: str) -> dict[str, str]:
    """{word of `source` (lower case) that VADER's rule negates: the negation before it, as the input
    writes it}; the first occurrence of a word decides, negations themselves are left out."""
    words = vader_words(source)
    lowered = [w.lower() for w in words]
    found: dict[str, str] = {}
    for i, word in enumerate(lowered):
        if is_negation(word) or word in found:
            continue
        at = negation_before(lowered, i)
        if at is not None:
            found[word] = words[at]
    return found


def _pending_clause(chain: str, negations: Mapping[str, str]) -> tuple[str, str] | None:
    """(the cue, lower case; the clause to force) for `negation_to_name`, or None."""
    if not _JUST_STATED.search(chain):
        return None
    statement = cue_statements(chain + ")")[-1]
    stated, listed = statement.stated, statement.listed
    negator = negations.get(statement.quote.lower())
    if negator is None or stated is None or listed is None or statement.negated_by is not None:
        return None
    if stated == 0 or (stated > 0) == (listed > 0):
        return None
    return statement.quote.lower(), f'), negated by "{negator}" so it reads {"+" if listed > 0 else "-"}'


def negation_to_name(chain: str, negations: Mapping[str, str]) -> str | None:
    """The text to force next after `chain` (the completion so far), or None (see the module doc).

    `negations`: `input_negations` of the input."""
    pending = _pending_clause(chain, negations)
    return None if pending is None else pending[1]


class NegationNaming(GroundedQuotes):
    """`GroundedQuotes` that also forces the negation clauses of `negation_to_name`: once a row's
    chain calls for one, its tokens are the only ones allowed, one per step, and then the model
    goes on. Each cue is completed at most once per row."""

    def __init__(self, tokenizer: object, sources: Sequence[str | None], texts: Sequence[str | None] | None = None):
        super().__init__(tokenizer, sources, texts)
        self.tokenizer = tokenizer
        # the input's own negations, not the cue text's: `words` (a row's text, or its source where the text is
        # not known apart), as `GroundedQuotes` keeps them for its other lexicon rules
        self.negations = [input_negations(w) if w.strip() else {} for w in self.words]
        self.forced: list[list[int]] = [[] for _ in sources]
        self.named: list[set[str]] = [set() for _ in sources]

    def mask(self, logits: torch.Tensor, rows: Sequence[int]) -> torch.Tensor:
        logits = super().mask(logits, rows)
        forcing = [(slot, self.forced[row][0]) for slot, row in enumerate(rows) if self.forced[row]]
        if not forcing:
            return logits
        logits = logits.clone()
        for slot, token in forcing:
            logits[slot] = float("-inf")
            logits[slot, token] = 0.0
        return logits

    def advance(self, row: int, token: int) -> None:
        super().advance(row, token)
        if self.sources[row] is None:
            return
        if self.forced[row]:
            self.forced[row].pop(0)
        if self.forced[row] or not self.negations[row]:
            return
        pending = _pending_clause(self.chain[row], self.negations[row])
        if pending is None:
            return
        cue, clause = pending
        if cue in self.named[row]:
            return
        self.named[row].add(cue)
        self.forced[row] = list(self.tokenizer(clause, add_special_tokens=False)["input_ids"])  # type: ignore[operator]


def quote_constraint(
    tokenizer: object,
    sources: Sequence[str | None],
    name_negations: bool = False,
    texts: Sequence[str | None] | None = None,
) -> GroundedQuotes:
    """The decoding constraint of grounded quoting, naming negations too when asked; `texts`: each row's
    own words for the lexicon rules (`GroundedQuotes`)."""
    kind = NegationNaming if name_negations else GroundedQuotes
    return kind(tokenizer, sources, texts)


__all__ = ["NegationNaming", "input_negations", "negation_to_name", "quote_constraint"]
