"""Evaluation reports: plots (PNG) and report.md / report.html that embed them, and metrics.json.

The inputs of the answers that cite evidence are shown with that evidence marked, and with
`evaluate --faithfulness` the report has a faithfulness section (`emoreason.eval.evidence_report`), with
`evaluate --attribute` one on which words the judgment moves with (`attribution_sections`)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emoreason.data.schema import POLARITIES, Sample, TaskInfo
from emoreason.eval.evidence_report import EVIDENCE_CSS, evidence_sections, faithfulness_sections, omission_sections
from emoreason.eval.evidence_report import fmt_value as _fmt
from emoreason.eval.json_report import write_json_report
from emoreason.eval.predictions import read_prediction

if TYPE_CHECKING:
    from emoreason.eval.faithfulness import ProbedAnswer

# Every file `write_report` may write into an output folder (what `evaluate --fresh` deletes).
REPORT_FILES = (
    "metrics.json",
    "report.md",
    "report.html",
    "scatter.png",
    "confusion.png",
    "error_by_polarity.png",
    "faithfulness.png",
)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter_plot(pred: list[float | None], gold: list[float], task: TaskInfo, path: Path) -> Path:
    plt = _plt()
    assert task.scale is not None
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ok = [(p, g) for p, g in zip(pred, gold) if p is not None]
    if ok:
        p_arr, g_arr = np.array(ok).T
        ax.scatter(g_arr, p_arr, s=10, alpha=0.5)
    low, high = task.scale
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="identity")
    ax.set_xlim(low, high)
    ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
    ax.set_xlabel("gold score")
    ax.set_ylabel("predicted score")
    ax.set_title(f"predicted vs gold ({len(ok)} parsed of {len(pred)})")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def confusion_plot(matrix: list[list[int]], rows: list[str], columns: list[str], path: Path, title: str) -> Path:
    plt = _plt()
    data = np.array(matrix)
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(columns), 1.0 + 0.6 * len(rows)))
    ax.imshow(data, cmap="Blues")
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            ax.text(
                j,
                i,
                str(data[i, j]),
                ha="center",
                va="center",
                color="white" if data[i, j] > data.max() / 2 else "black",
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def error_by_polarity_plot(pred: list[float | None], samples: list[Sample], task: TaskInfo, path: Path) -> Path:
    plt = _plt()
    groups: dict[str, list[float]] = {p: [] for p in POLARITIES}
    for p, s in zip(pred, samples):
        if p is not None and s.score is not None:
            groups[task.score_polarity(s.score)].append(abs(p - s.score))
    names = [g for g in POLARITIES if groups[g]]
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    # each bar its polarity's colour by name: sliced from a list, with no negative answers "neutral" was red
    colour = dict(zip(POLARITIES, ("#c0392b", "#7f8c8d", "#27ae60"), strict=True))
    ax.bar(names, [float(np.mean(groups[g])) for g in names], color=[colour[g] for g in names])
    for i, g in enumerate(names):
        ax.text(i, float(np.mean(groups[g])), f"n={len(groups[g])}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("mean absolute error")
    ax.set_title("error by gold polarity (parsed answers)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def faithfulness_plot(answers: Sequence[ProbedAnswer], task: TaskInfo, path: Path) -> Path:
    """Histograms of the per-answer change under each probe (`metrics.faithfulness`)."""
    plt = _plt()
    series = {
        "without the cited words (comprehensiveness)": [a.scores.comprehensiveness for a in answers],
        "random removal (control)": [a.scores.random_removal for a in answers],
        "the cited words only (sufficiency)": [a.scores.sufficiency for a in answers],
    }
    top = (task.scale[1] - task.scale[0]) if task.scale is not None and task.is_regression else 1.0
    bins = [top * i / 20 for i in range(21)] if task.is_regression else [-0.25, 0.25, 0.75, 1.25]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for (name, values), colour in zip(series.items(), ("#c0392b", "#7f8c8d", "#2980b9")):
        defined = [v for v in values if v is not None]
        ax.hist(defined, bins=bins, histtype="step", linewidth=1.8, color=colour, label=f"{name} (n={len(defined)})")
    ax.set_xlabel("change of the prediction" + (" (score, task scale)" if task.is_regression else " (label, 0/1)"))
    ax.set_ylabel("answers")
    ax.set_title("how far each probe moves the prediction")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def answers_of(records: Sequence[dict[str, Any]], samples: Sequence[Sample]) -> list[dict[str, Any]]:
    """Each sample's record, by id ({} for a sample left unanswered: media that could not be read): the
    plots pair answers with samples, and pairing by position shifted every pair after the first gap."""
    answered = {str(r.get("id")): r for r in records}
    return [answered.get(s.id, {}) for s in samples]


def polarity_confusion(
    records: list[dict[str, Any]], samples: list[Sample], task: TaskInfo
) -> tuple[list[list[int]], list[str], list[str]]:
    columns = list(POLARITIES) + ["(none)"]
    matrix = [[0] * len(columns) for _ in POLARITIES]
    for record, sample in zip(records, samples):
        gold = task.gold_polarity(sample)
        if gold is None:
            continue
        predicted = record.get("polarity") or "(none)"
        matrix[POLARITIES.index(gold)][columns.index(predicted)] += 1
    return matrix, list(POLARITIES), columns


def attribution_sections(figures: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """The report's section on `evaluate --attribute` (metrics["attribution"], `metrics.attribution`), in
    markdown and html; none without it."""
    if figures is None:
        return [], []
    heading = "Which words the judgment moves with"
    lead = (
        f"Each word of each answered text taken out in turn, the polarity probabilities read again: in "
        f"{figures['n_leading']} of {figures['n_answers']} answers one word moves P(positive) - P(negative) by "
        f"{figures['min_shift']} or more. How often the chain cites that word, against chance (the share of "
        "the words it cites), and how far cited and uncited words move the judgment (mean |shift|):"
    )
    names = ("leading_word_cited", "chance", "mean_shift_cited", "mean_shift_uncited")
    md = [f"## {heading}\n", lead + "\n", "| " + " | ".join(names) + " |\n|" + "---|" * len(names) + "\n"]
    md[-1] += "| " + " | ".join(_fmt(figures.get(n)) for n in names) + " |\n"
    cells = "".join(f"<th>{n}</th>" for n in names), "".join(f"<td>{_fmt(figures.get(n))}</td>" for n in names)
    page = [f"<h2>{heading}</h2><p>{html.escape(lead)}</p><table border=1 cellpadding=4>"]
    page.append(f"<tr>{cells[0]}</tr><tr>{cells[1]}</tr></table>")
    return md, page


def _selection_words(metrics: dict[str, Any]) -> str:
    """How the samples were chosen, as the report's first line says it: ", a seeded random 200 (seed 0)"."""
    chosen = metrics.get("selection") or {}
    if chosen.get("sample") is not None:
        rest = ", the rest of the split outside" if chosen.get("outside_sample") else ""
        return f"{rest}, a seeded random {chosen['sample']} (seed {chosen.get('seed')})"
    if chosen.get("limit") is not None:
        return f", the first {chosen['limit']}"
    return ""


