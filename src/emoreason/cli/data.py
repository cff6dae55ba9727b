"""`emoreason data ...`: list the dataset adapters, inspect a dataset, convert it, prepare its cues.

A command group of its own (`emoreason.cli` adds it as `data`), with the dataset loading that
every command shares: `load_or_exit` prints what the loader had to skip and stops on a spec that
cannot be read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from emoreason.cli import options as opt
from emoreason.cli.help import Command, Group, examples
from emoreason.cli.ui import console, err_console, fail, interrupted, progress, warn
from emoreason.data import DataError, Dataset, load_dataset, parse_spec
from emoreason.data.schema import HELD_OUT_SPLITS

if TYPE_CHECKING:
    from emoreason.cues.reference import CueReference

data_app = typer.Typer(cls=Group, help=opt.DATA, no_args_is_help=True)


def load_or_exit(spec: str, strict: bool = False) -> Dataset:
    """The dataset, its load warnings printed; exits on a spec or file that cannot be read."""
    try:
        dataset = load_dataset(spec, strict=strict or None)
    except DataError as err:
        fail(str(err))
    for message in dataset.report.warnings:
        warn(message)
    if dataset.report.bad_rows or dataset.report.missing_media or dataset.report.values_dropped:
        err_console.print(dataset.report.summary(), style="yellow")
    return dataset


def names(value: str) -> list[str]:
    """`a, b` -> ["a", "b"]; `none` -> []."""
    return [] if value == "none" else [v.strip() for v in value.split(",") if v.strip()]


def _split(split: str) -> str | None:
    return None if split == "all" else split


@data_app.command("list", cls=Command, epilog=examples("data list"))
def data_list() -> None:
    """List the dataset adapters, their spec syntax and options."""
    from emoreason.cli.ui import show_adapters
    from emoreason.data import ADAPTERS, adapters  # noqa: F401  (importing the adapters registers them)

    show_adapters(ADAPTERS.values())


@data_app.command("inspect", cls=Command, epilog=examples("data inspect"))
def data_inspect(
    spec: opt.Spec, split: opt.Split = "all", strict: opt.Strict = False, as_json: opt.StatsJson = False
) -> None:
    """Rows per split, score/label histogram, polarity balance, text lengths, media present/missing/unreadable."""
    from emoreason.cli.ui import show_dataset_info
    from emoreason.cues.prepare import unreadable_reason
    from emoreason.data.inspect import describe

    dataset = load_or_exit(spec, strict)
    try:
        info = describe(dataset, _split(split), unreadable=unreadable_reason)
    except DataError as err:
        fail(str(err))
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        show_dataset_info(info, len(dataset.report.missing_media))


@data_app.command("convert", cls=Command, epilog=examples("data convert"))
def data_convert(spec: opt.Spec, out: opt.ConvertOut, split: opt.Split = "all", strict: opt.Strict = False) -> None:
    """Write a dataset as JSONL with the generic fields (id, text, score, label, media, split, domain, meta)."""
    from emoreason.data.jsonl import write_jsonl

    source = Path(parse_spec(spec).target) if ":" in spec else None
    if source is not None and source.exists() and source.resolve() == Path(out).resolve():
        fail(f"--out {out} is the file being converted; write the converted copy to another path")
    dataset = load_or_exit(spec, strict)
    try:
        samples = dataset.split(_split(split))
    except DataError as err:
        fail(str(err))
    try:
        # atomically: never a half-written file; media paths relative to its folder, where readers look
        write_jsonl(out, (sample.to_record(media_from=Path(out).parent) for sample in samples))
    except OSError as err:  # a folder, a read-only place, a missing drive: say which and why, no traceback
        fail(f"cannot write {out}: {err.strerror or err}" if err.strerror and str(out) not in str(err) else str(err))
    console.print(f"wrote {len(samples)} samples to {out}")


@data_app.command("prepare", help=opt.PREPARE_HELP, cls=Command, epilog=examples("data prepare"))
def data_prepare(
    spec: opt.Spec,
    split: opt.Split = "all",
    kinds: opt.CueKinds = "audio,face",
    cache_dir: opt.PrepareCache = None,
    out: opt.PrepareOut = None,
    reference_out: opt.ReferenceOut = None,
    audio_out: opt.AudioOut = None,
    min_duration: opt.MinDuration = 0.3,
    max_duration: opt.MaxDuration = 60.0,
    strict: opt.Strict = False,
) -> None:
    from emoreason.cues import CueCache, build_references, cue_texts, prepare_cues, save_references
    from emoreason.cues.prepare import write_audio_tracks, write_cue_jsonl
    from emoreason.cues.reference import some_speakers, too_few_clips

    if reference_out is not None:
        _target(reference_out, "cue_reference")  # before hours of extraction
    dataset = load_or_exit(spec, strict)
    try:
        samples, cache = dataset.split(_split(split)), CueCache(cache_dir)
        with progress("extracting cues", len(samples)) as advance:
            clips, report = prepare_cues(samples, cache, names(kinds), min_duration, max_duration, progress=advance)
    except ValueError as err:  # DataError is one
        fail(str(err))
    except KeyboardInterrupt:
        interrupted("interrupted; finished clips are cached, rerun to resume")
    if not report.with_media:  # an empty `{}` reference replaced an adapter's good one, and it said it was written
        fail(_nothing_measured(spec, len(samples)))
    references = build_references(samples, clips)
    few = _speakers_under_minimum(references)
    if few:  # in silence, their z-scores and cue text ("relative to the dataset") were read as their own
        warn(
            f"{len(few)} speaker(s) are compared with the whole dataset, not with their own clips "
            f"({too_few_clips(references)}, measured ones): {some_speakers(few)}"
        )
    if audio_out is not None:
        console.print(f"{write_audio_tracks(samples, audio_out, report)} sound tracks (16 kHz WAV) in {audio_out}")
    if out is not None:
        write_cue_jsonl(out, samples, clips, cue_texts(samples, clips, references))
        console.print(f"cue records and texts written to {out}")
    if reference_out is not None:
        written = _write_for_adapter(reference_out, "cue_reference", lambda path: save_references(references, path))
        console.print(f"references written to {written}{_named_in(reference_out)}")
    console.print(report.summary(examples=5))
    console.print(f"cache: {cache.root}")


@data_app.command("fit-classifier", cls=Command, epilog=examples("data fit-classifier"))
def data_fit_classifier(
    spec: opt.Spec,
    out: opt.ClassifierOut,
    split: opt.Split = "train",
    c: opt.ClassifierC = 1.0,
    folds: opt.ClassifierFolds = 4,
    strict: opt.Strict = False,
    allow_test: opt.ClassifierAllowTest = False,
) -> None:
    """Fit the cue classifier (logistic regression on the voice/face cue z-scores) on a labelled split.

    Its ranking goes into prompts as one more line of cue text: add `classifier=OUT` to a dataset
    spec. Clips it was fitted on get the ranking of a model that never saw their speaker."""
    from emoreason.cues import CueClassifier
    from emoreason.cues.classifier import CUE_Z_KEY
    from emoreason.data.spec_options import how_to_measure, measured_spec
    from emoreason.metrics.classification import classification_metrics

    if split in HELD_OUT_SPLITS and not allow_test:  # its ranking goes into the prompts of the clips it learnt from
        fail(
            f"--split {split} fits the classifier on test clips, and their prompts would carry a ranking learnt from "
            "their gold labels; fit it on train, or give --allow-test for a dataset with no other split"
        )
    _target(out, "cue_classifier")
    dataset = load_or_exit(spec, strict)
    labels = dataset.task.labels
    if not labels:
        fail(f"{spec} is a scored task; the cue classifier needs labels")
    try:
        samples = dataset.split(_split(split))
        if not any(s.meta.get(CUE_Z_KEY) for s in samples):
            fail(
                f"none of the {len(samples)} clips of split {split} has measured cues; load the dataset with "
                f"{how_to_measure(spec)}"
            )
        classifier = CueClassifier.fit(samples, labels, c=c, folds=folds)
    except ValueError as err:
        fail(str(err))
    written = _write_for_adapter(out, "cue_classifier", classifier.save)
    fitted = [s for s in samples if s.id in classifier.held_out]
    guesses = [classifier.ranking(s.meta[CUE_Z_KEY], s.id, top=1)[0][0] for s in fitted]
    scores = classification_metrics(guesses, [s.label or "" for s in fitted], classifier.labels)
    console.print(
        f"fitted on {len(fitted)} clips of split {split} ({len(classifier.features)} cue measures); "
        f"cross-fitted by speaker: WAR {scores['war']:.3f}, UAR {scores['uar']:.3f}"
    )
    console.print(f"written to {written}{_named_in(out)}; use it with {measured_spec(spec, classifier=str(written))}")


def _nothing_measured(spec: str, samples: int) -> str:
    """Why `data prepare` has nothing to measure, and the spec that gives it the media."""
    from emoreason.data.spec_options import measuring_option, unmeasured_spec

    name = measuring_option(spec)
    if name is not None and parse_spec(spec).option(name) is not None:
        return (
            f"0 of the {samples} clips have media to measure: ?{name}= in {spec} has measured them into cue text "
            f"already, and a reference of nothing would be written; give {unmeasured_spec(spec)} so their media "
            "are read"
        )
    return f"0 of the {samples} clips have media to measure (audio, video or image) in {spec}; nothing was written"


def _speakers_under_minimum(references: Mapping[str, CueReference]) -> list[str]:
    """The speakers the references name but compare with the whole dataset: too few clips of their own."""
    from emoreason.cues.reference import reference_speakers

    named = {group for reference in references.values() for group in reference.groups}
    return sorted(named - set(reference_speakers(references)))


def _target(out: Path, key: str) -> Path:
    """Where the cue file `key` for `out` goes (`AdapterSettings.file_for`); exits saying why when nowhere."""
    from emoreason.models.shipped import AdapterSettings

    try:
        return AdapterSettings.file_for(out, key)
    except ValueError as err:
        fail(str(err))


def _write_for_adapter(out: Path, key: str, write: Callable[[Path], object]) -> Path:
    """Write a cue file at `out`, or into the adapter folder `out` as KEY.json, named in its emoreason.json
    (`AdapterSettings.write_file`), so analyze and serve measure cues with it for that adapter."""
    from emoreason.models.shipped import AdapterSettings

    try:
        return AdapterSettings.write_file(out, key, write)
    except ValueError as err:
        fail(str(err))


def _named_in(out: Path) -> str:
    return f" and named in {out / 'emoreason.json'}" if out.is_dir() else ""


__all__ = ["data_app", "load_or_exit", "names"]
