"""Two evaluation runs of the same samples, side by side, with the paired difference.

    result = compare_runs("runs/eval/sft", "runs/eval/grpo")   # folders written by `emoreason evaluate`
    result["metrics"]["pearson_r"]  # {"a": .., "b": .., "difference": b - a, "low": .., "high": .., ...}

Whether B is better than A is a question about the same sentences: the paired bootstrap
(`metrics.paired_difference`) resamples the items once and scores both systems on each resample.
Only ids present in both runs are compared, and their gold values must agree (two runs of
different data are refused). An answer with no usable score counts as the scale's midpoint, as in
`evaluate` (whose rule `usable_score` applies); a label outside the label set is wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emoreason.data import DataError
from emoreason.data.jsonl import read_jsonl_strict
from emoreason.data.schema import POLARITIES, TaskInfo, normalize_label
from emoreason.eval.predictions import read_prediction
from emoreason.eval.run_identity import IDENTITY_FILE, PREDICTIONS_FILE, RunMismatch, read_identity_file, selected_ids
from emoreason.metrics import PairedDifference, paired_difference
from emoreason.metrics.regression import _pearson, polarity_array, polarity_recall, uar_3

MetricFn = Callable[[NDArray[Any], NDArray[Any]], float]

#: metrics where lower is better: their "B better" direction is a negative difference
LOWER_IS_BETTER = frozenset({"mae"})


def regression_metric_fns(task: TaskInfo) -> dict[str, MetricFn]:
    """r, MAE, F1-3 and acc-3, then where acc-3 moves: each gold polarity's recall and their
    unweighted mean (`uar_3`), which tell a model that separates the polarities better from one
    that moved its answers toward one polarity."""

    def on_polarities(fn: Callable[[NDArray[Any], NDArray[Any]], float]) -> MetricFn:
        return lambda pred, true: fn(polarity_array(pred, task.neutral), polarity_array(true, task.neutral))

    def f1_3(pred: NDArray[Any], true: NDArray[Any]) -> float:
        from sklearn.metrics import f1_score

        return float(f1_score(true, pred, labels=list(POLARITIES), average="weighted", zero_division=0))

    return {
        "pearson_r": lambda p, t: _pearson(p.astype(np.float64), t.astype(np.float64)),
        "mae": lambda p, t: float(np.mean(np.abs(p.astype(np.float64) - t.astype(np.float64)))),
        "f1_3_weighted": on_polarities(f1_3),
        "acc_3": on_polarities(lambda p, t: float(np.mean(p == t))),
        "uar_3": on_polarities(uar_3),
        **{f"recall_{name}": on_polarities(lambda p, t, name=name: polarity_recall(p, t, name)) for name in POLARITIES},
    }


def classification_metric_fns() -> dict[str, MetricFn]:
    def uar(pred: NDArray[Any], true: NDArray[Any]) -> float:
        return float(np.mean([np.mean(pred[true == label] == label) for label in np.unique(true)]))

    return {"war": lambda p, t: float(np.mean(p == t)), "uar": uar}


def read_run(folder: str | Path) -> tuple[dict[str, dict[str, Any]], TaskInfo]:
    """An evaluate folder's records by id, those of its current selection only (`selected_ids`),
    and its task (from run.json)."""
    folder = Path(folder)
    identity, predictions = folder / IDENTITY_FILE, folder / PREDICTIONS_FILE
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise DataError(f"{what}: give a run folder written by `emoreason evaluate` (its --out)", file=str(folder))
    for needed in (identity, predictions):
        if not needed.is_file():
            raise DataError(
                f"{needed.name} is missing: give a run folder written by `emoreason evaluate` (its --out)",
                file=str(folder),
            )
    try:
        stored = read_identity_file(folder)
    except RunMismatch as err:
        raise DataError(str(err), file=str(identity)) from None
    task = TaskInfo.from_dict(stored["identity"]["task"])  # type: ignore[index]
    records = {str(row["id"]): row for _, row in read_jsonl_strict(predictions, required=("id",))}
    chosen = selected_ids(stored)  # type: ignore[arg-type]
    if chosen is not None:  # a folder reused with another --sample keeps the old answers too: not this run's
        records = {key: row for key, row in records.items() if key in chosen}
    return records, task


def usable_score(record: dict[str, Any], task: TaskInfo) -> float:
    """The score an evaluate record counts with, by evaluate's own rule (`predictions.read_prediction`):
    its `score` when a finite number on the task's scale (on an MMSA task, outside it too: MMSA's
    metrics clip it), else the scale's midpoint (an unparsed or out-of-range answer)."""
    low, high = task.scale
    value = read_prediction({"score": record.get("score")}, task, None).value
    return float(value) if isinstance(value, (int, float)) else (low + high) / 2.0


