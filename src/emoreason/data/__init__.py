"""Datasets: one sample schema, task descriptions and adapters addressed by spec strings."""

from emoreason.data.base import ADAPTERS, Dataset, load_dataset, random_subset
from emoreason.data.errors import BadRow, DataError, LoadReport
from emoreason.data.pooling import load_pooled, pool_samples
from emoreason.data.schema import (
    MIKELS_VALENCE,
    MMSA_TASKS,
    POLARITIES,
    SPLITS,
    NeutralBand,
    Polarity,
    Sample,
    TaskInfo,
    mikels_task,
    normalize_label,
    quotable_source,
    vader_task,
)
from emoreason.data.spec import DatasetSpec, parse_spec

__all__ = [
    "ADAPTERS",
    "BadRow",
    "DataError",
    "Dataset",
    "DatasetSpec",
    "LoadReport",
    "MIKELS_VALENCE",
    "MMSA_TASKS",
    "NeutralBand",
    "POLARITIES",
    "Polarity",
    "SPLITS",
    "Sample",
    "TaskInfo",
    "load_dataset",
    "load_pooled",
    "mikels_task",
    "normalize_label",
    "parse_spec",
    "quotable_source",
    "pool_samples",
    "random_subset",
    "vader_task",
]
