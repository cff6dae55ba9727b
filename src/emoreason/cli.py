"""The `emoreason` command line: a thin layer over the package's functions."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from emoreason import __version__

app = typer.Typer(
    name="emoreason",
    help="Train, evaluate and serve language models that explain their emotion and sentiment judgments.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # docstring paragraphs reflow instead of keeping the source line breaks
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Datasets: list the adapters, inspect a dataset, convert it to JSONL, prepare its cues.", no_args_is_help=True)
app.add_typer(data_app, name="data")

console = Console()
err_console = Console(stderr=True)

SPEC_HELP = "Dataset spec KIND:TARGET[?key=value&...], e.g. vader:tweets or jsonl:data.jsonl?scale=-4,4 (see `emoreason data list`)."
SPLIT_HELP = "train, valid, test, or all (every row whatever its split)."


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        console.print(f"emoreason {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = None,
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _load(spec: str, strict: bool = False):
    from emoreason.data import DataError, load_dataset

    try:
        dataset = load_dataset(spec, strict=strict or None)
    except DataError as err:
        fail(str(err))
    for warning in dataset.report.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    if dataset.report.bad_rows or dataset.report.missing_media:
        err_console.print(f"[yellow]{dataset.report.summary()}[/]")
    return dataset


@data_app.command("list")
def data_list() -> None:
    """List the dataset adapters, their spec syntax and options."""
    from emoreason.data import ADAPTERS, load_dataset  # noqa: F401  (load_dataset registers adapters)
    from emoreason.data import adapters  # noqa: F401

    table = Table(title="Dataset adapters", show_lines=True)
    table.add_column("spec")
    table.add_column("what")
    table.add_column("options")
    for info in sorted(ADAPTERS.values(), key=lambda i: i.kind):
        options = "\n".join(f"{k}: {v}" for k, v in info.options.items())
        table.add_row(info.usage, info.description, options)
    console.print(table)


@data_app.command("inspect")
def data_inspect(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP)],
    split: Annotated[str, typer.Option(help=SPLIT_HELP)] = "all",
    strict: Annotated[bool, typer.Option(help="Stop at the first bad row instead of skipping and counting.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
) -> None:
    """Rows per split, score/label histogram, polarity balance, text lengths, media present/missing."""
    from emoreason.data import DataError
    from emoreason.data.inspect import describe

    dataset = _load(spec, strict)
    try:
        info = describe(dataset, None if split == "all" else split)
    except DataError as err:
        fail(str(err))
    if as_json:
        print(json.dumps(info, indent=2))
        return
    console.print(f"[bold]{info['spec']}[/]  task [cyan]{info['task']}[/]  split {info['split']}: {info['rows']} rows")
    console.print("rows per split: " + ", ".join(f"{k} {v}" for k, v in sorted(info["rows_per_split"].items())))
    if "scale" in info:
        console.print(f"scale {info['scale'][0]:g}..{info['scale'][1]:g}, neutral band {info['neutral_band']}")
    if "score" in info:
        score = info["score"]
        table = Table(title=f"score: mean {score['mean']:.3f}, std {score['std']:.3f}, min {score['min']:g}, max {score['max']:g}")
        table.add_column("bin")
        table.add_column("count", justify="right")
        table.add_column("")
        top = max((b["count"] for b in score["histogram"]), default=1) or 1
        for b in score["histogram"]:
            table.add_row(f"{b['from']:+.2f} .. {b['to']:+.2f}", str(b["count"]), "#" * round(30 * b["count"] / top))
        console.print(table)
    if "labels" in info:
        console.print("labels: " + ", ".join(f"{k} {v}" for k, v in info["labels"].items()))
    console.print("polarity: " + ", ".join(f"{k} {v}" for k, v in info["polarity"].items()))
    if "text_words" in info:
        t = info["text_words"]
        console.print(f"text length (words): mean {t['mean']:.1f}, median {t['median']:g}, p95 {t['p95']:.0f}, "
                      f"max {t['max']}, empty {t['empty']}")
    for name, counts in info.get("media", {}).items():
        if name != "missing_media_ids":
            console.print(f"{name}: {counts['present']} present, {counts['missing']} missing")
    if info.get("missing_media_examples"):
        console.print(f"[yellow]missing media ({len(dataset.report.missing_media)}), first ids: "
                      + ", ".join(info["missing_media_examples"]) + "[/]")
    if info["bad_rows"]:
        console.print(f"[yellow]bad rows skipped: {info['bad_rows']} "
                      + ", ".join(f"{k} {v}" for k, v in info["bad_rows_by_reason"].items()) + "[/]")
        for example in info["bad_row_examples"]:
            console.print(f"  [yellow]{example}[/]")


@data_app.command("convert")
def data_convert(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP)],
    out: Annotated[Path, typer.Argument(help="Output JSONL file (generic field names; readable as jsonl:OUT).")],
    split: Annotated[str, typer.Option(help=SPLIT_HELP)] = "all",
    strict: Annotated[bool, typer.Option(help="Stop at the first bad row instead of skipping and counting.")] = False,
) -> None:
    """Write a dataset as JSONL with the generic fields (id, text, score, label, media, split, domain, meta)."""
    from emoreason.data import DataError

    dataset = _load(spec, strict)
    try:
        samples = dataset.split(None if split == "all" else split)
    except DataError as err:
        fail(str(err))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".part")
    with tmp.open("w", encoding="utf-8") as handle:
        for sample in samples:
            handle.write(json.dumps(sample.to_record(), ensure_ascii=False) + "\n")
    tmp.replace(out)
    console.print(f"wrote {len(samples)} samples to {out}")


@data_app.command("prepare")
def data_prepare(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP)],
    split: Annotated[str, typer.Option(help=SPLIT_HELP)] = "all",
    kinds: Annotated[str, typer.Option(help="Cue kinds to extract: audio, face or audio,face.")] = "audio,face",
    cache_dir: Annotated[Optional[Path], typer.Option(help="Cue cache (default $EMOREASON_CUES_CACHE or ~/.cache/emoreason/cues).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Also write JSONL: id, split, speaker, cue records and their text.")] = None,
    reference_out: Annotated[Optional[Path], typer.Option(help="Also write the cue references (per speaker / dataset) as JSON.")] = None,
    audio_out: Annotated[Optional[Path], typer.Option(help="Also write each video's sound track as 16 kHz WAV under this folder.")] = None,
    min_duration: Annotated[float, typer.Option(help="Report clips shorter than this (seconds).")] = 0.3,
    max_duration: Annotated[float, typer.Option(help="Report clips longer than this (seconds).")] = 60.0,
    strict: Annotated[bool, typer.Option(help="Stop at the first bad row instead of skipping and counting.")] = False,
) -> None:
    """Extract and cache the voice/face cues of every clip of a dataset (resumable: cached clips are skipped).

    Lists unreadable files, clips without sound or face, and clips outside the duration limits.
    """
    from emoreason.cues import CueCache, build_references, cue_texts, prepare_cues, save_references
    from emoreason.cues.prepare import write_audio_tracks, write_cue_jsonl
    from emoreason.data import DataError

    dataset = _load(spec, strict)
    try:
        samples = dataset.split(None if split == "all" else split)
        cache = CueCache(cache_dir)
        with _progress("extracting cues", len(samples)) as advance:
            clips, report = prepare_cues(samples, cache, [k.strip() for k in kinds.split(",") if k.strip()],
                                         min_duration, max_duration, progress=advance)
    except (DataError, ValueError) as err:
        fail(str(err))
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted; finished clips are cached, rerun to resume[/]")
        raise typer.Exit(130)
    references = build_references(samples, clips)
    if audio_out is not None:
        console.print(f"{write_audio_tracks(samples, audio_out, report)} sound tracks (16 kHz WAV) in {audio_out}")
    if out is not None:
        write_cue_jsonl(out, samples, clips, cue_texts(samples, clips, references))
        console.print(f"cue records and texts written to {out}")
    if reference_out is not None:
        save_references(references, reference_out)
        console.print(f"references written to {reference_out}")
    console.print(report.summary(examples=5))
    console.print(f"cache: {cache.root}")


@app.command("evaluate-predictions")
def evaluate_predictions_cmd(
    predictions: Annotated[Path, typer.Argument(help="JSONL of model outputs: `id` plus `completion` (parsed with --format) or `score`/`label`.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help=SPEC_HELP)],
    split: Annotated[str, typer.Option(help=SPLIT_HELP)] = "test",
    format_name: Annotated[str, typer.Option("--format", "-f", help="Reasoning format used to parse `completion`: c2f, emor3 or r1.")] = "c2f",
    out: Annotated[Optional[Path], typer.Option(help="Where to write the metrics JSON (default: PREDICTIONS with .metrics.json).")] = None,
    baselines: Annotated[str, typer.Option(help="Comma-separated baseline rows to add: vader, majority, mean, minilm-ridge (sentence embeddings + ridge), or none.")] = "none",
) -> None:
    """Score a file of predictions from any system against a dataset split; prints a table, writes JSON."""
    from emoreason.data import DataError
    from emoreason.eval.predictions import evaluate_prediction_file

    ds = _load(dataset)
    names = [] if baselines == "none" else [b.strip() for b in baselines.split(",") if b.strip()]
    try:
        result = evaluate_prediction_file(predictions, ds, split=split, format_name=format_name, baselines=names)
    except (DataError, ValueError) as err:
        fail(str(err))
    target = out or predictions.with_suffix(".metrics.json")
    target.write_text(json.dumps(result, indent=2, default=float))
    print_metric_rows(result["rows"], title=f"{ds.spec} {split}: {result['n_scored']} of {result['n_gold']} samples")
    for warning in result.get("warnings", []):
        err_console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"metrics written to {target}")


MODEL_HELP = "`default` (embedded SmolLM2-135M-Instruct), a local model folder, a .gguf file, or a hub id."


def _parse_range(value: str | None, option: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, high = (float(x) for x in value.split(","))
    except ValueError:
        fail(f"{option} takes two numbers LOW,HIGH, e.g. {option} -3,3; got {value!r}")
    return low, high


def _engine(model: str, adapter: list[str] | None, family: str, dtype: str, device: str, batch_size: int):
    from emoreason.generation import TransformersEngine
    from emoreason.models import MediaError, load_model

    try:
        loaded = load_model(model, adapter, family=family, dtype=dtype, device=device)
    except (FileNotFoundError, ValueError, MediaError) as err:
        fail(str(err))
    return loaded, TransformersEngine(loaded, batch_size=batch_size)


@app.command()
def analyze(
    text: Annotated[Optional[list[str]], typer.Argument(help="Text(s) to analyse; `-` or nothing reads one text per line from stdin.")] = None,
    input_file: Annotated[Optional[Path], typer.Option("--input", "-i", help="JSONL/CSV of samples (generic fields: id, text, audio, video, image).")] = None,
    audio: Annotated[Optional[Path], typer.Option(help="Audio file for the (single) text.")] = None,
    video: Annotated[Optional[Path], typer.Option(help="Video file for the (single) text.")] = None,
    image: Annotated[Optional[Path], typer.Option(help="Image file for the (single) text.")] = None,
    examples: Annotated[bool, typer.Option("--examples", help="Analyse the built-in example sentences.")] = False,
    model: Annotated[str, typer.Option(help=MODEL_HELP)] = "default",
    adapter: Annotated[Optional[list[str]], typer.Option(help="LoRA adapter folder (repeatable); `none` for the bare base model. Without one, the default model uses the adapter shipped with emoreason.")] = None,
    format_name: Annotated[str, typer.Option("--format", "-f", help="Reasoning format: c2f, emor3 or r1.")] = "c2f",
    task: Annotated[str, typer.Option(help="Score scale / label set: vader (-4..4), mosi, mosei (-3..3), sims, simsv2 (-1..1), mikels.")] = "vader",
    scale: Annotated[Optional[str], typer.Option(help="Custom score scale LOW,HIGH (overrides --task).")] = None,
    labels: Annotated[Optional[str], typer.Option(help="Custom comma-separated label set (overrides --task).")] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Longest answer, in tokens.")] = 256,
    temperature: Annotated[float, typer.Option(help="0 = greedy (reproducible).")] = 0.0,
    batch_size: Annotated[int, typer.Option(help="Samples per generation batch.")] = 8,
    family: Annotated[str, typer.Option(help="Model family: auto, causal_lm, qwen2_5_vl, qwen2_5_omni.")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto (fp32 on CPU, bf16 on GPU), float32, bfloat16, float16.")] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1, ...")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one audit record (JSON) per input instead of the readable view.")] = False,
    cues: Annotated[str, typer.Option(help="Measured voice/face cues as text: auto (for media the model cannot take), on (always), off.")] = "auto",
    cue_reference: Annotated[Optional[Path], typer.Option(help="Cue references from `data prepare --reference-out` (default: the inputs, if 5 or more).")] = None,
) -> None:
    """Explain the sentiment or emotion of text (and media): polarity, reasoning per modality, score or label."""
    from emoreason.data import DataError, Sample, load_dataset
    from emoreason.data.schema import resolve_task
    from emoreason.formats import get_format
    from emoreason.generation import SamplingParams
    from emoreason.inference import EXAMPLE_SENTENCES, analyze as run_analysis
    from emoreason.models import MediaError

    try:
        the_task = resolve_task(task, _parse_range(scale, "--scale"), tuple(x.strip() for x in labels.split(",")) if labels else None)
        fmt = get_format(format_name)
    except ValueError as err:
        fail(str(err))
    samples: list[Sample] = []
    if input_file is not None:
        kind = "csv" if input_file.suffix.lower() == ".csv" else "jsonl"
        try:
            samples = load_dataset(f"{kind}:{input_file}").split("all")
        except DataError as err:
            fail(str(err))
    elif examples:
        samples = [Sample(id=f"example{i + 1}", text=t) for i, t in enumerate(EXAMPLE_SENTENCES)]
    else:
        texts = [t for t in (text or []) if t != "-"]
        if not texts:
            if sys.stdin.isatty():
                fail("give a text, --input FILE, --examples, or pipe text on stdin (see --help)")
            texts = [line.strip() for line in sys.stdin if line.strip()]
        if (audio or video or image) and len(texts) > 1:
            fail("--audio/--video/--image go with a single text; use --input FILE.jsonl for several")
        for name, path in (("audio", audio), ("video", video), ("image", image)):
            if path is not None and not path.is_file():
                fail(f"{name} file not found: {path}")
        media = {k: str(v) for k, v in (("audio", audio), ("video", video), ("image", image)) if v is not None}
        samples = [Sample(id=f"input{i + 1}", text=t, **media) for i, t in enumerate(texts)]
    if not samples:
        fail("nothing to analyse")
    loaded, engine = _engine(model, adapter, family, dtype, device, batch_size)
    samples, cue_text = _cue_inputs(samples, loaded.family, cues, cue_reference, quiet=as_json)
    params = SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature, stop_strings=fmt.stop_strings)
    try:
        with _progress("analysing", len(samples), quiet=as_json) as advance:
            records = run_analysis(engine, samples, the_task, fmt.name, loaded.model_id,
                                   params, batch_size, progress=advance, cues=cue_text)
    except MediaError as err:
        fail(str(err))
    for sample, record in zip(samples, records):
        if cue_text.get(sample.id):
            record["cues"] = cue_text[sample.id]
        if as_json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            show_record(sample, record)


def _cue_inputs(samples, family, mode: str, reference_file: Path | None, quiet: bool):
    """Samples as the model takes them and their cue text (`analyze --cues`); an unreadable
    media file stops here, naming the file, as it would for a model that reads media itself."""
    from emoreason.cues import load_references
    from emoreason.cues.prompting import cue_inputs

    try:
        references = load_references(reference_file) if reference_file is not None else None
        has_media = any(s.audio or s.video or s.image for s in samples)
        with _progress("measuring cues", len(samples), quiet=quiet or mode == "off" or not has_media) as advance:
            samples, texts, report = cue_inputs(samples, family.modalities, mode, references=references, progress=advance)
    except ValueError as err:
        fail(str(err))
    if report is not None and report.unreadable:
        takes = ", ".join(sorted(family.modalities)) or "text only"
        fail(f"the {family.name} family takes {takes}, so media are measured and given as cue text (--cues {mode}); "
             + "; ".join(report.unreadable))
    for problem in report.no_sound if report else []:
        err_console.print(f"[yellow]warning: no voice cues from {problem}[/]")
    return samples, texts


def show_record(sample, record: dict) -> None:
    """The readable view of one audit record."""
    from rich.panel import Panel

    colours = {"positive": "green", "negative": "red", "neutral": "yellow"}
    polarity = record["polarity"] or "?"
    lines = [f"[bold {colours.get(polarity, 'white')}]{polarity.upper()}[/]"
             + (f"   score [bold]{record['score']:g}[/]" if record["score"] is not None else "")
             + (f"   label [bold]{record['label']}[/]" if record["label"] else "")]
    if record.get("cues"):
        lines.append("[dim]cues given: " + record["cues"].replace("[", r"\[") + "[/]")
    for part, content in record["reasoning"].items():
        lines.append(f"[cyan]{part}[/]: {content}")
    status = "[green]parsed[/]" if record["parse_ok"] else "[red]not parsed: " + "; ".join(record["errors"]) + "[/]"
    lines.append(f"{status}  ·  {record['completion_tokens']} tokens  ·  {record['latency_s']:.2f} s  ·  {record['model']}")
    citations = record.get("citations") or {}
    if citations.get("ungrounded"):
        lines.append(f"[yellow]cited but not in the input ({len(citations['ungrounded'])} of {citations['cited']}): "
                     + ", ".join(citations["ungrounded"]).replace("[", r"\[") + "[/]")
    if not record["parse_ok"] and not record["reasoning"]:
        lines.append("[dim]raw: " + record["raw_completion"][:300].replace("[", r"\[") + "[/]")
    console.print(Panel("\n".join(lines), title=f"{record['id']}: {sample.text[:70]}", title_align="left"))


class _progress:
    """A rich progress bar with ETA; `advance(n)` moves it, `advance(n, description=...)` also
    rewrites the label (the GRPO loop shows its latest step's figures there)."""

    def __init__(self, label: str, total: int, done: int = 0, quiet: bool = False):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.label = label
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("eta"), TimeRemainingColumn(), console=err_console, disable=quiet)
        self.total, self.done = total, done

    def __enter__(self):
        self.progress.start()
        task = self.progress.add_task(self.label, total=self.total, completed=self.done)

        def advance(n: int, description: str | None = None) -> None:
            self.progress.update(task, advance=n, **({"description": description} if description else {}))

        return advance

    def __exit__(self, *exc) -> None:
        self.progress.stop()


