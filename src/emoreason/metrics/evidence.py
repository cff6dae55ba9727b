"""What a chain says about the evidence it cites, and where that evidence lies in its input.

Two readings of a completion, both pure:

- `cue_statements`: for every quoted word, the valence the chain states for it. The lexicon
  teacher's chains (`emoreason.distill.lexicon`), and the students trained on them, write

      Positive cues: "loved" (+2.9); "great" (+3.1), strengthened by "really".
      Negative cues: "bad" (-2.5), negated by "not" so it reads +1.8.

  so a quote may carry a stated number (`(+2.9)`), a number after negation (`so it reads +1.8`)
  with the negation it names (`"not"`), and the list it heads (`Positive cues:` / `Negative
  cues:`). Modifier quotes (`"really"`, `"not"`, a contrast word) carry none of these.
- `mark_evidence`: the one place that decides what to highlight in an input and how (the terminal
  view of `analyze`, the web page and report.html all draw from it): every occurrence of every
  citation in the sample's text and cue text, with the direction the chain gives it, and the
  citations found in neither.

Direction of a quote: the sign of its number after negation, else of its stated number, else the
sign of the list it heads, else None (cited, no direction stated). A measured-cue citation
(`pitch high (+1.8 sd)`) has no direction: a z-score says how unusual a measure is, not which way
the sentiment goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emoreason.metrics.grounding import QUOTE, QUOTE_MARKS, Cited, citations_in, find_cited

NUMBER = r"[+-]?\d+(?:\.\d+)?"
HEADING = re.compile(r"\b(positive|negative)\s+(?:cues?|words?|signals?)\s*:", re.I)
STATED = re.compile(rf"\s*\(\s*({NUMBER})\s*\)")
READS = re.compile(rf"so it reads\s*({NUMBER})")
# the quote that names the negation, at any of the marks a quote pairs
NEGATED_BY = re.compile(f"negated by\\s*[{QUOTE_MARKS}]([^{QUOTE_MARKS}\\n]+)[{QUOTE_MARKS}]")
CLAUSE_END = re.compile(r"[;\n]|[.!?](?=\s|$)")  # the end of one cue's phrase
SENTENCE_END = re.compile(r"\n|[.!?](?=\s|$)")  # the end of a cue list
CUE_ITEM_END = 60  # how far past a cue citation's z-score its item may run to its ")"


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


DIRECTION_NAMES = {1: "positive", -1: "negative", 0: "neutral"}


def direction_name(direction: int | None) -> str | None:
    """The word every renderer (terminal, page, report) styles a span by: "positive", "negative",
    "neutral", or None when the chain states no direction."""
    return DIRECTION_NAMES.get(direction) if direction is not None else None


@dataclass(frozen=True, slots=True)
class CueStatement:
    """One quoted word or phrase and what the chain states about it (see the module doc)."""

    quote: str
    start: int  # where the quote lies in the completion
    end: int
    stated: float | None = None  # `"bad" (-2.5)`
    reads: float | None = None  # `negated by "not" so it reads +1.8`
    listed: int | None = None  # +1 / -1 when it heads an item of a Positive / Negative cues list
    negated_by: str | None = None  # `negated by "not"`: the negation the chain names for it

    @property
    def effective(self) -> float | None:
        """The valence the chain finally gives the cue: after negation if stated, else as stated."""
        return self.reads if self.reads is not None else self.stated

    @property
    def direction(self) -> int | None:
        """+1, -1 or 0 from the effective number, else the list's sign, else None."""
        return _sign(self.effective) if self.effective is not None else self.listed


def _masked(completion: str) -> str:
    """The completion with every quote blanked (same length), so that a full stop or a colon
    inside a quote is not read as structure."""
    return QUOTE.sub(lambda m: "_" * len(m.group(0)), completion)


def _listed(masked: str, start: int, headings: list[tuple[int, int]]) -> int | None:
    """The sign of the list whose item the quote at `start` heads, if any: the last heading before
    it, no sentence end between them, and nothing but space since the heading or the last `;`."""
    before = [(end, sign) for end, sign in headings if end <= start]
    if not before:
        return None
    heading_end, sign = before[-1]
    between = masked[heading_end:start]
    if SENTENCE_END.search(between):
        return None
    item_start = between.rfind(";") + 1
    return sign if not between[item_start:].strip() else None


