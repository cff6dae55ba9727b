"""The loaded-dataset object and the adapter registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from emoreason.data.errors import DataError, LoadReport
from emoreason.data.schema import SPLITS, Sample, TaskInfo
from emoreason.data.spec import DatasetSpec, parse_spec


@dataclass
class Dataset:
    """Samples of every split from one source, the task that reads them, and the load report."""

    spec: str
    task: TaskInfo
    samples: list[Sample]
    report: LoadReport
    # Options an adapter understood; anything else in the spec is an error (typos surface).
    extra: dict[str, object] = field(default_factory=dict)

    def split(self, name: str | None) -> list[Sample]:
        """Samples of one split; `all` (or None) gives every row whatever its split."""
        if name in (None, "all"):
            return list(self.samples)
        if name not in SPLITS:
            raise DataError(f"unknown split {name!r}; use one of {', '.join(SPLITS)} or all")
        return [s for s in self.samples if s.split == name]

    def split_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for sample in self.samples:
            counts[sample.split] = counts.get(sample.split, 0) + 1
        return counts

    def by_id(self) -> dict[str, Sample]:
        return {s.id: s for s in self.samples}

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __len__(self) -> int:
        return len(self.samples)


Adapter = Callable[[DatasetSpec, bool], Dataset]


@dataclass(frozen=True)
class AdapterInfo:
    kind: str
    usage: str
    description: str
    options: dict[str, str]
    load: Adapter


ADAPTERS: dict[str, AdapterInfo] = {}


def random_subset(samples: list[Sample], n: int, seed: int = 0, outside: bool = False) -> list[Sample]:
    """`n` samples drawn without replacement with `seed`, kept in their original order (all of
    them when there are fewer). For evaluation subsets: the first N of a file sorted by label
    are not a sample of it. `outside=True` returns the other samples instead, in order: the part of
    a split that a seeded sample already looked at has not seen (none when `n` covers them all)."""
    import numpy as np

    if n < 1:
        raise ValueError(f"the subset size must be >= 1, got {n}")
    if n >= len(samples):
        return [] if outside else list(samples)
    chosen = set(np.random.default_rng(seed).choice(len(samples), size=n, replace=False).tolist())
    return [sample for i, sample in enumerate(samples) if (i in chosen) != outside]


def register(kind: str, usage: str, description: str, options: dict[str, str] | None = None):
    """Register an adapter under a spec kind; `options` documents the query parameters it takes."""

    def wrap(fn: Adapter) -> Adapter:
        ADAPTERS[kind] = AdapterInfo(
            kind, usage, description, {"strict": "stop at the first bad row", **(options or {})}, fn
        )
        return fn

    return wrap


def load_dataset(spec: str | DatasetSpec, strict: bool | None = None) -> Dataset:
    """Load every split of a dataset addressed by a spec string.

    `strict` (or `?strict=true` in the spec) raises `DataError` at the first bad row; by
    default bad rows are skipped and counted in `dataset.report`.
    """
    from emoreason.data import adapters  # noqa: F401  (registers the built-in adapters)

    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    info = ADAPTERS.get(parsed.kind)
    if info is None:
        known = ", ".join(sorted(ADAPTERS))
        raise DataError(f"unknown dataset kind {parsed.kind!r} in {str(parsed)!r}; known kinds: {known}")
    unknown = sorted(set(parsed.options) - set(info.options))
    if unknown:
        raise DataError(
            f"unknown option(s) {', '.join(unknown)} for {parsed.kind}: datasets; "
            f"accepted: {', '.join(sorted(info.options))}"
        )
    is_strict = parsed.flag("strict", False) if strict is None else strict
    return info.load(parsed, is_strict)
