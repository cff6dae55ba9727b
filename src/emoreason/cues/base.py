"""What every cue record shares: the measures it reports, JSON round trips, and its error type.

A cue record (`AudioCues`, `FaceCues`) is a frozen dataclass of raw measurements of one media
file. Each numeric field is a `Measure`: its unit, how it reads in a description, and the words
for "above" and "below" the reference. A measure that cannot be taken (no voice, no face) is
None, never a made-up number.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar


class CueError(ValueError):
    """A media file cues cannot be read from; the message names the file and says why."""


@dataclass(frozen=True, slots=True)
class Measure:
    """One numeric cue: `name` is the field, `label` how a description names it, `high`/`low` the
    words for a value above/below the reference, `fmt` how its raw value is printed."""

    name: str
    label: str
    unit: str
    high: str
    low: str
    fmt: str = "{:.1f}"
    describe: bool = True  # part of the short text description (all measures are in the table)

    def show(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        return self.fmt.format(value) + (f" {self.unit}" if self.unit and self.unit != "%" else self.unit)


R = TypeVar("R", bound="CueRecord")


@dataclass(frozen=True)
class CueRecord:
    """Base of the cue dataclasses: `path` plus the numeric fields listed in `MEASURES`."""

    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1  # bump when the extractor changes: cached records are then recomputed
    MEASURES: ClassVar[tuple[Measure, ...]] = ()

    path: str

    def features(self) -> dict[str, float | None]:
        """The numeric measures, in `MEASURES` order."""
        return {m.name: getattr(self, m.name) for m in self.MEASURES}

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, "version": self.VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls: type[R], data: dict[str, Any]) -> R:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def measure(cls, name: str) -> Measure:
        for m in cls.MEASURES:
            if m.name == name:
                return m
        raise KeyError(f"{cls.__name__} has no measure {name!r}")


def finite(value: Any, digits: int = 4) -> float | None:
    """A rounded float, or None for NaN/inf/None (Praat reports undefined values as NaN)."""
    if value is None:
        return None
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None
