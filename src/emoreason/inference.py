"""Explainable inference: samples in, audit records out.

The audit record (what `emoreason analyze --json` prints and `evaluate` stores per sample) is
the product's unit of accountability: the parsed polarity, reasoning parts and score or label,
whether the answer parsed, what failed, the raw completion, and which model and format made it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from emoreason.data.schema import Sample, TaskInfo
from emoreason.data.text import check_text, is_blank
from emoreason.formats import get_format
from emoreason.formats.base import ReasoningFormat
from emoreason.formats.conversation import build_conversation
from emoreason.generation import Completion, GenerationBackend, SamplingParams
from emoreason.metrics.grounding import citation_grounding


def audit_record(
    sample: Sample,
    completion: Completion,
    fmt: ReasoningFormat,
    task: TaskInfo,
    model_name: str,
    latency_s: float,
    prefix: str = "",
    cues: str | None = None,
) -> dict[str, Any]:
    """The audit record of one prediction. `citations` counts the quotes and measured cues the
    chain cites and how many occur in its input (the sample's text and `cues`, the cue text the
    prompt carried, by default the sample's own; `metrics.grounding`)."""
    parsed = fmt.parse(prefix + completion.text, task)
    source = "\n".join(part for part in (sample.text, sample.cues if cues is None else cues) if part)
    return {
        "id": sample.id,
        "polarity": parsed.polarity,
        "score": parsed.score,
        "label": parsed.label,
        "reasoning": dict(parsed.reasoning),
        "parse_ok": parsed.ok,
        "errors": [str(e) for e in parsed.errors],
        "raw_completion": prefix + completion.text,
        "completion_tokens": completion.num_tokens,
        "finish_reason": completion.finish_reason,
        "model": model_name,
        "format": fmt.name,
        "latency_s": round(latency_s, 4),
        "citations": citation_grounding(prefix + completion.text, source).to_dict(),
    }


def check_inputs(samples: Sequence[Sample], cues: Mapping[str, str | None] | None = None) -> None:
    """Raise `ValueError` naming the first sample a model cannot be asked about: text that is not
    valid Unicode (`emoreason.data.text.check_text`, the policy of every entry point), or nothing
    at all to read (no text, no media, no cue text), which a model would answer anyway, with a
    confident polarity about nothing. `cues` as in `analyze`."""
    for sample in samples:
        cue = sample.cues if cues is None else cues.get(sample.id)
        check_text(sample.text, f"sample {sample.id!r} text")
        check_text(cue or "", f"sample {sample.id!r} cues")
        if is_blank(sample.text) and is_blank(cue) and not (sample.audio or sample.video or sample.image):
            raise ValueError(f"sample {sample.id!r} has no text, no media and no cue text: nothing to analyse")


def analyze(
    engine: GenerationBackend,
    samples: Sequence[Sample],
    task: TaskInfo,
    format_name: str,
    model_name: str,
    params: SamplingParams | None = None,
    batch_size: int = 8,
    progress: Callable[[int], None] | None = None,
    on_batch: Callable[[list[dict[str, Any]]], None] | None = None,
    cues: Mapping[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """Audit records for `samples`, generated `batch_size` at a time (each batch is handed to
    `on_batch` as soon as it is done, so callers can persist it before the next one starts).

    `cues` maps sample ids to measured-cue text for the prompt (`emoreason.cues`); without it
    each sample's own `cues` field is used (None for data without cues). Pass `{}` for none.
    `latency_s` is the wall time of the sample's batch divided by the batch size.
    Raises `ValueError` for unusable input before generating anything (`check_inputs`).
    """
    check_inputs(samples, cues)
    fmt = get_format(format_name)
    params = params or SamplingParams(max_new_tokens=256, stop_strings=fmt.stop_strings)
    records: list[dict[str, Any]] = []
    for start in range(0, len(samples), batch_size):
        chunk = list(samples[start : start + batch_size])
        chunk_cues = [s.cues if cues is None else cues.get(s.id) for s in chunk]
        conversations = [build_conversation(s, fmt, task, cues=c) for s, c in zip(chunk, chunk_cues)]
        began = time.perf_counter()
        outputs = engine.generate(conversations, params)
        per_sample = (time.perf_counter() - began) / len(chunk)
        batch = [
            audit_record(s, out[0], fmt, task, model_name, per_sample, cues=c or "")
            for s, out, c in zip(chunk, outputs, chunk_cues)
        ]
        records.extend(batch)
        if on_batch is not None:
            on_batch(batch)
        if progress is not None:
            progress(len(chunk))
    return records


EXAMPLE_SENTENCES = (
    "I absolutely loved this film, the acting was superb and the ending made me cry happy tears.",
    "The battery died after two days and customer service never answered my emails.",
    "It's an okay phone. Does what it says, nothing more.",
    "Not bad at all, though the sequel felt a little rushed.",
    "Ugh, stuck at the airport AGAIN. Best. Day. Ever.",
)