def _reading_words(metrics: dict[str, Any]) -> str:
    """What else the figures depend on: the score readout, the token limit, votes, the adapters."""
    generation = metrics.get("generation") or {}
    words = []
    scored = ((metrics.get("run") or {}).get("task") or {}).get("scale") is not None
    if generation.get("score_readout") and scored:  # a label task has no score to read
        words.append(f"scores read `{generation['score_readout']}`")
    if generation.get("max_new_tokens"):
        words.append(f"at most {generation['max_new_tokens']} new tokens")
    if (generation.get("votes") or 1) > 1:
        words.append(f"{generation['votes']} votes at temperature {generation.get('temperature')}")
    adapters = metrics.get("adapter_paths") or []
    if adapters:
        words.append("adapters " + ", ".join(f"`{a}`" for a in adapters))
    return "".join(f", {w}" for w in words)


def write_report(
    out: Path,
    title: str,
    metrics: dict[str, Any],
    records: list[dict[str, Any]],
    samples: list[Sample],
    task: TaskInfo,
    probed: Sequence[ProbedAnswer] | None = None,
) -> tuple[Path, Path]:
    """report.md and report.html (plots embedded as files in md, inline in html); with `probed`
    (the answers `evaluate --faithfulness` probed) and metrics["faithfulness"], its section too."""
    plots: list[tuple[str, Path]] = []
    aligned = answers_of(records, samples)
    if task.is_regression:
        # the values the metrics score: an answer outside the scale counts as unanswered there, so here
        pred = [read_prediction(r, task, None).value if r else None for r in aligned]
        plots.append(("Predicted vs gold", scatter_plot(pred, [s.score for s in samples], task, out / "scatter.png")))
        plots.append(
            ("Error by gold polarity", error_by_polarity_plot(pred, samples, task, out / "error_by_polarity.png"))
        )
        matrix, rows, columns = polarity_confusion(aligned, samples, task)
        plots.append(("Polarity confusion", confusion_plot(matrix, rows, columns, out / "confusion.png", "polarity")))
    else:
        main = metrics["rows"].get("model", {})
        if "confusion_matrix" in main:
            plots.append(
                (
                    "Label confusion",
                    confusion_plot(
                        main["confusion_matrix"],
                        main["confusion_rows"],
                        main["confusion_columns"],
                        out / "confusion.png",
                        "label",
                    ),
                )
            )
    failures = [r for r in records if not r.get("parse_ok")][:5]
    rows = metrics["rows"]
    keys: list[str] = []
    for values in rows.values():
        keys += [
            k for k, v in values.items() if isinstance(v, (int, float)) and k not in keys and not isinstance(v, bool)
        ]
    header = "| system | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys) + "\n"
    body = "".join(
        "| " + name + " | " + " | ".join(_fmt(values.get(k)) for k in keys) + " |\n" for name, values in rows.items()
    )
    md = [
        f"# {title}\n",
        f"{metrics['n']} samples of {metrics['dataset']} ({metrics['split']}{_selection_words(metrics)}), model "
        f"`{metrics['model']}`, format `{metrics['format']}`{_reading_words(metrics)}.\n",
        "## Metrics\n",
        header + body,
    ]
    for name, path in plots:
        md.append(f"## {name}\n\n![{name}]({path.name})\n")
    warnings = metrics.get("warnings") or []
    if warnings:
        md.append("## Warnings\n")
        md.append("".join(f"- {message}\n" for message in warnings))
    md.append("## Parse failures (first 5)\n")
    if not failures:
        md.append("None.\n")
    for record in failures:
        md.append(
            f"- `{record['id']}`: {'; '.join(record['errors']) or 'not parsed'}\n\n  ```\n  "
            + record["raw_completion"][:600].replace("\n", "\n  ")
            + "\n  ```\n"
        )
    ungrounded = [r for r in records if (r.get("citations") or {}).get("ungrounded")][:5]
    md.append("## Citations not found in the input (first 5)\n")
    if not ungrounded:
        md.append("None.\n")
    for record in ungrounded:
        md.append(f"- `{record['id']}`: " + "; ".join(f"`{c}`" for c in record["citations"]["ungrounded"]) + "\n")
    evidence_md, evidence_html = evidence_sections(records, samples)
    md.extend(evidence_md)
    # the words a chain leaves without a number: score tasks only, as the valence figures (`score_system`)
    omission_md, omission_html = omission_sections(records, samples) if task.is_regression else ([], [])
    md.extend(omission_md)
    faithfulness_md: list[str] = []
    faithfulness_html: list[str] = []
    if probed is not None and "faithfulness" in metrics:
        plot = faithfulness_plot(probed, task, out / "faithfulness.png")
        faithfulness_md, faithfulness_html = faithfulness_sections(metrics["faithfulness"], probed, plot)
    else:  # an earlier run's plot would sit beside a report that no longer has its section
        (out / "faithfulness.png").unlink(missing_ok=True)
    md.extend(faithfulness_md)
    attribution_md, attribution_html = attribution_sections(metrics.get("attribution"))
    md.extend(attribution_md)
    md_path = out / "report.md"
    md_path.write_text("\n".join(md), encoding="utf-8")

    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(md[1])}</p>",
        "<h2>Metrics</h2><table border=1 cellpadding=4>",
        "<tr><th>system</th>" + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>",
    ]
    for name, values in rows.items():
        parts.append(
            f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{_fmt(values.get(k))}</td>" for k in keys) + "</tr>"
        )
    parts.append("</table>")
    for name, path in plots:
        encoded = base64.b64encode(path.read_bytes()).decode()
        parts.append(f"<h2>{html.escape(name)}</h2><img src='data:image/png;base64,{encoded}'>")
    if warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in warnings) + "</ul>")
    parts.append("<h2>Parse failures (first 5)</h2>")
    for record in failures:
        parts.append(
            f"<p><code>{html.escape(record['id'])}</code>: {html.escape('; '.join(record['errors']))}</p>"
            f"<pre>{html.escape(record['raw_completion'][:600])}</pre>"
        )
    parts.append("<h2>Citations not found in the input (first 5)</h2>")
    for record in ungrounded:
        parts.append(
            f"<p><code>{html.escape(record['id'])}</code>: "
            + "; ".join(f"<code>{html.escape(c)}</code>" for c in record["citations"]["ungrounded"])
            + "</p>"
        )
    parts.extend(evidence_html)
    parts.extend(omission_html)
    parts.extend(faithfulness_html)
    parts.extend(attribution_html)
    html_path = out / "report.html"
    html_path.write_text(
        "<!doctype html><meta charset=utf-8><title>"
        + html.escape(title)
        + "</title>"
        + EVIDENCE_CSS
        + "<body style='font-family:sans-serif'>"
        + "\n".join(parts)
        + "</body>",
        encoding="utf-8",
    )
    write_json_report(out / "metrics.json", metrics)  # strict JSON: an undefined metric is null, never NaN
    return md_path, html_path
