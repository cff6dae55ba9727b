"""One sample schema and one task description for every data source.

A `Sample` is what every adapter yields; a `TaskInfo` tells the rest of the product how to
read its labels: the score scale, the label set, and how a score or label maps to polarity.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from emoreason.data.errors import DataError

Polarity = Literal["positive", "neutral", "negative"]
POLARITIES: tuple[Polarity, ...] = ("negative", "neutral", "positive")
SPLITS: tuple[str, ...] = ("train", "valid", "test")
#: the split names that hold the test rows: what trains or chooses on them needs an explicit allow_test
HELD_OUT_SPLITS: tuple[str, ...] = ("test", "all")

# Mikels' eight emotion categories (EmoSet, FI) with their valence and arousal (METHOD.md §2).
MIKELS_VALENCE: dict[str, Polarity] = {
    "amusement": "positive",
    "excitement": "positive",
    "awe": "positive",
    "contentment": "positive",
    "anger": "negative",
    "disgust": "negative",
    "fear": "negative",
    "sadness": "negative",
}
# RAVDESS's eight speech emotions with the polarity the `ravdess:` adapter gives them (calm and surprised
# positive), which a generic file using these words gets too (`label_polarity_map`).
RAVDESS_POLARITY: dict[str, Polarity] = {
    "neutral": "neutral",
    "calm": "positive",
    "happy": "positive",
    "surprised": "positive",
    "sad": "negative",
    "angry": "negative",
    "fearful": "negative",
    "disgust": "negative",
}
# Ekman's happiness under the names emotion corpora give it (the six-label tweet corpora say "joy", and pair
# it with "love"), which a generic file gets (`label_polarity_map`); his other five are Mikels' words above,
# except surprise, whose valence the word does not tell (a surprise may please or shock): it gets none.
BASIC_EMOTION_POLARITY: dict[str, Polarity] = {"happiness": "positive", "joy": "positive", "love": "positive"}
MIKELS_AROUSAL: dict[str, Literal["high", "low"]] = {
    "amusement": "high",
    "excitement": "high",
    "awe": "low",
    "contentment": "low",
    "anger": "high",
    "disgust": "high",
    "fear": "high",
    "sadness": "low",
}


def quotable_source(text: str | None, cues: str | None = None) -> str:
    """What a chain may quote from: the input text, then the cue text its prompt carried on the next
    line (either may be absent). Grounding, the evidence marks, cue recall and the rewards all
    check a chain against this one string, so they agree on what was in the input."""
    return "\n".join(part for part in (text, cues) if part)


@dataclass(frozen=True, slots=True)
class Sample:
    """One example. `text` may be empty for media-only samples (an image folder)."""

    id: str
    text: str = ""
    score: float | None = None
    label: str | None = None
    audio: str | None = None
    video: str | None = None
    image: str | None = None
    split: str = "test"
    domain: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    # Measured cues of the media as text (`emoreason.cues`), for models that cannot take the media.
    cues: str | None = None

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities present, in the order the reasoning formats discuss them."""
        present = []
        if self.text:
            present.append("text")
        if self.audio:
            present.append("audio")
        if self.video:
            present.append("video")
        if self.image:
            present.append("image")
        return tuple(present)

    @property
    def speaker(self) -> str | None:
        """Who speaks in the clip, `meta["speaker"]` where the data names one (RAVDESS's actors, a
        `speaker` column): cue references normalise per speaker, and held-out shares keep speakers whole."""
        speaker = self.meta.get("speaker") if self.meta else None
        return None if speaker in (None, "") else str(speaker)

    @property
    def source(self) -> str:
        """`quotable_source` of the sample's text and its own cue text."""
        return quotable_source(self.text, self.cues)

    def media_record(self, media_from: str | Path | None = None) -> dict[str, str]:
        """{"audio"/"video"/"image": path} of the media present, relative to `media_from` when given."""
        paths = {name: getattr(self, name) for name in ("audio", "video", "image") if getattr(self, name)}
        if media_from is None:
            return paths
        return {
            name: os.path.relpath(Path(path).absolute(), Path(media_from).absolute()) for name, path in paths.items()
        }

    def with_(self, **changes: Any) -> Sample:
        return replace(self, **changes)

    def to_record(self, media_from: str | Path | None = None) -> dict[str, Any]:
        """A JSON-ready dict with the generic field names (the `jsonl:` adapter reads it back). With
        `media_from` (the folder of the file the record goes into) media paths are written relative to
        it, as readers resolve them; without it they are written as held (relative to the working directory)."""
        record: dict[str, Any] = {"id": self.id, "text": self.text}
        for name in ("score", "label"):
            value = getattr(self, name)
            if value is not None:
                record[name] = value
        record |= self.media_record(media_from)
        record["split"] = self.split
        if self.domain:
            record["domain"] = self.domain
        if self.meta:
            record["meta"] = self.meta
        if self.cues:
            record["cues"] = self.cues
        return record


