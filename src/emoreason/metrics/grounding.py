"""Citation grounding: does the evidence a chain cites actually occur in its input?

A chain is auditable only if what it quotes can be checked against what the model was given.
Two kinds of citation are read from a completion:

- quoted words or phrases, `"..."` (C2F text cues: `"wonderful" (+3.1)`);
- measured cues with a z-score, `pitch high and very variable (+1.8 sd)` (the cue-to-text
  prompts of `emoreason.cues`, and the `cues` teacher's chains);
- counted emphasis, `2 exclamation marks` (the lexicon teacher's "Emphasis:" sentence, which
  counts the input's "!"): a model trained on those chains writes the sentence where the input
  has no "!" as well, a false claim no quote check sees.

A quote is grounded when it occurs in the input text as whole words (case- and
whitespace-insensitive; `find_cited`): "no" is not in "anonymous" or "nothing", as grounded quoting's
decoder would not let it be (`generation.chain_text`); a cue citation when the input has the same
words followed by the same z-score, `<words> (<z> sd`; a count when the input has exactly that many
"!". In scripts written without spaces between words (Chinese, Japanese, Thai) every character is a
word boundary, so any piece of the input counts.
The input is the sample's text plus the cue text its prompt carried, never the system prompt
(whose instructions and examples would ground anything).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

#: the marks a quote opens and closes at. Any of them opens a quote and any closes it, the way grounded
#: quoting's decoder (`generation.quotes`) pairs them: read by direction (opening only at `"` or `\u201c`),
#: the metric missed the decoder's `\u201dgood\u201d` and read `"good\u201c (+1.9); "` as a quote of ` (+1.9); `
QUOTE_MARKS = '"\u201c\u201d'
# an empty quote ("") is one: it pairs its two marks, as grounded quoting's decoder does, and cites
# nothing (`citations_in` skips it); with {1,80} the marks of `"", ""` paired across the comma. No length
# bound but the line's: the decoder lets a quote run as long as the input, and a quote past a bound of 80
# went unread while the text between its closing mark and the next quote's opening read as a quote
QUOTE = re.compile(f"[{QUOTE_MARKS}]([^{QUOTE_MARKS}\n]*)[{QUOTE_MARKS}]")
CUE = re.compile(r"\(([+-]?\d+(?:\.\d+)?) sd\)")
EXCLAMATIONS = re.compile(r"\b(\d+) exclamation marks?\b")
# where the words of a cue citation begin: after a list separator, a colon, a sentence end, a tag, or the
# `sd)` that closes the citation before it, with its joining word (`pitch high (+1.8 sd) and loudness loud
# (+2.1 sd)` took the first citation into the second, which then matched nothing in the cue text); a name's
# own parenthesis, `voice clarity (HNR)`, begins nothing
CUE_START = re.compile(r".*(?:[,;:\n>]|\.\s| sd\)\s+(?:(?:and|but|while|with|yet)\s+)?)", re.S)


@dataclass(frozen=True, slots=True)
class Citations:
    """How many pieces of evidence a completion cites, how many occur in its input, and which do not."""

    cited: int
    grounded: int
    ungrounded: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"cited": self.cited, "grounded": self.grounded, "ungrounded": list(self.ungrounded)}


#: scripts written without spaces between words: their characters never join a quote to its neighbours
#: (CJK ideographs and their extensions, kana, Thai, Lao, Myanmar, Khmer)
_SPACELESS = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF), (0x3400, 0x4DBF))
_SPACELESS += ((0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def joins_words(char: str) -> bool:
    """Whether `char` continues a word, so a quote may not begin right after it or end right before it:
    a letter, digit or "_", except in scripts written without spaces (`_SPACELESS`)."""
    if not (char.isalnum() or char == "_"):
        return False
    code = ord(char)
    # the decoder asks this of every candidate quote's edges at every step: Latin text never reaches the ranges
    return code < _SPACELESS[0][0] or not any(low <= code <= high for low, high in _SPACELESS)


def find_cited(needle: str, source: str) -> Iterator[tuple[int, int]]:
    """(start, end) in `source` of each occurrence of `needle` as whole words: case-insensitive, any
    whitespace run matching any other, and no word character (`joins_words`) right before or right after
    it, the rule grounded quoting decodes by. Occurrences may overlap."""
    parts = needle.split()
    if not parts:
        return
    pattern = re.compile(r"\s+".join(re.escape(part) for part in parts), re.I)
    match = pattern.search(source)
    while match is not None:
        start, end = match.span()
        before = source[start - 1] if start else " "
        after = source[end] if end < len(source) else " "
        if not joins_words(before) and not joins_words(after):
            yield start, end
        match = pattern.search(source, start + 1)


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
    cited = cited_evidence(completion)
    counts = counted_claims(completion)
    bangs = source.count("!")
    missing = [written for written, needle in cited if next(find_cited(needle, source), None) is None]
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
    "find_cited",
    "joins_words",
    "Citations",
    "cited_evidence",
    "citations_in",
    "citation_grounding",
    "counted_claims",
    "grounding_summary",
]
