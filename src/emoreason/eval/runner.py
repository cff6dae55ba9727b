"""`emoreason evaluate`: run a model on a dataset split, resumably, then score and report.

Predictions are appended to `predictions.jsonl` one batch at a time and flushed, so an
interrupted run (Ctrl-C, a crash, a killed job) loses at most the batch in flight; a rerun
skips every id already in the file, after dropping a line the interrupted run left half-written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from emoreason.data import Dataset, Sample
from emoreason.data.jsonl import AppendOnlyJsonl, read_jsonl_keyed
from emoreason.eval.predictions import baseline_rows, score_samples
from emoreason.eval.report import write_report
from emoreason.generation import GenerationBackend, SamplingParams
from emoreason.inference import analyze

log = logging.getLogger(__name__)


def finished_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """Prediction records already in the file, by id. A line torn by a killed run is skipped (and
    its sample redone): warned about, never fatal, since failing would throw away the whole resume."""
    read = read_jsonl_keyed(path, "id")
    if read.skipped:
        log.warning("%s: %s; their samples are predicted again", path, read.skipped_summary())
    return read.records


def evaluate_model(
    engine: GenerationBackend,
    dataset: Dataset,
    samples: list[Sample],
    out: Path,
    model_name: str,
    format_name: str,
    params: SamplingParams,
    batch_size: int,
    baselines: list[str],
    split: str = "test",
    progress_factory: Any = None,
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    predictions_path = out / "predictions.jsonl"
    finished = finished_predictions(predictions_path)
    todo = [s for s in samples if s.id not in finished]
    if finished:
        log.warning(
            "resuming: %d of %d samples already in %s", len(samples) - len(todo), len(samples), predictions_path
        )
    gold = {s.id: s for s in samples}

    predictions_log = AppendOnlyJsonl(predictions_path)  # repairs a torn last line before the first batch

    def persist(batch: list[dict[str, Any]]) -> None:
        for record in batch:
            sample = gold[record["id"]]
            record["gold_score"], record["gold_label"] = sample.score, sample.label
            record["gold_polarity"] = dataset.task.gold_polarity(sample)
        predictions_log.extend(batch)

    if todo:
        if progress_factory is not None:
            with progress_factory(len(samples), len(samples) - len(todo)) as advance:
                analyze(engine, todo, dataset.task, format_name, model_name, params, batch_size, advance, persist)
        else:
            analyze(engine, todo, dataset.task, format_name, model_name, params, batch_size, None, persist)

    records = read_jsonl_keyed(predictions_path, "id").records
    ordered = [records[s.id] for s in samples if s.id in records]
    by_id = {
        r["id"]: {"completion": r["raw_completion"], "completion_tokens": r.get("completion_tokens")} for r in ordered
    }
    rows = {"model": score_samples(samples, by_id, dataset.task, format_name)}
    text_only = all(s.text for s in samples)
    rows.update(baseline_rows(dataset, samples, [b for b in baselines if b != "vader" or text_only]))
    metrics = {
        "dataset": dataset.spec,
        "split": split,
        "n": len(samples),
        "model": model_name,
        "format": format_name,
        "generation": {
            "max_new_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        },
        "rows": rows,
    }
    write_report(out, f"emoreason evaluation: {dataset.spec}", metrics, ordered, samples, dataset.task)
    return metrics
