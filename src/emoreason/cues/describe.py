"""Cue records as text a language model can read, with the numbers kept alongside.

    describe(cues, reference, group="actor07")
    # 'Voice (relative to this speaker): pitch high (+1.8 sd, 212 Hz), pitch variability very
    #  variable (+2.1 sd, 4.3 st), loudness typical (+0.2 sd, -23 dBFS), ...'

Words come from the z-score against the reference: |z| < 0.5 "typical", then "slightly",
plain, and from 2 sd "very". Without a reference only raw values are given: a pitch of 212 Hz
is high for one voice and low for another, so the text does not pretend to know.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from emoreason.cues.audio import AudioCues
from emoreason.cues.base import CueRecord, Measure
from emoreason.cues.face import FaceCues
from emoreason.cues.reference import CueReference

TITLES = {"audio": "Voice", "face": "Face"}


@dataclass(frozen=True, slots=True)
class CueRow:
    """One measure of one record, as the table and the description show it."""

    measure: Measure
    value: float | None
    z: float | None
    scope: str  # "speaker", "dataset" or "none"

    @property
    def word(self) -> str | None:
        return degree_word(self.z, self.measure)

    def phrase(self, basis: str | None = None) -> str:
        """`pitch high (+1.8 sd, 212 Hz)`; a z taken against the dataset where the line's `basis` is the
        speaker (too few of the speaker's clips measured it, or they did not vary) says so: "vs the dataset"."""
        raw = self.measure.show(self.value)
        if self.z is None:
            return f"{self.measure.label} {raw}"
        against = " vs the dataset" if basis == "speaker" and self.scope == "dataset" else ""
        return f"{self.measure.label} {self.word} ({self.z:+.1f} sd{against}, {raw})"


def degree_word(z: float | None, measure: Measure) -> str | None:
    if z is None:
        return None
    z = round(z, 1)  # the word agrees with the number printed next to it
    if abs(z) < 0.5:
        return "typical"
    word = measure.high if z > 0 else measure.low
    if abs(z) < 1.0:
        return f"slightly {word}"
    return f"very {word}" if abs(z) >= 2.0 else word


def cue_rows(record: CueRecord, reference: CueReference | None = None, group: str | None = None) -> list[CueRow]:
    """Every measure of `record` with its z-score (None without a usable reference)."""
    zscores = reference.zscores(record, group) if reference is not None else {}
    rows = []
    for measure in record.MEASURES:
        scope = reference.stats(measure.name, group)[1] if reference is not None else "none"
        rows.append(CueRow(measure, getattr(record, measure.name), zscores.get(measure.name), scope))
    return rows


def describe(record: CueRecord, reference: CueReference | None = None, group: str | None = None) -> str:
    """One line describing a cue record (the measures marked `describe`)."""
    if reference is not None and reference.kind != record.KIND:
        raise ValueError(f"a {reference.kind} reference cannot describe {record.KIND} cues")
    title = TITLES.get(record.KIND, record.KIND)
    if isinstance(record, AudioCues):
        if record.silent:
            return f"{title}: silent recording, no voice found."
        notes = [] if record.has_voice else ["no voiced speech found"]
        if record.clipped_ratio >= 0.01:
            notes.append(f"recording clipped ({100 * record.clipped_ratio:.0f}% of samples)")
    elif isinstance(record, FaceCues):
        if not record.face_found:
            what = "image" if record.frames == 1 else f"{record.frames} sampled frames"
            return f"{title}: no face found in the {what}."
        notes = (
            [f"found in {record.face_frames} of {record.frames} frames"] if record.face_frames < record.frames else []
        )
    else:
        notes = []
    rows = [r for r in cue_rows(record, reference, group) if r.measure.describe and r.value is not None]
    scope = reference.scope(group) if reference is not None else None
    basis = {
        "speaker": "relative to this speaker",
        "dataset": "relative to the dataset",
        None: "raw values, no reference",
    }[scope]
    parts = [r.phrase(scope) for r in rows]
    head = f"{title} ({basis}"
    head += f"; {'; '.join(notes)})" if notes else ")"
    return head + (": " + ", ".join(parts) + "." if parts else ".")


def describe_all(
    records: Iterable[CueRecord], references: Mapping[str, CueReference] | None = None, group: str | None = None
) -> str:
    """One line per record (e.g. a video's voice and face), using the reference of each kind."""
    refs = references or {}
    return "\n".join(describe(r, refs.get(r.KIND), group) for r in records)
