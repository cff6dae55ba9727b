"""The evidence parts of the evaluation report: inputs with the cited evidence marked, and the
faithfulness section (figures, a distribution plot, the least faithful answers with their probes
side by side). Spans come from `metrics.evidence.mark_evidence`, as in `analyze` and on the page."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emoreason.data.schema import Sample
from emoreason.metrics.evidence import Evidence, EvidenceSpan, direction_name, mark_evidence
from emoreason.metrics.faithfulness import ProbeInput
from emoreason.metrics.valence import cue_omissions

if TYPE_CHECKING:
    from emoreason.eval.faithfulness import ProbedAnswer

SHOWN = 5
OMISSIONS_SHOWN = 10
PROBE_TITLES = {"without": "without the cited words", "only": "the cited words only", "random": "random removal"}
MD_MARKS = {"positive": "(+)", "negative": "(-)", "neutral": "(0)", None: ""}
EVIDENCE_CSS = (
    "<style>mark{padding:0 2px;border-radius:3px}mark.positive{background:#bbf7d0}"
    "mark.negative{background:#fecaca}mark.neutral{background:#fef08a}mark.unstated{background:#e5e7eb}"
    ".not-found{color:#b91c1c;text-decoration:line-through}td{vertical-align:top;max-width:22em}</style>"
)


def fmt_value(value: Any) -> str:
    """A figure as the report tables show it: 4 decimals, "nan" for an undefined one."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.4f}"
    return str(value)


