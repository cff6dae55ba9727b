"""The consistency filter of METHOD.md §1 step 1: a teacher chain becomes SFT data only if it
parses, its polarity equals the gold polarity, its score is close to the gold score (or its
label equals the gold label), its reasoning is neither too short nor too long, and its
prompt was not kept already. Every drop has one reason, the first check it failed, in the
order of `REASONS` (a label task checks its label before the polarity).

The filter also changes the data's polarity mix, which an SFT on the kept chains learns as its
prior. With the lexicon teacher on movie-review sentences it kept 27% of the gold-negative ones and
44% of the positive ones (the lexicon misses more of the reviews' negativity), so the kept chains
were 60% positive where the split is 47%, and a student trained on them answered "positive" more
often (RESULTS, "The shipped default trained further on all three domains"). `FilterStats` reports
each domain's mix before and after the filter, and `mix_shifts` names the polarities it moved.
With `match_mix`, `mix_matching_drops` then drops kept chains (seeded) until each domain's kept
chains have its samples' mix: every polarity is kept at the domain's lowest keep rate.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emoreason.data.schema import Sample, TaskInfo, normalize_label
from emoreason.formats.base import ParseResult
from emoreason.rewards.composite import Gold

#: drop reasons, in the order they are checked (on a label task, the label before the polarity)
REASONS = (
    "request_failed",
    "no_cues",  # the cues teacher had no measured cue of the sample's clip to answer from (a silent recording)
    "no_text",  # the lexicon teacher had no text to read (a clip alone)
    "no_gold",
    "unparsed",
    "polarity_mismatch",
    "score_off",
    "label_mismatch",
    "too_short",
    "too_long",
    "duplicate",
    "mix_matched",  # passed, then dropped by `match_mix` to even the domain's polarity mix
)


@dataclass(frozen=True)
class FilterConfig:
    score_tolerance: float | None = None  # absolute, task units; None: 12.5% of the scale range
    min_words: int = 8  # of the reasoning
    max_words: int = 400
    check_polarity: bool = True
    match_mix: bool = False  # drop kept chains until each domain keeps its samples' polarity mix
    match_mix_seed: int = 0  # which chains `match_mix` drops

    def tolerance(self, task: TaskInfo) -> float:
        if self.score_tolerance is not None:
            return self.score_tolerance
        return 0.125 * task.scale_range


def reasoning_words(parsed: ParseResult) -> int:
    return sum(len(text.split()) for text in parsed.reasoning.values())


def _label_mismatch(parsed: ParseResult, sample: Sample) -> tuple[str, str] | None:
    """A chain's label against the gold's, compared as labels are everywhere (`normalize_label`)."""
    if sample.label is None:
        return None
    if parsed.label is None or normalize_label(parsed.label) != normalize_label(sample.label):
        return "label_mismatch", f"teacher {parsed.label}, gold {sample.label}"
    return None


def drop_reason(
    parsed: ParseResult | None, sample: Sample, task: TaskInfo, config: FilterConfig
) -> tuple[str, str] | None:
    """(reason, detail) for a chain that fails the filter, None for one that passes. Duplicates
    are the caller's business (they depend on what was kept before)."""
    if parsed is None:
        return "request_failed", "no answer from the teacher"
    if (sample.score if task.is_regression else sample.label) is None:  # nothing to check the chain against
        return "no_gold", f"the sample has no gold {'score' if task.is_regression else 'label'}"
    if not parsed.ok:
        return "unparsed", "; ".join(str(e) for e in parsed.errors)
    # on a label task the label is the answer and the polarity follows from it: a wrong label is filed as such,
    # not as the polarity it carries (`polarity_mismatch` hid which emotion the teacher named instead)
    if not task.is_regression and (mismatch := _label_mismatch(parsed, sample)) is not None:
        return mismatch
    gold = Gold.from_sample(sample, task)
    gold_polarity = gold.resolve_polarity(task)
    if (
        config.check_polarity
        and gold_polarity is not None
        and parsed.polarity is not None
        and parsed.polarity != gold_polarity
    ):
        return "polarity_mismatch", f"teacher {parsed.polarity}, gold {gold_polarity}"
    if task.is_regression and sample.score is not None:
        if parsed.score is None:
            return "unparsed", "no score"
        tolerance = config.tolerance(task)
        if abs(parsed.score - sample.score) > tolerance + 1e-9:
            return "score_off", f"teacher {parsed.score:g}, gold {sample.score:g} (tolerance {tolerance:g})"
    words = reasoning_words(parsed)
    if words < config.min_words:
        return "too_short", f"{words} words < {config.min_words}"
    if words > config.max_words:
        return "too_long", f"{words} words > {config.max_words}"
    return None


#: a polarity whose share of the kept chains differs from its share of the samples by more than this
#: is reported by `FilterStats.mix_shifts` (the movie chains above moved by 0.13)
MIX_SHIFT = 0.05


@dataclass(frozen=True)
class MixShift:
    """A gold polarity whose share the filter moved, in one domain."""

    domain: str
    polarity: str
    samples_share: float  # of the domain's samples
    kept_share: float  # of the domain's kept chains


