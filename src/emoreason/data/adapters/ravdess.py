"""`ravdess:DIR`: RAVDESS emotional speech, 8 emotions, split by actor.

RAVDESS (Livingstone & Russo 2018, CC BY-NC-SA 4.0; not shipped with emoreason) names each
file `MM-CC-EE-II-SS-RR-AA.<ext>`: modality (01 audio-video, 02 video only, 03 audio only),
channel (01 speech, 02 song), emotion (01..08, `EMOTIONS` order), intensity (01 normal,
02 strong), statement (01 "Kids are talking by the door", 02 "Dogs are sitting by the door"),
repetition, actor (01..24; odd male, even female).

DIR holds `manifest.csv` (columns path, actor, emotion, ...; paths relative to DIR) or, without
one, the files themselves anywhere below it (the original `Actor_NN/` folders). Every field is
taken from the file name; a manifest whose emotion or actor disagrees with it is a bad row.

Task: an 8-class label task (`metric_set` classification: WAR, UAR, confusion matrix) that the
label formats (`r1`, `emor3`) and the accuracy reward read as is. Each label also has a
polarity (used by hard-group detection and polarity metrics), our choice after the valence
axis of Russell's circumplex:

    positive: calm, happy, surprised     negative: sad, angry, fearful, disgust     neutral: neutral

calm (pleasant, low arousal) and surprised (arousal without a fixed valence; RAVDESS actors
portrayed it as pleasant surprise) are the debatable ones. `meta["arousal"]` gives high/low.

The sample text is the sentence spoken: it is the same for every emotion, so a text-only model
cannot beat chance; the emotion is in the voice. Split by speaker, never by clip: actors 1-16
train, 17-20 valid, 21-24 test by default (`?valid=` / `?test=` take other actor lists).
`meta["speaker"]` ("actor07") lets cue references normalise per speaker.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from emoreason.data.adapters._rows import classifier_option, read_text_file
from emoreason.data.base import Dataset, register
from emoreason.data.errors import BadRow, DataError, LoadReport
from emoreason.data.schema import RAVDESS_POLARITY, Polarity, Sample, TaskInfo
from emoreason.data.spec import DatasetSpec
from emoreason.data.spec_options import apply_spec_option

EMOTIONS: tuple[str, ...] = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
EMOTION_POLARITY: dict[str, Polarity] = RAVDESS_POLARITY
EMOTION_AROUSAL = {
    "neutral": "low",
    "calm": "low",
    "sad": "low",
    "happy": "high",
    "angry": "high",
    "fearful": "high",
    "disgust": "high",
    "surprised": "high",
}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
MODALITIES = {"01": "audio-video", "02": "video", "03": "audio"}
CHANNELS = {"01": "speech", "02": "song"}
DEFAULT_VALID = tuple(range(17, 21))
DEFAULT_TEST = tuple(range(21, 25))
NAME_RE = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
MEDIA_SUFFIXES = {".wav", ".mp4", ".flac", ".mp3"}


def ravdess_task() -> TaskInfo:
    return TaskInfo("ravdess", labels=EMOTIONS, label_polarity=dict(EMOTION_POLARITY), metric_set="classification")


def parse_name(stem: str) -> dict[str, object] | None:
    """The fields a RAVDESS file name encodes, or None when it is not one."""
    match = NAME_RE.match(stem)
    if not match:
        return None
    modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
    if (
        modality not in MODALITIES
        or channel not in CHANNELS
        or not 1 <= int(emotion) <= 8
        or intensity not in ("01", "02")
    ):
        return None
    return {
        "modality": MODALITIES[modality],
        "channel": CHANNELS[channel],
        "emotion": EMOTIONS[int(emotion) - 1],
        "intensity": "normal" if intensity == "01" else "strong",
        "statement": statement,
        "repetition": int(repetition),
        "actor": int(actor),
    }


def _actor_list(spec: DatasetSpec, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    values = spec.list_option(name)
    if values is None:
        return default
    try:
        return tuple(int(v) for v in values)
    except ValueError:
        raise DataError(
            f"option {name}={spec.option(name)!r} in {spec}: give actor numbers, e.g. {name}=21,22,23,24"
        ) from None


def _files(root: Path, report: LoadReport, strict: bool) -> list[tuple[Path, int | None, dict[str, str]]]:
    """(file, manifest line, manifest row) from manifest.csv, else every media file below DIR."""
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        return [(p, None, {}) for p in sorted(root.rglob("*")) if p.suffix.lower() in MEDIA_SUFFIXES and p.is_file()]
    out = []
    with io.StringIO(read_text_file(manifest), newline="") as handle:
        rows = csv.DictReader(handle)
        if "path" not in (rows.fieldnames or []):
            raise DataError(f"manifest has no 'path' column; found {rows.fieldnames}", file=str(manifest), line=1)
        for row in rows:
            if not (row.get("path") or "").strip():
                report.rows_read += 1
                report.bad(BadRow(str(manifest), rows.line_num, "path", "missing path"), strict)
                continue
            out.append((root / row["path"].strip(), rows.line_num, row))
    return out


@register(
    "ravdess",
    "ravdess:DIR",
    "RAVDESS speech: 8 emotions, file-name coded; DIR/manifest.csv or the Actor_NN folders; split by actor",
    {
        "valid": f"actors of the valid split (default {','.join(map(str, DEFAULT_VALID))})",
        "test": f"actors of the test split (default {','.join(map(str, DEFAULT_TEST))}); the rest is train",
        "channel": "speech (default), song or all",
        "cues": "true: each clip's voice cues (relative to its actor) in `cues`, audio kept; only: cues and no audio "
        "(cue-to-text for text models); extracted once, then cached",
        **classifier_option("cues"),
    },
)
def load_ravdess(spec: DatasetSpec, strict: bool) -> Dataset:
    root = Path(spec.target).expanduser()
    if not root.is_dir():
        raise DataError(
            "RAVDESS folder does not exist; give the folder holding manifest.csv or Actor_NN/", file=str(root)
        )
    valid, test = _actor_list(spec, "valid", DEFAULT_VALID), _actor_list(spec, "test", DEFAULT_TEST)
    if set(valid) & set(test):
        raise DataError(f"actors {sorted(set(valid) & set(test))} are in both valid and test in {spec}")
    channel = (spec.option("channel", "speech") or "speech").lower()
    if channel not in ("speech", "song", "all"):
        raise DataError(f"channel={channel!r} in {spec}: use speech, song or all")
    report = LoadReport(source=str(spec))
    samples: list[Sample] = []
    for file, line, row in _files(root, report, strict):
        where = str(root / "manifest.csv") if line is not None else str(file)
        report.rows_read += 1
        fields = parse_name(file.stem)
        if fields is None:
            report.bad(BadRow(where, line, "path", "not a RAVDESS file name", file.name), strict)
            continue
        if channel != "all" and fields["channel"] != channel:
            report.rows_read -= 1  # another channel: not asked for, not a bad row
            continue
        if row:
            emotion = (row.get("emotion") or "").strip().lower()
            actor = (row.get("actor") or "").strip()
            if (emotion and emotion != fields["emotion"]) or (
                actor and actor.isdigit() and int(actor) != fields["actor"]
            ):
                report.bad(
                    BadRow(
                        where,
                        line,
                        "emotion",
                        "manifest disagrees with the file name",
                        f"{file.name}: manifest {emotion}/{actor}, name {fields['emotion']}/{fields['actor']}",
                    ),
                    strict,
                )
                continue
        if not file.is_file():
            report.missing_media.append(file.stem)
            report.missing_media_kinds["audio"] += 1
            report.bad(BadRow(where, line, "path", "missing media", str(file)), strict)
            continue
        actor_id = int(fields["actor"])  # type: ignore[call-overload]
        split = "test" if actor_id in test else "valid" if actor_id in valid else "train"
        media = {"video": str(file)} if file.suffix.lower() == ".mp4" else {"audio": str(file)}
        emotion = str(fields["emotion"])
        meta = {
            **fields,
            "speaker": f"actor{actor_id:02d}",
            "gender": "male" if actor_id % 2 else "female",
            "arousal": EMOTION_AROUSAL[emotion],
        }
        try:
            meta["duration_s"] = float(row["duration_s"])
        except (KeyError, TypeError, ValueError):
            pass  # the manifest's duration is informative only
        samples.append(
            Sample(
                id=file.stem,
                text=STATEMENTS.get(str(fields["statement"]), ""),
                label=emotion,
                split=split,
                domain="ravdess",
                meta=meta,
                **media,
            )
        )
        report.rows_kept += 1
    if not samples:
        raise DataError("no RAVDESS files found (names like 03-01-05-01-01-01-12.wav)", file=str(root))
    duplicates = len(samples) - len({s.id for s in samples})
    if duplicates:
        raise DataError(f"{duplicates} file names occur twice below {root}; keep one copy of each clip")
    samples = apply_spec_option("cues", samples, spec, report.warnings, kinds=("audio",))
    samples = apply_spec_option("classifier", samples, spec, report.warnings)
    return Dataset(spec=str(spec), task=ravdess_task(), samples=samples, report=report)