@app.command()
def evaluate(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help=SPEC_HELP)],
    model: Annotated[str, typer.Option(help=MODEL_HELP)] = "default",
    adapter: Annotated[Optional[list[str]], typer.Option(help="LoRA adapter folder (repeatable); `none` for the bare base model. Without one, the default model uses the adapter shipped with emoreason.")] = None,
    split: Annotated[str, typer.Option(help=SPLIT_HELP)] = "test",
    limit: Annotated[Optional[int], typer.Option(help="Evaluate only the first N samples of the split (in file order: some files are sorted by label, e.g. vader:movies; prefer --sample).")] = None,
    sample: Annotated[Optional[int], typer.Option(help="Evaluate a seeded random subset of N samples of the split (--seed), kept in split order.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of --sample.")] = 0,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default runs/eval/DATASET-SPLIT).")] = None,
    format_name: Annotated[str, typer.Option("--format", "-f", help="Reasoning format: c2f, emor3 or r1.")] = "c2f",
    max_new_tokens: Annotated[int, typer.Option(help="Longest answer, in tokens.")] = 256,
    batch_size: Annotated[int, typer.Option(help="Samples per generation batch (also the most work a Ctrl-C loses).")] = 16,
    baselines: Annotated[str, typer.Option(help="Comparison rows: vader (text only), majority, mean, minilm-ridge, none.")] = "vader,mean",
    family: Annotated[str, typer.Option(help="Model family: auto, causal_lm, qwen2_5_vl, qwen2_5_omni.")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto (fp32 on CPU, bf16 on GPU), float32, bfloat16, float16.")] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, ...")] = "auto",
) -> None:
    """Run a model on a dataset split and write predictions.jsonl, metrics.json, report.md and report.html.

    Resumable: a rerun with the same --out skips ids already in predictions.jsonl.
    """
    from emoreason.data import DataError
    from emoreason.data import random_subset
    from emoreason.eval.runner import evaluate_model
    from emoreason.formats import get_format
    from emoreason.generation import SamplingParams
    from emoreason.models import MediaError

    ds = _load(dataset)
    try:
        samples = ds.split(split)
        fmt = get_format(format_name)
    except (DataError, ValueError) as err:
        fail(str(err))
    if limit is not None and sample is not None:
        fail("give --limit (the first N) or --sample (a random N), not both")
    if limit is not None:
        samples = samples[:limit]
    if sample is not None:
        samples = random_subset(samples, sample, seed)
    if not samples:
        fail(f"{ds.spec} has no samples in split {split!r} (rows per split: {ds.split_counts()})")
    target = out or Path("runs") / "eval" / f"{ds.spec.replace(':', '-').replace('/', '_').split('?')[0]}-{split}"
    loaded, engine = _engine(model, adapter, family, dtype, device, batch_size)
    params = SamplingParams(max_new_tokens=max_new_tokens, stop_strings=fmt.stop_strings)
    names = [] if baselines == "none" else [b.strip() for b in baselines.split(",") if b.strip()]
    try:
        metrics = evaluate_model(engine, ds, samples, target, loaded.model_id, fmt.name, params, batch_size, names, split,
                                 progress_factory=lambda total, done: _progress("evaluating", total, done))
    except KeyboardInterrupt:
        err_console.print(f"[yellow]interrupted; finished batches are kept in {target / 'predictions.jsonl'}; rerun to resume[/]")
        raise typer.Exit(130)
    except (MediaError, DataError, ValueError) as err:
        fail(str(err))
    print_metric_rows(metrics["rows"], title=f"{ds.spec} {split}: {metrics['n']} samples")
    console.print(f"wrote {target}/predictions.jsonl, metrics.json, report.md, report.html")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             options_metavar="[OPTIONS] [KEY=VALUE ...]")
