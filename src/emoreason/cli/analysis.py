"""`emoreason analyze`: explain the sentiment or emotion of the samples given, one record each.

Also the model loading that `evaluate` shares (`load_engine`). The samples themselves (texts, a
file, stdin, the examples, media and their cues) are gathered in `emoreason.cli.inputs`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from emoreason.cli import options as opt
from emoreason.cli.ui import fail, progress, show_record, warn


def _parse_range(value: str | None, option: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, high = (float(x) for x in value.split(","))
    except ValueError:
        fail(f"{option} takes two numbers LOW,HIGH, e.g. {option} -3,3; got {value!r}")
    return low, high


def load_engine(
    model: str, adapter: list[str] | None, family: str, dtype: str, device: str, batch_size: int
) -> tuple[Any, Any]:
    """The loaded model and a generation engine over it; exits on a model that cannot be loaded."""
    from emoreason.generation import TransformersEngine
    from emoreason.models import MediaError, load_model

    try:
        loaded = load_model(model, adapter, family=family, dtype=dtype, device=device)
    except (FileNotFoundError, ValueError, MediaError) as err:
        fail(str(err))
    return loaded, TransformersEngine(loaded, batch_size=batch_size)


def analyze(
    text: opt.Texts = None,
    input_file: opt.InputFile = None,
    audio: opt.Audio = None,
    video: opt.Video = None,
    image: opt.Image = None,
    examples: opt.Examples = False,
    model: opt.Model = "default",
    adapter: opt.Adapter = None,
    format_name: opt.Format = "c2f",
    task: opt.Task = "vader",
    scale: opt.Scale = None,
    labels: opt.Labels = None,
    max_new_tokens: opt.MaxNewTokens = 256,
    temperature: opt.Temperature = 0.0,
    batch_size: opt.BatchSize = 8,
    family: opt.Family = "auto",
    dtype: opt.Dtype = "auto",
    device: opt.Device = "auto",
    as_json: opt.RecordJson = False,
    cues: opt.Cues = "auto",
    cue_reference: opt.CueReference = None,
) -> None:
    """Explain the sentiment or emotion of text (and media): polarity, reasoning per modality, score or label."""
    from emoreason.cli.inputs import given_samples, has_media, inputs_for_family
    from emoreason.data.schema import resolve_task
    from emoreason.formats import get_format
    from emoreason.generation import SamplingParams
    from emoreason.inference import analyze as run_analysis
    from emoreason.models import MediaError

    label_set = tuple(x.strip() for x in labels.split(",")) if labels else None
    try:
        the_task, fmt = resolve_task(task, _parse_range(scale, "--scale"), label_set), get_format(format_name)
        media = {"audio": audio, "video": video, "image": image}
        samples = given_samples(text, input_file, examples, media, None if sys.stdin.isatty() else sys.stdin)
    except ValueError as err:  # DataError is one
        fail(str(err))
    if not samples:
        fail("nothing to analyse")
    loaded, engine = load_engine(model, adapter, family, dtype, device, batch_size)
    try:
        quiet = as_json or cues == "off" or not has_media(samples)
        with progress("measuring cues", len(samples), quiet=quiet) as advance:
            inputs = inputs_for_family(samples, loaded.family, cues, cue_reference, progress=advance)
        for message in inputs.warnings:
            warn(message)
        params = SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature, stop_strings=fmt.stop_strings)
        with progress("analysing", len(samples), quiet=as_json) as advance:
            records = run_analysis(
                engine,
                inputs.samples,
                the_task,
                fmt.name,
                loaded.model_id,
                params,
                batch_size,
                progress=advance,
                cues=inputs.cue_text,
            )
    except (MediaError, ValueError) as err:
        fail(str(err))
    for sample, record in zip(inputs.samples, records):
        if inputs.cue_text.get(sample.id):
            record["cues"] = inputs.cue_text[sample.id]
        if as_json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            show_record(sample, record)


__all__ = ["analyze", "load_engine"]