@dataclass(frozen=True, slots=True)
class NeutralBand:
    """Scores strictly inside (or on a closed edge of) [low, high] are neutral.

    MOSI/MOSEI: NeutralBand(0, 0, True, True) (only exactly 0 is neutral);
    CH-SIMS: NeutralBand(-0.1, 0.1, False, True) i.e. (-0.1, 0.1];
    VADER (our default): NeutralBand(-0.5, 0.5) i.e. |score| < 0.5.
    """

    low: float = 0.0
    high: float = 0.0
    low_closed: bool = False
    high_closed: bool = False

    @classmethod
    def around(cls, scale: tuple[float, float], width: float = 0.0) -> NeutralBand:
        """The band of a custom scale: `width` either side of the scale's midpoint, open at both edges
        (|score - mid| < width), or only the midpoint itself when `width` is 0. On a scale not centred
        on 0 (a 1..7 Likert scale) the midpoint, 4, is what "neutral" means, not 0."""
        mid = (float(scale[0]) + float(scale[1])) / 2
        return cls(mid - width, mid + width) if width > 0 else cls(mid, mid, True, True)

    @property
    def centre(self) -> float:
        return (self.low + self.high) / 2

    def contains(self, score: float) -> bool:
        above = score >= self.low if self.low_closed else score > self.low
        below = score <= self.high if self.high_closed else score < self.high
        return above and below

    def polarity(self, score: float) -> Polarity:
        if self.contains(score):
            return "neutral"
        # Outside the band: at or above its upper edge is positive (an open edge excludes it
        # from the band), everything else is below the lower edge.
        return "positive" if score >= self.high else "negative"

    def describe(self) -> str:
        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        return f"{left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """How to read a dataset's targets.

    A regression task has a `scale`; a classification task has `labels` and optionally a
    `label_polarity` map (e.g. Mikels valence). `metric_set` names the metric family used by
    `emoreason.metrics` ("mosi", "mosei", "sims", "simsv2", "generic", "classification").
    """

    name: str
    scale: tuple[float, float] | None = None
    neutral: NeutralBand = NeutralBand()
    labels: tuple[str, ...] = ()
    label_polarity: dict[str, Polarity] = field(default_factory=dict)
    metric_set: str = "generic"

    def __post_init__(self) -> None:
        # labels compare without case or spacing everywhere (`normalize_label`): two that differ only so are
        # one label, and a set holding both fails only after every answer was generated, at the metrics
        seen: dict[str, str] = {}
        for label in self.labels:
            first = seen.setdefault(normalize_label(label), label)
            if first == label and self.labels.count(label) > 1:
                raise ValueError(f"label {label!r} is given {self.labels.count(label)} times; give each label once")
            if first != label:
                raise ValueError(
                    f"labels {first!r} and {label!r} are the same label (labels compare without case or spacing); "
                    "give each label once"
                )

    @property
    def is_regression(self) -> bool:
        return self.scale is not None

    @property
    def scale_range(self) -> float:
        if self.scale is None:
            raise ValueError(f"task {self.name!r} has no score scale")
        return self.scale[1] - self.scale[0]

    def score_polarity(self, score: float) -> Polarity:
        return self.neutral.polarity(score)

    def gold_polarity(self, sample: Sample) -> Polarity | None:
        """The polarity of a sample's gold target, from its score or else its label."""
        if sample.score is not None:
            return self.score_polarity(sample.score)
        if sample.label is not None:
            return self.label_polarity.get(normalize_label(sample.label))
        return None

    def in_scale(self, score: float) -> bool:
        return self.scale is None or self.scale[0] <= score <= self.scale[1]

    def asks_as(self, other: TaskInfo) -> bool:
        """Whether `other` asks for the same answer: the same score scale, or the same labels (without case or
        spacing); names, neutral bands and metric sets aside."""
        mine = sorted(normalize_label(label) for label in self.labels)
        return self.scale == other.scale and mine == sorted(normalize_label(label) for label in other.labels)

    @property
    def reads_back(self) -> bool:
        """Whether the name alone gives this task back (`resolve_task`: vader:tweets, mosi, ravdess...), so that a
        record or an adapter's settings may name it; a file's own 1..7 scale, a neutral band set at the
        command line or labels of one's own are not, and are written whole (`to_dict`)."""
        try:
            return replace(resolve_task(self.name), name=self.name) == self
        except ValueError:  # a name no task is known by
            return False

    @property
    def asked(self) -> str:
        """What the task asks for, in words: a score on its scale, or one of its labels."""
        if self.scale is not None:
            return f"a score on {self.scale[0]:g}..{self.scale[1]:g}"
        return f"one of the labels {', '.join(self.labels)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; `TaskInfo.from_dict` reads it back (SFT files carry their task)."""
        return {
            "name": self.name,
            "scale": list(self.scale) if self.scale else None,
            "neutral": {
                "low": self.neutral.low,
                "high": self.neutral.high,
                "low_closed": self.neutral.low_closed,
                "high_closed": self.neutral.high_closed,
            },
            "labels": list(self.labels),
            "label_polarity": dict(self.label_polarity),
            "metric_set": self.metric_set,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskInfo:
        scale = data.get("scale")
        return cls(
            name=str(data["name"]),
            scale=(float(scale[0]), float(scale[1])) if scale else None,
            neutral=NeutralBand(**data.get("neutral", {})),
            labels=tuple(data.get("labels", ())),
            label_polarity=dict(data.get("label_polarity", {})),
            metric_set=data.get("metric_set", "generic"),
        )


def normalize_label(label: str) -> str:
    """Labels compare case- and whitespace-insensitively everywhere in the product."""
    return " ".join(label.strip().lower().split())


def label_polarity_map(labels: Sequence[str], given: str | None = None, spec: str = "") -> dict[str, Polarity]:
    """The polarity of each label whose valence is known, keyed by `normalize_label`: Mikels' eight
    categories, RAVDESS's emotions (as the `ravdess:` adapter reads them, so that a converted copy keeps
    them), happiness, joy and love (`BASIC_EMOTION_POLARITY`) and the polarity words themselves. `given`
    ("label:polarity,...", `?polarity=` in `spec`) adds to them or overrides them. Every free label set (a
    generic file, `--labels`, a reward's data source) gets its polarities here."""
    known_words: dict[str, Polarity] = {
        **MIKELS_VALENCE,
        **RAVDESS_POLARITY,
        **BASIC_EMOTION_POLARITY,
        **{p: p for p in POLARITIES},
    }
    names = {normalize_label(x) for x in labels}
    known = {normalize_label(x): known_words[normalize_label(x)] for x in labels if normalize_label(x) in known_words}
    for pair in (given or "").split(","):
        if not pair.strip():
            continue
        label, _, polarity = pair.partition(":")
        label, polarity = normalize_label(label), polarity.strip().lower()
        if polarity not in POLARITIES:
            raise DataError(
                f"?polarity= in {spec}: {pair.strip()!r} should be LABEL:POLARITY, the polarity one of "
                "positive, negative, neutral"
            )
        if label not in names:
            raise DataError(f"?polarity= in {spec}: {label!r} is not one of the labels ({', '.join(sorted(names))})")
        known[label] = cast(Polarity, polarity)
    return known


# Ready-made tasks for the datasets the product knows by name.
MOSI_TASK = TaskInfo("mosi", scale=(-3.0, 3.0), neutral=NeutralBand(0.0, 0.0, True, True), metric_set="mosi")
MOSEI_TASK = TaskInfo("mosei", scale=(-3.0, 3.0), neutral=NeutralBand(0.0, 0.0, True, True), metric_set="mosei")
SIMS_TASK = TaskInfo("sims", scale=(-1.0, 1.0), neutral=NeutralBand(-0.1, 0.1, False, True), metric_set="sims")
SIMSV2_TASK = TaskInfo("simsv2", scale=(-1.0, 1.0), neutral=NeutralBand(-0.1, 0.1, False, True), metric_set="simsv2")
MMSA_TASKS: dict[str, TaskInfo] = {t.name: t for t in (MOSI_TASK, MOSEI_TASK, SIMS_TASK, SIMSV2_TASK)}


def vader_task(domain: str, neutral: float = 0.5) -> TaskInfo:
    # `around`: a width of 0 leaves the midpoint neutral (an open band of width 0 held nothing: 0 read positive)
    scale = (-4.0, 4.0)
    return TaskInfo(f"vader:{domain}", scale=scale, neutral=NeutralBand.around(scale, neutral), metric_set="generic")


def mikels_task(name: str = "emoset") -> TaskInfo:
    labels = tuple(MIKELS_VALENCE)
    return TaskInfo(name, labels=labels, label_polarity=dict(MIKELS_VALENCE), metric_set="classification")


def parse_low_high(value: str, name: str = "--scale", example: str | None = None) -> tuple[float, float]:
    """(low, high) of two numbers written "LOW,HIGH", as `analyze --scale` and `--neutral-band` take them; a
    `ValueError` showing that form for anything else (`example` words it for the caller, `NAME -3,3` by
    default). Whether LOW may equal or exceed HIGH is for the reader of the pair (`resolve_task`,
    `with_neutral_band`) to say."""
    try:
        low, high = (float(part) for part in value.split(","))
    except ValueError:
        raise ValueError(
            f"{name} takes two numbers LOW,HIGH, e.g. {example or f'{name} -3,3'}; got {value!r}"
        ) from None
    return low, high


#: a task named together with a scale or labels of one's own, refused alike by `resolve_task`, analyze, the
#: Python API and the server: one of the two was dropped in silence (analyze let the scale win)
TASK_OR_OWN = "give a task, or a scale or labels of your own, not both"


def resolve_task(
    name: str | None = None,
    scale: tuple[float, float] | None = None,
    labels: tuple[str, ...] | None = None,
    neutral: float | None = None,
) -> TaskInfo:
    """A task for free input (`analyze`): a known name, or a scale / label set given directly.

    Known names: vader (-4..4, |score| < 0.5 neutral), mosi, mosei, sims, simsv2, mikels/emoset,
    ravdess (the 8 speech emotions). A name given with a scale or labels is refused (`TASK_OR_OWN`).
    """
    if name is not None and (scale is not None or labels is not None):
        raise ValueError(TASK_OR_OWN)
    if labels is not None and scale is not None:
        raise ValueError("give a scale or labels, not both")
    if labels is not None:
        # empty items dropped and the rest stripped, so "joy,,anger" asks the prompt for joy or anger wherever given;
        # "joy:positive" gives a label its polarity (for hints and polarity figures), as a file's ?polarity= does
        items = [label.strip() for label in labels if label.strip()]
        named = tuple(item.partition(":")[0].strip() for item in items)
        polarities = ",".join(item for item in items if ":" in item) or None
        if len(named) < 2:
            raise ValueError(f"a label set needs at least two labels, got {len(named)} ({', '.join(named) or 'none'})")
        if len(set(named)) < len(named):
            raise ValueError(f"a label set names each label once, got {', '.join(named)}")
        polarity = label_polarity_map(named, polarities, "the labels given (LABEL or LABEL:POLARITY)")
        return TaskInfo("labels", labels=named, label_polarity=polarity, metric_set="classification")
    if scale is not None:
        low, high = (float(end) for end in scale)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"a scale is LOW,HIGH with LOW below HIGH, both finite numbers; got {low:g},{high:g}")
        return TaskInfo("custom", scale=(low, high), neutral=NeutralBand.around((low, high), neutral or 0.0))
    key = (name or "vader").lower()
    if key == "vader" or key.startswith("vader:"):  # vader:<domain>; "vaderx" is no task
        return vader_task(key.partition(":")[2] or "text", 0.5 if neutral is None else neutral)
    if key in MMSA_TASKS:
        return MMSA_TASKS[key]
    if key in ("mikels", "emoset", "fi"):
        return mikels_task(key)
    if key in ("ravdess", "speech-emotion"):
        from emoreason.data.adapters.ravdess import ravdess_task  # the adapter module imports this one

        return ravdess_task()
    raise ValueError(
        f"unknown task {name!r}; use vader, mosi, mosei, sims, simsv2, mikels, ravdess, or give a scale or labels "
        "instead (--scale / --labels on the command line, `scale` / `labels` in a request or to `Explainer.load`)"
    )


