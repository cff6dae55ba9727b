"""Faithfulness: are the reasons a chain gives the reasons its prediction rests on?

Grounding (`metrics.grounding`) checks that cited evidence occurs in the input; that is necessary,
not sufficient. The counterfactual test (ERASER, DeYoung et al. 2020: comprehensiveness and
sufficiency) asks the model again with the evidence taken away, and with the evidence alone, and
sees whether the prediction moves. We ask with generation, not class probabilities: the model
answers each probe as it answered the input, and its parsed answer is compared with the original.

Probes of one answer (`build_probes`), from the input (the sample's text and the cue text its
prompt carried) and the evidence the chain cites that occurs there (`metrics.evidence.mark_evidence`).
The unit is the whitespace token: a cited span takes every token it touches (a quote "bad" takes
"bad,"; a measured-cue citation takes its whole item, `loudness quiet (-1.3 sd, -52 dBFS),`). With
k the number of tokens cited,

- `without` (comprehensiveness probe): the input with the k cited tokens deleted;
- `only` (sufficiency probe): the cited tokens alone, in input order, each field separately (a
  field with nothing cited becomes empty);
- `random` (control): the input with min(k, uncited tokens) tokens deleted, drawn uniformly
  without replacement from the uncited tokens of both fields by `random.Random(seed)`, so that
  removing any k words, which moves a small model somewhat, has a baseline.

A field that loses tokens has its spaces collapsed (both probes that delete do this, so the control
covers it); a probe left with nothing (a one-word input whose word is cited) is still asked, with
an empty input. Media (audio, video, images) are not changed. An answer is probed when its
prediction is usable (a score in the task's scale, or a label) and at least one citation occurs
in the input; a citation found nowhere in it cannot be removed, and is grounding's business.

Scores of one answer (`probe_scores`), with y the original prediction and y' a probe's:

- change d(y, y'): regression, |score(y) - score(y')| in units of the task's scale; classification,
  1 when the labels differ, else 0. Undefined (None) when either has no usable score / label.
- flip(y, y'): the polarities (as the answers state them) differ; undefined when either is unknown.
- comprehensiveness = d(y, y_without); sufficiency = d(y, y_only); random_removal = d(y, y_random):
  high comprehensiveness means the prediction needed what was cited, low sufficiency means the
  citation alone carries it, and comprehensiveness is worth what it exceeds random_removal by.

Aggregates (`faithfulness_summary`), each a mean over the probed answers where it is defined:
`comprehensiveness`, `sufficiency`, `random_removal` (mean change); `*_flip_rate` (share of flips);
`comprehensiveness_over_random`, the mean over answers of comprehensiveness - random_removal (both
defined); `cited_moves_more_rate`, the share of those answers where comprehensiveness >
random_removal strictly; `mean_tokens_cited` (k). `rank_key` orders answers least faithful first:
comprehensiveness - sufficiency, ascending (the evidence neither needed nor enough).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from statistics import fmean
from typing import Any

from emoreason.metrics.evidence import Evidence

TOKEN = re.compile(r"\S+")
FIELDS = ("text", "cues")
PROBES = ("without", "only", "random")


@dataclass(frozen=True, slots=True)
class ProbeInput:
    """The sample's text and cue text as a probe gives them to the model."""

    text: str
    cues: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "cues": self.cues}


@dataclass(frozen=True, slots=True)
class Probes:
    """The three probe inputs of one answer, and how many tokens each removed (module doc)."""

    without: ProbeInput
    only: ProbeInput
    random: ProbeInput
    cited_tokens: int
    random_removed: int

    def inputs(self) -> dict[str, ProbeInput]:
        return {"without": self.without, "only": self.only, "random": self.random}

    def to_dict(self) -> dict[str, Any]:
        return {
            **{name: probe.to_dict() for name, probe in self.inputs().items()},
            "cited_tokens": self.cited_tokens,
            "random_removed": self.random_removed,
        }


def delete_tokens(source: str, tokens: list[tuple[int, int]], drop: set[int]) -> str:
    """`source` without the tokens numbered in `drop`; spaces collapsed, empty lines dropped. A
    field that loses nothing is returned as it is."""
    if not drop:
        return source
    pieces, last = [], 0
    for index, (start, end) in enumerate(tokens):
        if index in drop:
            pieces.append(source[last:start])
            last = end
    pieces.append(source[last:])
    return collapse_spaces("".join(pieces))


