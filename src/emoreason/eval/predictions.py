"""Score a file of predictions from any system against a dataset split.

Each line of the file is a JSON object with `id` and either `completion` (model text, parsed with
a reasoning format) or a ready `score` / `label`. Predictions that cannot be read as a number or
label still count: a regression prediction that is missing or unparsable is imputed with the
midpoint of the scale, a classification one is wrong. Failures therefore cost the system, and the
number imputed is reported, so no system looks better by failing to answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emoreason.data import DataError, Dataset, Sample, TaskInfo
from emoreason.data.adapters._rows import parse_score
from emoreason.data.jsonl import read_jsonl_strict
from emoreason.formats import get_format
from emoreason.formats.base import ParseResult


def read_predictions(path: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Rows keyed by id; malformed lines raise `DataError` naming the line."""
    if not path.is_file():
        raise DataError("predictions file does not exist", file=str(path))
    rows: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for number, row in read_jsonl_strict(path, required=("id",), hint="each line needs an object with an `id` field"):
        if not any(k in row for k in ("completion", "score", "label")):
            raise DataError("the row has none of `completion`, `score`, `label`", file=str(path), line=number)
        key = str(row["id"])
        if key in rows:
            warnings.append(f"{path}:{number}: id {key!r} repeated; the last row is used")
        rows[key] = row
    return rows, warnings


def predicted_value(row: dict[str, Any], task: TaskInfo, parsed: ParseResult | None) -> float | str | None:
    """The prediction a row gives: an explicit score/label wins over the parsed completion."""
    if task.is_regression:
        if "score" in row and row["score"] is not None:
            return parse_score(row["score"])
        return parsed.score if parsed is not None else None
    if row.get("label") is not None:
        return str(row["label"])
    return parsed.label if parsed is not None else None


def score_samples(
    samples: list[Sample], predictions: dict[str, dict[str, Any]], task: TaskInfo, format_name: str
) -> dict[str, Any]:
    """Metrics of one system's predictions on `samples` (missing ids are imputed, see module doc)."""
    from emoreason.metrics import reasoning_health, task_metrics
    from emoreason.metrics.grounding import citation_grounding, grounding_summary

    fmt = get_format(format_name)
    preds: list[float | str | None] = []
    parsed_all: list[ParseResult] = []
    lengths: list[int] = []
    citations = []
    missing = imputed = 0
    for sample in samples:
        row = predictions.get(sample.id)
        if row is None:
            missing += 1
            preds.append(None)
            continue
        parsed = None
        if isinstance(row.get("completion"), str):
            parsed = fmt.parse(row["completion"], task)
            parsed_all.append(parsed)
            lengths.append(int(row.get("completion_tokens") or len(row["completion"].split())))
            # the input the chain can cite: the sample's text and the cue text its prompt carried
            source = "\n".join(part for part in (sample.text, sample.cues) if part)
            citations.append(citation_grounding(row["completion"], source))
        preds.append(predicted_value(row, task, parsed))
    if task.is_regression:
        assert task.scale is not None
        midpoint = (task.scale[0] + task.scale[1]) / 2
        values: list[Any] = []
        for p in preds:
            if p is None:
                imputed += 1
                values.append(midpoint)
            else:
                values.append(float(p))
        gold: list[Any] = [s.score for s in samples]
    else:
        values = [p if p is not None else None for p in preds]
        imputed = sum(1 for p in preds if p is None)
        gold = [s.label for s in samples]
    metrics: dict[str, Any] = dict(task_metrics(values, gold, task))
    if parsed_all:
        metrics.update(reasoning_health(parsed_all, lengths, task))
        metrics.update(grounding_summary(citations))
    metrics["n"] = len(samples)
    metrics["missing_predictions"] = missing
    metrics["imputed_predictions"] = imputed
    return metrics


def baseline_rows(dataset: Dataset, samples: list[Sample], names: list[str]) -> dict[str, dict[str, Any]]:
    """Metrics of the named baselines, fitted on the dataset's train split."""
    from emoreason.baselines import get_baseline
    from emoreason.metrics import task_metrics

    train = dataset.split("train")
    rows = {}
    for name in names:
        baseline = get_baseline(name)
        if not train and name != "vader":
            raise ValueError(f"baseline {name!r} needs a train split, and {dataset.spec} has none")
        baseline.fit(train or samples, dataset.task)
        predictions = baseline.predict(samples)
        gold = [s.score if dataset.task.is_regression else s.label for s in samples]
        rows[name] = dict(task_metrics(predictions, gold, dataset.task)) | {"n": len(samples)}
    return rows


def evaluate_prediction_file(
    path: Path, dataset: Dataset, split: str = "test", format_name: str = "c2f", baselines: list[str] | None = None
) -> dict[str, Any]:
    predictions, warnings = read_predictions(path)
    samples = dataset.split(split)
    if not samples:
        raise DataError(f"{dataset.spec} has no samples in split {split!r} (rows per split: {dataset.split_counts()})")
    gold_ids = {s.id for s in samples}
    unknown = [k for k in predictions if k not in gold_ids]
    if unknown:
        warnings.append(f"{len(unknown)} prediction ids are not in {dataset.spec} split {split}, first: {unknown[:3]}")
    scored = sum(1 for s in samples if s.id in predictions)
    if scored == 0:
        raise DataError(
            f"none of the {len(samples)} {split} ids of {dataset.spec} is in {path}; "
            f"ids look like {samples[0].id!r}, the file has {next(iter(predictions), None)!r}"
        )
    if scored < len(samples):
        warnings.append(f"{len(samples) - scored} of {len(samples)} samples have no prediction; they are imputed")
    rows = {path.stem: score_samples(samples, predictions, dataset.task, format_name)}
    rows.update(baseline_rows(dataset, samples, baselines or []))
    return {
        "dataset": dataset.spec,
        "split": split,
        "task": dataset.task.name,
        "format": format_name,
        "n_gold": len(samples),
        "n_scored": scored,
        "rows": rows,
        "warnings": warnings,
    }
