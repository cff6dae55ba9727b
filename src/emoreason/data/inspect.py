"""Summary statistics of a loaded dataset (what `emoreason data inspect` shows)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.data.base import Dataset
from emoreason.data.schema import POLARITIES, Sample, TaskInfo, normalize_label

#: a word: a run of characters between spaces, or one character of a script written without spaces
#: (Chinese, Japanese), where the whole sentence would count as one word
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PUNCTUATION = "\u3000-\u303f\uff00-\uff0f\uff1a-\uff20"  # theirs (。，：), which is no word
WORD = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}{_PUNCTUATION}]+")
EXAMPLES = 5  # how many ids (or files) a finding names


#: why a media file that exists cannot be read (naming it), or None: how `describe` checks each file by kind
MediaCheck = Callable[[str, str], str | None]


def empty_file(path: str, kind: str) -> str | None:
    """The check `data` can make by itself: a file of 0 bytes. The readers that find a corrupt header live above this
    layer (`emoreason.cues.prepare.unreadable_reason`, which `data inspect` passes)."""
    return f"{path} is empty (0 bytes)" if Path(path).stat().st_size == 0 else None


def describe(
    dataset: Dataset, split: str | None = None, bins: int = 8, unreadable: MediaCheck = empty_file
) -> dict[str, Any]:
    """Rows per split, target histogram, polarity balance, text lengths and media presence; a media file that
    exists is counted present only when `unreadable` finds nothing wrong with it."""
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
    if task.scale is not None:
        info["scale"] = list(task.scale)
        info["neutral_band"] = task.neutral.describe()
    info.update(_score_statistics(samples, task, bins))
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
    info.update(_media_presence(dataset, samples, unreadable))
    return info


def _media_presence(dataset: Dataset, samples: list[Sample], unreadable: MediaCheck) -> dict[str, Any]:
    """Per kind, how many files are present, missing and unreadable; the first unreadable ones with the reason, and
    the ids the load found without their media."""
    media: dict[str, dict[str, int]] = {}
    broken_files: list[str] = []  # "id: why, naming the file"
    for name in ("audio", "video", "image"):
        kept = [s for s in samples if getattr(s, name)]
        # absent when loaded (a bad row, or a sample kept without it) or since: the load report counts the first
        absent = dataset.report.missing_media_kinds[name]
        if kept or absent:
            found = [s for s in kept if Path(getattr(s, name)).is_file()]
            # a file that is there but empty or corrupt was counted present, and failed only when a model read it
            broken = [(s.id, why) for s in found if (why := unreadable(getattr(s, name), name)) is not None]
            broken_files += [f"{sample_id}: {why}" for sample_id, why in broken]
            media[name] = {
                "present": len(found) - len(broken),
                "missing": len(kept) - len(found) + absent,
                "unreadable": len(broken),
            }
    info: dict[str, Any] = {}
    if broken_files:
        info["unreadable_media"] = {"count": len(broken_files), "examples": broken_files[:EXAMPLES]}
    if dataset.report.missing_media:
        media["missing_media_ids"] = {"count": len(dataset.report.missing_media)}  # type: ignore[dict-item]
        info["missing_media_examples"] = dataset.report.missing_media[:EXAMPLES]
    if media:
        info["media"] = media
    return info


def _score_statistics(samples: list[Sample], task: TaskInfo, bins: int) -> dict[str, Any]:
    """Mean, spread and histogram of the gold scores within the task's scale; the scores outside it apart, with
    their ids: counted in, a score of 40 on -3..3 moved the mean and the maximum, and the histogram clipped it into
    its end bin, so the data looked fine."""
    scored = [(s.id, float(s.score)) for s in samples if s.score is not None]
    info: dict[str, Any] = {}
    if task.scale is not None:
        low, high = task.scale
        outside = [sample_id for sample_id, score in scored if not low <= score <= high]
        if outside:
            info["scores_outside_scale"] = {
                "count": len(outside),
                "first_ids": outside[:EXAMPLES],
                "scale": [low, high],
            }
        scored = [(sample_id, score) for sample_id, score in scored if low <= score <= high]
    scores = np.array([score for _, score in scored], dtype=float)
    if scores.size:
        low, high = task.scale if task.scale is not None else (float(scores.min()), float(scores.max()))
        counts, edges = np.histogram(scores, bins=bins, range=(low, high))
        info["score"] = {
            "mean": float(scores.mean()),
            "std": float(scores.std()),
            "min": float(scores.min()),
            "max": float(scores.max()),
            "histogram": [
                {"from": float(a), "to": float(b), "count": int(c)} for a, b, c in zip(edges, edges[1:], counts)
            ],
        }
    return info
