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


def _same_task(a: TaskInfo, b: TaskInfo) -> bool:
    return a.scale == b.scale and a.labels == b.labels


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
    for dataset in datasets:
        if task is None and not _same_task(dataset.task, first.task):
            raise DataError(
                f"{dataset.spec} ({dataset.task.name}) and {first.spec} ({first.task.name}) are different "
                "tasks; pool datasets of one scale or label set only"
            )
        chosen = dataset.split(split)
        if not chosen:
            raise DataError(f"{dataset.spec} has no {split} split (rows per split: {dataset.split_counts()})")
        chosen = chosen[:limit] if limit else chosen
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
