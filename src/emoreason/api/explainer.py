"""Explain texts from Python: `Explainer` and its typed `Explanation` records (see `emoreason.api`)."""

from __future__ import annotations

import copy
import dataclasses
import functools
import numbers
import os
import threading
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard, overload

from emoreason.cues.prompting import MEDIA
from emoreason.data.schema import Sample
from emoreason.data.text import check_text, is_blank
from emoreason.formats.readout import ScoreFit, effective_readout, polarity_position, reading_fit

if TYPE_CHECKING:
    from emoreason.cues.classifier import CueClassifier
    from emoreason.cues.reference import CueReference
    from emoreason.data.schema import TaskInfo
    from emoreason.formats.base import ReasoningFormat
    from emoreason.generation import Completion, GenerationBackend, SamplingParams
    from emoreason.inference import ModelSpec
    from emoreason.models import Conversation, LoadedModel
    from emoreason.models.shipped import AdapterSettings

MediaPath = str | Path | None


# --- the record -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """One explained prediction: the fields of the audit record `emoreason analyze --json` prints
    (`emoreason.inference.audit_record`, and `cues` when the prompt carried cue text), typed.
    `to_dict()` gives that record back exactly.

    >>> r = explainer("Not bad at all.")  # doctest: +SKIP
    >>> r.polarity, r.score, r.reasoning["conclusion"]  # doctest: +SKIP
    """

    id: str
    polarity: str | None
    score: float | None
    label: str | None
    reasoning: dict[str, str]
    parse_ok: bool
    errors: tuple[str, ...]
    raw_completion: str
    completion_tokens: int
    finish_reason: str | None
    model: str
    format: str
    latency_s: float
    citations: dict[str, Any] = field(default_factory=dict)
    #: the task the answer was asked as (`vader`, `ravdess`, ...); None in records made before
    #: records kept it
    task: str | None = None
    #: the task written whole (`TaskInfo.to_dict`: its scale and neutral band, or its labels) where its name does
    #: not give it back (a scale, labels or band of one's own); None for a known task, and then absent
    task_info: dict[str, Any] | None = None
    #: the measured cue text the prompt carried (media a text model cannot read, given as words),
    #: which `citations` are checked against besides the text; None when there was none, and then
    #: absent from the record, as in `analyze --json`
    cues: str | None = None
    #: with several answers sampled (`votes` > 1): how many, how many agree with this one, and each
    #: one's verdict (`emoreason.inference.voted_record`); None for one answer, and then absent
    votes: dict[str, Any] | None = None
    #: how `score` was read (`formats.readout`): "fitted" (off the model's fitted line), "confidence"
    #: (the written number weighted by the probability of the polarity) or "written"; None in
    #: records made before the readout existed
    score_readout: str | None = None
    #: with the confidence or fitted readout: the number the chain wrote
    written_score: float | None = None
    #: with the fitted readout: the confidence score, one of the line's inputs
    confidence_score: float | None = None
    #: the model's probability of each polarity word where it wrote one, when it was kept
    polarity_probs: dict[str, float] | None = None
    #: the negations the chain names, and those the input has before a cue the chain states
    #: without naming them, each {cue, negator, named, in_input} (`metrics.valence.negation_notes`);
    #: None when there are none, and then absent
    negations: list[dict[str, Any]] | None = None
    #: the words of the input VADER's lexicon rates that the chain gives no valence, each {word,
    #: valence} (`metrics.valence.unnamed_cues`); None when there are none, and then absent
    unnamed_cues: list[dict[str, Any]] | None = None
    #: the words the chain states a number for that lies further from VADER's valence than the word's
    #: raters spread, each {word, stated, valence, spread} (`metrics.valence.misrated_cues`); None
    #: when there are none, and then absent
    misrated_cues: list[dict[str, Any]] | None = None
    #: the words the chain states a number for that VADER's lexicon does not rate, each {word, stated}
    #: (`metrics.valence.unrated_cues`): the model's own reading; None when there are none, and then absent
    unrated_cues: list[dict[str, Any]] | None = None
    #: with `attribute`: every whitespace token of the text, ranked by how far taking it out moves the
    #: polarity probabilities, each {word, start, end, shift, without} (`metrics.attribution.WordShift`);
    #: `start` and `end` are code-point offsets into the text (Python's str indices; UTF-16 clients such
    #: as JavaScript must convert); None when not asked, and then absent
    attribution: list[dict[str, Any]] | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Explanation:
        """The Explanation of an audit record; keys other than the audit fields (e.g. the gold
        values `evaluate` adds) are ignored. Raises `TypeError` for a record that is not a mapping and
        `ValueError` naming the keys an audit record always has that it lacks (a bare `KeyError` named
        only the first)."""
        if not isinstance(record, Mapping):
            raise TypeError(f"an audit record is a mapping (a dict), not {type(record).__name__}")
        missing = [name for name in _REQUIRED if name not in record]
        if missing:
            raise ValueError(
                f"not an audit record: it lacks {', '.join(missing)}; an audit record has {', '.join(_REQUIRED)} "
                f"(and may have {', '.join(_OPTIONAL)})"
            )
        values = {name: copy.deepcopy(record[name]) for name in _REQUIRED}
        values["errors"] = tuple(values["errors"])
        return cls(**values, **{name: copy.deepcopy(record.get(name)) for name in _OPTIONAL})

    def to_dict(self) -> dict[str, Any]:
        """The audit record, as `emoreason analyze --json` prints it (a fresh copy)."""
        record = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name not in _OPTIONAL}
        record["errors"] = list(self.errors)
        for name in _OPTIONAL:
            if getattr(self, name) is not None:
                record[name] = copy.deepcopy(getattr(self, name))
        return record


#: Explanation fields that an audit record has only sometimes
_OPTIONAL = (
    "task",
    "task_info",
    "score_readout",
    "polarity_probs",
    "written_score",
    "confidence_score",
    "votes",
    "negations",
    "unnamed_cues",
    "misrated_cues",
    "unrated_cues",
    "attribution",
    "cues",
)
#: the keys every audit record has, in the record's order
_REQUIRED = tuple(f.name for f in fields(Explanation) if f.name not in _OPTIONAL)


# --- what a model is handed -------------------------------------------------------------------


def samples_from_texts(
    texts: Sequence[str],
    media: Mapping[str, Path | None],
    *,
    media_names: str = "--audio/--video/--image",
    several: str = "use --input FILE.jsonl for several",
) -> list[Sample]:
    """One sample per text; `media` ({"audio": path, ...}) attaches files to a single text.
    Raises `ValueError` for media with several texts, a media file that does not exist, an empty
    text without media, and text that is not valid Unicode (naming the text by its position).
    `media_names` and `several` word the messages for the caller (CLI options by default)."""
    given = {name: path for name, path in media.items() if path is not None}
    if given and len(texts) > 1:
        raise ValueError(f"{media_names} go with a single text; {several}")
    for name, path in given.items():
        if not path.is_file():
            raise ValueError(f"{name} file not found: {path}")
    for number, text in enumerate(texts, start=1):
        which = "the text" if len(texts) == 1 else f"text {number}"
        check_text(text, which)
        if is_blank(text) and not given:
            raise ValueError(
                f"{which} is empty or only whitespace: there is nothing to analyse; give the text in quotes, "
                f"or media with {media_names}"
            )
    files = {name: str(path) for name, path in given.items()}
    return [Sample(id=f"input{i + 1}", text=t, **files) for i, t in enumerate(texts)]


def has_media(samples: Sequence[Sample]) -> bool:
    return any(getattr(s, m) for s in samples for m in MEDIA)


def spoken_by(
    samples: Sequence[Sample], speaker: str | None, reference: Path | None, cli: bool = False
) -> list[Sample]:
    """`samples` as clips of `speaker` (`Explainer(...)(speaker=)`, `analyze --speaker`): their cues are compared
    with that speaker's statistics in the cue `reference` (one it has none of is said by `Explainer.prepare`). A
    ValueError where the speaker cannot be read, never ignored silently: no clip, or no reference to read it in
    (`cli`: the options named as the command line spells them)."""
    if speaker is None:
        return list(samples)
    name, media, given = (
        ("--speaker", "--audio, --video or --image", "--cue-reference")
        if cli
        else ("speaker=", "audio=, video= or image=", "Explainer.load(cue_reference=)")
    )
    if not has_media(samples):
        raise ValueError(f"{name} {speaker} names who speaks in a clip: give one with {media}")
    if reference is None:
        raise ValueError(
            f"{name} {speaker} is read against a cue reference's speakers: give {given} "
            "(`emoreason data prepare --reference-out` writes one), or an adapter that carries one"
        )
    return [s.with_(meta={**s.meta, "speaker": str(speaker)}) for s in samples]


@dataclass(frozen=True)
class ModelInputs:
    samples: list[Sample]  # as the model takes them: media it cannot read detached
    cue_text: dict[str, str | None]  # by sample id
    warnings: list[str] = field(default_factory=list)  # clips measured without voice cues


def inputs_for_family(
    samples: Sequence[Sample],
    family: Any,
    mode: str,
    reference_file: Path | None = None,
    progress: Callable[[int], None] | None = None,
    classifier_file: Path | None = None,
) -> ModelInputs:
    """The samples with cue text for `family` (`analyze --cues auto|on|off`), measured against the
    references in `reference_file` when given, with the ranking of the cue classifier in
    `classifier_file` when given (`emoreason.cues.classifier`). Raises `ValueError` for a bad
    mode, reference or classifier file, and for unreadable media, naming each file."""
    from emoreason.cues import CueClassifier

    classifier = CueClassifier.load(classifier_file) if classifier_file is not None else None
    return _model_inputs(samples, family.name, family.modalities, mode, reference_file, progress, classifier)


def _model_inputs(
    samples: Sequence[Sample],
    family: str,
    modalities: Collection[str],
    mode: str,
    reference_file: Path | None,
    progress: Callable[[int], None] | None,
    classifier: CueClassifier | None = None,
) -> ModelInputs:
    from emoreason.cues import load_references
    from emoreason.cues.classifier import rank_cue_texts
    from emoreason.cues.prompting import cue_inputs

    references = load_references(reference_file) if reference_file is not None else None
    detached, texts, report = cue_inputs(samples, modalities, mode, references=references, progress=progress)
    if classifier is not None and mode != "off":
        texts = rank_cue_texts(detached, texts, classifier)
    if report is not None and report.unreadable:
        from emoreason.models import MediaError

        takes = ", ".join(sorted(modalities)) or "text only"
        raise MediaError(
            f"the {family} family takes {takes}, so media are measured and given as cue text "
            f"(--cues {mode}); " + "; ".join(report.unreadable)
        )
    if report is None:  # no media measured
        return ModelInputs(detached, texts, [])
    warned = [f"no voice cues from {problem}" for problem in report.no_sound]
    # a clip shorter than `data prepare` accepts (0.3 s) is still measured, but its numbers say little
    warned += [f"{problem}: its cues describe very little" for problem in report.too_short]
    # the model still answers, and confidently (a silent clip came out "surprised"): the user should know
    warned += [f"{key}: a silent recording, no voice found: no voice cues back its answer" for key in report.silent]
    warned += [f"{key}: no face found: no face cues back its answer" for key in report.no_face]
    warned += _unknown_speakers(samples, references, reference_file)
    return ModelInputs(detached, texts, warned)


def _unknown_speakers(
    samples: Sequence[Sample], references: Mapping[str, CueReference] | None, reference_file: Path | None
) -> list[str]:
    """One warning for all the clips whose speaker (`analyze --speaker`, a file's `speaker` column) the saved
    cue reference has no statistics of: `CueReference.stats` compares them with the reference's whole dataset,
    which their cue text says ("relative to the dataset"), but the user named a speaker and should hear why."""
    from emoreason.cues.reference import reference_speakers, some_speakers, too_few_clips

    if not references:
        return []
    known = reference_speakers(references)
    unknown = sorted({s.speaker for s in samples if s.speaker and has_media([s])} - set(known))
    if not unknown:
        return []
    return [
        f"the cue reference {reference_file} has no statistics of speaker {some_speakers(unknown)} "
        f"({too_few_clips(references)}; its speakers: {some_speakers(known)}): their clips are compared with its "
        "whole dataset instead"
    ]


def check_context_fits(
    loaded: LoadedModel | ModelSpec,
    samples: Sequence[Sample],
    fmt: ReasoningFormat,
    task: TaskInfo,
    cue_text: Mapping[str, str | None],
    max_new_tokens: int,
    option: str = "--max-new-tokens",
) -> None:
    """Raise `ContextTooLong` (a `ValueError`) naming the first sample whose prompt plus answer
    exceeds the model's context (`ModelSpec.check_fits`, the one such check, the server's too),
    before anything is generated; only text models' prompts can be counted before generating.
    `option` names the setting that asks for `max_new_tokens` in the message. Also raises
    `ValueError` when the format cannot be asked about the task (c2f with a task without a scale)."""
    from emoreason.inference import ContextTooLong, ModelSpec, conversations_for

    spec = loaded if isinstance(loaded, ModelSpec) else ModelSpec.from_loaded(loaded)
    for sample, conversation in zip(samples, conversations_for(samples, fmt, task, cue_text), strict=True):
        try:
            spec.check_fits(conversation, max_new_tokens, option)
        except ContextTooLong as err:
            raise err.about(f"{sample.id} ({len(sample.text)} characters)") from None


def load_engine(
    model: str = "default",
    adapter: list[str] | str | None = None,
    family: str = "auto",
    dtype: str = "auto",
    device: str = "auto",
    batch_size: int = 8,
    votes: int = 1,
) -> tuple[LoadedModel, GenerationBackend]:
    """The loaded model (`emoreason.models.load_model`: `default` gets its shipped adapter) and a
    `TransformersEngine` over it, for `batch_size` samples at a time with `votes` answers each
    (the engine's batch counts rows, so one sample's votes share a batch). Raises
    FileNotFoundError, ValueError or MediaError."""
    from emoreason.generation import TransformersEngine
    from emoreason.models import load_model

    require_batch_size(batch_size)
    loaded = load_model(model, adapter, family=family, dtype=dtype, device=device)
    return loaded, TransformersEngine(loaded, batch_size=batch_size * votes)


# --- explaining -------------------------------------------------------------------------------


def checked_settings(
    own: AdapterSettings,
    format: str | None,
    task: str | TaskInfo | None,
    scale: Sequence[float] | str | None,
    labels: Sequence[str] | str | None,
    votes: int,
    temperature: float | None,
    cues: str,
    score_readout: str,
    max_new_tokens: int | None = None,
    batch_size: int = 1,
    attribute: bool = False,
    neutral_band: Sequence[float] | str | None = None,
) -> tuple[ReasoningFormat, TaskInfo, float]:
    """The format, task and sampling temperature an explainer answers with, what is not given taken
    from the adapter's own settings (`own`), else vader and the format the task takes
    (`formats.format_for`), the task's neutral band `neutral_band` where given (`data.schema.with_neutral_band`,
    as `analyze --neutral-band`); a `ValueError` saying why for any setting it cannot take (a `TypeError` for a
    count that is not an int, or a scale, labels or band of the wrong kind). Reads no weights, so
    `Explainer.load` checks before it loads them."""
    from emoreason.cues.prompting import CUE_MODES
    from emoreason.data.schema import TaskInfo, resolve_task, with_neutral_band
    from emoreason.formats import format_for
    from emoreason.formats.consensus import vote_temperature

    require_int(votes, "votes")
    if max_new_tokens is not None:
        require_int(max_new_tokens, "max_new_tokens")
    require_batch_size(batch_size)
    scale, labels, band = given_scale(scale), given_labels(labels), given_neutral_band(neutral_band)
    if scale is not None or labels is not None:  # an empty label set is refused, not read as vader
        # a task given too is refused there, as analyze and the server refuse it
        task = resolve_task(task.name if isinstance(task, TaskInfo) else task, scale, labels)
    task = task or own.task_info() or "vader"
    task_info = task if isinstance(task, TaskInfo) else resolve_task(task)
    if band is not None:
        try:
            task_info = with_neutral_band(task_info, *band)
        except ValueError as err:
            raise ValueError(f"neutral_band: {err}") from None
    fmt = format_for(task_info, format, own.format)
    chosen = vote_temperature(votes, temperature)
    if cues not in CUE_MODES:
        raise ValueError(f"unknown cue mode {cues!r}; use {', '.join(CUE_MODES)}")
    effective_readout(score_readout, fmt, task_info)  # an unknown readout name fails here
    if max_new_tokens is not None and max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    if attribute and not fmt.supports_prefix_hint:
        raise ValueError(
            f"attribute reads the polarity word the answer states first; format {fmt.name!r} writes none first"
        )
    return fmt, task_info, chosen


def given_scale(scale: object) -> tuple[float, float] | None:
    """`scale` as (low, high) floats (`given_pair`): two numbers in a tuple, a list or a numpy array, or "LOW,HIGH"
    as `analyze --scale` takes it. A numpy array failed as "truth value ... ambiguous", and "1,7" was read
    character by character."""
    return given_pair(scale, "scale", ("-3", "3"))


def given_neutral_band(band: object) -> tuple[float, float] | None:
    """`neutral_band` as (low, high) floats (`given_pair`), as `analyze --neutral-band` takes it; whether the task
    can take it is `data.schema.with_neutral_band`'s to say."""
    return given_pair(band, "neutral_band", ("-0.5", "0.5"))


