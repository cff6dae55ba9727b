"""What the command line shows: consoles, errors, progress bars and the tables of each command.

Kept out of `emoreason.cli` so that a command reads as its options plus the calls it makes, and
so that a script can print the same tables without building the typer app. Results go to
stdout (`console`); progress, warnings and errors go to stderr (`err_console`), so a command's
JSON output can be piped.

Neither console reads rich markup or emoji codes: what we print is mostly the user's (file
names, texts, model output, error messages quoting them), and `[bold]x[/bold].jsonl` or
`run[/].jsonl` must print as written, not render or raise a MarkupError. Escaping at every call
would leave each new print a chance to forget; with markup off nothing can be misread, and the
few styled words are styled explicitly (`rich.text.Text`, `style=`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from emoreason.cues import CueReference
    from emoreason.data.schema import Sample
    from emoreason.distill import DistillResult

console = Console(markup=False, emoji=False)
# stderr carries progress bars and one-line messages (errors, warnings, reports naming files): each
# message is printed as one line (`soft_wrap`), since rich would otherwise break it at the console's
# width, inside the file names it quotes (`rollouts.` / `jsonl:2` in a log, where the width is 80), and
# a path must stay whole to be copied; a terminal wraps the line itself
err_console = Console(stderr=True, markup=False, emoji=False, soft_wrap=True)

Advance = Callable[..., None]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print the error and stop with `code` (2: bad input, as click does for bad options)."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", message))
    raise typer.Exit(code)


def warn(message: str) -> None:
    err_console.print(Text.assemble(("warning:", "yellow"), " ", message))


class Terminated(KeyboardInterrupt):
    """SIGTERM (what a scheduler or `kill` sends), taken as Ctrl-C is, so that every command's
    Ctrl-C path (keep what is finished, say how to resume) runs for it too (`on_sigterm`)."""


def on_sigterm(signum: int, frame: Any) -> NoReturn:
    """The SIGTERM handler the command line installs: raise `Terminated` where the command is."""
    raise Terminated


def interrupted(message: str) -> NoReturn:
    """Ctrl-C or SIGTERM: say what was kept and how to go on, and exit as a shell would: 130 after
    Ctrl-C, 143 after SIGTERM (read from the exception being handled)."""
    terminated = isinstance(sys.exc_info()[1], Terminated)
    err_console.print(("terminated (SIGTERM): " if terminated else "") + message, style="yellow")
    raise typer.Exit(143 if terminated else 130)


class progress:  # noqa: N801 - used like a function: `with progress(...) as advance`
    """A rich progress bar with ETA; `advance(n)` moves it, `advance(n, description=...)` also
    rewrites the label (the training loops show their latest step's figures there)."""

    def __init__(self, label: str, total: int, done: int = 0, quiet: bool = False):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.label = label
        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=err_console,
            disable=quiet,
        )
        self.total, self.done = total, done

    def __enter__(self) -> Advance:
        self.progress.start()
        task = self.progress.add_task(self.label, total=self.total, completed=self.done)

        def advance(n: int, description: str | None = None) -> None:
            self.progress.update(task, advance=n, **({"description": description} if description else {}))

        return advance

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


#: a system column wider than this folds its name over several lines rather than crowd out the others
SYSTEM_COLUMN_MAX = 24