def grpo(
    ctx: typer.Context,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML recipe, e.g. configs/c2f_vader_smollm2.yaml.")] = None,
    show_config: Annotated[bool, typer.Option("--show-config", help="Print the merged, validated config and exit.")] = False,
) -> None:
    """Train with GRPO: Hint-GRPO (C2F) and/or reflective rewards (EMO-R3).

    Overrides follow the recipe as KEY=VALUE: a dotted path (algorithm.beta=0.01) or a bare key
    that one section has (max_steps=3, lr=1e-5). A run resumes from the newest checkpoint in
    run.output_dir (run.resume=false starts over); a killed run loses at most the step in flight.
    Writes checkpoint-N/ every run.save_every steps and checkpoint-latest/ after the others (LoRA
    adapter or full weights + optimizer, scheduler, RNG), metrics.jsonl, TensorBoard logs and
    config.yaml.

    Several processes: `torchrun --nproc_per_node N -m emoreason grpo ...` or
    `accelerate launch --config_file configs/accelerate/<setup>.yaml -m emoreason grpo ...`.
    """
    from emoreason.rl.config import dump_config, load_config

    cfg = _recipe(load_config, dump_config, config, ctx.args, show_config)
    if cfg is None:
        return
    from emoreason.rl.trainer import GRPOTrainer

    trainer = _trainer(GRPOTrainer, cfg)

    def describe(record: dict) -> str:
        return (f"grpo step {record['step']}: reward {record.get('reward/mean', 0):.3f} "
                f"hard {record.get('groups/hard_rate', 0):.2f} kl {record.get('kl', 0):.4f} "
                f"{record.get('time/step', 0):.1f}s/step")

    if _train("grpo", trainer, cfg.run.max_steps, describe):
        console.print(f"done: {trainer.step_index} steps; checkpoints, metrics.jsonl and config.yaml in {cfg.run.output_dir}")