def mix_matching_drops(
    groups: Sequence[tuple[str | None, str | None]], kept: Sequence[bool], seed: int = 0
) -> dict[int, float]:
    """Which kept chains to drop so that every domain's kept chains have the gold polarity mix of its
    samples: index -> the keep rate its (domain, polarity) was brought down to.

    `groups[i]` is sample i's (domain, gold polarity), `kept[i]` whether its chain passed the filter.
    In each domain every polarity keeps round(samples x r) of its chains, r being the lowest keep rate
    among the domain's polarities; which ones is drawn with `seed`. So the matched data is as large
    as it can be with the samples' mix, and the polarity the teacher gets right least often loses
    nothing. A polarity with no kept chain cannot be matched and does not set r (it would empty the
    domain); samples without a gold polarity are never dropped."""
    members: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    samples: Counter[tuple[str | None, str]] = Counter()
    for index, (domain, polarity) in enumerate(groups):
        if polarity is None:
            continue
        samples[domain, polarity] += 1
        if kept[index]:
            members[domain, polarity].append(index)
    rates: dict[str | None, float] = {}
    for (domain, polarity), indices in members.items():
        rate = len(indices) / samples[domain, polarity]
        rates[domain] = min(rate, rates.get(domain, rate))
    rng = random.Random(seed)
    drops: dict[int, float] = {}
    for (domain, polarity), indices in sorted(members.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        rate = rates[domain]
        keep = round(samples[domain, polarity] * rate)  # <= len(indices), since rate <= this keep rate
        for index in rng.sample(indices, len(indices) - keep):
            drops[index] = rate
    return drops


@dataclass
class FilterStats:
    """Kept/dropped counts per reason and per gold polarity, each domain's polarity mix before and
    after the filter, and reasoning lengths of the kept."""

    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    by_polarity: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    kept_lengths: list[int] = field(default_factory=list)
    # domain -> gold polarity -> [samples, kept]
    by_domain: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(dict))

    def add(
        self, gold_polarity: str | None, reason: str | None, words: int | None = None, domain: str | None = None
    ) -> None:
        key = gold_polarity or "unknown"
        counts = self.by_domain[domain or "all"].setdefault(key, [0, 0])
        counts[0] += 1
        if reason is None:
            self.kept += 1
            counts[1] += 1
            self.by_polarity[key]["kept"] += 1
            if words is not None:
                self.kept_lengths.append(words)
        else:
            self.dropped[reason] += 1
            self.by_polarity[key][reason] += 1

    def polarity_mix(self) -> dict[str, dict[str, dict[str, float]]]:
        """domain -> gold polarity -> samples, kept, and their shares of the domain's samples and
        kept chains (0 where the domain kept nothing)."""
        mix: dict[str, dict[str, dict[str, float]]] = {}
        for domain, polarities in sorted(self.by_domain.items()):
            samples = sum(n for n, _ in polarities.values())
            kept = sum(k for _, k in polarities.values())
            mix[domain] = {
                polarity: {
                    "samples": n,
                    "kept": k,
                    "samples_share": n / samples,
                    "kept_share": k / kept if kept else 0.0,
                }
                for polarity, (n, k) in sorted(polarities.items())
            }
        return mix

    def mix_shifts(self, threshold: float = MIX_SHIFT) -> list[MixShift]:
        """The (domain, polarity) pairs whose share of the kept chains differs from their share of
        the samples by more than `threshold`; none for a domain that kept nothing."""
        shifts = []
        for domain, polarities in self.polarity_mix().items():
            if not any(p["kept"] for p in polarities.values()):
                continue
            for polarity, p in polarities.items():
                if abs(p["kept_share"] - p["samples_share"]) > threshold:
                    shifts.append(MixShift(domain, polarity, p["samples_share"], p["kept_share"]))
        return shifts

    @property
    def total(self) -> int:
        return self.kept + sum(self.dropped.values())

    def histogram(self, bins: int = 10) -> list[dict[str, float]]:
        import numpy as np

        if not self.kept_lengths:
            return []
        counts, edges = np.histogram(self.kept_lengths, bins=bins)
        return [
            {"low": float(lo), "high": float(hi), "count": int(c)} for lo, hi, c in zip(edges[:-1], edges[1:], counts)
        ]

    def to_dict(self) -> dict[str, Any]:
        total = self.total
        return {
            "total": total,
            "kept": self.kept,
            "kept_rate": self.kept / total if total else 0.0,
            "dropped": {r: self.dropped[r] for r in REASONS if self.dropped[r]},
            "dropped_rate": {r: self.dropped[r] / total for r in REASONS if self.dropped[r]} if total else {},
            "by_gold_polarity": {p: dict(c) for p, c in sorted(self.by_polarity.items())},
            "polarity_mix": self.polarity_mix(),
            "kept_reasoning_words": {
                "mean": float(sum(self.kept_lengths) / len(self.kept_lengths)) if self.kept_lengths else 0.0,
                "min": min(self.kept_lengths, default=0),
                "max": max(self.kept_lengths, default=0),
                "histogram": self.histogram(),
            },
        }


__all__ = [
    "MIX_SHIFT",
    "REASONS",
    "FilterConfig",
    "FilterStats",
    "MixShift",
    "drop_reason",
    "mix_matching_drops",
    "reasoning_words",
]