def print_metric_rows(rows: Mapping[str, Mapping[str, Any]], title: str) -> None:
    """One line per metric, one column per system (non-numeric entries are left out).

    Metric sets are long (12 to 23 figures) and systems few (a model and its baselines), so the
    metrics go down the page. When the systems do not fit the console's width (80 columns in a
    pipe or a log) they are spread over several tables, each repeating the metric names, so
    that no figure and no name is ever cut."""
    metrics: list[str] = []
    for values in rows.values():
        metrics += [k for k, v in values.items() if isinstance(v, (int, float)) and k not in metrics]
    # a figure no system has (NaN everywhere: label_consistency on a score task) says nothing here;
    # metrics.json keeps it
    metrics = [k for k in metrics if any(_is_figure(values.get(k)) for values in rows.values())]
    cells = {system: [_metric_cell(values.get(key)) for key in metrics] for system, values in rows.items()}
    groups = _systems_that_fit(cells, max((len(m) for m in metrics), default=6), console.width)
    for number, systems in enumerate(groups, start=1):
        part = f" ({number}/{len(groups)})" if len(groups) > 1 else ""
        table = Table(title=title + part)
        table.add_column("metric", no_wrap=True)
        for system in systems:
            table.add_column(system, justify="right", overflow="fold", min_width=_column_width(system, cells[system]))
        for index, key in enumerate(metrics):
            table.add_row(key, *(cells[system][index] for system in systems))
        console.print(table)


def _is_figure(value: Any) -> bool:
    return isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value))


def _metric_cell(value: Any) -> str:
    return "" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def _column_width(system: str, cells: Sequence[str]) -> int:
    return min(max([len(system), *map(len, cells)]), SYSTEM_COLUMN_MAX)


def _systems_that_fit(cells: Mapping[str, Sequence[str]], metric_width: int, width: int) -> list[list[str]]:
    """The systems in groups whose columns fit `width` beside the metric column (a rich table
    spends 3 characters per column on padding and rule, and 1 on its left edge)."""
    room = width - (metric_width + 4)
    groups: list[list[str]] = [[]]
    used = 0
    for system, column in cells.items():
        needed = _column_width(system, column) + 3
        if groups[-1] and used + needed > room:
            groups.append([])
            used = 0
        groups[-1].append(system)
        used += needed
    return [group for group in groups if group] or [[]]


EVIDENCE_STYLES = {"positive": "bold green", "negative": "bold red", "neutral": "bold yellow", None: "bold underline"}


def evidence_text(source: str, spans: Iterable[Any], label: str) -> Text:
    """`label` then `source` with each span (`metrics.evidence.EvidenceSpan` of that field) styled
    by the direction the chain gives it: green positive, red negative, yellow neutral, underlined
    when it states none."""
    from emoreason.metrics.evidence import direction_name

    line = Text(source)
    for span in spans:
        line.stylize(EVIDENCE_STYLES[direction_name(span.direction)], span.start, span.end)
    return Text.assemble((label, "dim"), line)


