"""`evaluate --faithfulness`: ask the model again without, and with only, the evidence each answer
cites, and with as many other words removed (`emoreason.metrics.faithfulness` defines the probes
and every number).

The probes of all answers go through the engine of the main pass, with the same prompt and
generation settings, several answers per batch. Each answer's three probe answers are appended to
faithfulness.jsonl as soon as its batch is done; a rerun reuses a stored line when its probe
inputs and seed are those it would build now (the same run's answers give the same probes), and
asks again otherwise, so an interrupted or extended run only asks what it lacks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emoreason.data import Sample, TaskInfo
from emoreason.data.jsonl import AppendOnlyJsonl, read_jsonl_keyed
from emoreason.eval.progress import run_counted
from emoreason.formats import get_format
from emoreason.formats.base import ReasoningFormat
from emoreason.formats.conversation import build_conversation
from emoreason.generation import GenerationBackend, SamplingParams
from emoreason.metrics.evidence import Evidence, mark_evidence
from emoreason.metrics.faithfulness import (
    PROBES,
    Judgment,
    ProbeInput,
    Probes,
    ProbeScores,
    build_probes,
    faithfulness_summary,
    probe_scores,
)

log = logging.getLogger(__name__)

FAITHFULNESS_FILE = "faithfulness.jsonl"


@dataclass
class ProbedAnswer:
    """One probed answer: its sample, original prediction, evidence, probes, the probe answers
    (judgment and completion by probe name) and its scores."""

    sample: Sample
    original: Judgment
    evidence: Evidence
    probes: Probes
    answers: dict[str, Judgment]
    completions: dict[str, str]
    scores: ProbeScores


@dataclass
class FaithfulnessResult:
    """The figures for metrics.json (`summary`) and the probed answers, in sample order."""

    summary: dict[str, Any]
    answers: list[ProbedAnswer] = field(default_factory=list)


def source_fields(sample: Sample) -> tuple[str, str]:
    """The input a chain can cite, as the main pass gave it: the text and the sample's cue text."""
    return sample.text or "", sample.cues or ""


def judgment_of(score: Any, label: Any, polarity: Any, task: TaskInfo) -> Judgment:
    """A prediction as the metrics use it: a score outside the task's scale, or not a number, is none."""
    usable = None
    if isinstance(score, (int, float)) and not isinstance(score, bool) and task.scale is not None:
        usable = float(score) if task.in_scale(float(score)) else None
    return Judgment(usable, str(label) if label is not None else None, polarity)


def usable(judgment: Judgment, task: TaskInfo) -> bool:
    return judgment.score is not None if task.is_regression else judgment.label is not None


def probe_seed(seed: int, sample_id: str) -> str:
    """Each answer's random control has its own seed, fixed by the run's seed and the sample id."""
    return f"{seed}:{sample_id}"


def _conversation(sample: Sample, probe: ProbeInput, fmt: ReasoningFormat, task: TaskInfo) -> Any:
    cues = probe.cues or None
    return build_conversation(sample.with_(text=probe.text, cues=cues), fmt, task, cues=cues)


def _stored_line(item: ProbedAnswer, seed: int) -> dict[str, Any]:
    return {
        "id": item.sample.id,
        "seed": probe_seed(seed, item.sample.id),
        "inputs": item.probes.to_dict(),
        "answers": {name: item.answers[name].to_dict() | {"raw_completion": item.completions[name]} for name in PROBES},
    }


