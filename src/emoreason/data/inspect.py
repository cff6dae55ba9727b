"""Summary statistics of a loaded dataset (what `emoreason data inspect` shows)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.data.base import Dataset
from emoreason.data.schema import POLARITIES, normalize_label

#: a word: a run of characters between spaces, or one character of a script written without spaces
#: (Chinese, Japanese), where the whole sentence would count as one word
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PUNCTUATION = "\u3000-\u303f\uff00-\uff0f\uff1a-\uff20"  # theirs (。，：), which is no word
WORD = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}{_PUNCTUATION}]+")


def describe(dataset: Dataset, split: str | None = None, bins: int = 8) -> dict[str, Any]:
    """Rows per split, target histogram, polarity balance, text lengths and media presence."""
    samples = dataset.split(split)
    task = dataset.task
    info: dict[str, Any] = {
        "spec": dataset.spec,
        "task": task.name,
        "split": split or "all",
        "rows": len(samples),
        "rows_per_split": dataset.split_counts(),
        "bad_rows": len(dataset.report.bad_rows),
        "bad_rows_by_reason": dataset.report.bad_by_reason,
        "bad_row_examples": [str(r) for r in dataset.report.bad_rows[:5]],
        "warnings": list(dataset.report.warnings),
    }
    scores = np.array([s.score for s in samples if s.score is not None], dtype=float)
    if task.scale is not None:
        info["scale"] = list(task.scale)
        info["neutral_band"] = task.neutral.describe()
    if scores.size:
        low, high = task.scale if task.scale is not None else (float(scores.min()), float(scores.max()))
        counts, edges = np.histogram(np.clip(scores, low, high), bins=bins, range=(low, high))
        info["score"] = {
            "mean": float(scores.mean()),
            "std": float(scores.std()),
            "min": float(scores.min()),
            "max": float(scores.max()),
            "histogram": [
                {"from": float(a), "to": float(b), "count": int(c)} for a, b, c in zip(edges, edges[1:], counts)
            ],
        }
    # labels counted as the task compares them ("Angry" and "angry" are one), under their first spelling
    spelled: dict[str, str] = {}
    labels = Counter(spelled.setdefault(normalize_label(s.label), s.label) for s in samples if s.label is not None)
    if labels:
        info["labels"] = dict(sorted(labels.items(), key=lambda kv: (-kv[1], kv[0])))
    polarity = Counter(task.gold_polarity(s) for s in samples)
    info["polarity"] = {p: polarity.get(p, 0) for p in POLARITIES if polarity.get(p)}
    if polarity.get(None):
        info["polarity"]["unknown"] = polarity[None]
        # which labels have none, and how to give them one: hints, polarity figures and baselines skip them
        unknown = sorted(
            {
                spelled.get(normalize_label(s.label), s.label)
                for s in samples
                if s.label is not None and task.gold_polarity(s) is None
            }
        )
        if unknown:
            info["labels_without_polarity"] = unknown
    lengths = np.array([len(WORD.findall(s.text)) for s in samples if s.text], dtype=float)
    if lengths.size:
        info["text_words"] = {
            "mean": float(lengths.mean()),
            "median": float(np.median(lengths)),
            "p95": float(np.percentile(lengths, 95)),
            "max": int(lengths.max()),
            "empty": int(sum(1 for s in samples if not s.text)),
        }
    media: dict[str, dict[str, int]] = {}
    for name in ("audio", "video", "image"):
        paths = [getattr(s, name) for s in samples if getattr(s, name)]
        # absent when loaded (a bad row, or a sample kept without it) or since: the load report counts the first
        absent = dataset.report.missing_media_kinds[name]
        if paths or absent:
            present = sum(1 for p in paths if Path(p).is_file())
            media[name] = {"present": present, "missing": len(paths) - present + absent}
    if dataset.report.missing_media:
        media["missing_media_ids"] = {"count": len(dataset.report.missing_media)}  # type: ignore[dict-item]
        info["missing_media_examples"] = dataset.report.missing_media[:5]
    if media:
        info["media"] = media
    return info
