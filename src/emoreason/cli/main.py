"""The `emoreason` command line: options in, one call to the package, results out.

Each command parses its options, calls the layer that does the work (`data`, `inference`, `eval`,
`distill`, `sft`, `rl`, `serve`) and prints through `emoreason.cli.ui`. The options' flags and help
texts are declared in `emoreason.cli.options` (`opt.*`), so a signature here shows names and
defaults; the `data` command group is `emoreason.cli.data`, and what the recipe commands share
(YAML + flags + KEY=VALUE, the training progress line) is `emoreason.cli.recipes`. Heavy imports
sit inside the commands so that `emoreason --help` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from emoreason import __version__
from emoreason.cli import options as opt
from emoreason.cli.data import data_app, load_or_exit, names
from emoreason.cli.recipes import RECIPE_COMMAND, build_trainer, given_flags, load_or_show, train_with_progress
from emoreason.data import pool_samples
from emoreason.cli.ui import console, err_console, fail, interrupted, print_metric_rows, progress, show_record, warn

app = typer.Typer(name="emoreason", help=opt.APP, no_args_is_help=True, add_completion=False,
                  rich_markup_mode="markdown",  # docstring paragraphs reflow instead of keeping the source line breaks
                  pretty_exceptions_enable=False)
app.add_typer(data_app, name="data")


def _version(value: bool) -> None:
    if value:
        console.print(f"emoreason {__version__}")
        raise typer.Exit()


@app.callback()
def main(verbose: opt.Verbose = False,
         version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                         help="Print the version.")] = None) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


@app.command("evaluate-predictions")
def evaluate_predictions_cmd(predictions: opt.Predictions, dataset: opt.DatasetOption, split: opt.Split = "test",
                             format_name: opt.PredictionsFormat = "c2f", out: opt.MetricsOut = None,
                             baselines: opt.ExtraBaselines = "none") -> None:
    """Score a file of predictions from any system against a dataset split; prints a table, writes JSON."""
    from emoreason.eval.predictions import evaluate_prediction_file

    ds = load_or_exit(dataset)
    try:
        result = evaluate_prediction_file(predictions, ds, split=split, format_name=format_name,
                                          baselines=names(baselines))
    except ValueError as err:  # DataError is one
        fail(str(err))
    target = out or predictions.with_suffix(".metrics.json")
    target.write_text(json.dumps(result, indent=2, default=float))
    print_metric_rows(result["rows"], title=f"{ds.spec} {split}: {result['n_scored']} of {result['n_gold']} samples")
    for message in result.get("warnings", []):
        warn(message)
    console.print(f"metrics written to {target}")


def _parse_range(value: str | None, option: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, high = (float(x) for x in value.split(","))
    except ValueError:
        fail(f"{option} takes two numbers LOW,HIGH, e.g. {option} -3,3; got {value!r}")
    return low, high


def _engine(model: str, adapter: list[str] | None, family: str, dtype: str, device: str, batch_size: int) -> Any:
    """The loaded model and a generation engine over it; exits on a model that cannot be loaded."""
    from emoreason.generation import TransformersEngine
    from emoreason.models import MediaError, load_model

    try:
        loaded = load_model(model, adapter, family=family, dtype=dtype, device=device)
    except (FileNotFoundError, ValueError, MediaError) as err:
        fail(str(err))
    return loaded, TransformersEngine(loaded, batch_size=batch_size)


@app.command()
def analyze(text: opt.Texts = None, input_file: opt.InputFile = None, audio: opt.Audio = None, video: opt.Video = None,
            image: opt.Image = None, examples: opt.Examples = False, model: opt.Model = "default",
            adapter: opt.Adapter = None, format_name: opt.Format = "c2f", task: opt.Task = "vader",
            scale: opt.Scale = None, labels: opt.Labels = None, max_new_tokens: opt.MaxNewTokens = 256,
            temperature: opt.Temperature = 0.0, batch_size: opt.BatchSize = 8, family: opt.Family = "auto",
            dtype: opt.Dtype = "auto", device: opt.Device = "auto", as_json: opt.RecordJson = False,
            cues: opt.Cues = "auto", cue_reference: opt.CueReference = None) -> None:
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
    loaded, engine = _engine(model, adapter, family, dtype, device, batch_size)
    try:
        quiet = as_json or cues == "off" or not has_media(samples)
        with progress("measuring cues", len(samples), quiet=quiet) as advance:
            inputs = inputs_for_family(samples, loaded.family, cues, cue_reference, progress=advance)
        for message in inputs.warnings:
            warn(message)
        params = SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature, stop_strings=fmt.stop_strings)
        with progress("analysing", len(samples), quiet=as_json) as advance:
            records = run_analysis(engine, inputs.samples, the_task, fmt.name, loaded.model_id, params, batch_size,
                                   progress=advance, cues=inputs.cue_text)
    except (MediaError, ValueError) as err:
        fail(str(err))
    for sample, record in zip(inputs.samples, records):
        if inputs.cue_text.get(sample.id):
            record["cues"] = inputs.cue_text[sample.id]
        if as_json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            show_record(sample, record)


@app.command(help=opt.EVALUATE_HELP)
def evaluate(dataset: opt.DatasetOption, model: opt.Model = "default", adapter: opt.Adapter = None,
             split: opt.Split = "test", limit: opt.Limit = None, sample: opt.Sample = None, seed: opt.Seed = 0,
             out: opt.EvalOut = None, format_name: opt.Format = "c2f", max_new_tokens: opt.MaxNewTokens = 256,
             batch_size: opt.EvalBatchSize = 16, baselines: opt.Baselines = "vader,mean", family: opt.Family = "auto",
             dtype: opt.Dtype = "auto", device: opt.EvalDevice = "auto") -> None:
    from emoreason.data import random_subset
    from emoreason.eval.runner import evaluate_model
    from emoreason.formats import get_format
    from emoreason.generation import SamplingParams
    from emoreason.models import MediaError

    ds = load_or_exit(dataset)
    try:
        samples, fmt = ds.split(split), get_format(format_name)
    except ValueError as err:  # DataError is one
        fail(str(err))
    if limit is not None and sample is not None:
        fail("give --limit (the first N) or --sample (a random N), not both")
    samples = samples[:limit] if sample is None else random_subset(samples, sample, seed)
    if not samples:
        fail(f"{ds.spec} has no samples in split {split!r} (rows per split: {ds.split_counts()})")
    target = out or Path("runs") / "eval" / f"{ds.spec.replace(':', '-').replace('/', '_').split('?')[0]}-{split}"
    loaded, engine = _engine(model, adapter, family, dtype, device, batch_size)
    params = SamplingParams(max_new_tokens=max_new_tokens, stop_strings=fmt.stop_strings)
    try:
        metrics = evaluate_model(engine, ds, samples, target, loaded.model_id, fmt.name, params, batch_size,
                                 names(baselines), split, progress_factory=partial(progress, "evaluating"))
    except KeyboardInterrupt:
        interrupted(f"interrupted; finished batches are kept in {target / 'predictions.jsonl'}; rerun to resume")
    except (MediaError, ValueError) as err:  # DataError is a ValueError
        fail(str(err))
    print_metric_rows(metrics["rows"], title=f"{ds.spec} {split}: {metrics['n']} samples")
    console.print(f"wrote {target}/predictions.jsonl, metrics.json, report.md, report.html")


@app.command(help=opt.GRPO_HELP, **RECIPE_COMMAND)
def grpo(ctx: typer.Context, config: opt.GrpoConfig = None, show_config: opt.ShowConfig = False) -> None:
    from emoreason.rl.config import dump_config, load_config
    from emoreason.cli.ui import grpo_step_line

    cfg = load_or_show(load_config, dump_config, config, ctx.args, show_config)
    if cfg is None:
        return
    from emoreason.rl.trainer import GRPOTrainer

    trainer = build_trainer(GRPOTrainer, cfg)
    if train_with_progress("grpo", trainer, grpo_step_line):
        console.print(f"done: {trainer.step_index} steps; checkpoints, metrics.jsonl and config.yaml in "
                      f"{cfg.run.output_dir}")


# distill's options, by the recipe key each overrides (emoreason.distill.config)
DISTILL_KEYS = {"dataset": "data.dataset", "split": "data.split", "format_name": "data.format", "limit": "data.limit",
                "out": "run.output_dir", "cache": "run.cache", "teacher": "teacher.name",
                **{name: f"teacher.{name}" for name in ("rationalize", "model", "adapter", "base_url", "concurrency",
                                                        "timeout", "max_attempts", "max_new_tokens", "temperature",
                                                        "batch_size")},
                **{name: f"filter.{name}" for name in ("score_tolerance", "min_words", "max_words")}}


@app.command(help=opt.DISTILL_HELP, **RECIPE_COMMAND)
def distill(ctx: typer.Context, config: opt.DistillConfig = None, show_config: opt.ShowConfig = False,
            dataset: opt.DistillDatasets = None, out: opt.DistillOut = None, teacher: opt.Teacher = "lexicon",
            split: opt.DistillSplit = "train", format_name: opt.Format = "c2f", limit: opt.DistillLimit = None,
            rationalize: opt.Rationalize = False, score_tolerance: opt.ScoreTolerance = None,
            min_words: opt.MinWords = 8, max_words: opt.MaxWords = 400, model: opt.TeacherModel = None,
            adapter: opt.TeacherAdapter = None, base_url: opt.BaseUrl = None, api_key: opt.TeacherApiKey = None,
            concurrency: opt.Concurrency = 8, timeout: opt.Timeout = 120.0, max_attempts: opt.MaxAttempts = 5,
            max_new_tokens: opt.ChainTokens = 512, temperature: opt.TeacherTemperature = 0.0,
            batch_size: opt.TeacherBatchSize = 8, cache: opt.ReplyCache = None) -> None:
    from emoreason.distill.config import dump_config, load_config

    load = partial(load_config, flags=given_flags(ctx, DISTILL_KEYS))  # the API key is not among them
    cfg = load_or_show(load, dump_config, config, ctx.args, show_config)
    if cfg is None:
        return
    from emoreason.distill import distill as run_distill
    from emoreason.distill import make_teacher
    from emoreason.formats import get_format
    from emoreason.cli.ui import show_distill_summary

    try:
        samples, task = pool_samples([load_or_exit(spec) for spec in cfg.data.specs], cfg.data.split, cfg.data.limit)
        the_teacher = make_teacher(cfg, task, api_key=api_key)
    except ValueError as err:  # DataError is one
        fail(str(err))
    label, out_dir = f"distill ({cfg.teacher.name})", cfg.run.output_dir
    with progress(label, len(samples)) as advance:
        def report(n: int, kept: int, dropped: int) -> None:
            advance(n, description=f"{label}: kept {kept} dropped {dropped}")
        try:
            result = run_distill(samples, task, get_format(cfg.data.format), the_teacher, out_dir,
                                 filter_config=cfg.filter.build(), rationalize=cfg.teacher.rationalize,
                                 cache_path=cfg.run.cache, progress=report)
        except KeyboardInterrupt:
            interrupted(f"interrupted; replies so far are cached in {cfg.run.cache or Path(out_dir) / 'cache.jsonl'}:"
                        " rerun the same command to go on")
    show_distill_summary(result, out_dir)


@app.command(help=opt.SFT_HELP, **RECIPE_COMMAND)
def sft(ctx: typer.Context, config: opt.SftConfig = None, show_config: opt.ShowConfig = False) -> None:
    from emoreason.sft.config import dump_config, load_config
    from emoreason.cli.ui import sft_step_line, show_first_and_last_eval, show_sft_data

    cfg = load_or_show(load_config, dump_config, config, ctx.args, show_config)
    if cfg is None:
        return
    from emoreason.sft.trainer import SFTTrainer

    trainer = build_trainer(SFTTrainer, cfg)
    if trainer.accelerator.is_main_process:
        show_sft_data(trainer)
    if train_with_progress("sft", trainer, sft_step_line):
        show_first_and_last_eval(trainer.log_history)
        console.print(f"done: {trainer.step_index} steps; weights in {trainer.final_dir()}, metrics.jsonl and "
                      f"checkpoints in {cfg.run.output_dir}")


@app.command("baseline")
def baseline_cmd(name: opt.BaselineName, out: opt.BaselineOut, dataset: opt.DatasetOption, split: opt.Split = "test",
                 train_on: opt.TrainOn = None) -> None:
    """Write a non-explaining baseline's predictions for a dataset split."""
    from emoreason.baselines import get_baseline
    from emoreason.data.jsonl import write_jsonl
    from emoreason.embeddings import EmbeddingModelMissing

    ds = load_or_exit(dataset)
    try:
        samples = ds.split(split)
        train = ds.split("train")
        if train_on:  # other datasets' train splits, their scores mapped onto this dataset's scale
            train, _ = pool_samples([load_or_exit(spec) for spec in train_on], "train", task=ds.task)
        predictions = get_baseline(name).fit(train, ds.task).predict(samples)
    except (ValueError, EmbeddingModelMissing) as err:  # DataError is a ValueError
        fail(str(err))
    field = "score" if ds.task.is_regression else "label"
    write_jsonl(out, ({"id": sample.id, field: prediction} for sample, prediction in zip(samples, predictions)))
    fitted = f" (training data: {len(train)} samples, train split of {', '.join(train_on or [ds.spec])})"
    console.print(f"wrote {len(samples)} {name} predictions to {out}{fitted}")


