"""Cues for whole datasets: extract (or read from the cache) for every clip, check durations,
list unreadable files, build the per-speaker / dataset references, and write the cue text.

    clips, report = prepare_cues(dataset.samples, CueCache())
    references = build_references(dataset.samples, clips)
    texts = cue_texts(dataset.samples, clips, references)   # {sample id: text or None}

Which cues a sample gets: an audio file gives voice cues; a video gives voice cues from its
sound track (when it has one) and face cues from its frames; an image gives face cues.
A sample's speaker is `sample.meta["speaker"]` (RAVDESS actors); without one, values are
compared with the dataset (its train split when it has one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emoreason.cues.audio import AudioCues, NoSoundTrack
from emoreason.cues.base import CueError, CueRecord
from emoreason.cues.cache import CueCache
from emoreason.cues.classifier import CUE_Z_KEY  # the z-scores travel with the sample when the media do not
from emoreason.cues.describe import describe_all
from emoreason.cues.face import FaceCues
from emoreason.cues.reference import CueReference
from emoreason.data.errors import DataError
from emoreason.data.inspect import empty_file
from emoreason.data.schema import Sample
from emoreason.data.spec_options import register_spec_option

CUE_KINDS = ("audio", "face")
MIN_DURATION_S = 0.3
MAX_DURATION_S = 60.0


@dataclass
class ClipCues:
    """The cue records of one sample and what went wrong with its media."""

    id: str
    audio: AudioCues | None = None
    face: FaceCues | None = None
    duration_s: float | None = None
    problems: list[str] = field(default_factory=list)

    def records(self) -> list[CueRecord]:
        return [r for r in (self.audio, self.face) if r is not None]

    def measured_records(self) -> list[CueRecord]:
        """The records that describe a voice or a face (`measured`), none for a clip too short to measure
        (a 0.2 s clip's speaking rate of 0 and pause ratio of 0 moved its speaker's mean and sd, and the
        chains cited them)."""
        if any(problem.startswith("too short") for problem in self.problems):
            return []
        return [r for r in self.records() if measured(r)]


@dataclass
class PrepareReport:
    """What a preparation pass did, for the user to read and fix."""

    samples: int = 0
    with_media: int = 0
    cached: int = 0
    extracted: int = 0
    unreadable: list[str] = field(default_factory=list)  # "id: message naming the file"
    no_sound: list[str] = field(default_factory=list)
    no_face: list[str] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)  # ids whose sound track holds no voice (silence, room tone)
    too_short: list[str] = field(default_factory=list)
    too_long: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, examples: int = 3) -> str:
        lines = [
            f"{self.samples} samples, {self.with_media} with media: {self.extracted} cue records extracted, "
            f"{self.cached} read from the cache ({self.seconds:.1f} s)"
        ]
        for name, ids in (
            ("unreadable", self.unreadable),
            ("without a sound track", self.no_sound),
            ("without a face", self.no_face),
            ("silent (no voice found)", self.silent),
            ("too short", self.too_short),
            ("too long", self.too_long),
        ):
            if ids:
                more = " ..." if len(ids) > examples else ""
                lines.append(f"{len(ids)} {name}: " + "; ".join(ids[:examples]) + more)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items()}


def media_duration(path: str | Path) -> float | None:
    """Seconds of a media file from its header (no decoding); None when the header lacks it."""
    import av

    from emoreason.models.media import decoder_words

    try:
        with av.open(str(path)) as container:
            if container.duration is not None:
                return container.duration / 1_000_000
            stream = (container.streams.audio or container.streams.video or [None])[0]
            if stream is not None and stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
    except Exception as err:  # av.error.FFmpegError and friends: FFmpeg's error number and the path again are noise
        raise CueError(f"cannot read {path}: {decoder_words(err)}") from None
    return None


def unreadable_reason(path: str, kind: str) -> str | None:
    """Why a media file that exists cannot be read (naming it), or None when a cheap check passes: an empty file, a
    sound or video header FFmpeg cannot parse (`media_duration`), an image PIL cannot identify or whose structure is
    damaged (`check_image`). Nothing is decoded, so `data inspect` stays quick on hours of video; a file damaged past
    its header is found when it is loaded."""
    from emoreason.models.media import MediaError, check_image

    empty = empty_file(path, kind)
    if empty is not None:
        return empty
    try:
        if kind == "image":
            check_image(path)
        else:
            media_duration(path)
    except (CueError, MediaError) as err:
        return str(err)
    return None


def clip_cues(
    sample: Sample,
    cache: CueCache,
    kinds: Sequence[str] = CUE_KINDS,
    min_duration: float = MIN_DURATION_S,
    max_duration: float = MAX_DURATION_S,
) -> ClipCues:
    """The cues of one sample's media (audio file, else video sound track; video or image frames)."""
    clip = ClipCues(sample.id)
    sound = sample.audio or sample.video
    if sound and "audio" in kinds:
        try:
            clip.audio = cache.audio(sound)
            clip.duration_s = clip.audio.duration_s
        except NoSoundTrack as err:
            clip.problems.append(f"no sound: {err}")
        except CueError as err:
            clip.problems.append(f"unreadable: {err}")
    pictures = sample.video or sample.image
    if pictures == sound and any(p.startswith("unreadable") for p in clip.problems):
        pictures = None  # the same corrupt file: one report is enough
    if pictures and "face" in kinds:
        try:
            clip.face = cache.face(pictures)
        except CueError as err:
            clip.problems.append(f"unreadable: {err}")
    if clip.duration_s is None and (sample.audio or sample.video) and not any("unreadable" in p for p in clip.problems):
        try:
            clip.duration_s = media_duration(sample.audio or sample.video)  # type: ignore[arg-type]
        except CueError as err:
            clip.problems.append(f"unreadable: {err}")
    if clip.duration_s is not None:
        if clip.duration_s < min_duration:
            clip.problems.append(f"too short: {clip.duration_s:.2f} s < {min_duration:g} s")
        elif clip.duration_s > max_duration:
            clip.problems.append(f"too long: {clip.duration_s:.1f} s > {max_duration:g} s")
    return clip