def cue_statements(completion: str) -> list[CueStatement]:
    """Every quote of `completion` with the valences stated for it (see the module doc)."""
    masked = _masked(completion)
    headings = [(m.end(), 1 if m.group(1).lower() == "positive" else -1) for m in HEADING.finditer(masked)]
    statements = []
    for cited in citations_in(completion):
        if cited.kind != "quote":
            continue
        stated = reads = negator = None
        number = STATED.match(completion, cited.end)
        if number is not None:
            stated = float(number.group(1))
            end = CLAUSE_END.search(masked, number.end())
            clause_end = end.start() if end else len(masked)
            negated = READS.search(masked[number.end() : clause_end])
            reads = float(negated.group(1)) if negated else None
            # quotes are blanked in `masked`, so the negation's own quote is read from the completion
            named = NEGATED_BY.search(completion, number.end(), clause_end)
            negator = named.group(1) if named else None
        listed = _listed(masked, cited.start, headings)
        statements.append(CueStatement(cited.needle, cited.start, cited.end, stated, reads, listed, negator))
    return statements


# --- where the evidence lies in the input ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvidenceSpan:
    """One occurrence of cited evidence in the input: `field` ("text" or "cues"), character
    offsets in that field (Python string indices: code points), the citation as the chain writes
    it, and its direction (+1, -1, 0, or None when the chain states none)."""

    field: str
    start: int
    end: int
    citation: str
    direction: int | None

    def to_dict(self, source: str) -> dict[str, Any]:
        return {
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "text": source[self.start : self.end],
            "citation": self.citation,
            "direction": direction_name(self.direction),
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """The spans to mark, in order (by field, then position, never overlapping), and the
    citations found nowhere in the input, as written, once each."""

    spans: tuple[EvidenceSpan, ...] = ()
    not_found: tuple[str, ...] = ()

    def in_field(self, field: str) -> list[EvidenceSpan]:
        return [span for span in self.spans if span.field == field]

    def to_dict(self, text: str, cues: str = "") -> dict[str, Any]:
        """JSON-ready: each span with its text (so a reader can check its offsets) and its direction
        by name (`direction_name`)."""
        sources = {"text": text, "cues": cues}
        return {"spans": [span.to_dict(sources[span.field]) for span in self.spans], "not_found": list(self.not_found)}


def _occurrences(cited: Cited, source: str) -> Iterable[tuple[int, int]]:
    """Where `cited` occurs in `source`: as whole words, case- and whitespace-insensitive, exactly where
    grounding finds it (`metrics.grounding.find_cited`: "no" marks "no", never "anonymous" or "nothing").
    A cue citation's occurrence extends to the end of its item, `loudness quiet (-1.3 sd, -52 dBFS)`."""
    for start, end in find_cited(cited.needle, source):
        if cited.kind == "cue":
            close = source.find(")", end, end + CUE_ITEM_END)
            yield start, (close + 1 if close >= 0 else end)
            continue
        yield start, end


def mark_evidence(completion: str, text: str, cues: str = "") -> Evidence:
    """Every occurrence in `text` and `cues` of every citation of `completion`, with its direction
    (module doc), and the citations found in neither. When two citations overlap in the input, the
    one the chain wrote first is kept (a word cited twice keeps its first direction)."""
    directions = {statement.start: statement.direction for statement in cue_statements(completion)}
    taken: dict[str, list[tuple[int, int]]] = {"text": [], "cues": []}
    spans: list[EvidenceSpan] = []
    not_found: list[str] = []
    for cited in citations_in(completion):
        found = False
        for field, source in (("text", text), ("cues", cues)):
            for start, end in _occurrences(cited, source):
                found = True
                if any(start < e and s < end for s, e in taken[field]):
                    continue
                taken[field].append((start, end))
                spans.append(EvidenceSpan(field, start, end, cited.written, directions.get(cited.start)))
        if not found and cited.written not in not_found:
            not_found.append(cited.written)
    spans.sort(key=lambda span: (span.field != "text", span.start))
    return Evidence(tuple(spans), tuple(not_found))


__all__ = ["CueStatement", "Evidence", "EvidenceSpan", "cue_statements", "direction_name", "mark_evidence"]
