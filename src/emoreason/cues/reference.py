"""What "high" and "low" mean: per-speaker and dataset-level statistics of cue measures.

    reference = CueReference.build(all_audio_cues, groups=[s.meta["speaker"] for s in samples])
    reference.zscores(cues, group="actor07")   # {"pitch_mean_hz": 1.8, ...}

A value is compared with its speaker's own clips when that speaker has at least
`min_group_size` measured values with some spread, else with the whole dataset. Labels are never
used: normalising by speaker uses only that speaker's recordings (standard practice in speech
emotion recognition, where voices differ more between people than between emotions).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from emoreason.cues.audio import AudioCues
from emoreason.cues.base import CueRecord
from emoreason.cues.face import FaceCues

log = logging.getLogger(__name__)

MIN_GROUP_SIZE = 5
MIN_STD = 1e-6
#: each cue kind's record, whose `VERSION` says which measures a file of statistics or weights was made from
RECORDS: dict[str, type[CueRecord]] = {"audio": AudioCues, "face": FaceCues}


def stale_measures(recorded: Mapping[str, int | None], kinds: Iterable[str]) -> dict[str, int | None]:
    """Of `kinds`, those whose numbers in a file were made by another version of their extractor than this one
    measures (`RECORDS`): kind -> the version the file records (None: written before files recorded it)."""
    return {
        kind: recorded.get(kind)
        for kind in sorted(set(kinds))
        if kind in RECORDS and recorded.get(kind) != RECORDS[kind].VERSION
    }


@lru_cache(maxsize=None)  # once a file and finding: a file may be read for the spec and again for the adapter
def warn_stale(path: str, stale: tuple[tuple[str, int | None], ...], remedy: str) -> None:
    """Say that `path` holds numbers of measures that have changed since (`stale_measures`), and how to redo it:
    a clip measured now is read against statistics or weights of another measure, silently otherwise."""
    said = "; ".join(
        f"{kind} cues of version {version if version is not None else f'below {RECORDS[kind].VERSION}'}, "
        f"where this emoreason measures version {RECORDS[kind].VERSION}"
        for kind, version in stale
    )
    log.warning(
        "%s was made from %s: clips measured now are read against numbers of other measures; %s", path, said, remedy
    )


@dataclass(frozen=True, slots=True)
class Stats:
    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        n = len(values)
        mean = sum(values) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
        return cls(round(mean, 6), round(std, 6), n)


@dataclass
class CueReference:
    """Mean and standard deviation of every measure of one cue kind, overall and per group."""

    kind: str
    overall: dict[str, Stats]
    groups: dict[str, dict[str, Stats]] = field(default_factory=dict)
    min_group_size: int = MIN_GROUP_SIZE
    #: the version of the extractor that measured the records (`CueRecord.VERSION`); None in a file written
    #: before references recorded it
    version: int | None = None

    @classmethod
    def build(
        cls,
        records: Iterable[CueRecord],
        groups: Iterable[str | None] | None = None,
        min_group_size: int = MIN_GROUP_SIZE,
    ) -> CueReference:
        """Statistics of `records` (all of one kind); `groups` (a speaker per record, or None)
        adds per-group statistics."""
        items = list(records)
        if not items:
            raise ValueError("a CueReference needs at least one cue record")
        kinds = {r.KIND for r in items}
        if len(kinds) > 1:
            raise ValueError(f"a CueReference holds one cue kind; got {sorted(kinds)}")
        labels = list(groups) if groups is not None else [None] * len(items)
        if len(labels) != len(items):
            raise ValueError(f"{len(items)} cue records but {len(labels)} group names")
        reference = cls(items[0].KIND, _stats(items), min_group_size=min_group_size, version=items[0].VERSION)
        by_group: dict[str, list[CueRecord]] = {}
        for record, group in zip(items, labels):
            if group is not None:
                by_group.setdefault(str(group), []).append(record)
        reference.groups = {g: _stats(rs) for g, rs in sorted(by_group.items())}
        return reference

    def stats(self, name: str, group: str | None = None) -> tuple[Stats | None, str]:
        """The statistics a value of measure `name` is compared with, and their scope
        ("speaker" or "dataset")."""
        if group is not None:
            own = self.groups.get(str(group), {}).get(name)
            if own is not None and own.n >= self.min_group_size and own.std > MIN_STD:
                return own, "speaker"
        overall = self.overall.get(name)
        return (overall, "dataset") if overall is not None and overall.std > MIN_STD else (None, "dataset")

    def zscores(self, record: CueRecord, group: str | None = None) -> dict[str, float | None]:
        """(value - mean) / std per measure; None where the value or the statistics are missing."""
        out: dict[str, float | None] = {}
        for name, value in record.features().items():
            stats, _ = self.stats(name, group)
            out[name] = None if value is None or stats is None else round((value - stats.mean) / stats.std, 3)
        return out

    def scope(self, group: str | None = None) -> str:
        """ "speaker" when `group` has its own statistics, else "dataset"."""
        if group is not None:
            own = self.groups.get(str(group), {})
            if any(s.n >= self.min_group_size for s in own.values()):
                return "speaker"
        return "dataset"

    # -- persistence -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        def table(stats: dict[str, Stats]) -> dict[str, list[float]]:
            return {k: [s.mean, s.std, s.n] for k, s in stats.items()}

        return {
            "kind": self.kind,
            "version": self.version,
            "min_group_size": self.min_group_size,
            "overall": table(self.overall),
            "groups": {g: table(s) for g, s in self.groups.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CueReference:
        def table(raw: dict[str, list[float]]) -> dict[str, Stats]:
            return {k: Stats(float(v[0]), float(v[1]), int(v[2])) for k, v in raw.items()}

        return cls(
            data["kind"],
            table(data["overall"]),
            {g: table(s) for g, s in data.get("groups", {}).items()},
            int(data.get("min_group_size", MIN_GROUP_SIZE)),
            int(data["version"]) if data.get("version") is not None else None,
        )


def save_references(references: dict[str, CueReference], path: str | Path) -> None:
    """Write references of several cue kinds ({"audio": ..., "face": ...}) to one JSON file."""
    Path(path).write_text(json.dumps({kind: ref.to_dict() for kind, ref in references.items()}, indent=1))


def load_references(path: str | Path) -> dict[str, CueReference]:
    """Read a file written by `save_references` (`emoreason data prepare --reference-out`); one whose statistics
    were measured by another extractor version than this one is read, with a warning (`warn_stale`)."""
    try:
        data = json.loads(Path(path).read_text())
        references = {kind: CueReference.from_dict(value) for kind, value in data.items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise ValueError(
            f"{path} is not a cue reference file written by emoreason ({type(err).__name__}: {err})"
        ) from None
    stale = stale_measures({kind: ref.version for kind, ref in references.items()}, references)
    if stale:
        remedy = "write it again with `emoreason data prepare SPEC --reference-out FILE`"
        warn_stale(str(Path(path).resolve()), tuple(stale.items()), remedy)
    return references


def reference_speakers(references: Mapping[str, CueReference]) -> list[str]:
    """The speakers (groups) that any of `references` compares a clip with, sorted: those with statistics of
    at least `min_group_size` clips (one with fewer is compared with the whole dataset, as one it lacks)."""
    return sorted(
        {
            group
            for reference in references.values()
            for group in reference.groups
            if reference.scope(group) == "speaker"
        }
    )


def too_few_clips(references: Mapping[str, CueReference]) -> str:
    """Why a speaker a reference names may still be compared with its whole dataset, for messages."""
    least = max((reference.min_group_size for reference in references.values()), default=MIN_GROUP_SIZE)
    return f"a speaker needs {least} clips of their own"


def some_speakers(speakers: Sequence[str], shown: int = 12) -> str:
    """`actor01, actor02 and 22 more`: speakers named in a message, a long list cut short."""
    more = f" and {len(speakers) - shown} more" if len(speakers) > shown else ""
    return ", ".join(speakers[:shown]) + more or "none"


def _stats(records: Sequence[CueRecord]) -> dict[str, Stats]:
    columns: dict[str, list[float]] = {}
    for record in records:
        for name, value in record.features().items():
            if value is not None:
                columns.setdefault(name, []).append(float(value))
    return {name: Stats.of(values) for name, values in columns.items()}