def _recipe(load, dump, path: Path | None, overrides: list[str], show: bool):
    """The validated recipe, or None after printing it (--show-config); exits on a bad one."""
    from emoreason.recipes import ConfigError

    try:
        cfg = load(path, list(overrides))
    except ConfigError as err:
        fail(str(err))
    if show:
        console.print(dump(cfg), end="")
        return None
    return cfg


def _trainer(factory, cfg):
    from emoreason.data import DataError
    from emoreason.models import MediaError

    try:
        return factory(cfg)
    except (DataError, FileNotFoundError, ValueError, MediaError) as err:
        fail(str(err))


def _train(label: str, trainer, total: int, describe) -> bool:
    """Resume, run with a progress line, and turn Ctrl-C into a resumable stop. True on the
    main process (the one that reports)."""
    main_process = trainer.accelerator.is_main_process
    output_dir = trainer.config.run.output_dir
    if main_process and trainer.config.run.resume and trainer.resume():
        console.print(f"resumed at step {trainer.step_index} from {output_dir}")
    with _progress(label, total, trainer.step_index, quiet=not main_process) as advance:
        try:
            trainer.train(progress=lambda record: advance(1, description=describe(record)))
        except KeyboardInterrupt:
            err_console.print(f"[yellow]interrupted at step {trainer.step_index}; rerun the same command to resume "
                              f"from the last checkpoint in {output_dir}[/]")
            raise typer.Exit(130)
    return main_process


