"""Citation grounding: does the evidence a chain cites actually occur in its input?

A chain is auditable only if what it quotes can be checked against what the model was given.
Two kinds of citation are read from a completion:

- quoted words or phrases, `"..."` (C2F text cues: `"wonderful" (+3.1)`);
- measured cues with a z-score, `pitch high and very variable (+1.8 sd)` (the cue-to-text
  prompts of `emoreason.cues`, and the `cues` teacher's chains);
- counted emphasis, `2 exclamation marks` (the lexicon teacher's "Emphasis:" sentence, which
  counts the input's "!"): a model trained on those chains writes the sentence where the input
  has no "!" as well, a false claim no quote check sees.

A quote is grounded when it occurs in the input text (case- and whitespace-insensitive); a cue
citation when the input has the same words followed by the same z-score, `<words> (<z> sd`; a
count when the input has exactly that many "!".
The input is the sample's text plus the cue text its prompt carried, never the system prompt
(whose instructions and examples would ground anything).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# an empty quote ("") is one: it pairs its two marks, as grounded quoting's decoder does, and cites
# nothing (`citations_in` skips it); with {1,80} the marks of `"", ""` paired across the comma
QUOTE = re.compile(r"[\"\u201c]([^\"\u201c\u201d\n]{0,80})[\"\u201d]")
CUE = re.compile(r"\(([+-]?\d+(?:\.\d+)?) sd\)")
EXCLAMATIONS = re.compile(r"\b(\d+) exclamation marks?\b")
# where the words of a cue citation begin: after a list separator, a colon, a sentence end or a tag
CUE_START = re.compile(r".*(?:[,;:\n>]|\.\s)", re.S)


@dataclass(frozen=True, slots=True)
class Citations:
    """How many pieces of evidence a completion cites, how many occur in its input, and which do not."""

    cited: int
    grounded: int
    ungrounded: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"cited": self.cited, "grounded": self.grounded, "ungrounded": list(self.ungrounded)}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass(frozen=True, slots=True)
class Cited:
    """One citation of a completion: as written, the text the input must contain (`needle`), where
    the citation lies in the completion (`start`, `end`), and its kind ("quote" or "cue")."""

    written: str
    needle: str
    start: int
    end: int
    kind: str


def citations_in(completion: str) -> list[Cited]:
    """Every quote, then every measured-cue citation, of `completion`, in the order written."""
    found = [
        Cited(m.group(0), m.group(1), m.start(), m.end(), "quote")
        for m in QUOTE.finditer(completion)
        if m.group(1).strip()
    ]
    for match in CUE.finditer(completion):
        before = completion[: match.start()]
        start = CUE_START.match(before)
        begin = start.end() if start else 0
        words = before[begin:].strip()
        if words:
            begin += len(before[begin:]) - len(before[begin:].lstrip())
            found.append(Cited(f"{words} {match.group(0)}", f"{words} ({match.group(1)} sd", begin, match.end(), "cue"))
    return found


def cited_evidence(completion: str) -> list[tuple[str, str]]:
    """(citation as written, the text the input must contain) for every quote and cue citation."""
    return [(cited.written, cited.needle) for cited in citations_in(completion)]


def counted_claims(completion: str) -> list[tuple[str, int]]:
    """(claim as written, the count it states) for every "N exclamation mark(s)" of `completion`."""
    return [(m.group(0), int(m.group(1))) for m in EXCLAMATIONS.finditer(completion)]


def citation_grounding(completion: str, source: str) -> Citations:
    """Count the completion's citations that occur in `source`: quotes and cue citations, then
    exclamation-mark counts (see the module doc)."""
    haystack = _norm(source)
    cited = cited_evidence(completion)
    counts = counted_claims(completion)
    bangs = source.count("!")
    missing = [written for written, needle in cited if _norm(needle) not in haystack]
    missing += [written for written, count in counts if count != bangs]
    total = len(cited) + len(counts)
    return Citations(cited=total, grounded=total - len(missing), ungrounded=tuple(missing))


def grounding_summary(citations: Sequence[Citations]) -> dict[str, Any]:
    """Aggregate over answers: the share of all citations that are grounded, and the share of
    answers citing anything whose every citation is grounded (NaN when nothing is cited)."""
    cited = sum(c.cited for c in citations)
    citing = [c for c in citations if c.cited]
    return {
        "citations_grounded_rate": sum(c.grounded for c in citations) / cited if cited else float("nan"),
        "n_citations": cited,
        "answers_fully_grounded": sum(c.grounded == c.cited for c in citing) / len(citing) if citing else float("nan"),
        "n_answers_citing": len(citing),
    }


__all__ = [
    "Cited",
    "Citations",
    "cited_evidence",
    "citations_in",
    "citation_grounding",
    "counted_claims",
    "grounding_summary",
]