def with_neutral_band(task: TaskInfo, low: float, high: float, within: str = "give LOW and HIGH within it") -> TaskInfo:
    """`task` with the scores between `low` and `high` read as neutral: open at both ends, as `NeutralBand.around`
    makes a band (-0.5,0.5 is vader's |score| < 0.5), or that one score alone when the two are equal (0,0 is
    MOSI's). A `ValueError` saying what to give instead for a task without a score scale, LOW above HIGH, or a
    band reaching outside the scale (`analyze --neutral-band` and a request's `neutral_band` name the option;
    `within` says what to give instead for an option that sets the band otherwise, a dataset's `?neutral=W`)."""
    if task.scale is None:
        raise ValueError(
            f"task {task.name!r} answers with labels; a neutral band applies to a score scale (a task such as vader "
            "or mosi, or a scale of your own)"
        )
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"a neutral band is LOW,HIGH, two finite numbers; got {low:g},{high:g}")
    if low > high:
        raise ValueError(f"a neutral band needs LOW <= HIGH; got {low:g},{high:g} (did you mean {high:g},{low:g}?)")
    bottom, top = task.scale
    if low < bottom or high > top:
        raise ValueError(
            f"the neutral band {low:g},{high:g} reaches outside the {task.name} scale, {bottom:g} to {top:g}; {within}"
        )
    return replace(task, neutral=NeutralBand(low, high, True, True) if low == high else NeutralBand(low, high))
