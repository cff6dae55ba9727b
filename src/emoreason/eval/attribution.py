"""`evaluate --attribute`: which words each answer's judgment moves with (`metrics.attribution`), and how
often its chain cites the one it moves with most.

Each answered sample's text is taken apart token by token and read again up to the polarity word
(`inference.attribute_words`); each sample's line is appended to attribution.jsonl as soon as it is done. A
rerun reuses a stored line whose text is the sample's (the run's model and settings are run.json's to
check), and reads only what it lacks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emoreason.data import Sample, TaskInfo
from emoreason.data.jsonl import AppendOnlyJsonl, read_jsonl_keyed
from emoreason.eval.progress import run_counted
from emoreason.formats import get_format
from emoreason.inference import attribute_words
from emoreason.metrics.attribution import attribution_summary
from emoreason.models import LoadedModel

log = logging.getLogger(__name__)

ATTRIBUTION_FILE = "attribution.jsonl"


def run_attribution(
    loaded: LoadedModel,
    samples: Sequence[Sample],
    records: dict[str, dict[str, Any]],
    task: TaskInfo,
    format_name: str,
    out: Path,
    progress_factory: Any = None,
) -> dict[str, Any]:
    """Attribute every sample of `samples` that has an answer in `records` (audit records by id), reusing
    `out`/attribution.jsonl; the figures of `metrics.attribution.attribution_summary`. Raises
    `ValueError` for a format without a leading polarity word."""
    path = out / ATTRIBUTION_FILE
    stored = read_jsonl_keyed(path, "id")
    if stored.skipped:
        log.warning("%s: %s; those samples are read again", path, stored.skipped_summary())
    answered = [s for s in samples if s.id in records]
    lines = {s.id: stored.records[s.id] for s in answered if stored.records.get(s.id, {}).get("text") == s.text}
    todo = [s for s in answered if s.id not in lines]
    if lines and todo:
        log.warning("attribution: %d of %d answers already read in %s", len(lines), len(answered), path)
    fmt = get_format(format_name)
    writer = AppendOnlyJsonl(path)

    def read(advance: Any) -> None:
        for sample in todo:
            (shifts,) = attribute_words(loaded, [sample], fmt, task)
            line = {"id": sample.id, "text": sample.text, "attribution": [s.to_dict() for s in shifts]}
            writer.extend([line])
            lines[sample.id] = line
            if advance is not None:
                advance(1)

    if todo:
        run_counted(progress_factory, len(answered), len(answered) - len(todo), read)
    answers = [(lines[s.id]["attribution"], records[s.id].get("citations", {}).get("spans", [])) for s in answered]
    return attribution_summary(answers)


__all__ = ["ATTRIBUTION_FILE", "run_attribution"]