def _md_escape(text: str) -> str:
    """`text` for a markdown table cell: each run of white space one space (a cell is one line), the marks
    markdown reads escaped. Edges are kept: the pieces around a span join as the source wrote them."""
    return re.sub(r"\s+", " ", text).replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|").replace("`", "'")


def marked_md(source: str, spans: Iterable[EvidenceSpan]) -> str:
    """`source` for markdown: each span in bold, followed by (+), (-) or (0) for its direction."""
    pieces, last = [], 0
    for span in spans:
        pieces.append(_md_escape(source[last : span.start]))
        pieces.append(f"**{_md_escape(source[span.start : span.end])}**{MD_MARKS[direction_name(span.direction)]}")
        last = span.end
    pieces.append(_md_escape(source[last:]))
    return "".join(pieces).strip()


def marked_html(source: str, spans: Iterable[EvidenceSpan]) -> str:
    """`source` escaped, each span a `<mark class="positive|negative|neutral|unstated">`."""
    pieces, last = [], 0
    for span in spans:
        name = direction_name(span.direction) or "unstated"
        pieces.append(html.escape(source[last : span.start]))
        marked = html.escape(source[span.start : span.end])
        pieces.append(f"<mark class='{name}' title='{html.escape(span.citation)}'>{marked}</mark>")
        last = span.end
    pieces.append(html.escape(source[last:]))
    return "".join(pieces)


def not_found_html(evidence: Evidence) -> str:
    if not evidence.not_found:
        return ""
    cited = ", ".join(f"<span class='not-found'>{html.escape(c)}</span>" for c in evidence.not_found)
    return f" <small>cited but not in the input: {cited}</small>"


def _evidence_of(record: dict[str, Any], sample: Sample) -> Evidence:
    return mark_evidence(record.get("raw_completion") or "", sample.text or "", sample.cues or "")


def _probe_shown(probe: ProbeInput, sample: Sample) -> str:
    """What a probe asked: its text, and its cue text where it changed that (a clip's citations are in its cue
    text, and the table showed the unchanged sentence for every probe)."""
    shown = probe.text or "(empty)"
    if probe.cues != (sample.cues or ""):
        shown += f" [cues: {probe.cues or '(empty)'}]"
    return shown


def evidence_sections(records: Sequence[dict[str, Any]], samples: Sequence[Sample]) -> tuple[list[str], list[str]]:
    """Markdown and HTML for "Cited evidence in the input": the first answers that cite anything,
    their input with the evidence marked, and the citations not in the input."""
    by_id = {s.id: s for s in samples}
    shown = []
    for record in records:
        sample = by_id.get(record.get("id", ""))
        if sample is None:
            continue
        evidence = _evidence_of(record, sample)
        if evidence.spans or evidence.not_found:
            shown.append((record, sample, evidence))
        if len(shown) == SHOWN:
            break
    title = f"Cited evidence in the input (first {SHOWN} answers that cite)"
    legend = "Cited words in bold, with the direction the chain gives them: (+) positive, (-) negative."
    md = [f"## {title}\n", legend + "\n"] if shown else [f"## {title}\n", "No answer cites anything.\n"]
    parts = [f"<h2>{title}</h2>"]
    for record, sample, evidence in shown:
        missing = (
            " (cited but not in the input: " + ", ".join(f"`{c}`" for c in evidence.not_found) + ")"
            if evidence.not_found
            else ""
        )
        verdict = _verdict(record)
        md.append(f"- `{record['id']}` ({verdict}): {marked_md(sample.text, evidence.in_field('text'))}{missing}\n")
        parts.append(
            f"<p><code>{html.escape(record['id'])}</code> ({html.escape(verdict)}): "
            f"{marked_html(sample.text, evidence.in_field('text'))}{not_found_html(evidence)}</p>"
        )
    if not shown:
        parts.append("<p>No answer cites anything.</p>")
    return md, parts


def omission_sections(records: Sequence[dict[str, Any]], samples: Sequence[Sample]) -> tuple[list[str], list[str]]:
    """Markdown and HTML for "Rated words the chains leave out": the words of the inputs VADER's
    lexicon rates that the chains most often give no valence (`metrics.valence.cue_omissions`),
    counted over the answers that weigh words one by one. Empty where no answer does."""
    by_id = {s.id: s for s in samples}
    pairs = [(r.get("raw_completion") or "", by_id[r["id"]]) for r in records if r.get("id") in by_id]
    sources = [s.source for _, s in pairs]
    rows = cue_omissions([completion for completion, _ in pairs], sources)[:OMISSIONS_SHOWN]
    if not rows:
        return [], []
    title = f"Rated words the chains leave out (most often first, at most {OMISSIONS_SHOWN})"
    legend = (
        "Words of the inputs that VADER's lexicon rates, and how often a chain that weighs words one by one "
        "gives them no valence: cues the model habitually overlooks."
    )
    header = ("word", "VADER valence", "left out", "in inputs", "share")
    cells = [(r.word, f"{r.valence:+.1f}", str(r.left_out), str(r.seen), f"{r.share:.2f}") for r in rows]
    md = [f"## {title}\n", legend + "\n", "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"]
    md[-1] += "".join("| " + " | ".join(row) + " |\n" for row in cells)
    parts = [
        f"<h2>{html.escape(title)}</h2><p>{html.escape(legend)}</p><table border=1 cellpadding=4>",
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>",
        *("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells),
        "</table>",
    ]
    return md, parts


def _verdict(record: dict[str, Any]) -> str:
    value = record.get("score") if record.get("score") is not None else record.get("label")
    return f"{record.get('polarity') or '?'}, {value if value is not None else 'no answer'}"


def _judgment_text(judgment: Any) -> str:
    value = judgment.score if judgment.score is not None else judgment.label
    return f"{judgment.polarity or '?'}, {value if value is not None else 'no answer'}"


FIGURES = (
    ("comprehensiveness", "mean change without the cited words"),
    ("random_removal", "mean change with as many uncited words removed (control)"),
    ("comprehensiveness_over_random", "mean of (comprehensiveness - random removal) per answer"),
    ("cited_moves_more_rate", "share of answers moved more by removing the cited words than by the control"),
    ("comprehensiveness_flip_rate", "polarity flips without the cited words"),
    ("random_removal_flip_rate", "polarity flips under the control"),
    ("sufficiency", "mean change with the cited words only (lower: the evidence suffices)"),
    ("sufficiency_flip_rate", "polarity flips with the cited words only"),
)


def faithfulness_sections(
    summary: dict[str, Any], answers: Sequence[ProbedAnswer], plot: Path
) -> tuple[list[str], list[str]]:
    """Markdown and HTML of the faithfulness section: the figures, the plot (linked in markdown,
    embedded in HTML), and the least faithful answers, their probes side by side."""
    unit = summary.get("change_unit", "")
    intro = (
        f"{summary.get('n_probed', 0)} of {summary.get('n_citing', 0)} answers that cite evidence were probed "
        f"({summary.get('n_not_in_input', 0)} cite nothing found in their input); changes are in: {unit}. "
        "Each answer was asked again without the words it cites, with those words alone, and with as many "
        "uncited words removed at random."
    )
    rows = [(key, what, fmt_value(summary.get(key))) for key, what in FIGURES]
    md = ["## Faithfulness (counterfactual probes)\n", intro + "\n", "| figure | value | meaning |\n|---|---|---|\n"]
    md[-1] += "".join(f"| {key} | {value} | {what} |\n" for key, what, value in rows)
    md.append(f"![faithfulness]({plot.name})\n")
    parts = [
        "<h2>Faithfulness (counterfactual probes)</h2>",
        f"<p>{html.escape(intro)}</p><table border=1 cellpadding=4>",
        "<tr><th>figure</th><th>value</th><th>meaning</th></tr>",
        "".join(f"<tr><td>{k}</td><td>{v}</td><td>{html.escape(w)}</td></tr>" for k, w, v in rows) + "</table>",
        f"<img src='data:image/png;base64,{base64.b64encode(plot.read_bytes()).decode()}'>",
    ]
    worst = sorted(answers, key=lambda a: a.scores.rank_key)[:SHOWN]
    title = f"Least faithful answers (first {SHOWN} by comprehensiveness - sufficiency)"
    md.append(f"### {title}\n")
    parts.append(f"<h3>{html.escape(title)}</h3>")
    for answer in worst:
        sample, scores = answer.sample, answer.scores
        md.append(
            f"- `{sample.id}` comprehensiveness {fmt_value(scores.comprehensiveness)}, "
            f"sufficiency {fmt_value(scores.sufficiency)}, random removal {fmt_value(scores.random_removal)}\n\n"
            "  | probe | input | answer |\n  |---|---|---|\n"
            f"  | original | {marked_md(sample.text, answer.evidence.in_field('text'))} | "
            f"{_judgment_text(answer.original)} |\n"
            + "".join(
                f"  | {PROBE_TITLES[name]} | {_md_escape(_probe_shown(answer.probes.inputs()[name], sample))} | "
                f"{_judgment_text(answer.answers[name])} |\n"
                for name in PROBE_TITLES
            )
        )
        header = "<tr><th>original</th>" + "".join(f"<th>{html.escape(t)}</th>" for t in PROBE_TITLES.values())
        cells = [f"<td>{marked_html(sample.text, answer.evidence.in_field('text'))}{not_found_html(answer.evidence)}"]
        cells[0] += f"<br><b>{html.escape(_judgment_text(answer.original))}</b></td>"
        for name in PROBE_TITLES:
            shown = html.escape(_probe_shown(answer.probes.inputs()[name], sample))
            cells.append(f"<td>{shown}<br><b>{html.escape(_judgment_text(answer.answers[name]))}</b></td>")
        parts.append(
            f"<p><code>{html.escape(sample.id)}</code>: comprehensiveness {fmt_value(scores.comprehensiveness)}, "
            f"sufficiency {fmt_value(scores.sufficiency)}, random removal {fmt_value(scores.random_removal)}</p>"
            f"<table border=1 cellpadding=4>{header}</tr><tr>{''.join(cells)}</tr></table>"
        )
    return md, parts


__all__ = ["EVIDENCE_CSS", "evidence_sections", "fmt_value", "faithfulness_sections", "marked_html", "marked_md"]
