"""`emoreason analyze`: explain the sentiment or emotion of the samples given, one record each.

The model part is `emoreason.api.Explainer`, the Python API (the same records, to the byte). Also
the model loading that `evaluate` and `serve` share (`load_engine`, `check_adapters`). The samples
themselves (texts, a file, stdin, the examples, media and their cues) are gathered in
`emoreason.cli.inputs`; `check_context_fits` lives in `emoreason.api` and is re-exported here.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from typing import Any

from emoreason.api import check_context_fits
from emoreason.cli import options as opt
from emoreason.cli.ui import fail, progress, show_record, warn


def _parse_range(value: str | None, option: str) -> tuple[float, float] | None:
    from emoreason.data.schema import parse_low_high

    if value is None:
        return None
    try:
        return parse_low_high(value, option)
    except ValueError as err:
        fail(str(err))


def check_adapters(model: str, adapter: list[str] | None) -> None:
    """Exit before the base model loads (which takes a while) when an adapter named is a folder
    without adapter_config.json, or a path that does not exist and cannot be a hub repository
    (`owner/name`)."""
    from emoreason.models.loading import check_adapters as check
    from emoreason.models.loading import resolve_adapters

    try:
        check(resolve_adapters(model, adapter))
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))


def load_engine(
    model: str, adapter: list[str] | None, family: str, dtype: str, device: str, batch_size: int, votes: int = 1
) -> tuple[Any, Any]:
    """The loaded model and a generation engine over it (`emoreason.api.load_engine`: batches of
    `batch_size` samples with `votes` answers each); exits on a model that cannot be loaded."""
    from emoreason.api import load_engine as load
    from emoreason.models import MediaError

    check_adapters(model, adapter)
    try:
        return load(model, adapter, family, dtype, device, batch_size, votes)
    except (OSError, ValueError, MediaError) as err:  # OSError: a model folder missing, or no room to convert it
        fail(str(err))


def speech_adapter_for(model: str, samples: list[Any], task: Any, fmt: Any) -> list[str] | None:
    """["speech-emotion"] when the default model is asked about clips alone (audio, no text) with
    no task or format of the user's: the shipped adapter for voice emotion. Else None (the
    default rules: the shipped sentiment adapter for the default model)."""
    from emoreason.models.default import DEFAULT_ALIASES
    from emoreason.models.shipped import shipped_adapter

    clips_alone = all(s.audio and not s.text.strip() for s in samples)
    if model in DEFAULT_ALIASES and clips_alone and task is None and fmt is None and shipped_adapter("speech-emotion"):
        return ["speech-emotion"]
    return None


def _own_settings(model: str, adapter: Any) -> Any:
    """The adapter's own settings (its emoreason.json), read without loading the model; none for a model or
    adapter that cannot be read (it is checked, and named, where it loads)."""
    from emoreason.models.loading import resolve_adapters
    from emoreason.models.shipped import AdapterSettings

    try:
        return AdapterSettings.of(resolve_adapters(model, adapter))
    except (ValueError, OSError):
        return AdapterSettings()


def _with_band(task: Any, band: str, model: str, adapter: Any) -> Any:
    """The task the records answer (`task`, else the adapter's, else vader) with the neutral band `band`
    (--neutral-band LOW,HIGH); fails, before the model loads, on a band that task cannot take."""
    from emoreason.data.schema import resolve_task, with_neutral_band

    low, high = _parse_range(band, "--neutral-band")
    try:
        return with_neutral_band(task or _own_settings(model, adapter).task_info() or resolve_task("vader"), low, high)
    except ValueError as err:
        fail(f"--neutral-band {band}: {err}")


def _check_format(task: Any, fmt: Any, model: str, adapter: Any) -> None:
    """Fail before loading the model when the task (`task`, else the adapter's, else vader) meets a
    format that cannot answer it: `fmt`, else the adapter's own (its emoreason.json), else the one the
    task takes."""
    from emoreason.data.schema import resolve_task
    from emoreason.formats import format_for

    own = _own_settings(model, adapter)
    try:
        format_for(task or own.task_info() or resolve_task("vader"), fmt.name if fmt else None, own.format, cli=True)
    except ValueError as err:
        fail(str(err))
    if fmt is not None and own.format and fmt.name != own.format:  # the answers will rarely parse
        warn(
            f"the adapter answers in {own.format} (its emoreason.json), not -f {fmt.name}: few answers will parse; "
            f"give an adapter trained for {fmt.name} (--adapter)"
        )


def _spoken_by(speaker: str | None, samples: list[Any], input_file: Any, reference: Any) -> list[Any]:
    """The clip given on the command line as `speaker`'s (`--speaker`): its cues are compared with that speaker's
    statistics in the cue `reference` (a speaker it does not know is said by `Explainer.prepare`). Fails, before
    the model loads, where --speaker cannot be read: never ignored silently, as `emoreason cues --speaker`."""
    from emoreason.api.explainer import spoken_by

    if speaker is not None and input_file is not None:
        fail(
            f"--speaker is for the clip given with --audio/--video/--image; --input {input_file} names each "
            "row's speaker in a `speaker` column"
        )
    try:
        return spoken_by(samples, speaker, reference, cli=True)
    except ValueError as err:
        fail(str(err))


def analyze(
    text: opt.Texts = None,
    input_file: opt.InputFile = None,
    audio: opt.Audio = None,
    video: opt.Video = None,
    image: opt.Image = None,
    examples: opt.Examples = False,
    model: opt.Model = "default",
    adapter: opt.Adapter = None,
    format_name: opt.AnalyzeFormat = None,
    task: opt.AnalyzeTask = None,
    scale: opt.Scale = None,
    labels: opt.Labels = None,
    neutral_band: opt.NeutralBand = None,
    max_new_tokens: opt.AnalyzeMaxNewTokens = None,
    temperature: opt.Temperature = None,
    votes: opt.Votes = 1,
    ground_quotes: opt.GroundQuotes = True,
    name_negations: opt.NameNegations = True,
    score_readout: opt.ScoreReadout = "fitted",
    attribute: opt.Attribute = False,
    batch_size: opt.BatchSize = 8,
    family: opt.Family = "auto",
    dtype: opt.Dtype = "auto",
    device: opt.Device = "auto",
    as_json: opt.RecordJson = False,
    cues: opt.Cues = "auto",
    cue_reference: opt.CueReference = None,
    speaker: opt.AnalyzeSpeaker = None,
) -> None:
    """Explain the sentiment or emotion of text (and media): polarity, reasoning per modality, score or label."""
    from emoreason.api import Explainer, has_media
    from emoreason.cli.inputs import given_input, read_as_hint, stdin_lines
    from emoreason.data.schema import TASK_OR_OWN, resolve_task
    from emoreason.formats import get_format
    from emoreason.formats.consensus import vote_temperature
    from emoreason.formats.readout import SCORE_READOUTS
    from emoreason.models import MediaError

    label_set = tuple(x.strip() for x in labels.split(",")) if labels is not None else None
    if task is not None and (scale is not None or label_set is not None):  # the scale won in silence
        fail(f"{TASK_OR_OWN}: drop --task or {'--scale' if scale is not None else '--labels'}")
    try:
        range_ = _parse_range(scale, "--scale")
        given = task or range_ or label_set is not None
        the_task = resolve_task(task, range_, label_set) if given else None  # None: the adapter's
        fmt = get_format(format_name) if format_name else None
        media = {"audio": audio, "video": video, "image": image}
        stdin = None if sys.stdin.isatty() else stdin_lines(sys.stdin)
        asked = given_input(text, input_file, examples, media, stdin, warn=warn)
        samples = asked.samples
        if the_task is None:  # `--input 'jsonl:F?scale=1,7'` answers on 1..7
            the_task = asked.task
    except ValueError as err:  # DataError and InvalidTextError are
        fail(str(err))
    if not samples:
        fail(
            f"nothing to analyse: {input_file} has no row that can be read{read_as_hint(input_file)}"
            if input_file
            else "nothing to analyse"
        )
    if neutral_band is not None:
        the_task = _with_band(the_task, neutral_band, model, adapter)
    _check_format(the_task, fmt, model, adapter)  # before the model loads: a label task needs a label format
    if temperature is not None and not 0 <= temperature < math.inf:  # NaN too
        fail(f"--temperature {temperature}: give 0 (greedy) or above, and finite")
    try:
        vote_temperature(votes, temperature)
    except ValueError as err:
        fail(f"--votes {votes}: {err}")
    if score_readout not in SCORE_READOUTS:
        fail(f"--score-readout {score_readout!r}: choose one of {', '.join(SCORE_READOUTS)}")
    if cue_reference is not None and not cue_reference.is_file():  # read only after the model loaded
        fail(f"--cue-reference {cue_reference} is not a file; `emoreason data prepare --reference-out` writes one")
    adapter = adapter or speech_adapter_for(model, samples, the_task, fmt)
    samples = _spoken_by(speaker, samples, input_file, cue_reference or _own_settings(model, adapter).cue_reference)
    loaded, engine = load_engine(model, adapter, family, dtype, device, batch_size, votes)
    try:
        with warnings.catch_warnings(record=True) as raised:  # the API's warnings, said as the command's others
            warnings.simplefilter("always", UserWarning)
            explainer = Explainer(
                loaded,
                engine,
                format=fmt.name if fmt else None,
                task=the_task,
                batch_size=batch_size,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                votes=votes,
                cues=cues,
                cue_reference=cue_reference,
                ground_quotes=ground_quotes,
                name_negations=name_negations,
                score_readout=score_readout,
                attribute=attribute,
            )
    except ValueError as err:
        fail(f"--attribute: {err}" if attribute else str(err))
    for raised_warning in raised:
        warn(str(raised_warning.message))
    explainer.option = "--max-new-tokens"
    try:
        quiet = as_json or cues == "off" or not has_media(samples)
        with progress("measuring cues", len(samples), quiet=quiet) as advance:
            inputs = prepared_readable(explainer, samples, advance)
        for message in inputs.warnings:
            warn(message)
        # with --attribute each input is answered, then read again with each word taken out: two steps apiece
        label = "answering, then attributing" if attribute else "analysing"
        with progress(label, len(inputs.samples) * (2 if attribute else 1), quiet=as_json) as advance:
            records = explainer.records(inputs, progress=advance)
    except (MediaError, ValueError) as err:
        fail(str(err))
    given = {s.id: s for s in samples}  # as the user gave them, with their media files (a title names them)
    for sample, record in zip(inputs.samples, records):  # records carry their cue text (`Explainer.records`)
        if as_json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            show_record(sample, record, given.get(sample.id))


def prepared_readable(explainer: Any, samples: list[Any], advance: Any = None) -> Any:
    """`explainer.prepare` of `samples`, leaving out those whose media cannot be read, each named in a
    warning (one bad file of an --input stopped every other sample); one sample alone still fails with its
    error. Only after a failure are the samples prepared one by one, then the readable ones together (their
    cues are cached by then, and per-speaker references are taken over them alone)."""
    from emoreason.models import MediaError

    try:
        return explainer.prepare(samples, progress=advance)
    except MediaError:
        if len(samples) == 1:
            raise
    kept = []
    for sample in samples:
        try:
            explainer.prepare([sample])
        except MediaError as err:
            warn(f"{sample.id} skipped: {err}")
            continue
        kept.append(sample)
    if not kept:
        raise MediaError(f"no input's media could be read ({len(samples)} tried)")
    return explainer.prepare(kept)


__all__ = ["analyze", "check_adapters", "check_context_fits", "load_engine", "speech_adapter_for"]