def prepare_cues(
    samples: Iterable[Sample],
    cache: CueCache | None = None,
    kinds: Sequence[str] = CUE_KINDS,
    min_duration: float = MIN_DURATION_S,
    max_duration: float = MAX_DURATION_S,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, ClipCues], PrepareReport]:
    """Cues of every sample with media; cached ones are read back, so an interrupted run resumes."""
    unknown = sorted(set(kinds) - set(CUE_KINDS))
    if unknown:
        raise ValueError(f"unknown cue kind(s) {', '.join(unknown)}; use {', '.join(CUE_KINDS)}")
    cache = cache or CueCache()
    report = PrepareReport()
    clips: dict[str, ClipCues] = {}
    began = time.perf_counter()
    hits, misses = cache.hits, cache.misses
    for sample in samples:
        report.samples += 1
        if sample.audio or sample.video or sample.image:
            report.with_media += 1
            clip = clip_cues(sample, cache, kinds, min_duration, max_duration)
            clips[sample.id] = clip
            for problem in clip.problems:
                what, _, message = problem.partition(": ")
                target = {
                    "unreadable": report.unreadable,
                    "no sound": report.no_sound,
                    "too short": report.too_short,
                    "too long": report.too_long,
                }[what]
                target.append(f"{sample.id}: {message}")
            if clip.face is not None and not clip.face.face_found:
                report.no_face.append(sample.id)
            if clip.audio is not None and not measured(clip.audio):  # digital silence, or no voiced frame
                report.silent.append(sample.id)
        if progress is not None:
            progress(1)
    report.cached, report.extracted = cache.hits - hits, cache.misses - misses
    report.seconds = round(time.perf_counter() - began, 2)
    return clips, report


def measured(record: object) -> bool:
    """Whether a cue record describes a voice or a face: not a silent recording, not one without a voiced
    frame (room tone: its loudness and pausing ranked it "angry 0.99"), not a face never found."""
    if getattr(record, "silent", False) or getattr(record, "face_found", True) is False:
        return False
    return getattr(record, "voiced_ratio", 1.0) > 0