def paired_metrics(
    task: TaskInfo,
    pred_a: NDArray[Any],
    pred_b: NDArray[Any],
    gold: NDArray[Any],
    names: tuple[str, ...] | None = None,
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, PairedDifference]:
    """The task's metrics (`regression_metric_fns` or `classification_metric_fns`; only `names`
    when given) of predictions A and B on the same items, each with the paired bootstrap
    difference B - A. All metrics share one seed, so they are read off the same resamples."""
    fns = regression_metric_fns(task) if task.is_regression else classification_metric_fns()
    unknown = set(names or ()) - set(fns)
    if unknown:
        raise ValueError(f"unknown metric(s) {sorted(unknown)}; valid: {', '.join(fns)}")
    return {name: paired_difference(fns[name], pred_a, pred_b, gold, n, seed, alpha) for name in names or tuple(fns)}


def compare_runs(a: str | Path, b: str | Path, n: int = 1000, seed: int = 0, alpha: float = 0.05) -> dict[str, Any]:
    """Each metric of runs `a` and `b` on their shared ids, and the paired bootstrap difference
    b - a with its (1 - alpha) interval. Raises `DataError` when the runs share no ids, disagree
    on a gold value, or are of different tasks."""
    rows_a, task = read_run(a)
    rows_b, task_b = read_run(b)
    if task.to_dict() != task_b.to_dict():
        raise DataError(f"the runs are of different tasks ({task.name!r} and {task_b.name!r})", file=str(b))
    shared = sorted(set(rows_a) & set(rows_b))
    if not shared:
        raise DataError("the two runs share no sample ids: compare two evaluations of the same samples", file=str(b))
    field = "gold_score" if task.is_regression else "gold_label"
    for i in shared:
        if rows_a[i].get(field) != rows_b[i].get(field):
            raise DataError(
                f"sample {i!r} has {field} {rows_a[i].get(field)!r} in one run, {rows_b[i].get(field)!r} "
                "in the other: these are not the same data",
                file=str(b),
            )
    if task.is_regression:
        gold = np.array([float(rows_a[i][field]) for i in shared])
        pred_a = np.array([usable_score(rows_a[i], task) for i in shared])
        pred_b = np.array([usable_score(rows_b[i], task) for i in shared])
    else:
        gold = np.array([normalize_label(str(rows_a[i][field])) for i in shared], dtype=object)
        pred_a, pred_b = (
            np.array([normalize_label(str(rows[i].get("label") or "")) for i in shared], dtype=object)
            for rows in (rows_a, rows_b)
        )
    differences = paired_metrics(task, pred_a, pred_b, gold, n=n, seed=seed, alpha=alpha)
    parsed = [np.array([bool(rows[i].get("parse_ok")) for i in shared], dtype=np.float64) for rows in (rows_a, rows_b)]
    differences["parse_rate"] = paired_difference(lambda p, t: float(np.mean(p)), *parsed, gold, n, seed, alpha)
    metrics = {name: {**d.to_dict(), "lower_is_better": name in LOWER_IS_BETTER} for name, d in differences.items()}
    # a class's recall rests on that class's gold items only (2 neutral sentences of 12, say): say how many
    golds = Counter((polarity_array(gold, task.neutral) if task.is_regression else gold).tolist())
    for name, row in metrics.items():
        if name.startswith("recall_"):
            row["n_gold"] = golds.get(name.removeprefix("recall_"), 0)
    return {
        "a": str(a),
        "b": str(b),
        "task": task.name,
        "n_shared": len(shared),
        "only_in_a": len(set(rows_a) - set(rows_b)),
        "only_in_b": len(set(rows_b) - set(rows_a)),
        "bootstrap": {"resamples": n, "seed": seed, "confidence": 1 - alpha},
        "metrics": metrics,
    }


__all__ = ["LOWER_IS_BETTER", "compare_runs", "paired_metrics", "read_run", "usable_score"]
