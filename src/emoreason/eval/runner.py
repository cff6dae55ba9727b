"""`emoreason evaluate`: run a model on a dataset split, resumably, then score and report.

Predictions are appended to `predictions.jsonl` one batch at a time and flushed, so an
interrupted run (Ctrl-C, a crash, a killed job) loses at most the batch in flight; a rerun
skips every id already in the file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from emoreason.data import Dataset, Sample
from emoreason.eval.predictions import baseline_rows, score_samples
from emoreason.eval.report import write_report
from emoreason.generation import GenerationBackend, SamplingParams
from emoreason.inference import analyze

log = logging.getLogger(__name__)


def done_ids(path: Path) -> set[str]:
    """Ids already in a predictions file; a torn last line (killed mid-write) is ignored."""
    ids: set[str] = set()
    if not path.is_file():
        return ids
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                ids.add(str(json.loads(line)["id"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return ids


def drop_torn_tail(path: Path) -> None:
    """Cut a last line that a killed run left half-written, so appending starts on a fresh line."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    log.warning("dropping a half-written last line of %s (%d bytes)", path, len(data) - cut)
    with path.open("r+b") as handle:
        handle.truncate(cut)


def load_records(path: Path) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                records[str(row["id"])] = row
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return records


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
    drop_torn_tail(predictions_path)
    finished = done_ids(predictions_path)
    todo = [s for s in samples if s.id not in finished]
    if finished:
        log.warning("resuming: %d of %d samples already in %s", len(samples) - len(todo), len(samples), predictions_path)
    gold = {s.id: s for s in samples}

    with predictions_path.open("a", encoding="utf-8") as handle:
        def persist(batch: list[dict[str, Any]]) -> None:
            for record in batch:
                sample = gold[record["id"]]
                record["gold_score"], record["gold_label"] = sample.score, sample.label
                record["gold_polarity"] = dataset.task.gold_polarity(sample)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()

        if todo:
            if progress_factory is not None:
                with progress_factory(len(samples), len(samples) - len(todo)) as advance:
                    analyze(engine, todo, dataset.task, format_name, model_name, params, batch_size, advance, persist)
            else:
                analyze(engine, todo, dataset.task, format_name, model_name, params, batch_size, None, persist)

    records = load_records(predictions_path)
    ordered = [records[s.id] for s in samples if s.id in records]
    by_id = {r["id"]: {"completion": r["raw_completion"], "completion_tokens": r.get("completion_tokens")} for r in ordered}
    rows = {"model": score_samples(samples, by_id, dataset.task, format_name)}
    text_only = all(s.text for s in samples)
    rows.update(baseline_rows(dataset, samples, [b for b in baselines if b != "vader" or text_only]))
    metrics = {"dataset": dataset.spec, "split": split, "n": len(samples),
               "model": model_name, "format": format_name,
               "generation": {"max_new_tokens": params.max_new_tokens, "temperature": params.temperature,
                              "top_p": params.top_p}, "rows": rows}
    write_report(out, f"emoreason evaluation: {dataset.spec}", metrics, ordered, samples, dataset.task)
    return metrics
