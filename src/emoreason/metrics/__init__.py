"""Metrics for every task family, and `task_metrics`, which picks the family from the task.

- MMSA datasets (metric_set "mosi", "mosei", "sims", "simsv2"): MMSA's own keys
  (`regression_metrics`, 4-decimal parity with MMSA's metricsTop.py) plus the generic set.
- "generic": `generic_regression_metrics` on the task's scale and neutral band.
- "classification": `classification_metrics` on the task's label set.

Reasoning health (`reasoning_health`) is computed alongside by the evaluation code; bootstrap
intervals (`bootstrap_ci`, and `paired_difference` for two systems on the same items, which
`emoreason compare` reports) are for the reports that set figures side by side.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from emoreason.data.schema import Sample, TaskInfo
from emoreason.metrics.bootstrap import PairedDifference, bootstrap_ci, bootstrap_distribution, paired_difference
from emoreason.metrics.classification import INVALID, classification_metrics
from emoreason.metrics.health import reasoning_health
from emoreason.metrics.regression import (
    MMSA_DATASETS,
    generic_regression_metrics,
    mosi_metrics,
    regression_metrics,
    sims_metrics,
)

__all__ = [
    "INVALID",
    "MMSA_DATASETS",
    "PairedDifference",
    "bootstrap_ci",
    "bootstrap_distribution",
    "classification_metrics",
    "generic_regression_metrics",
    "mosi_metrics",
    "paired_difference",
    "reasoning_health",
    "regression_metrics",
    "sims_metrics",
    "task_metrics",
]


def _gold_values(gold: Sequence[Any], task: TaskInfo) -> list[Any]:
    """Gold targets as plain values; `Sample`s give their score (regression) or label."""
    values = []
    for i, g in enumerate(gold):
        if isinstance(g, Sample):
            g = g.score if task.is_regression else g.label
        if g is None:
            raise ValueError(f"gold item {i} has no {'score' if task.is_regression else 'label'}")
        values.append(g)
    return values


def _is_invalid_score(value: Any) -> bool:
    return value is None or (isinstance(value, numbers.Real) and math.isnan(float(value)))


def task_metrics(
    pred_scores_or_labels: Sequence[float | str | None],
    gold: Sequence[float | str | Sample],
    task: TaskInfo,
    *,
    invalid_score: float | None = None,
) -> dict[str, Any]:
    """All headline metrics for `task`, chosen by `task.metric_set`.

    Regression tasks need a number for every prediction. A prediction that is None or NaN
    (an unparsed answer) is replaced by `invalid_score` when given (e.g. the scale midpoint,
    so an unparsed answer costs what a neutral guess costs); otherwise a ValueError names
    the problem, because silently dropping failures would flatter the model. The count is
    reported as `n_invalid`. Classification predictions that are None or outside the label
    set count as wrong (see `classification_metrics`). `gold` may be values or `Sample`s.
    """
    gold_values = _gold_values(gold, task)
    if len(pred_scores_or_labels) != len(gold_values):
        raise ValueError(f"{len(pred_scores_or_labels)} predictions for {len(gold_values)} gold items")
    metric_set = task.metric_set.lower()

    if metric_set == "classification":
        labels = task.labels or tuple(sorted({str(g) for g in gold_values}))
        return classification_metrics(
            [p if isinstance(p, str) else None for p in pred_scores_or_labels], [str(g) for g in gold_values], labels
        )

    if metric_set not in (*MMSA_DATASETS, "generic"):
        raise ValueError(f"task {task.name!r} has unknown metric_set {task.metric_set!r}")
    if task.scale is None:
        raise ValueError(f"task {task.name!r} uses metric_set {metric_set!r} but has no score scale")

    invalid = [i for i, p in enumerate(pred_scores_or_labels) if _is_invalid_score(p)]
    if invalid and invalid_score is None:
        raise ValueError(
            f"{len(invalid)} of {len(gold_values)} predictions have no score (first at item {invalid[0]}); "
            "pass invalid_score= to decide what an unparsed answer counts as"
        )
    preds = [invalid_score if _is_invalid_score(p) else float(p) for p in pred_scores_or_labels]  # type: ignore[arg-type]
    golds = [float(g) for g in gold_values]

    result: dict[str, Any] = {}
    if metric_set in MMSA_DATASETS:
        result.update(regression_metrics(preds, golds, metric_set))
    result.update(generic_regression_metrics(preds, golds, task.scale, task.neutral))
    result["n_invalid"] = len(invalid)
    return result
