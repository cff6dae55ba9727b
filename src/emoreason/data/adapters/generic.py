"""`jsonl:PATH` and `csv:PATH`: any file with the generic field names (renamable by option)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from emoreason.data.adapters._rows import (
    FIELD_OPTIONS,
    TASK_OPTIONS,
    RowReader,
    build_task,
    classifier_option,
    read_text_file,
)
from emoreason.data.base import Dataset, register
from emoreason.data.errors import BadRow, DataError, LoadReport
from emoreason.data.jsonl import NOT_UTF8, iter_jsonl_lines
from emoreason.data.spec import DatasetSpec
from emoreason.data.spec_options import apply_spec_option

MEASURE_OPTIONS = {
    "measure": "true: measure each row's audio/video/image into cue text (per `speaker` column where there is "
    "one); only: and drop the media, for a text model (as ?cues= does for ravdess: and raw:)",
    **classifier_option("measure"),
}


def _existing_file(spec: DatasetSpec) -> Path:
    path = Path(spec.target).expanduser()
    if path.is_dir():
        raise DataError(f"is a directory, not a {spec.kind} file; name the file inside it", file=str(path))
    if not path.is_file():
        raise DataError(f"{spec.kind} file does not exist; check the path", file=str(path))
    return path


def _reader(spec: DatasetSpec, strict: bool, path: Path) -> RowReader:
    labels = spec.list_option("labels")
    return RowReader(
        spec=spec,
        strict=strict,
        report=LoadReport(source=str(spec)),
        base_dir=path.parent,
        file=str(path),
        domain=path.stem,
        labels=labels,
    )


@register(
    "jsonl",
    "jsonl:PATH[?text=COL&scale=LOW,HIGH...]",
    "one JSON object per line with generic fields",
    {**FIELD_OPTIONS, **TASK_OPTIONS, **MEASURE_OPTIONS},
)
def load_jsonl(spec: DatasetSpec, strict: bool) -> Dataset:
    path = _existing_file(spec)
    reader = _reader(spec, strict, path)
    samples = []
    for line in iter_jsonl_lines(path):
        if line.problem == NOT_UTF8:
            raise DataError(f"file is not UTF-8 ({line.detail})", file=str(path), line=line.number)
        if line.record is None:
            reader.report.rows_read += 1
            reader.report.bad(BadRow(str(path), line.number, line.field, line.problem, line.detail), strict)
            continue
        sample = reader.read(line.record, line.number)
        if sample is not None:
            samples.append(sample)
    reader.check_renamed_columns()
    samples = apply_spec_option("measure", samples, spec, reader.report.warnings)
    samples = apply_spec_option("classifier", samples, spec, reader.report.warnings)
    task = build_task(spec, samples, reader.report, path.stem)
    return Dataset(spec=str(spec), task=task, samples=samples, report=reader.report)


@register(
    "csv",
    "csv:PATH[?text=COL&scale=LOW,HIGH...]",
    "a CSV file with a header row and generic fields",
    {**FIELD_OPTIONS, **TASK_OPTIONS, **MEASURE_OPTIONS, "delimiter": "field delimiter (default ,; use tab for TSV)"},
)
def load_csv(spec: DatasetSpec, strict: bool) -> Dataset:
    path = _existing_file(spec)
    delimiter = spec.option("delimiter", ",") or ","
    delimiter = "\t" if delimiter == "tab" else delimiter
    reader = _reader(spec, strict, path)
    samples = []
    rows = csv.DictReader(io.StringIO(read_text_file(path), newline=""), delimiter=delimiter)
    if rows.fieldnames is None:
        raise DataError("file is empty (no header row)", file=str(path))
    wanted = reader.column("text")
    if wanted not in rows.fieldnames and not any(
        reader.column(m) in rows.fieldnames for m in ("audio", "video", "image")
    ):
        raise DataError(
            f"no column {wanted!r} (columns: {', '.join(rows.fieldnames)}); rename with ?text=COLUMN",
            file=str(path),
            line=1,
        )
    first_line = rows.line_num + 1  # where the next record starts: a quoted text may run over several lines
    for row in rows:
        line, first_line = first_line, rows.line_num + 1
        short = [name for name, value in row.items() if value is None and name is not None]
        if short:  # csv fills the missing last fields with None: a train row without its split read as test
            reader.report.rows_read += 1
            detail = f"no value for {', '.join(short)}; the header has {len(rows.fieldnames)} fields"
            reader.report.bad(BadRow(str(path), line, short[0], "too few fields", detail), strict)
            continue
        sample = reader.read(dict(row), line)
        if sample is not None:
            samples.append(sample)
    reader.check_renamed_columns()
    samples = apply_spec_option("measure", samples, spec, reader.report.warnings)
    samples = apply_spec_option("classifier", samples, spec, reader.report.warnings)
    task = build_task(spec, samples, reader.report, path.stem)
    return Dataset(spec=str(spec), task=task, samples=samples, report=reader.report)