def given_pair(value: object, name: str, example: tuple[str, str]) -> tuple[float, float] | None:
    """`value`, the setting `name`, as (low, high) floats: two numbers in a tuple, a list or a numpy array (numpy
    values become plain floats), or "LOW,HIGH" as the command line takes it (`data.schema.parse_low_high`). A
    `TypeError` naming `name` for anything else, a `ValueError` for a count or a string that is not two numbers;
    `example` (LOW, HIGH) words the messages."""
    from emoreason.data.schema import parse_low_high

    low_example, high_example = example
    pair = f"{name}=({low_example}, {high_example})"
    if value is None:
        return None
    if isinstance(value, str):
        return parse_low_high(value, name, f'{name}="{low_example},{high_example}" or {pair}')
    values = value.tolist() if hasattr(value, "tolist") else value  # numpy (or torch) values as Python's
    if not _is_sequence(values):
        raise TypeError(
            f'{name} takes two numbers (LOW, HIGH), e.g. {pair} or {name}="{low_example},{high_example}"; '
            f"not {type(value).__name__}"
        )
    if len(values) != 2:
        raise ValueError(f"{name} takes two numbers (LOW, HIGH), e.g. {pair}; got {len(values)} values")
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (numbers.Real, str)):
            raise TypeError(f"{name} takes two numbers (LOW, HIGH); got {type(item).__name__} {item!r}")
    try:  # numbers written as strings, ("1", "7"), were taken before: they still are
        low, high = (float(item) for item in values)
    except ValueError:
        raise ValueError(f"{name} takes two numbers (LOW, HIGH), e.g. {pair}; got {list(values)!r}") from None
    return low, high