def build_references(
    samples: Sequence[Sample], clips: dict[str, ClipCues], overall_split: str | None = "train"
) -> dict[str, CueReference]:
    """Per cue kind: statistics per speaker (all of a speaker's clips; no labels are used) and
    dataset-level statistics from `overall_split` (every split when it has no clips)."""
    references: dict[str, CueReference] = {}
    for kind in CUE_KINDS:
        # a silent recording's pause ratio of 1 (a face never found: its ratios of 0) describes no voice or face:
        # in the statistics it moved every speaker's mean and sd
        pairs = [
            (s, record)
            for s in samples
            if s.id in clips
            for record in clips[s.id].measured_records()
            if record.KIND == kind
        ]
        if not pairs:
            continue
        reference = CueReference.build([r for _, r in pairs], [s.speaker for s, _ in pairs])
        overall = [r for s, r in pairs if s.split == overall_split] if overall_split else []
        if overall:
            reference.overall = CueReference.build(overall).overall
        references[kind] = reference
    return references


def cue_texts(
    samples: Sequence[Sample], clips: dict[str, ClipCues], references: dict[str, CueReference] | None = None
) -> dict[str, str | None]:
    """The cue description of each sample (None when it has no media or none could be read)."""
    texts: dict[str, str | None] = {}
    for sample in samples:
        clip = clips.get(sample.id)
        records = clip.records() if clip else []
        texts[sample.id] = describe_all(records, references, sample.speaker) if records else None
    return texts


def attach_cues(
    samples: Sequence[Sample],
    cache: CueCache | None = None,
    kinds: Sequence[str] = CUE_KINDS,
    progress: Callable[[int], None] | None = None,
    keep_media: bool = True,
) -> tuple[list[Sample], PrepareReport]:
    """`samples` with `cues` set to their description (relative to their speaker or the dataset);
    `keep_media=False` also detaches the media (cue-to-text for text-only models)."""
    clips, report = prepare_cues(samples, cache, kinds, progress=progress)
    references = build_references(samples, clips)
    texts = cue_texts(samples, clips, references)
    zscores = cue_zscores(samples, clips, references)
    detach = {} if keep_media else {"audio": None, "video": None, "image": None}
    return [
        s.with_(
            cues=texts.get(s.id), meta={**s.meta, CUE_Z_KEY: zscores[s.id]} if s.id in zscores else s.meta, **detach
        )
        for s in samples
    ], report


def cue_zscores(
    samples: Sequence[Sample], clips: dict[str, ClipCues], references: dict[str, CueReference]
) -> dict[str, dict[str, dict[str, float]]]:
    """Per sample id: {kind: {measure: z}} against its speaker (or the dataset); measures that
    could not be taken are left out, and so is a record with nothing to measure (a silent recording, a
    face never found): its numbers describe no voice or face, and a cue classifier ranked them anyway
    (a silent clip came out "surprised 0.53")."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for sample in samples:
        clip = clips.get(sample.id)
        kinds = {}
        for record in clip.measured_records() if clip else []:
            reference = references.get(record.KIND)
            if reference is not None:
                z = reference.zscores(record, sample.speaker)
                kinds[record.KIND] = {k: v for k, v in z.items() if v is not None}
        if kinds:
            out[sample.id] = kinds
    return out


def apply_cue_option(
    samples: Sequence[Sample], spec: object, option: str | None, warnings: list[str], kinds: Sequence[str] = CUE_KINDS
) -> list[Sample]:
    """What a dataset adapter does with its `?cues=` option: attach the cues (and detach the
    media for `only`), adding the extraction problems to `warnings`. A bad value raises
    DataError naming the spec. Registered below as the handler of `cues=` (the adapters live in
    `data`, which may not import this layer; see `emoreason.data.spec_options`)."""
    try:
        with_cues, keep_media = cue_option(option)
    except ValueError as err:
        raise DataError(f"{err} (in {spec})") from None
    if not with_cues:
        return list(samples)
    attached, cue_report = attach_cues(samples, kinds=kinds, keep_media=keep_media)
    warnings.extend(cue_report.summary().splitlines()[1:])  # problems only: unreadable, silent, faceless
    return attached


register_spec_option("cues", apply_cue_option)
# a generic file's `cues=` names the column that holds cue text: its media are measured with `measure=`
register_spec_option("measure", apply_cue_option)


def cue_option(value: str | None) -> tuple[bool, bool]:
    """A dataset spec's `cues=` value as (attach cue text, keep the media)."""
    key = (value or "false").strip().lower()
    if key in ("false", "no", "off", "0"):
        return False, True
    if key in ("true", "yes", "on", "1"):
        return True, True
    if key == "only":
        return True, False
    raise ValueError(f"cues={value!r}: use true (cue text and media), only (cue text, no media) or false")


