"""Turning loosely-typed rows (JSONL objects, CSV records) into `Sample`s, with bad-row accounting.

Shared by the generic, raw and image adapters so that every source reports problems the same way.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emoreason.data.errors import BadRow, DataError, LoadReport
from emoreason.data.schema import SPLITS, NeutralBand, Sample, TaskInfo, label_polarity_map, normalize_label
from emoreason.data.spec import DatasetSpec
from emoreason.data.text import NotUtf8Error, decode_utf8

log = logging.getLogger(__name__)

FIELDS = ("id", "text", "score", "label", "audio", "video", "image", "split", "domain", "cues")
MEDIA_FIELDS = ("audio", "video", "image")
SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "valid": "valid",
    "val": "valid",
    "validation": "valid",
    "dev": "valid",
    "test": "test",
    "testing": "test",
}
FIELD_OPTIONS = {name: f"column holding `{name}` (default: {name})" for name in FIELDS}
TASK_OPTIONS = {
    "scale": "score scale LOW,HIGH, e.g. scale=-4,4 (default: inferred from the data, with a warning)",
    "neutral": "half-width W of the neutral band around the scale's midpoint, (mid - W, mid + W), from 0 to half the "
    "scale (default 0: only the midpoint is neutral; 0 on a scale centred there, 4 on 1..7)",
    "labels": "comma-separated label set; other labels become bad rows (default: the labels found)",
    "polarity": "each label's polarity, LABEL:POLARITY pairs, e.g. polarity=awe:positive,boredom:negative (default: "
    "Mikels' and RAVDESS's emotion words, joy, happiness, love, and the polarity words; a label without one has no "
    "polarity figures or hint)",
    "missing_media": "skip (default: a sample whose media file is absent is a bad row) or keep (drop the reference)",
    "name": "task name used in reports (default: the file name)",
    "targets": "required (default: a row without score or label is a bad row) or optional (texts to analyse, "
    "e.g. `analyze --input`; evaluation and training need targets)",
}
TARGET_POLICIES = ("required", "optional")
#: a file named with one of these suffixes is a table with a header row, its fields split by this delimiter
#: (what `--input` and `evaluate-predictions` read a file as; the `csv:` kind takes any delimiter)
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}


def classifier_option(measuring: str) -> dict[str, str]:
    """`classifier=` as an adapter whose option `measuring` measures cues documents it (`emoreason.cues.classifier`
    applies it after the cues are measured)."""
    return {
        "classifier": "PATH of a cue classifier (`emoreason data fit-classifier`): its emotion ranking as one more "
        f"line of cue text (needs {measuring}=only or {measuring}=true)"
    }


def read_text_file(path: Path) -> str:
    """A whole text file (CSV) decoded by the one policy of `emoreason.data.text.decode_utf8`;
    a byte that is not UTF-8 raises a `DataError` naming the file and the line."""
    try:
        return decode_utf8(path.read_bytes())
    except NotUtf8Error as err:
        raise DataError(f"file is not UTF-8 ({err.detail})", file=str(path), line=err.line) from None


def targets_optional(spec: DatasetSpec) -> bool:
    """`?targets=optional`: rows without score or label are kept (to be analysed, not scored)."""
    policy = (spec.option("targets", "required") or "required").strip().lower()
    if policy not in TARGET_POLICIES:
        raise DataError(f"option targets={policy!r} in {spec}: use {' or '.join(TARGET_POLICIES)}")
    return policy == "optional"


def normalize_split(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "test"  # a generic file with no split counts as test data
    return SPLIT_ALIASES.get(str(value).strip().lower())


def parse_score(value: Any) -> float | None:
    """A finite float from a number or numeric string, else None."""
    if isinstance(value, bool):
        return None
    try:
        score = (
            float(str(value).strip().replace("\u2212", "-")) if not isinstance(value, (int, float)) else float(value)
        )
    except ValueError:
        return None
    return score if math.isfinite(score) else None


@dataclass
class RowReader:
    """Reads rows of one file into samples, recording bad rows with file and line."""

    spec: DatasetSpec
    strict: bool
    report: LoadReport
    base_dir: Path
    file: str
    domain: str = ""
    labels: tuple[str, ...] | None = None
    seen_ids: set[str] = field(default_factory=set)
    seen_columns: set[str] = field(default_factory=set)

    def column(self, name: str) -> str:
        return self.spec.option(name, name) or name

    def check_renamed_columns(self) -> None:
        """A `DataError` for a field the spec renames (`?cues=COL`) to a column no row has: the option was
        read silently (`?cues=only`, meant as a media dataset's cue mode, named a column `only`)."""
        for name in FIELDS:
            given = self.spec.option(name)
            if given and given not in self.seen_columns and self.report.rows_read:
                also = (
                    " (here cues= names the column that holds cue text; ?measure=only measures the rows' media "
                    "into cue text)"
                    if name == "cues"
                    else ""
                )
                columns = ", ".join(sorted(self.seen_columns)) or "none"
                raise DataError(
                    f"?{name}={given}: no row has a column {given!r} (columns: {columns}){also}", file=self.file
                )

    def read(self, row: dict[str, Any], line: int) -> Sample | None:
        self.report.rows_read += 1
        self.seen_columns.update(key for key in row if isinstance(key, str))
        extra = row.get(None)  # type: ignore[call-overload]  # csv.DictReader's fields beyond the header
        if extra:
            return self._bad(
                line,
                None,
                "too many fields",
                f"{len(extra)} beyond the header's {len(row) - 1} columns: {extra!r:.60}; quote a text that holds "
                "the delimiter",
            )
        get = lambda name: row.get(self.column(name))  # noqa: E731
        raw_id = get("id")
        sample_id = str(raw_id).strip() if raw_id not in (None, "") else f"line{line}"
        if sample_id in self.seen_ids:
            return self._bad(line, "id", "duplicate id", sample_id)
        text = get("text")
        if text is not None and not isinstance(text, str):  # JSON 42 or ["a"]: str() would make up a text
            return self._bad(line, self.column("text"), "text is not a string", f"{type(text).__name__} {text!r:.60}")
        text = "" if text is None else text.strip()

        score = None
        raw_score = get("score")
        if raw_score not in (None, ""):
            score = parse_score(raw_score)
            if score is None and targets_optional(self.spec):  # texts to analyse: a gold score is not needed
                dropped = BadRow(self.file, line, self.column("score"), "unparsable score", repr(raw_score))
                self.report.values_dropped.append(dropped)
            elif score is None:
                return self._bad(line, self.column("score"), "unparsable score", repr(raw_score))

        label = get("label")
        label = None if label in (None, "") else str(label).strip()
        if label is not None and self.labels is not None:
            if normalize_label(label) not in {normalize_label(x) for x in self.labels}:
                return self._bad(line, self.column("label"), "unknown label", f"{label!r} not in {list(self.labels)}")

        split = normalize_split(get("split"))
        if split is None:
            return self._bad(line, self.column("split"), "unknown split", f"{get('split')!r}; use {', '.join(SPLITS)}")

        media: dict[str, str | None] = {}
        for name in MEDIA_FIELDS:
            value = get(name)
            if value in (None, ""):
                media[name] = None
                continue
            path = Path(str(value))
            path = path if path.is_absolute() else self.base_dir / path
            if not path.is_file():
                self.report.missing_media.append(sample_id)
                self.report.missing_media_kinds[name] += 1
                if self.spec.option("missing_media", "skip") == "keep":
                    media[name] = None
                    continue
                return self._bad(line, self.column(name), "missing media", str(path))
            media[name] = str(path)

        if not text and not any(media.values()):
            return self._bad(line, self.column("text"), "missing text", "no text and no media")
        if score is None and label is None and not targets_optional(self.spec):
            return self._bad(
                line, self.column("score"), "missing target", "neither score nor label (?targets=optional keeps it)"
            )

        meta = {k: v for k, v in row.items() if k not in {self.column(f) for f in FIELDS} and v not in (None, "")}
        domain = get("domain")
        cues = get("cues")
        self.seen_ids.add(sample_id)
        self.report.rows_kept += 1
        return Sample(
            id=sample_id,
            text=text,
            score=score,
            label=label,
            split=split,
            domain=str(domain) if domain else self.domain,
            meta=meta,
            cues=str(cues).strip() if cues else None,
            **media,
        )

    def _bad(self, line: int, field_name: str | None, reason: str, detail: str = "") -> None:
        self.report.bad(BadRow(self.file, line, field_name, reason, detail), self.strict)
        return None


def distinct_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """The labels the rows use, each once as `normalize_label` compares them ("Amusement" and "amusement" are
    one), spelled as first written, sorted."""
    first: dict[str, str] = {}
    for label in labels:
        first.setdefault(normalize_label(label), label)
    return tuple(sorted(first.values(), key=normalize_label))


def inferred_scale(scores: Sequence[float]) -> tuple[float, float]:
    """A scale for scores given without one: a signed scale is symmetric about 0 (-4..4 from scores within
    it); scores none of which is negative are a rating scale from its lowest to its highest whole number
    (1..7: read as -7..7 every rating was positive)."""
    low, high = math.floor(min(scores)), math.ceil(max(scores))
    if low >= 0 and low < high:
        return float(low), float(high)
    bound = max(abs(low), abs(high)) or 1
    return -float(bound), float(bound)


def build_task(spec: DatasetSpec, samples: list[Sample], report: LoadReport, default_name: str) -> TaskInfo:
    """The task of a generic source: regression if it has scores, else classification."""
    name = spec.option("name", default_name) or default_name
    scores = [s.score for s in samples if s.score is not None]
    labels_option = spec.list_option("labels")
    if labels_option and len(distinct_labels(labels_option)) != len(labels_option):
        try:
            TaskInfo(name, labels=labels_option)  # says which two are one
        except ValueError as err:
            raise DataError(f"?labels= in {spec}: {err}") from None
    labels = labels_option or distinct_labels(s.label for s in samples if s.label is not None)
    if scores:
        scale = spec.range_option("scale")
        if scale is None:
            scale = inferred_scale(scores)
            report.warnings.append(
                f"no score scale given; inferred {scale[0]:g}..{scale[1]:g} from the data (its midpoint "
                f"{(scale[0] + scale[1]) / 2:g} is neutral). Pass ?scale=LOW,HIGH in the dataset spec to set it."
            )
        outside = [s.id for s in samples if s.score is not None and not scale[0] <= s.score <= scale[1]]
        if outside:
            report.warnings.append(f"{len(outside)} scores lie outside the scale {scale}, first ids: {outside[:3]}")
        neutral = NeutralBand.around(scale, spec.neutral_width(scale, name))
        return TaskInfo(
            name,
            scale=scale,
            neutral=neutral,
            labels=labels,
            label_polarity=label_polarity_map(labels, spec.option("polarity"), str(spec)),
        )
    if not labels:
        if targets_optional(spec):  # texts to analyse: the caller brings its own task
            return TaskInfo(name, metric_set="classification")
        if not samples and report.bad_rows:  # the targets may be there: no row got far enough to show them
            raise DataError(f"no row could be read. {report.summary()}")
        if report.rows_read == 0:
            raise DataError(f"{spec}: the file has no rows: nothing to read")
        raise DataError(
            f"{spec}: no scores and no labels found; nothing to learn from (to only analyse the texts, "
            "add ?targets=optional)"
        )
    polarity = label_polarity_map(labels, spec.option("polarity"), str(spec))
    return TaskInfo(name, labels=labels, label_polarity=polarity, metric_set="classification")
