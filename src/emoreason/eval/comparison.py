"""Baseline rows beside a system's row: fitted before anything is generated, skipped with a reason.

`emoreason evaluate` may spend hours generating answers before the baselines are needed, so they
are fitted first: a baseline that cannot run on this dataset (no train split to fit on, a task it
does not apply to, media-only samples for a text lexicon, a missing embedding model) is dropped
with a warning that says why, and the others still run. Only an unknown baseline name stops the
run, since that is a typo the user wants to fix rather than a row silently missing from a table.

Baselines are fitted on the train split only, never on the samples they are scored on: a baseline that
learns is skipped, with the reason, where the samples evaluated include train samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emoreason.baselines import Baseline, get_baseline
from emoreason.data import Dataset, Sample, TaskInfo
from emoreason.embeddings import EmbeddingModelMissing


@dataclass
class FittedBaselines:
    """The baselines ready to predict, and why each of the others was skipped."""

    fitted: dict[str, Baseline] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why it cannot run here

    def warnings(self) -> list[str]:
        return [f"baseline {name!r} skipped: {why}" for name, why in self.skipped.items()]

    def rows(self, samples: list[Sample], task: TaskInfo) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """Metrics of each fitted baseline on `samples`, and a warning for each one whose predictions
        could not be scored: that one is moved to `skipped` rather than costing every other row."""
        from emoreason.metrics import task_metrics

        gold = [s.score if task.is_regression else s.label for s in samples]
        rows: dict[str, dict[str, Any]] = {}
        failed: list[str] = []
        for name, baseline in list(self.fitted.items()):
            try:
                rows[name] = dict(task_metrics(baseline.predict(samples), gold, task)) | {"n": len(samples)}
            except ValueError as err:
                del self.fitted[name]
                self.skipped[name] = f"its predictions could not be scored: {err}"
                failed.append(f"baseline {name!r} skipped: {self.skipped[name]}")
        return rows, failed


def _why_not_applicable(baseline: Baseline, dataset: Dataset, samples: list[Sample], train: list[Sample]) -> str | None:
    """Why `baseline` cannot run on these samples at all, before trying to fit it."""
    task = dataset.task
    if not baseline.supports(task):
        kind = "a regression" if task.is_regression else "a classification"
        return f"it does not apply to {task.name!r}, {kind} task"
    if baseline.reads_text:
        textless = sum(1 for s in samples if not s.text)
        if textless:
            return f"it reads text and {textless} of {len(samples)} samples have none"
    if baseline.learns:
        train_ids = {s.id for s in train}
        seen = sum(1 for s in samples if s.id in train_ids)
        if seen:
            return (
                f"it is fitted on the train split, and {seen} of the {len(samples)} samples evaluated are train "
                "samples: its row would score it on what it learnt from (evaluate valid or test for a fair row)"
            )
    return None


def fit_baselines(dataset: Dataset, samples: list[Sample], names: list[str]) -> FittedBaselines:
    """Fit each named baseline on the dataset's train split, skipping (with the reason) those that
    cannot run. An unknown name raises ValueError."""
    train = dataset.split("train")
    result = FittedBaselines()
    baselines = {name: get_baseline(name) for name in names}  # an unknown name raises here, before any work
    for name, baseline in baselines.items():
        why = _why_not_applicable(baseline, dataset, samples, train)
        if why is None:
            try:
                result.fitted[name] = baseline.fit(train, dataset.task)
                continue
            except ValueError as err:
                why = str(err)
                if not train:
                    why = (
                        f"it is fitted on the train split and {dataset.spec} has none "
                        f"(rows per split: {dataset.split_counts()})"
                    )
            except EmbeddingModelMissing as err:
                why = str(err)
        result.skipped[name] = why
    return result


__all__ = ["FittedBaselines", "fit_baselines"]