def given_labels(labels: object) -> tuple[str, ...] | None:
    """`labels` as a tuple of plain str: any sequence of label names (a list, a tuple, a numpy array of
    strings), or "joy,anger" as `analyze --labels` takes them (not the letters of one string). A
    `TypeError` naming `labels` for a label that is not a str (numbers were refused only as "'int' object
    has no attribute 'strip'")."""
    if labels is None:
        return None
    if isinstance(labels, str):
        return tuple(label.strip() for label in labels.split(",") if label.strip())
    values = labels.tolist() if hasattr(labels, "tolist") else labels
    if not _is_sequence(values):
        raise TypeError(f'labels takes label names (str), e.g. labels=["joy", "anger"]; not {type(labels).__name__}')
    for number, label in enumerate(values, 1):
        if not isinstance(label, str):
            raise TypeError(f"labels takes label names (str); label {number} is {type(label).__name__} {label!r}")
    return tuple(str(label) for label in values)  # numpy's str_ as plain str


def _is_sequence(value: object) -> TypeGuard[Sequence[Any]]:
    """A list, a tuple or another sequence, not one string or bytes."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def answering_format(task: TaskInfo, name: str | None, current: str, own: str | None) -> ReasoningFormat:
    """The format a task asked of a running explainer is answered in: `name` when asked, else the current
    one where it can answer the task, else the adapter's own or the one the task's kind takes (`format_for`):
    a label task asked of a model answering in c2f (no emoreason.json says otherwise) is answered in emor3."""
    from emoreason.formats import format_for

    if name is not None:
        return format_for(task, name, own)
    try:
        return format_for(task, current)
    except ValueError:
        return format_for(task, None, own)


def require_int(value: object, name: str) -> None:
    """A `TypeError` naming the setting `name` where `value` is not an int, the one check of every count the
    API takes (votes, max_new_tokens, batch_size...): 2.0 was taken and crashed deep in torch after the model
    loaded, and True (a bool is an int to Python) was taken as 1."""
    # numpy's integers are whole numbers too (numbers.Integral); numpy's bool is not one, Python's is
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} takes a whole number (an int), not {type(value).__name__} {value!r}")


def require_batch_size(batch_size: int) -> None:
    """A `TypeError` naming `batch_size` where it is not an int (`require_int`), a `ValueError` where it is
    below 1 (a negative one generated nothing and read as a run whose every answer was missing)."""
    require_int(batch_size, "batch_size")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a whole number of at least 1, got {batch_size!r}")


class _AttributionWeights:
    """The loaded model as word attribution reads it: the same weights, and a copy of the processor made
    once. A fast tokenizer keeps its padding settings on its shared backend, so an attribution encoding
    while the engine's batch thread encodes with the same one could reset the other's padding mid-call
    (a server's batch then failed)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._copy: LoadedModel | None = None

    def of(self, loaded: LoadedModel) -> LoadedModel:
        if self._copy is None or self._copy.model is not loaded.model:
            self._copy = dataclasses.replace(loaded, processor=copy.deepcopy(loaded.processor))
        return self._copy


class Explainer:
    """A loaded model that explains texts (and media), one typed `Explanation` each.

    >>> ex = Explainer.load("default")  # doctest: +SKIP
    >>> r = ex("Not bad at all.")  # doctest: +SKIP
    >>> print(r.polarity, r.score, r.reasoning)  # doctest: +SKIP
    >>> ex(["Loved it.", "Never again."])  # a list, batched  # doctest: +SKIP
    >>> ex("Listen to this.", audio="clip.wav")  # media, where the model's family takes them  # doctest: +SKIP

    `model` is the `LoadedModel` behind `engine`, or a `ModelSpec` that describes it (the server's,
    whose engine may be scripted; `weights` then gives the `LoadedModel` where there is one, which
    `attribute` reads). `task` is a task name (`vader`, `ravdess`, ...) or a `TaskInfo`;
    `format` a reasoning format (`c2f`, ...); `cues` (`auto`, `on`, `off`) whether media a
    text-only model cannot read are measured and given as cue text, as `emoreason analyze --cues` does.
    What is not given comes from the adapter's own settings (`emoreason.models.shipped.AdapterSettings`:
    the shipped `speech-emotion` adapter says emor3, ravdess, its cue classifier and reference),
    else vader and the format the task's kind takes (c2f for a score scale, emor3 for labels).

    Calling it runs every step; the steps are methods for callers that generate themselves (the
    server batches concurrent requests into one engine call):

    >>> inputs = ex.prepare(samples)  # cue text, context check  # doctest: +SKIP
    >>> outputs = engine.generate(ex.conversations(inputs), ex.sampling)  # doctest: +SKIP
    >>> records = ex.records_from(inputs, outputs, latency_s)  # what `ex.records(inputs)` gives  # doctest: +SKIP
    """

    #: how a context-length refusal names the setting that asks for the answer's length
    option = "max_new_tokens"

    def __init__(
        self,
        model: LoadedModel | ModelSpec,
        engine: GenerationBackend,
        *,
        format: str | None = None,
        task: str | TaskInfo | None = None,
        scale: Sequence[float] | str | None = None,
        labels: Sequence[str] | str | None = None,
        neutral_band: Sequence[float] | str | None = None,
        batch_size: int = 8,
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        votes: int = 1,
        cues: str = "auto",
        cue_reference: Path | None = None,
        cue_classifier: Path | None = None,
        ground_quotes: bool = True,
        name_negations: bool = True,
        score_readout: str = "fitted",
        attribute: bool = False,
        weights: LoadedModel | None = None,
    ) -> None:
        from emoreason.cues import CueClassifier
        from emoreason.inference import ModelSpec
        from emoreason.models.shipped import AdapterSettings

        #: the model's weights: the `LoadedModel` given, or with a `ModelSpec` the `weights` behind it
        #: (None where the engine's model is not at hand); `attribute` reads them
        self.loaded = weights if isinstance(model, ModelSpec) else model
        self.spec = model if isinstance(model, ModelSpec) else ModelSpec.from_loaded(model)
        self.engine = engine
        own = AdapterSettings.of(self.spec.adapters)
        # a bad setting fails here, not at the first call
        self.format, self.task, self.temperature = checked_settings(
            own,
            format=format,
            task=task,
            scale=scale,
            labels=labels,
            votes=votes,
            temperature=temperature,
            cues=cues,
            score_readout=score_readout,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            neutral_band=neutral_band,
        )  # `attribute` is `_check_attribute`'s to check here, with the weights at hand
        if (other := own.other_question(self.task)) is not None:  # answers as trained, whatever it is asked
            warnings.warn(other, stacklevel=2)
        self.batch_size, self.votes = batch_size, votes
        #: the format the adapter answers in (its emoreason.json), None for a model without one: what a task
        #: asked later (`using`, a server request) is answered in unless a format is asked too
        self.own_format = own.format
        # None is the default; 0 is refused where the sampling settings are made
        self.max_new_tokens = max_new_tokens if max_new_tokens is not None else own.max_new_tokens or 256
        self.cues = cues
        self.cue_reference = cue_reference or own.cue_reference
        self.cue_classifier = cue_classifier or own.cue_classifier
        #: read once here (a bad file fails at construction), not on every `prepare`
        self._classifier = CueClassifier.load(self.cue_classifier) if self.cue_classifier is not None else None
        self.ground_quotes = ground_quotes
        #: with `ground_quotes`: name the negation of a cue listed against its number (`generation.negations`)
        self.name_negations = name_negations
        #: the line the adapter carries to read scores off (`formats.readout.ScoreFit`), or None
        self.score_fit = ScoreFit.load(own.score_fit) if own.score_fit is not None else None
        #: `fitted`, `confidence` or `written` (`formats.readout`); where one cannot apply, the next is used
        self.score_readout = score_readout
        #: add each record's `attribution` (`metrics.attribution`): the model's own weights are read for it
        self.attribute = attribute
        #: shared with the explainers `using` makes: the weights attribution reads, with a processor of their own
        self._attribution = _AttributionWeights()
        self._check_attribute()

    def _check_attribute(self) -> None:
        """A `ValueError` that says why, where `attribute` is asked and cannot be done."""
        if self.attribute and self.loaded is None:
            raise ValueError(
                "attribute=True reads the model's weights: give a LoadedModel (or a ModelSpec with its weights)"
            )
        if self.attribute and polarity_position(self.loaded.tokenizer, self.format) is None:
            raise ValueError(
                f"attribution reads the polarity word an answer states first; the {self.format.name!r} format "
                "states none there with this tokenizer (c2f does)"
            )

    @property
    def reading_fit(self) -> ScoreFit | None:
        """`score_fit` where this explainer's readout uses it, else None."""
        return reading_fit(self.score_readout, self.format, self.task, self.score_fit)

    @functools.cached_property
    def choice(self) -> dict[str, int] | None:
        """The polarity tokens whose probabilities the confidence readout needs
        (`inference.readout_choice`), or None where scores are read as written. Tokenized once
        per explainer; `using` drops the cached value, since format, task and readout decide it."""
        from emoreason.inference import readout_choice

        return readout_choice(self.engine, self.format, self.task, self.score_readout)

    @classmethod
    def load(
        cls,
        model: str | Path = "default",
        *,
        adapter: list[str] | str | None = None,
        format: str | None = None,
        task: str | TaskInfo | None = None,
        scale: Sequence[float] | str | None = None,
        labels: Sequence[str] | str | None = None,
        neutral_band: Sequence[float] | str | None = None,
        dtype: str = "auto",
        device: str = "auto",
        batch_size: int = 8,
        family: str = "auto",
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        votes: int = 1,
        cues: str = "auto",
        cue_reference: Path | None = None,
        cue_classifier: Path | None = None,
        ground_quotes: bool = True,
        name_negations: bool = True,
        score_readout: str = "fitted",
        attribute: bool = False,
    ) -> Explainer:
        """Load `model` once ("default", a local folder or a hub id) with its adapters (the shipped one
        for "default" unless `adapter` names others, a shipped one by name such as "speech-emotion",
        or "none"), ready to explain. `scale` (two numbers, (low, high), or "LOW,HIGH") or `labels` (label
        names, or "joy,anger") ask a task of one's own, as `analyze --scale` / `--labels` do; a numpy
        array serves for either (`given_scale`, `given_labels`). `neutral_band` ((low, high) or "LOW,HIGH",
        within the task's scale) sets the scores read as neutral, as `analyze --neutral-band` does. Every
        setting is checked before the model loads."""
        from emoreason.models.loading import resolve_adapters
        from emoreason.models.shipped import AdapterSettings

        # what `checked_settings` reads, checked here before the weights load and again as the explainer is made
        checked: dict[str, Any] = dict(
            format=format,
            task=task,
            scale=scale,
            labels=labels,
            votes=votes,
            temperature=temperature,
            cues=cues,
            score_readout=score_readout,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            attribute=attribute,
            neutral_band=neutral_band,
        )
        checked_settings(AdapterSettings.of(resolve_adapters(str(model), adapter)), **checked)
        loaded, engine = load_engine(str(model), adapter, family, dtype, device, batch_size, votes)
        return cls(
            loaded,
            engine,
            **checked,
            cue_reference=cue_reference,
            cue_classifier=cue_classifier,
            ground_quotes=ground_quotes,
            name_negations=name_negations,
        )

    def using(
        self,
        *,
        format: str | None = None,
        task: str | TaskInfo | None = None,
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        votes: int | None = None,
        score_readout: str | None = None,
        attribute: bool | None = None,
    ) -> Explainer:
        """This explainer with other settings (those not given stay), sharing its model and engine:
        nothing is loaded again. The server answers each request with the request's own. `votes`
        without a temperature takes that count's default (`formats.consensus.vote_temperature`).
        Raises `ValueError` for a setting this explainer cannot take (e.g. `attribute` without weights), `TypeError`
        for a count that is not an int (`require_int`)."""
        from emoreason.data.schema import resolve_task
        from emoreason.formats.consensus import vote_temperature

        other = copy.copy(self)
        other.__dict__.pop("choice", None)  # `choice` depends on what may change below
        if task is not None:
            other.task = resolve_task(task) if isinstance(task, str) else task
        if format is not None or task is not None:  # the format given, else this one, must answer the task
            other.format = answering_format(other.task, format, self.format.name, self.own_format)
        if max_new_tokens is not None:
            require_int(max_new_tokens, "max_new_tokens")
            if max_new_tokens < 1:  # it failed only at the first call
                raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
            other.max_new_tokens = max_new_tokens
        if votes is not None:
            require_int(votes, "votes")
            other.votes = votes
            other.temperature = vote_temperature(votes, temperature)
        elif temperature is not None:
            other.temperature = vote_temperature(other.votes, temperature)
        if score_readout is not None:
            effective_readout(score_readout, other.format, other.task)  # an unknown name fails here
            other.score_readout = score_readout
        if attribute is not None:
            other.attribute = attribute
        other._check_attribute()  # the format may have changed under it
        return other

    @property
    def model_name(self) -> str:
        """The model as records name it: base name + adapters (`LoadedModel.model_id`)."""
        return self.spec.id

    @property
    def sampling(self) -> SamplingParams:
        """How each answer is generated: `votes` answers (the one that speaks for them all is kept,
        `formats.consensus`) of up to `max_new_tokens` at `temperature`, stopped where the format's
        answer ends, quoting only the input when `ground_quotes` (`generation.quotes`) and naming the
        negations `name_negations` asks for (`generation.negations`), keeping the
        polarity's probabilities for the confidence readout (`choice`)."""
        from emoreason.generation import SamplingParams
        from emoreason.inference import with_choice

        params = SamplingParams(
            n=self.votes,
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            stop_strings=self.format.stop_strings,
            ground_quotes=self.ground_quotes,
            name_negations=self.name_negations,
        )
        return with_choice(params, self.choice)

    def prepare(self, samples: Sequence[Sample], progress: Callable[[int], None] | None = None) -> ModelInputs:
        """The samples as this model takes them, with cue text for media its family cannot read,
        each checked to fit the context. Raises ValueError (`ContextTooLong` for a prompt too long
        for the context; a plain one for a format the task cannot take) or MediaError, before
        anything is generated."""
        spec = self.spec
        inputs = _model_inputs(
            samples, spec.family, spec.modalities, self.cues, self.cue_reference, progress, self._classifier
        )
        check_context_fits(
            spec, inputs.samples, self.format, self.task, inputs.cue_text, self.max_new_tokens, self.option
        )
        return inputs

    def conversations(self, inputs: ModelInputs) -> list[Conversation]:
        """The prompt each prepared sample is asked with, in order: generate these with `sampling`."""
        from emoreason.inference import conversations_for

        return conversations_for(inputs.samples, self.format, self.task, inputs.cue_text)

    def records_from(
        self, inputs: ModelInputs, outputs: Sequence[Sequence[Completion]], latency_s: float
    ) -> list[dict[str, Any]]:
        """The audit records of what was generated for `conversations(inputs)` (`outputs` as
        `GenerationBackend.generate` returns them), each taking `latency_s` as its latency."""
        from emoreason.inference import records_for

        records = records_for(
            inputs.samples,
            outputs,
            self.format,
            self.task,
            self.model_name,
            latency_s,
            inputs.cue_text,
            self.choice,
            fit=self.reading_fit,
        )
        return records

    def records(self, inputs: ModelInputs, progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
        """The audit records of prepared inputs, generated `batch_size` at a time
        (`emoreason.inference.analyze`: each batch asked and recorded as `conversations` and
        `records_from` do, with this explainer's engine in between), each with its `attribution`
        where this explainer `attribute`s (`add_attribution`; `progress` then counts each sample
        twice: answered, then attributed)."""
        from emoreason.inference import analyze

        records = analyze(
            self.engine,
            inputs.samples,
            self.task,
            self.format.name,
            self.model_name,
            self.sampling,
            self.batch_size,
            progress=progress,
            cues=inputs.cue_text,
            score_readout=self.score_readout,
            fit=self.reading_fit,
        )
        if self.attribute:
            self.add_attribution(inputs, records, progress)
        return records

    def add_attribution(
        self, inputs: ModelInputs, records: list[dict[str, Any]], progress: Callable[[int], None] | None = None
    ) -> None:
        """Give each record (of `inputs.samples`, in order) its `attribution`: the tokens of its text
        ranked by how far taking each out moves the polarity probabilities (`inference.attribute_words`;
        one prompt pass per token, nothing generated). Raises `ValueError` for a format without a
        leading polarity word."""
        from emoreason.inference import attribute_words

        if self.loaded is None:
            raise ValueError("attribution reads the model's weights: this explainer has only a ModelSpec")
        with self._attribution.lock:  # attributions take turns; the server runs each in a thread of its own
            weights = self._attribution.of(self.loaded)
            ranked = attribute_words(weights, inputs.samples, self.format, self.task, inputs.cue_text, 32, progress)
        for record, shifts in zip(records, ranked, strict=True):
            record["attribution"] = [shift.to_dict() for shift in shifts]

    @overload
    def __call__(
        self,
        text: str | None = "",
        *,
        audio: MediaPath = None,
        video: MediaPath = None,
        image: MediaPath = None,
        speaker: str | None = None,
    ) -> Explanation: ...

    @overload
    def __call__(
        self,
        text: Sequence[str],
        *,
        audio: MediaPath = None,
        video: MediaPath = None,
        image: MediaPath = None,
        speaker: str | None = None,
    ) -> list[Explanation]: ...

    def __call__(
        self,
        text: str | Sequence[str] | None = "",
        *,
        audio: MediaPath = None,
        video: MediaPath = None,
        image: MediaPath = None,
        speaker: str | None = None,
    ) -> Explanation | list[Explanation]:
        """Explain one text (an `Explanation`) or a list of texts (a list, in order, batched).
        Media go with a single text, or alone (`ex(audio="clip.wav")` or `ex(None, audio="clip.wav")`:
        no text); `speaker` names who speaks in the clip, whose cues are then compared with that speaker's
        own in the cue reference (`analyze --speaker`). Raises TypeError for a text that is not a str (None
        without media); ValueError for an empty text without media, text that is not valid Unicode, a
        missing media file, a speaker without a clip or a cue reference, or a prompt longer than the
        model's context; TypeError for media that are not a path."""
        given = (("audio", audio), ("video", video), ("image", image))
        if text is None:
            if all(path is None for _, path in given):
                raise TypeError(
                    "text must be a str or a list of str, not NoneType; "
                    "for media alone, give audio=, video= or image= and no text"
                )
            text = ""  # media alone, as when no text is given
        single = isinstance(text, str)
        if not single and (isinstance(text, (bytes, bytearray)) or not isinstance(text, Sequence)):
            raise TypeError(f"text must be a str or a list of str, not {type(text).__name__}")
        texts = [text] if single else list(text)
        for number, item in enumerate(texts, 1):
            if not isinstance(item, str):
                raise TypeError(f"text {number} is {type(item).__name__}, not str")
        if not texts:
            return []
        for name, path in given:  # a PIL image or the file's bytes failed deep inside Path()
            if path is not None and not isinstance(path, (str, os.PathLike)):
                raise TypeError(
                    f"{name}= takes the path of a media file (str or Path), not {type(path).__name__}; "
                    "save it to a file first"
                )
        media = {name: None if path is None else Path(path) for name, path in given}
        samples = samples_from_texts(
            texts, media, media_names="audio=/video=/image=", several="explain the texts one call each"
        )
        inputs = self.prepare(spoken_by(samples, speaker, self.cue_reference))
        for message in inputs.warnings:
            warnings.warn(message, stacklevel=2)
        explanations = [Explanation.from_record(r) for r in self.records(inputs)]
        return explanations[0] if single else explanations

    def __repr__(self) -> str:
        return f"Explainer(model={self.model_name!r}, format={self.format.name!r}, task={self.task.name!r})"


__all__ = [
    "Explainer",
    "Explanation",
    "ModelInputs",
    "check_context_fits",
    "has_media",
    "inputs_for_family",
    "load_engine",
    "samples_from_texts",
    "spoken_by",
]