@app.command()
def distill(
    dataset: Annotated[list[str], typer.Option("--dataset", "-d", help=SPEC_HELP + " Repeat to pool several (same task), e.g. -d vader:tweets -d vader:products.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: sft.jsonl, dropped.jsonl, stats.json, lengths.png, cache.jsonl.")],
    teacher: Annotated[str, typer.Option(help="lexicon (VADER-lexicon chains, text, CPU, no model), cues (label chains from measured voice/face cues, a cross-fitted cue classifier, no model; needs a dataset loaded with ?cues=only or ?cues=true), hf (a local model) or openai (an OpenAI-compatible endpoint).")] = "lexicon",
    split: Annotated[str, typer.Option(help="Split to distill: train, valid, test or all.")] = "train",
    format_name: Annotated[str, typer.Option("--format", "-f", help="Reasoning format: c2f, emor3 or r1.")] = "c2f",
    limit: Annotated[Optional[int], typer.Option(help="Only the first N samples (per dataset).")] = None,
    rationalize: Annotated[bool, typer.Option(help="Tell the teacher the gold answer and ask it to explain it (STaR-style); chains still pass the filter.")] = False,
    score_tolerance: Annotated[Optional[float], typer.Option(help="Keep a chain only if |teacher score - gold| <= this (task units; default 12.5% of the scale range, 1.0 on -4..4).")] = None,
    min_words: Annotated[int, typer.Option(help="Drop chains whose reasoning is shorter.")] = 8,
    max_words: Annotated[int, typer.Option(help="Drop chains whose reasoning is longer.")] = 400,
    model: Annotated[Optional[str], typer.Option(help="Teacher model: hf: " + MODEL_HELP + " openai: the served model name.")] = None,
    adapter: Annotated[Optional[list[str]], typer.Option(help="hf: LoRA adapter folder (repeatable).")] = None,
    base_url: Annotated[Optional[str], typer.Option(help="openai: endpoint base URL (default $OPENAI_BASE_URL or http://127.0.0.1:8000/v1).")] = None,
    api_key: Annotated[Optional[str], typer.Option(help="openai: API key (default $OPENAI_API_KEY).", envvar="OPENAI_API_KEY", show_envvar=False)] = None,
    concurrency: Annotated[int, typer.Option(help="openai: requests in flight.")] = 8,
    timeout: Annotated[float, typer.Option(help="openai: seconds per request attempt.")] = 120.0,
    max_attempts: Annotated[int, typer.Option(help="openai: attempts per request (timeouts, 429 and 5xx are retried with backoff).")] = 5,
    max_new_tokens: Annotated[int, typer.Option(help="hf/openai: longest chain, in tokens.")] = 512,
    temperature: Annotated[float, typer.Option(help="hf/openai: sampling temperature (0 = greedy).")] = 0.0,
    batch_size: Annotated[int, typer.Option(help="hf: samples per generation batch.")] = 8,
    cache: Annotated[Optional[Path], typer.Option(help="Reply cache file to use instead of OUT/cache.jsonl (share it between runs).")] = None,
) -> None:
    """Cold start: teacher reasoning chains, filtered against the gold, written as SFT data.

    A teacher writes a chain per sample; the consistency filter keeps those that parse and agree
    with the gold polarity and score (or label); the kept ones become chat-messages JSONL. Every reply is cached as it arrives: rerun the same command after an interruption and only
    the missing samples are asked for. Dropped chains go to dropped.jsonl with their reason."""
    from emoreason.distill import FilterConfig, HFTeacher, LexiconTeacher, OpenAITeacher, RetryPolicy
    from emoreason.distill import distill as run_distill
    from emoreason.formats import get_format

    try:
        fmt = get_format(format_name)
    except ValueError as err:
        fail(str(err))
    samples, task = [], None
    for spec in dataset:
        loaded_set = _load(spec)
        if task is not None and (loaded_set.task.scale != task.scale or loaded_set.task.labels != task.labels):
            fail(f"{spec} has task {loaded_set.task.name}, which differs from {task.name}: pool datasets of one task only")
        task = task or loaded_set.task
        try:
            chosen = loaded_set.split(split)
        except (KeyError, ValueError) as err:
            fail(str(err))
        samples.extend(chosen[:limit] if limit else chosen)
    if not samples:
        fail(f"no samples in split {split!r} of {', '.join(dataset)}")
    try:
        if teacher == "lexicon":
            the_teacher = LexiconTeacher(fmt, task)
        elif teacher == "cues":
            from emoreason.distill.cue_teacher import CueTeacher

            the_teacher = CueTeacher(fmt, task)
        elif teacher == "hf":
            the_teacher = HFTeacher(model or "default", adapter, max_new_tokens=max_new_tokens, temperature=temperature,
                                    batch_size=batch_size, stop_strings=fmt.stop_strings)
        elif teacher == "openai":
            if not model:
                fail("--teacher openai needs --model (the model name the endpoint serves)")
            the_teacher = OpenAITeacher(model, base_url, api_key, max_tokens=max_new_tokens, temperature=temperature,
                                        concurrency=concurrency, timeout=timeout,
                                        retry=RetryPolicy(max_attempts=max_attempts))
        else:
            fail(f"unknown teacher {teacher!r}; choose lexicon, cues, hf or openai")
    except ValueError as err:
        fail(str(err))
    config = FilterConfig(score_tolerance=score_tolerance, min_words=min_words, max_words=max_words)
    with _progress(f"distill ({teacher})", len(samples)) as advance:
        def report(n: int, kept: int, dropped: int) -> None:
            advance(n, description=f"distill ({teacher}): kept {kept} dropped {dropped}")
        try:
            result = run_distill(samples, task, fmt, the_teacher, out, filter_config=config, rationalize=rationalize,
                                 cache_path=cache, progress=report)
        except KeyboardInterrupt:
            err_console.print(f"[yellow]interrupted; replies so far are cached in {cache or out / 'cache.jsonl'}: "
                              "rerun the same command to go on[/]")
            raise typer.Exit(130)
    summary = result.stats.to_dict()
    rows = {"kept": {"count": summary["kept"], "share": summary["kept_rate"]}}
    rows.update({f"dropped: {r}": {"count": n, "share": summary["dropped_rate"][r]} for r, n in summary["dropped"].items()})
    print_metric_rows(rows, f"{summary['total']} samples ({result.cached} from cache, {result.requested} asked, "
                            f"{result.failed} failed)")
    for polarity, counts in summary["by_gold_polarity"].items():
        total = sum(counts.values())
        console.print(f"  gold {polarity}: kept {counts.get('kept', 0)}/{total}")
    console.print(f"wrote {out}/sft.jsonl ({summary['kept']} examples), dropped.jsonl, stats.json")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             options_metavar="[OPTIONS] [KEY=VALUE ...]")