@app.command("cues")
def cues_cmd(file: opt.MediaFile, kind: opt.CueKind = "auto", reference: opt.Reference = None,
             speaker: opt.Speaker = None, cache_dir: opt.CuesCache = None, no_cache: opt.NoCache = False,
             as_json: opt.CuesJson = False) -> None:
    """Measure the voice (pitch, loudness, rate, pauses, voice quality) and face cues of a media file."""
    from emoreason.cues import CueCache, CueError, describe_all, load_references
    from emoreason.cues.prepare import file_cues
    from emoreason.cli.ui import show_cue_tables

    try:
        references = load_references(reference) if reference is not None else {}
        records = file_cues(file, None if kind == "auto" else [k.strip() for k in kind.split(",")],
                            None if no_cache else CueCache(cache_dir))
    except (CueError, ValueError) as err:
        fail(str(err))
    description = describe_all(records, references, speaker)
    if as_json:
        zscores = {r.KIND: references[r.KIND].zscores(r, speaker) for r in records if r.KIND in references}
        print(json.dumps({"file": str(file), "records": [r.to_dict() for r in records], "description": description,
                          "zscores": zscores}, indent=2))
        return
    show_cue_tables(file.name, records, references, speaker)
    console.print(description)


@app.command()
def serve(model: opt.Model = "default", adapter: opt.Adapter = None, host: opt.Host = "127.0.0.1",
          port: opt.Port = 8000, api_key: opt.ServeApiKey = None, max_batch_size: opt.MaxBatchSize = 32,
          no_batching: opt.NoBatching = False, batch_wait_ms: opt.BatchWait = 10.0, max_queue: opt.MaxQueue = 64,
          request_timeout: opt.RequestTimeout = 120.0, max_tokens_limit: opt.MaxTokensLimit = 1024,
          max_n: opt.MaxN = 8, max_upload_mb: opt.MaxUploadMb = 20.0, max_body_mb: opt.MaxBodyMb = 64.0,
          family: opt.Family = "auto", dtype: opt.Dtype = "auto", device: opt.Device = "auto",
          log_level: opt.LogLevel = "info") -> None:
    """Serve a model over HTTP: OpenAI-style /v1/chat/completions, /v1/analyze (audit records), a page at /."""
    from emoreason.models import MediaError
    from emoreason.serve import ServeSettings, build_app
    from emoreason.serve.server import is_loopback
    from emoreason.serve.server import serve as run_server

    try:
        settings = ServeSettings(
            max_batch_size=1 if no_batching else max_batch_size, batch_wait_ms=batch_wait_ms, max_queue=max_queue,
            request_timeout_s=request_timeout, max_tokens_limit=max_tokens_limit,
            default_max_tokens=min(256, max_tokens_limit), max_n=max_n, max_upload_bytes=int(max_upload_mb * 2**20),
            max_body_bytes=int(max_body_mb * 2**20), api_key=api_key or None)
        server_app = build_app(model, adapter, settings, family=family, dtype=dtype, device=device)
    except (FileNotFoundError, ValueError, MediaError) as err:
        fail(str(err))
    if not is_loopback(host) and settings.api_key is None:
        warn(f"listening on {host} without an API key: anyone who can reach it can use it")
    err_console.print(f"serving {server_app.state.model.id} on http://{host}:{port}  (page at /, API at /v1)")
    run_server(server_app, host=host, port=port, log_level=log_level)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
