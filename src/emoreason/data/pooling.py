"""Several datasets read as one pool of samples: the one routine every stage uses.

    samples, task = load_pooled(["vader:tweets", "vader:products"], "train")
    samples, task = load_pooled(["vader:tweets"], "train", task=vader_task("movies"))  # rescaled

Two ways to pool, by whether the caller names the task:

- without `task`, the datasets must be of one task (same scale, same labels) and that task is
  returned, named for all of them (`vader` for vader:tweets + vader:products): training and
  distilling on several domains of one benchmark;
- with `task` (fitting a baseline for another dataset), scores are mapped linearly from each
  source's scale onto `task.scale`, and label tasks pass as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from emoreason.data.base import Dataset, load_dataset
from emoreason.data.errors import DataError
from emoreason.data.schema import Sample, TaskInfo


def _task_differences(a: TaskInfo, b: TaskInfo) -> list[str]:
    """What reads gold answers differently in two tasks: scale, labels, the neutral band, the labels'
    polarities (a pool has one task, so a second dataset's neutral band was silently the first's)."""
    return [
        f"{name} {left} vs {right}"
        for name, left, right in (
            ("scale", a.scale, b.scale),
            ("labels", a.labels, b.labels),
            ("neutral band", a.neutral.describe(), b.neutral.describe()),
            ("label polarities", a.label_polarity, b.label_polarity),
        )
        if left != right
    ]


def _rescaled(samples: list[Sample], source: Dataset, task: TaskInfo) -> list[Sample]:
    if task.scale is None:
        return samples
    if source.task.scale is None:
        raise DataError(f"{source.spec} has labels, not scores; it cannot be pooled into {task.name!r}")
    (lo, hi), (to_lo, to_hi) = source.task.scale, task.scale
    if (lo, hi) == (to_lo, to_hi):
        return samples
    factor = (to_hi - to_lo) / (hi - lo)
    return [s if s.score is None else dataclasses.replace(s, score=to_lo + (s.score - lo) * factor) for s in samples]


def pool_samples(
    datasets: Sequence[Dataset], split: str, limit: int | None = None, *, task: TaskInfo | None = None
) -> tuple[list[Sample], TaskInfo]:
    """The `split` of each dataset (its first `limit` samples when given) as one list, and the
    pool's task. Raises `DataError` on an empty list, a dataset whose split is empty, or (no
    `task` given) datasets of different tasks."""
    if not datasets:
        raise DataError("no dataset to pool; give at least one dataset spec")
    pooled: list[Sample] = []
    first = datasets[0]
    where: dict[str, str] = {}  # sample id -> the dataset it came from
    for dataset in datasets:
        differences = _task_differences(first.task, dataset.task) if task is None else []
        if differences:
            raise DataError(
                f"{first.spec} ({first.task.name}) and {dataset.spec} ({dataset.task.name}) read gold answers "
                f"differently ({'; '.join(differences)}); pool datasets of one task only (give them the same "
                "options, e.g. the same ?neutral=)"
            )
        chosen = dataset.split(split)
        if not chosen:
            raise DataError(
                f"{dataset.spec} has no {split} split (rows per split: {dataset.split_counts()}); a file's rows take "
                "theirs from a `split` column (a row without one counts as test), an image folder from "
                "DIR/<split>/<label>/ (DIR/<label>/ alone is all test)"
            )
        chosen = chosen[:limit] if limit else chosen
        for sample in chosen:  # answers, caches and predictions are keyed by id: two samples under one id collide
            if sample.id in where:
                raise DataError(
                    f"id {sample.id!r} is in both {where[sample.id]} and {dataset.spec}: pooled samples need ids of "
                    "their own (an `id` column; rows without one are named line1, line2, ... in every file)"
                )
        where.update((sample.id, dataset.spec) for sample in chosen)
        pooled.extend(chosen if task is None else _rescaled(chosen, dataset, task))
    if task is not None:
        return pooled, task
    names = sorted({dataset.task.name for dataset in datasets})
    if len(names) == 1:
        return pooled, first.task
    # one task under several names (vader:tweets, vader:products): named for all of them, not for the
    # first, which adapters trained on the pool would otherwise record as what they answer
    families = {name.partition(":")[0] for name in names}
    return pooled, dataclasses.replace(first.task, name=families.pop() if len(families) == 1 else "+".join(names))


def load_pooled(
    specs: str | Sequence[str], split: str, limit: int | None = None, *, task: TaskInfo | None = None
) -> tuple[list[Sample], TaskInfo]:
    """`pool_samples` of the datasets that the spec strings name (one spec or several)."""
    specs = [specs] if isinstance(specs, str) else list(specs)
    return pool_samples([load_dataset(spec) for spec in specs], split, limit, task=task)


__all__ = ["load_pooled", "pool_samples"]