def show_record(sample: Sample, record: dict[str, Any], given: Sample | None = None) -> None:
    """The readable view of one audit record (`analyze` without --json): the input with the
    evidence the chain cites marked (`metrics.evidence.mark_evidence`), then the answer. `given` is
    the sample as the user gave it where `sample` is the one the model was asked (its media turned
    into cue text): a clip without text is named in the title by its file."""
    from rich.panel import Panel

    from emoreason.cues.prompting import MEDIA
    from emoreason.metrics.evidence import mark_evidence

    colours = {"positive": "green", "negative": "red", "neutral": "yellow"}
    # a label task whose labels have no polarity answers with the label alone: no "?" before it
    polarity = record["polarity"] or ("" if record["label"] else "?")
    head = Text(polarity.upper(), style=f"bold {colours.get(polarity, 'white')}")
    if record["score"] is not None:
        head.append("   score ").append(f"{round(record['score'], 2):g}", style="bold")
    probs = record.get("polarity_probs") or {}
    if record.get("score_readout") in ("confidence", "fitted") and record["polarity"] in probs:
        # the confidence and fitted readouts (`formats.readout`): say where the number came from
        fitted = "fitted line; " if record["score_readout"] == "fitted" else ""
        polarity = record["polarity"]
        head.append(
            f"   ({fitted}written {record['written_score']:g} x P({polarity}) {probs[polarity]:.2f})", style="dim"
        )
    if record["label"]:
        head.append("   label " if polarity else "label ").append(str(record["label"]), style="bold")
    votes = record.get("votes")
    if votes:  # several answers were sampled (--votes): how settled the model was
        head.append(f"   {votes['agree']} of {votes['k']} answers agree", style="dim")
    lines = [head]
    cues = record.get("cues") or sample.cues or ""
    evidence = mark_evidence(record.get("raw_completion") or "", sample.text, cues)
    if evidence.in_field("text"):
        lines.append(evidence_text(sample.text, evidence.in_field("text"), "evidence: "))
    if record.get("cues"):
        lines.append(evidence_text(record["cues"], evidence.in_field("cues"), "cues given: "))
    for part, content in record["reasoning"].items():
        lines.append(Text.assemble((part, "cyan"), ": ", content))
    status = (
        Text("parsed", style="green")
        if record["parse_ok"]
        else Text("not parsed: " + "; ".join(record["errors"]), style="red")
    )
    status.append(
        f"  ·  {record['completion_tokens']} tokens  ·  {record['latency_s']:.2f} s  ·  {record['model']}", style=None
    )
    lines.append(status)
    citations = record.get("citations") or {}
    if citations.get("ungrounded"):
        lines.append(
            Text(
                f"cited but not in the input ({len(citations['ungrounded'])} of {citations['cited']}): "
                + ", ".join(citations["ungrounded"]),
                style="yellow",
            )
        )
    lines.extend(negation_lines(record.get("negations") or []))
    if record.get("unnamed_cues"):
        left_out = ", ".join(f'"{c["word"]}" ({c["valence"]:+.1f})' for c in record["unnamed_cues"])
        lines.append(Text(f"in the input, rated by the VADER lexicon, not weighed by the chain: {left_out}", "yellow"))
    if record.get("misrated_cues"):
        misrated = ", ".join(
            f'"{c["word"]}" {c["stated"]:+.1f} (VADER {c["valence"]:+.1f}, raters\' sd {c["spread"]:.2f})'
            for c in record["misrated_cues"]
        )
        lines.append(Text(f"rated by the chain outside its VADER raters' spread: {misrated}", "yellow"))
    if record.get("unrated_cues"):
        unrated = ", ".join(f'"{c["word"]}" {c["stated"]:+.1f}' for c in record["unrated_cues"])
        lines.append(Text(f"given a number by the chain, not rated by the VADER lexicon: {unrated}", "yellow"))
    attribution = attribution_line(record)
    if attribution is not None:
        lines.append(attribution)
    if not record["parse_ok"] and not record["reasoning"]:
        lines.append(Text("raw: " + record["raw_completion"][:300], style="dim"))
    shown = sample.text if len(sample.text) <= 60 else sample.text[:60] + "…"
    if not shown.strip():  # a clip alone: name what was heard or seen instead of an empty title
        shown = ", ".join(f"{m} {Path(path).name}" for m in MEDIA if (path := getattr(given or sample, m)))
    title = Text(f"{record['id']}: {shown}")
    console.print(Panel(Text("\n").join(lines), title=title, title_align="left"))


def attribution_line(record: dict[str, Any], top: int = 3, min_shift: float = 0.05) -> Text | None:
    """What moves the judgment (the record's `attribution`, `metrics.attribution`): up to `top` tokens
    each way that add `min_shift` or more to P(positive) - P(negative), or take as much from it, each
    with that shift and whether the chain cites it; None without attribution."""
    if record.get("attribution") is None:
        return None
    from emoreason.metrics.attribution import is_cited

    spans = (record.get("citations") or {}).get("spans", [])
    line = Text("what moves it (each word taken out in turn, P(positive) - P(negative)): ", style="dim")
    sides = [
        (name, [a for a in record["attribution"] if sign * a["shift"] >= min_shift][:top])
        for name, sign in (("toward positive", 1), ("toward negative", -1))
    ]
    if not any(words for _, words in sides):
        return line.append(f"no single word moves it by {min_shift} or more (several words carry it, or none)")
    for n, (name, words) in enumerate(side for side in sides if side[1]):
        line.append(f"{'; ' if n else ''}{name} ")
        for i, item in enumerate(words):
            cited = is_cited(item, spans)
            line.append(", " if i else "")
            line.append(f'"{item["word"]}" {item["shift"]:+.2f}', style="green" if item["shift"] > 0 else "red")
            line.append("" if cited else " (not cited)", style="dim")
    return line


