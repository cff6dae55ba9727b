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
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Datasets: list the adapters, inspect a dataset, convert it to JSONL.", no_args_is_help=True)
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


@app.command("evaluate-predictions")
def evaluate_predictions_cmd(
    predictions: Annotated[Path, typer.Argument(help="JSONL of model outputs: `id` plus `completion` (parsed with --format) or `score`/`label`.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help=SPEC_HELP)],
    split: Annotated[str, typer.Option(help=SPLIT_HELP)] = "test",
    format_name: Annotated[str, typer.Option("--format", "-f", help="Reasoning format used to parse `completion`: c2f, emor3 or r1.")] = "c2f",
    out: Annotated[Optional[Path], typer.Option(help="Where to write the metrics JSON (default: PREDICTIONS with .metrics.json).")] = None,
    baselines: Annotated[str, typer.Option(help="Comma-separated baseline rows to add: vader, majority, mean, or none.")] = "none",
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