def write_audio_track(video: str | Path, out: str | Path, sr: int = 16000) -> Path:
    """The video's sound track as 16-bit mono WAV at `sr` Hz (kept if `out` already exists)."""
    import soundfile as sf

    from emoreason.models.media import MediaError, extract_audio_from_video

    target = Path(out)
    if target.is_file():
        return target
    try:
        audio = extract_audio_from_video(video, sr)
    except MediaError as err:
        raise CueError(str(err)) from None
    if audio is None:
        raise NoSoundTrack(f"{video} has no sound track")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    sf.write(str(tmp), audio, sr, subtype="PCM_16", format="WAV")
    tmp.replace(target)
    return target


def file_cues(path: str | Path, kinds: Sequence[str] | None = None, cache: CueCache | None = None) -> list[CueRecord]:
    """The cue records of one file: voice cues for audio, face cues for images, both for video
    (voice only when it has a sound track). `kinds` restricts them; `cache=None` computes
    without caching. Raises `CueError` naming the file when it cannot be read."""
    from emoreason.cues.audio import AUDIO_SUFFIXES, extract_audio_cues
    from emoreason.cues.face import IMAGE_SUFFIXES, extract_face_cues

    file = Path(path)
    if not file.is_file():
        raise CueError(f"media file not found: {file}")
    suffix = file.suffix.lower()
    wanted = set(kinds or CUE_KINDS)
    possible = {"face"} if suffix in IMAGE_SUFFIXES else {"audio"} if suffix in AUDIO_SUFFIXES else {"audio", "face"}
    if not wanted & possible:
        raise CueError(f"{file} gives {' and '.join(sorted(possible))} cues, not {', '.join(sorted(wanted))}")
    records: list[CueRecord] = []
    if "audio" in wanted & possible:
        try:
            records.append(cache.audio(file) if cache else extract_audio_cues(file))
        except NoSoundTrack:
            if possible == {"audio"} or "face" not in wanted:
                raise
    if "face" in wanted & possible:
        records.append(cache.face(file) if cache else extract_face_cues(file))
    return records


def write_audio_tracks(samples: Iterable[Sample], out_dir: str | Path, report: PrepareReport) -> int:
    """16 kHz mono WAV of every video's sound track at `out_dir/<id>.wav` (an MMSA id
    `video$_$clip` becomes `video/clip.wav`); existing files are kept. Returns how many exist."""
    written = 0
    for sample in samples:
        if not sample.video:
            continue
        target = Path(out_dir) / (sample.id.replace("$_$", "/") + ".wav")
        try:
            write_audio_track(sample.video, target)
            written += 1
        except NoSoundTrack:
            pass  # already listed by prepare_cues
        except CueError as err:
            message = f"{sample.id}: {err}"
            if message not in report.unreadable:
                report.unreadable.append(message)
    return written


def write_cue_jsonl(
    out: str | Path, samples: Sequence[Sample], clips: dict[str, ClipCues], texts: dict[str, str | None]
) -> None:
    """One JSON line per sample with media: id, split, speaker, cue records, cue text, problems."""
    import json

    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        for sample in samples:
            clip = clips.get(sample.id)
            if clip is None:
                continue
            record = {
                "id": sample.id,
                "split": sample.split,
                "speaker": sample.speaker,
                "audio": clip.audio.to_dict() if clip.audio else None,
                "face": clip.face.to_dict() if clip.face else None,
                "duration_s": clip.duration_s,
                "cues": texts.get(sample.id),
                "problems": clip.problems,
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(target)
