"""`raw:DIR`: the MMSA raw layout, `label.csv` plus `Raw/<video_id>/<clip_id>.mp4`.

Columns: video_id, clip_id, text, label, label_T, label_A, label_V, annotation, mode.
Missing video files are counted and listed by id up front instead of failing mid-training.
Media are read when cues are asked for: `?cues=true`, or ahead with `emoreason data prepare
raw:DIR` (sound track at 16 kHz, sampled frames, duration checks, unreadable files listed;
`emoreason.cues.prepare`).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from emoreason.data.adapters._rows import parse_score, read_text_file
from emoreason.data.base import Dataset, register
from emoreason.data.errors import BadRow, DataError, LoadReport
from emoreason.data.schema import MMSA_TASKS, Sample
from emoreason.data.spec import DatasetSpec
from emoreason.data.spec_options import apply_spec_option

REQUIRED = ("video_id", "clip_id", "text", "label")
MODES = {"train": "train", "valid": "valid", "val": "valid", "dev": "valid", "test": "test"}


@register(
    "raw",
    "raw:DIR?dataset=mosi|mosei|sims|simsv2",
    "MMSA raw layout: DIR/label.csv and DIR/Raw/<video_id>/<clip_id>.mp4",
    {
        "dataset": "mosi, mosei, sims or simsv2: sets the scale and metrics "
        "(default: sims if every |label| <= 1, else mosi)",
        "missing_media": "keep (default: the sample stays, without video, and is listed) or skip (a bad row)",
        "cues": "true: each clip's voice and face cues (relative to the train split) in `cues`, video kept; only: "
        "cues and no video (cue-to-text for text models); extracted once, then cached (`data prepare` does it ahead)",
    },
)
def load_raw(spec: DatasetSpec, strict: bool) -> Dataset:
    root = Path(spec.target).expanduser()
    label_csv = root / "label.csv"
    if not label_csv.is_file():
        raise DataError(
            f"no label.csv in {root}; the MMSA raw layout is DIR/label.csv + DIR/Raw/<video_id>/<clip_id>.mp4",
            file=str(label_csv),
        )
    report = LoadReport(source=str(spec))
    keep_missing = (spec.option("missing_media", "keep") or "keep") == "keep"
    samples: list[Sample] = []
    with io.StringIO(read_text_file(label_csv), newline="") as handle:
        rows = csv.DictReader(handle)
        missing_columns = [c for c in REQUIRED if c not in (rows.fieldnames or [])]
        if missing_columns:
            raise DataError(
                f"missing column(s) {', '.join(missing_columns)}; found {rows.fieldnames}", file=str(label_csv), line=1
            )
        seen: dict[str, str] = {}  # sample id -> where it was first read
        for row in rows:
            line = rows.line_num
            report.rows_read += 1
            if row.get(None):  # csv puts what lies past the header's columns here: an unquoted comma in a text
                detail = (
                    f"{len(rows.fieldnames or []) + len(row[None])} fields, the header has {len(rows.fieldnames or [])}"
                )
                report.bad(
                    BadRow(str(label_csv), line, None, "too many fields", f"{detail}; quote a text that holds a comma"),
                    strict,
                )
                continue
            short = [name for name, value in row.items() if value is None and name is not None]
            if short:  # csv fills the missing last fields with None: a train clip without its mode read as test
                detail = f"no value for {', '.join(short)}; the header has {len(rows.fieldnames or [])} fields"
                report.bad(BadRow(str(label_csv), line, short[0], "too few fields", detail), strict)
                continue
            sample_id = f"{row['video_id'].strip()}$_${row['clip_id'].strip()}"
            if sample_id in seen:  # one clip twice: in two splits it would be trained on and tested on
                report.bad(
                    BadRow(str(label_csv), line, "clip_id", "duplicate id", f"{sample_id} ({seen[sample_id]})"), strict
                )
                continue
            seen[sample_id] = f"first on line {line}"
            text = (row.get("text") or "").strip()
            if not text:
                report.bad(BadRow(str(label_csv), line, "text", "missing text"), strict)
                continue
            score = parse_score(row.get("label"))
            if score is None:
                report.bad(BadRow(str(label_csv), line, "label", "unparsable score", repr(row.get("label"))), strict)
                continue
            mode = (row.get("mode") or "test").strip().lower()
            if mode not in MODES:
                accepted = ", ".join(MODES)
                report.bad(BadRow(str(label_csv), line, "mode", "unknown split", f"{mode!r}; use {accepted}"), strict)
                continue
            video = root / "Raw" / row["video_id"].strip() / f"{row['clip_id'].strip()}.mp4"
            video_path: str | None = str(video)
            if not video.is_file():
                report.missing_media.append(sample_id)
                report.missing_media_kinds["video"] += 1
                if not keep_missing:
                    report.bad(BadRow(str(label_csv), line, "video", "missing media", str(video)), strict)
                    continue
                video_path = None
            meta: dict[str, object] = {"video_id": row["video_id"].strip(), "clip_id": row["clip_id"].strip()}
            for key in ("label_T", "label_A", "label_V"):
                value = parse_score(row.get(key))
                if value is not None:
                    meta[key] = value
            if row.get("annotation"):
                meta["annotation"] = row["annotation"].strip()
            samples.append(
                Sample(
                    id=sample_id,
                    text=text,
                    score=score,
                    video=video_path,
                    split=MODES[mode],
                    domain=root.name,
                    meta=meta,
                )
            )
            report.rows_kept += 1
    name = spec.option("dataset")
    if name is None:
        largest = max((abs(s.score or 0) for s in samples), default=0.0)
        name = "sims" if largest <= 1 else "mosi"
        why = "every |label| <= 1" if name == "sims" else f"a |label| of {largest:g} is above 1"
        report.warnings.append(
            f"no ?dataset= given; using {name} scale and metrics ({why}); name it with ?dataset=mosi|mosei|sims|simsv2"
        )
    if name not in MMSA_TASKS:
        raise DataError(f"dataset={name!r} in {spec}: use one of {', '.join(MMSA_TASKS)}")
    low, high = MMSA_TASKS[name].scale or (-math.inf, math.inf)
    outside = [s.id for s in samples if s.score is not None and not low <= s.score <= high]
    if outside:  # a typo in label.csv, or the wrong ?dataset=: MMSA's metrics would clip it without a word
        report.warnings.append(
            f"{len(outside)} label(s) lie outside the {name} scale [{low:g}, {high:g}], first ids: {outside[:3]} "
            f"({label_csv})"
        )
    samples = apply_spec_option("cues", samples, spec, report.warnings)
    return Dataset(spec=str(spec), task=MMSA_TASKS[name], samples=samples, report=report)