def sft(
    ctx: typer.Context,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML recipe, e.g. configs/sft_c2f_vader_smollm2.yaml.")] = None,
    show_config: Annotated[bool, typer.Option("--show-config", help="Print the merged, validated config and exit.")] = False,
) -> None:
    """Supervised fine-tuning (cold start) on the chat-messages JSONL that `distill` writes.

    Loss on the assistant turn only; LoRA or full weights; text, Qwen2.5-VL and Qwen2.5-Omni
    inputs. Overrides follow the recipe as KEY=VALUE (data.train_file=runs/distill/sft.jsonl,
    max_steps=50, lr=1e-4). Evaluates every eval.every steps: held-out loss, and parse rate and
    polarity accuracy of greedy answers. Resumes from the newest checkpoint in run.output_dir;
    the trained weights end in run.output_dir/final/ (adapter/ for LoRA: pass it to
    `analyze --adapter` or `grpo model.adapter=`).
    """
    from emoreason.sft.config import dump_config, load_config

    cfg = _recipe(load_config, dump_config, config, ctx.args, show_config)
    if cfg is None:
        return
    from emoreason.sft.trainer import SFTTrainer

    trainer = _trainer(SFTTrainer, cfg)
    if trainer.accelerator.is_main_process:
        console.print(f"{len(trainer.train_examples)} training examples, {len(trainer.eval_examples)} held out"
                      + (f", {trainer.dropped_long} too long left out" if trainer.dropped_long else "")
                      + f"; {trainer.max_steps} steps")

    def describe(record: dict) -> str:
        extra = "".join(f" {k.split('/')[1]} {record[k]:.3f}" for k in ("eval/loss", "eval/parse_rate",
                        "eval/polarity_accuracy") if k in record)
        return f"sft step {record['step']}: loss {record.get('loss', 0):.3f}{extra} {record.get('time/step', 0):.1f}s/step"

    if _train("sft", trainer, trainer.max_steps, describe):
        evals = [r for r in trainer.log_history if "eval/parse_rate" in r or "eval/loss" in r]
        if evals:
            rows = {f"step {r['step']}": {k.split("/", 1)[1]: v for k, v in r.items() if k.startswith("eval/")}
                    for r in (evals[0], evals[-1])}
            print_metric_rows(rows, "held-out evaluation, first and last")
        console.print(f"done: {trainer.step_index} steps; weights in {trainer.final_dir()}, metrics.jsonl and "
                      f"checkpoints in {cfg.run.output_dir}")