def run_faithfulness(
    engine: GenerationBackend,
    samples: Sequence[Sample],
    records: dict[str, dict[str, Any]],
    task: TaskInfo,
    format_name: str,
    params: SamplingParams,
    batch_size: int,
    out: Path,
    seed: int = 0,
    progress_factory: Any = None,
) -> FaithfulnessResult:
    """Probe every answer of `samples` (audit records by id) that has a usable prediction and cites
    evidence found in its input; reuse the answers stored in `out`/faithfulness.jsonl (module doc)."""
    fmt = get_format(format_name)
    path = out / FAITHFULNESS_FILE
    stored = read_jsonl_keyed(path, "id")
    if stored.skipped:
        log.warning("%s: %s; those probes are asked again", path, stored.skipped_summary())
    counts = {"n_answers": 0, "n_citing": 0, "n_not_in_input": 0}
    planned: list[tuple[Sample, Judgment, Evidence, Probes]] = []
    for sample in samples:
        record = records.get(sample.id)
        if record is None:
            continue
        # the score the chain wrote, as the probes' answers are read (`fmt.parse`): the record's own score may be
        # a readout's (`--score-readout confidence`), and every probe then "changed" the answer by the difference
        written = record["written_score"] if record.get("written_score") is not None else record.get("score")
        original = judgment_of(written, record.get("label"), record.get("polarity"), task)
        if not usable(original, task):
            continue
        counts["n_answers"] += 1
        text, cues = source_fields(sample)
        evidence = mark_evidence(record.get("raw_completion") or "", text, cues)
        if not evidence.spans and not evidence.not_found:
            continue
        counts["n_citing"] += 1
        probes = build_probes(evidence, text, cues, probe_seed(seed, sample.id))
        if probes is None:
            counts["n_not_in_input"] += 1
            continue
        planned.append((sample, original, evidence, probes))

    done: dict[str, ProbedAnswer] = {}
    todo = []
    for sample, original, evidence, probes in planned:
        line = stored.records.get(sample.id)
        if line and line.get("seed") == probe_seed(seed, sample.id) and line.get("inputs") == probes.to_dict():
            answers = {name: Judgment.from_dict(line["answers"][name]) for name in PROBES}
            completions = {name: str(line["answers"][name].get("raw_completion", "")) for name in PROBES}
            done[sample.id] = _probed(sample, original, evidence, probes, answers, completions, task)
        else:
            todo.append((sample, original, evidence, probes))
    if done and todo:
        log.warning("faithfulness: %d of %d answers already probed in %s", len(done), len(planned), path)

    writer = AppendOnlyJsonl(path)
    per_batch = max(1, batch_size // len(PROBES))

    def ask(advance: Any) -> None:
        for start in range(0, len(todo), per_batch):
            chunk = todo[start : start + per_batch]
            conversations = [
                _conversation(sample, probes.inputs()[name], fmt, task)
                for sample, _, _, probes in chunk
                for name in PROBES
            ]
            outputs = iter(engine.generate(conversations, params))
            lines = []
            for sample, original, evidence, probes in chunk:
                outs = {name: next(outputs)[0] for name in PROBES}
                completions = {name: out.text for name, out in outs.items()}
                answers = {}
                for name, text in completions.items():
                    parsed = fmt.parse(text, task, cut=outs[name].finish_reason == "length")
                    answers[name] = judgment_of(parsed.score, parsed.label, parsed.polarity, task)
                item = _probed(sample, original, evidence, probes, answers, completions, task)
                done[sample.id] = item
                lines.append(_stored_line(item, seed))
            writer.extend(lines)
            if advance is not None:
                advance(len(chunk))

    if todo:
        run_counted(progress_factory, len(planned), len(planned) - len(todo), ask)

    answers = [done[sample.id] for sample, *_ in planned]
    unparsed = sum(not usable(a.answers[name], task) for a in answers for name in PROBES)
    summary = {
        **counts,
        **faithfulness_summary([a.scores for a in answers]),
        "n_probe_answers_unusable": unparsed,
        "change_unit": "score, task scale" if task.is_regression else "label changed (0/1)",
        "seed": seed,
    }
    return FaithfulnessResult(summary, answers)


def _probed(
    sample: Sample,
    original: Judgment,
    evidence: Evidence,
    probes: Probes,
    answers: dict[str, Judgment],
    completions: dict[str, str],
    task: TaskInfo,
) -> ProbedAnswer:
    scores = probe_scores(
        original, answers["without"], answers["only"], answers["random"], task.is_regression, probes.cited_tokens
    )
    return ProbedAnswer(sample, original, evidence, probes, answers, completions, scores)


__all__ = ["FAITHFULNESS_FILE", "FaithfulnessResult", "ProbedAnswer", "run_faithfulness"]
