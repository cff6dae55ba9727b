"""`mmsa:PATH?dataset=mosi|mosei|sims|simsv2`: MMSA feature pickles (METHOD.md §5).

A pickle runs code when loaded, so only a path the user names is ever opened, and a warning
says so. Only raw text, ids and labels are kept; the feature arrays (GBs for MOSEI) are
dropped after reading and re-read on demand through `MMSAFeatures`.
"""

from __future__ import annotations

import logging
import pickle
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.data.base import Dataset, register
from emoreason.data.errors import BadRow, DataError, LoadReport
from emoreason.data.schema import MMSA_TASKS, Sample
from emoreason.data.spec import DatasetSpec

log = logging.getLogger(__name__)
PICKLE_SPLITS = {"train": "train", "valid": "valid", "test": "test"}
UNIMODAL = {"T": "label_T", "A": "label_A", "V": "label_V"}


def _open_pickle(path: Path) -> dict[str, Any]:
    log.warning("loading pickle %s: pickles execute code when loaded; only open files you trust", path)
    try:
        with path.open("rb") as handle:
            data = pickle.load(handle)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as err:
        raise DataError(f"not a readable MMSA pickle ({type(err).__name__}: {err})", file=str(path)) from None
    if not isinstance(data, dict) or not any(k in data for k in PICKLE_SPLITS):
        keys = list(data)[:8] if isinstance(data, dict) else type(data).__name__
        raise DataError(f"expected a dict with train/valid/test entries, found {keys}", file=str(path))
    return data


class MMSAFeatures:
    """Per-sample audio/vision/text features, read from the pickle only when first asked for."""

    def __init__(self, path: Path):
        self.path = path

    @cached_property
    def _index(self) -> dict[str, tuple[str, int]]:
        return {sample_id: (split, i) for split, ids in self._ids.items() for i, sample_id in enumerate(ids)}

    @cached_property
    def _data(self) -> dict[str, Any]:
        return _open_pickle(self.path)

    @cached_property
    def _ids(self) -> dict[str, list[str]]:
        return {split: [str(x) for x in self._data[split]["id"]] for split in PICKLE_SPLITS if split in self._data}

    def get(self, sample_id: str, modality: str) -> np.ndarray:
        """`modality` is `audio`, `vision` or `text` (the BERT/GloVe features); -inf audio set to 0."""
        split, row = self._index[sample_id]
        part = self._data[split].get(modality)
        if part is None:
            raise DataError(f"the pickle has no {modality!r} features", file=str(self.path))
        values = np.asarray(part[row], dtype=np.float32)
        if modality == "audio":
            values = np.where(np.isneginf(values), 0.0, values)
        return values


@register(
    "mmsa",
    "mmsa:PATH?dataset=mosi|mosei|sims|simsv2",
    "MMSA feature pickle (raw text, ids, regression labels; features read lazily). "
    "Pickles run code: trusted files only",
    {"dataset": "mosi, mosei, sims or simsv2 (default: guessed from the file name)"},
)
def load_mmsa(spec: DatasetSpec, strict: bool) -> Dataset:
    path = Path(spec.target).expanduser()
    if not path.is_file():
        raise DataError("MMSA pickle does not exist; give the path of a .pkl file", file=str(path))
    name = spec.option("dataset")
    if name is None:
        lowered = path.name.lower()
        guesses = [n for n in ("simsv2", "sims", "mosei", "mosi") if n in lowered]
        if not guesses:
            raise DataError(f"cannot tell which dataset {path.name} is; add ?dataset=mosi|mosei|sims|simsv2")
        name = guesses[0]
    if name not in MMSA_TASKS:
        raise DataError(f"dataset={name!r} in {spec}: use one of {', '.join(MMSA_TASKS)}")
    task = MMSA_TASKS[name]
    data = _open_pickle(path)
    report = LoadReport(source=str(spec))
    samples: list[Sample] = []
    seen: dict[str, str] = {}  # sample id -> where it was first read
    for split_key, split in PICKLE_SPLITS.items():
        part = data.get(split_key)
        if part is None:
            continue
        ids = part.get("id")
        texts = part.get("raw_text")
        labels = part.get("regression_labels")
        for required, value in (("id", ids), ("raw_text", texts), ("regression_labels", labels)):
            if value is None:
                raise DataError(f"split {split_key!r} has no {required!r} entry", file=str(path), field=required)
        unimodal = {k: part.get(f"regression_labels_{k}") for k in UNIMODAL}
        annotations = part.get("annotations")
        for row, sample_id in enumerate(ids):
            report.rows_read += 1
            text = str(texts[row]).strip() if row < len(texts) else ""
            where = f"{split_key}[{row}]"
            if str(sample_id) in seen:  # one clip twice: in two splits it would be trained on and tested on
                report.bad(
                    BadRow(
                        str(path), None, "id", "duplicate id", f"{where}: {sample_id} (first {seen[str(sample_id)]})"
                    ),
                    strict,
                )
                continue
            seen[str(sample_id)] = where
            if not text:
                report.bad(BadRow(str(path), None, "raw_text", "missing text", where), strict)
                continue
            try:
                # float32 labels widen to e.g. 0.10000000149 and would cross SIMS's bin edge at 0.1;
                # 6 decimals restore the value the annotators gave (MMSA compares in float32).
                score = round(float(np.asarray(labels[row]).reshape(-1)[0]), 6)
            except (IndexError, TypeError, ValueError):
                report.bad(BadRow(str(path), None, "regression_labels", "unparsable score", where), strict)
                continue
            if not np.isfinite(score):
                report.bad(
                    BadRow(str(path), None, "regression_labels", "unparsable score", f"{where}: {score}"), strict
                )
                continue
            meta: dict[str, Any] = {"row": row}
            for key, values in unimodal.items():
                if values is not None:
                    meta[UNIMODAL[key]] = round(float(np.asarray(values[row]).reshape(-1)[0]), 6)
            if annotations is not None and row < len(annotations):
                meta["annotation"] = str(annotations[row])
            video_id, _, clip_id = str(sample_id).partition("$_$")
            meta["video_id"], meta["clip_id"] = video_id, clip_id
            samples.append(Sample(id=str(sample_id), text=text, score=score, split=split, domain=name, meta=meta))
            report.rows_kept += 1
    del data  # arrays are re-read lazily by MMSAFeatures
    return Dataset(spec=str(spec), task=task, samples=samples, report=report, extra={"features": MMSAFeatures(path)})