def negation_lines(notes: list[dict[str, Any]]) -> list[Text]:
    """One line per negation an answer has to account for (the record's `negations`,
    `metrics.valence.negation_notes`): a named one that stands in the input (dim), a named one that
    does not, and one the input has that the chain leaves out (both in yellow)."""
    lines = []
    for note in notes:
        cue, negator = f'"{note["cue"]}"', f'"{note["negator"]}"'
        if note["named"] and note["in_input"]:
            lines.append(Text(f"negation: {cue} negated by {negator}, which stands just before it in the input", "dim"))
        elif note["named"]:
            lines.append(
                Text(f"negation: the chain says {negator} negates {cue}; the input has no such negation", "yellow")
            )
        else:
            lines.append(
                Text(f"negation: the input has {negator} just before {cue}; the chain does not say so", "yellow")
            )
    return lines


def _joined(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def show_dataset_info(info: dict[str, Any], missing_media: int) -> None:
    """`data inspect`'s readable view of `emoreason.data.inspect.describe`'s statistics."""
    console.print(
        Text.assemble(
            (info["spec"], "bold"), "  task ", (info["task"], "cyan"), f"  split {info['split']}: {info['rows']} rows"
        )
    )
    console.print("rows per split: " + _joined(dict(sorted(info["rows_per_split"].items()))))
    if "scale" in info:
        console.print(f"scale {info['scale'][0]:g}..{info['scale'][1]:g}, neutral band {info['neutral_band']}")
    if "score" in info:
        _show_histogram(info["score"])
    if "scores_outside_scale" in info:
        outside = info["scores_outside_scale"]
        low, high = outside["scale"]
        console.print(
            f"{outside['count']} scores outside the scale {low:g}..{high:g}, left out of the figures above; first ids: "
            f"{', '.join(outside['first_ids'])} (fix them, or give the scale they are on: ?scale=LOW,HIGH)",
            style="yellow",
        )
    if "labels" in info:
        console.print("labels: " + _joined(info["labels"]))
    console.print("polarity: " + _joined(info["polarity"]))
    if info.get("labels_without_polarity"):
        named = info["labels_without_polarity"]
        pairs = ",".join(f"{label}:positive" for label in named[:2])
        console.print(
            f"  labels without a polarity: {', '.join(named)} (no hint, no polarity figures for them); give them "
            f"one in the spec, e.g. ?polarity={pairs}"
        )
    if "text_words" in info:
        t = info["text_words"]
        console.print(
            f"text length (words): mean {t['mean']:.1f}, median {t['median']:g}, p95 {t['p95']:.0f}, "
            f"max {t['max']}, empty {t['empty']}"
        )
    for name, counts in info.get("media", {}).items():
        if name != "missing_media_ids":
            console.print(
                f"{name}: {counts['present']} present, {counts['missing']} missing, {counts['unreadable']} unreadable"
            )
    if "unreadable_media" in info:
        broken = info["unreadable_media"]
        console.print(f"unreadable media ({broken['count']}), first:", style="yellow")
        for example in broken["examples"]:
            console.print(f"  {example}", style="yellow")
    if info.get("missing_media_examples"):
        console.print(
            f"missing media ({missing_media}), first ids: " + ", ".join(info["missing_media_examples"]), style="yellow"
        )
    if info["bad_rows"]:
        console.print(f"bad rows skipped: {info['bad_rows']} " + _joined(info["bad_rows_by_reason"]), style="yellow")
        for example in info["bad_row_examples"]:
            console.print(f"  {example}", style="yellow")


def _show_histogram(score: dict[str, Any]) -> None:
    table = Table(
        title=f"score: mean {score['mean']:.3f}, std {score['std']:.3f}, min {score['min']:g}, max {score['max']:g}"
    )
    table.add_column("bin")
    table.add_column("count", justify="right")
    table.add_column("")
    top = max((b["count"] for b in score["histogram"]), default=1) or 1
    for b in score["histogram"]:
        table.add_row(f"{b['from']:+.2f} .. {b['to']:+.2f}", str(b["count"]), "#" * round(30 * b["count"] / top))
    console.print(table)


def show_cue_tables(
    file_name: str, records: Sequence[Any], references: Mapping[str, CueReference], speaker: str | None
) -> None:
    """`cues`' readable view: one table per cue record, each measure with its z-score and word
    when a reference for its kind is given."""
    from emoreason.cues import cue_rows

    for record in records:
        table = Table(title=f"{record.KIND} cues of {file_name}")
        for column in ("measure", "value", "z", "reads as", "compared with"):
            table.add_column(column, justify="right" if column in ("value", "z") else "left", overflow="fold")
        for row in cue_rows(record, references.get(record.KIND), speaker):
            table.add_row(
                row.measure.label,
                row.measure.show(row.value),
                "" if row.z is None else f"{row.z:+.2f}",
                row.word or "",
                row.scope if row.z is not None else "",
            )
        console.print(table)


def show_adapters(adapters: Iterable[Any]) -> None:
    """`data list`: each dataset adapter's spec syntax, what it reads, and its options."""
    table = Table(title="Dataset adapters", show_lines=True)
    for column in ("spec", "what", "options"):
        table.add_column(column, overflow="fold")  # a spec cut short cannot be copied
    for info in sorted(adapters, key=lambda i: i.kind):
        table.add_row(info.usage, info.description, "\n".join(f"{k}: {v}" for k, v in info.options.items()))
    console.print(table)


def grpo_step_line(record: Mapping[str, Any]) -> str:
    """The GRPO progress label: the latest step's reward, hard-group rate, KL and time."""
    return (
        f"grpo step {record['step']}: reward {record.get('reward/mean', 0):.3f} "
        f"hard {record.get('groups/hard_rate', 0):.2f} kl {record.get('kl', 0):.4f} "
        f"{record.get('time/step', 0):.1f}s/step"
    )


def validation_line(record: Mapping[str, Any]) -> str | None:
    """A line for the log when a step validated (`validation.every`): each dataset's r and MAE
    (WAR and UAR on a label task) and the majority share of its answers, and a collapse warning;
    None on other steps."""
    names = sorted({k.split("/")[1] for k in record if k.startswith("valid/") and k.count("/") == 2} - {"mean"})
    if not names:
        return None

    def figure(name: str, metric: str) -> float:
        return float(record.get(f"valid/{name}/{metric}", float("nan")))

    parts = [
        (
            f"{name} war {figure(name, 'war'):.3f} uar {figure(name, 'uar'):.3f}"
            if f"valid/{name}/war" in record
            else f"{name} r {figure(name, 'pearson_r'):.3f} mae {figure(name, 'mae'):.2f}"
        )
        + f" majority {figure(name, 'majority_share'):.2f}"
        for name in names
    ]
    collapse = " [collapse]" if record.get("valid/collapse") else ""
    return f"validation at step {record['step']}: " + "; ".join(parts) + collapse


SFT_EVALS = ("eval/loss", "eval/parse_rate", "eval/polarity_accuracy", "eval/label_accuracy")
#: the training losses an SFT step logs: the chains' token mean, and the polarity objective's when it is on
SFT_LOSSES = (("loss", "loss"), ("polarity/loss", "polarity loss"))


def sft_step_line(record: Mapping[str, Any]) -> str:
    """The SFT progress label: the latest step's loss, its held-out figures when it evaluated, time."""
    evals = "".join(f" held-out {k.split('/')[1]} {record[k]:.3f}" for k in SFT_EVALS if k in record)
    losses = "".join(f" {name} {record[key]:.3f}" for key, name in SFT_LOSSES if key in record)
    return f"sft step {record['step']}:{losses}{evals} {record.get('time/step', 0):.1f}s/step"


def show_sft_data(trainer: Any) -> None:
    """What an SFT run trains on: examples kept, held out and too long, and its number of steps."""
    polarity = getattr(trainer, "polarity", None)
    objective = f"the polarity objective on {len(polarity.samples)} scored sentences" if polarity else ""
    if polarity and polarity.strata:
        shares = ", ".join(f"{name} {len(indices)}" for name, indices in polarity.strata.items())
        objective += f" (the domains take turns: {shares})"
    if polarity and not trainer.train_examples:
        console.print(f"no chains: {objective} alone; {trainer.max_steps} steps")
        return
    console.print(
        f"{len(trainer.train_examples)} training examples"
        + (" (their polarity word left out of their loss)" if getattr(trainer, "polarity_word", None) else "")
        + f", {len(trainer.eval_examples)} held out"
        + _held_speakers(trainer.eval_examples)
        + (f", {trainer.dropped_long} too long left out" if trainer.dropped_long else "")
        + (f"; {objective}" if objective else "")
        + f"; {trainer.max_steps} steps"
    )


def _held_speakers(held: Sequence[Any]) -> str:
    """` (whole speakers: a, b)` where the held-out share was drawn by speaker (`sft.data.split_eval`), whose
    count can be well off `eval_fraction` with few speakers: the user sees why."""
    speakers = sorted({example.speaker for example, *_ in held if example.speaker is not None})
    return f" (whole speakers: {', '.join(speakers)})" if speakers else ""


def show_first_and_last_eval(log_history: Sequence[Mapping[str, Any]]) -> None:
    """The held-out figures of the first and the last evaluation of a training run, if any."""
    evals = [r for r in log_history if "eval/parse_rate" in r or "eval/loss" in r]
    if evals:
        rows = {
            f"step {r['step']}": {k.split("/", 1)[1]: v for k, v in r.items() if k.startswith("eval/")}
            for r in (evals[0], evals[-1])
        }
        print_metric_rows(rows, "held-out evaluation, first and last")


def show_distill_summary(result: DistillResult, out: str) -> None:
    """`distill`'s closing report: kept and dropped per reason, kept per gold polarity, the files."""
    summary = result.stats.to_dict()
    asked = f"{result.cached} from cache, {result.requested} asked, {result.failed} failed"
    table = Table(title=f"{summary['total']} samples ({asked})")
    for column in ("chains", "count", "share"):
        table.add_column(column, justify="left" if column == "chains" else "right", overflow="fold")
    table.add_row("kept", str(summary["kept"]), f"{summary['kept_rate']:.4f}")
    for reason, count in summary["dropped"].items():
        table.add_row(f"dropped: {reason}", str(count), f"{summary['dropped_rate'][reason]:.4f}")
    console.print(table)
    for polarity, counts in summary["by_gold_polarity"].items():
        console.print(f"  gold {polarity}: kept {counts.get('kept', 0)}/{sum(counts.values())}")
    by_domain: dict[str, list[str]] = {}
    for shift in result.stats.mix_shifts():
        by_domain.setdefault(shift.domain, []).append(
            f"{shift.polarity} {shift.samples_share:.0%} -> {shift.kept_share:.0%}"
        )
    for domain, moved in by_domain.items():
        where = "the samples" if domain == "all" else f"the {domain} samples"
        warn(
            f"the filter changed the gold polarity mix of {where} (share of the samples -> of the kept "
            f"chains): {', '.join(moved)}; an SFT on sft.jsonl learns that prior (counts: stats.json's polarity_mix; "
            "--match-mix evens it)"
        )
    console.print(f"wrote {out}/sft.jsonl ({summary['kept']} examples), dropped.jsonl, stats.json")


__all__ = [
    "console",
    "err_console",
    "evidence_text",
    "fail",
    "grpo_step_line",
    "interrupted",
    "print_metric_rows",
    "progress",
    "sft_step_line",
    "show_adapters",
    "show_cue_tables",
    "show_dataset_info",
    "show_distill_summary",
    "show_first_and_last_eval",
    "show_record",
    "show_sft_data",
    "warn",
]