def collapse_spaces(text: str) -> str:
    """`text` as `delete_tokens` writes what is left: each run of spaces one space, empty lines dropped."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.split())


def build_probes(evidence: Evidence, text: str, cues: str = "", seed: int | str = 0) -> Probes | None:
    """The probes of one answer (module doc); None when no citation occurs in the input.
    `seed` seeds the random control (give each answer its own, e.g. f"{seed}:{sample_id}")."""
    if not evidence.spans:
        return None
    sources = {"text": text, "cues": cues}
    tokens = {field: [m.span() for m in TOKEN.finditer(sources[field])] for field in FIELDS}
    cited: dict[str, set[int]] = {field: set() for field in FIELDS}
    for span in evidence.spans:
        cited[span.field].update(
            i for i, (start, end) in enumerate(tokens[span.field]) if start < span.end and span.start < end
        )
    count = sum(len(indices) for indices in cited.values())
    if count == 0:
        return None
    uncited = [(field, i) for field in FIELDS for i in range(len(tokens[field])) if i not in cited[field]]
    drawn = random.Random(seed).sample(uncited, min(count, len(uncited)))
    chosen: dict[str, set[int]] = {field: {i for f, i in drawn if f == field} for field in FIELDS}

    def kept(field: str) -> str:
        return " ".join(sources[field][s:e] for i, (s, e) in enumerate(tokens[field]) if i in cited[field])

    return Probes(
        without=ProbeInput(*(delete_tokens(sources[f], tokens[f], cited[f]) for f in FIELDS)),
        only=ProbeInput(*(kept(f) for f in FIELDS)),
        random=ProbeInput(*(delete_tokens(sources[f], tokens[f], chosen[f]) for f in FIELDS)),
        cited_tokens=count,
        random_removed=len(drawn),
    )


# --- scores -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judgment:
    """A parsed prediction: score (regression), label (classification), polarity as stated."""

    score: float | None = None
    label: str | None = None
    polarity: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "label": self.label, "polarity": self.polarity}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Judgment:
        return cls(record.get("score"), record.get("label"), record.get("polarity"))


def change(a: Judgment, b: Judgment, regression: bool) -> float | None:
    """d(a, b) of the module doc."""
    if regression:
        return None if a.score is None or b.score is None else abs(a.score - b.score)
    return None if a.label is None or b.label is None else float(a.label != b.label)


def flipped(a: Judgment, b: Judgment) -> bool | None:
    return None if a.polarity is None or b.polarity is None else a.polarity != b.polarity


@dataclass(frozen=True, slots=True)
class ProbeScores:
    """One answer's scores (module doc); None where undefined."""

    comprehensiveness: float | None
    sufficiency: float | None
    random_removal: float | None
    comprehensiveness_flip: bool | None
    sufficiency_flip: bool | None
    random_flip: bool | None
    cited_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def rank_key(self) -> float:
        """comprehensiveness - sufficiency (least faithful first when ascending); +inf if undefined."""
        if self.comprehensiveness is None or self.sufficiency is None:
            return float("inf")
        return self.comprehensiveness - self.sufficiency


def probe_scores(
    original: Judgment, without: Judgment, only: Judgment, control: Judgment, regression: bool, cited_tokens: int = 0
) -> ProbeScores:
    """The scores of one answer from its four predictions (module doc)."""
    return ProbeScores(
        comprehensiveness=change(original, without, regression),
        sufficiency=change(original, only, regression),
        random_removal=change(original, control, regression),
        comprehensiveness_flip=flipped(original, without),
        sufficiency_flip=flipped(original, only),
        random_flip=flipped(original, control),
        cited_tokens=cited_tokens,
    )


def _mean(values: Sequence[float | bool | None]) -> float:
    defined = [float(v) for v in values if v is not None]
    return fmean(defined) if defined else float("nan")


def faithfulness_summary(scores: Sequence[ProbeScores]) -> dict[str, Any]:
    """The aggregates of the module doc over the probed answers' scores (NaN when undefined)."""
    paired = [
        (s.comprehensiveness, s.random_removal)
        for s in scores
        if s.comprehensiveness is not None and s.random_removal is not None
    ]
    return {
        "n_probed": len(scores),
        "comprehensiveness": _mean([s.comprehensiveness for s in scores]),
        "comprehensiveness_flip_rate": _mean([s.comprehensiveness_flip for s in scores]),
        "sufficiency": _mean([s.sufficiency for s in scores]),
        "sufficiency_flip_rate": _mean([s.sufficiency_flip for s in scores]),
        "random_removal": _mean([s.random_removal for s in scores]),
        "random_removal_flip_rate": _mean([s.random_flip for s in scores]),
        "comprehensiveness_over_random": _mean([c - r for c, r in paired]),
        "cited_moves_more_rate": _mean([c > r for c, r in paired]),
        "n_paired": len(paired),
        "mean_tokens_cited": _mean([s.cited_tokens for s in scores]),
    }


__all__ = [
    "PROBES",
    "Judgment",
    "ProbeInput",
    "ProbeScores",
    "Probes",
    "build_probes",
    "change",
    "faithfulness_summary",
    "flipped",
    "probe_scores",
]