@app.command("baseline")
def baseline_cmd(
    name: Annotated[str, typer.Argument(help="vader (text lexicon), majority or mean (fitted on the train split), "
                                              "minilm-ridge (sentence embeddings + ridge regression, score tasks).")],
    out: Annotated[Path, typer.Argument(help="Output predictions JSONL (id, score or label), scorable with evaluate-predictions.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help=SPEC_HELP)],
    split: Annotated[str, typer.Option(help=SPLIT_HELP)] = "test",
    train_on: Annotated[Optional[list[str]], typer.Option(
        "--train-on", help="Fit on this dataset's train split instead (repeatable; default: --dataset's own train "
                           "split). Scores are mapped linearly onto --dataset's scale.")] = None,
) -> None:
    """Write a non-explaining baseline's predictions for a dataset split."""
    from emoreason.baselines import get_baseline, pool_train_samples
    from emoreason.data import DataError
    from emoreason.embeddings import EmbeddingModelMissing

    ds = _load(dataset)
    try:
        samples = ds.split(split)
        train = pool_train_samples([_load(spec) for spec in train_on], ds.task) if train_on else ds.split("train")
        baseline = get_baseline(name).fit(train, ds.task)
        predictions = baseline.predict(samples)
    except (DataError, ValueError, EmbeddingModelMissing) as err:
        fail(str(err))
    field = "score" if ds.task.is_regression else "label"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for sample, prediction in zip(samples, predictions):
            handle.write(json.dumps({"id": sample.id, field: prediction}) + "\n")
    fitted = f" (training data: {len(train)} samples, train split of {', '.join(train_on or [ds.spec])})"
    console.print(f"wrote {len(samples)} {name} predictions to {out}{fitted}")


@app.command("cues")
def cues_cmd(
    file: Annotated[Path, typer.Argument(help="Audio, video or image file.")],
    kind: Annotated[str, typer.Option(help="auto (from the file type), audio, face, or audio,face.")] = "auto",
    reference: Annotated[Optional[Path], typer.Option(help="Cue references from `data prepare --reference-out`: adds z-scores and words.")] = None,
    speaker: Annotated[Optional[str], typer.Option(help="Compare with this speaker in --reference (e.g. actor07).")] = None,
    cache_dir: Annotated[Optional[Path], typer.Option(help="Cue cache folder (default $EMOREASON_CUES_CACHE or ~/.cache/emoreason/cues).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Measure without reading or writing the cache.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records, z-scores and description as JSON.")] = False,
) -> None:
    """Measure the voice (pitch, loudness, rate, pauses, voice quality) and face cues of a media file."""
    from emoreason.cues import CueCache, CueError, cue_rows, describe_all, load_references
    from emoreason.cues.prepare import file_cues

    try:
        references = load_references(reference) if reference is not None else {}
        records = file_cues(file, None if kind == "auto" else [k.strip() for k in kind.split(",")],
                            None if no_cache else CueCache(cache_dir))
    except (CueError, ValueError) as err:
        fail(str(err))
    text = describe_all(records, references, speaker)
    if as_json:
        print(json.dumps({"file": str(file), "records": [r.to_dict() for r in records], "description": text,
                          "zscores": {r.KIND: references[r.KIND].zscores(r, speaker) for r in records if r.KIND in references}},
                         indent=2))
        return
    for record in records:
        table = Table(title=f"{record.KIND} cues of {file.name}")
        for column in ("measure", "value", "z", "reads as", "compared with"):
            table.add_column(column, justify="right" if column in ("value", "z") else "left")
        for row in cue_rows(record, references.get(record.KIND), speaker):
            table.add_row(row.measure.label, row.measure.show(row.value), "" if row.z is None else f"{row.z:+.2f}",
                          row.word or "", row.scope if row.z is not None else "")
        console.print(table)
    console.print(text)


@app.command()
def serve(
    model: Annotated[str, typer.Option(help=MODEL_HELP)] = "default",
    adapter: Annotated[Optional[list[str]], typer.Option(help="LoRA adapter folder (repeatable); `none` for the bare base model. Without one, the default model uses the adapter shipped with emoreason.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default; set --api-key before using any other).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    api_key: Annotated[Optional[str], typer.Option(envvar="EMOREASON_API_KEY", show_envvar=True,
                                                   help="Require `Authorization: Bearer KEY` on /v1/* and /metrics.")] = None,
    max_batch_size: Annotated[int, typer.Option(help="Rows (prompts x n) per generate call.")] = 32,
    no_batching: Annotated[bool, typer.Option("--no-batching", help="Run every request alone (same as --max-batch-size 1).")] = False,
    batch_wait_ms: Annotated[float, typer.Option(help="How long a request waits for others to batch with.")] = 10.0,
    max_queue: Annotated[int, typer.Option(help="Waiting requests beyond which the server answers 503 + Retry-After.")] = 64,
    request_timeout: Annotated[float, typer.Option(help="Seconds per request (queue + generation) before a 504.")] = 120.0,
    max_tokens_limit: Annotated[int, typer.Option(help="Largest max_tokens a request may ask for.")] = 1024,
    max_n: Annotated[int, typer.Option(help="Largest n (choices per chat request).")] = 8,
    max_upload_mb: Annotated[float, typer.Option(help="Largest media file, MiB.")] = 20.0,
    max_body_mb: Annotated[float, typer.Option(help="Largest request body, MiB.")] = 64.0,
    family: Annotated[str, typer.Option(help="Model family: auto, causal_lm, qwen2_5_vl, qwen2_5_omni.")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto (fp32 on CPU, bf16 on GPU), float32, bfloat16, float16.")] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1, ...")] = "auto",
    log_level: Annotated[str, typer.Option(help="uvicorn log level: warning, info, debug.")] = "info",
) -> None:
    """Serve a model over HTTP: OpenAI-style /v1/chat/completions, /v1/analyze (audit records), a page at /."""
    from emoreason.models import MediaError
    from emoreason.serve import ServeSettings, build_app
    from emoreason.serve.server import is_loopback, serve as run_server

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
        err_console.print(f"[yellow]warning:[/] listening on {host} without an API key: anyone who can reach it can use it")
    err_console.print(f"serving {server_app.state.model.id} on http://{host}:{port}  (page at /, API at /v1)")
    run_server(server_app, host=host, port=port, log_level=log_level)


def print_metric_rows(rows: dict[str, dict[str, float]], title: str) -> None:
    """One table row per system, one column per metric."""
    keys: list[str] = []
    for metrics in rows.values():
        keys += [k for k, v in metrics.items() if isinstance(v, (int, float)) and k not in keys]
    table = Table(title=title)
    table.add_column("system")
    for key in keys:
        table.add_column(key, justify="right")
    for name, metrics in rows.items():
        cells = []
        for key in keys:
            value = metrics.get(key)
            cells.append("" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value)))
        table.add_row(name, *cells)
    console.print(table)


def run() -> None:  # pragma: no cover - console entry for `python -m emoreason`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
