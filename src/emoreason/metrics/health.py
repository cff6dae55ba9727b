"""Reasoning health: is the model still producing well-formed, self-consistent answers?

Reported next to every accuracy number (METHOD.md §4) because RL can raise a score while
the reasoning format decays (truncated answers, a polarity tag that contradicts the score).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from emoreason.data.schema import TaskInfo, normalize_label
from emoreason.formats.base import ParseResult


def reasoning_health(
    parsed: Sequence[ParseResult], completion_lengths: Sequence[int] | None, task: TaskInfo
) -> dict[str, Any]:
    """Parse rate, polarity self-consistency and completion length.

    - parse_rate = #(ok) / n, n the answers given: a scored run's samples without one (its
      `missing_predictions`, e.g. media evaluate could not read) are not in it.
    - self_consistency = #(polarity tag == task.score_polarity(score)) / #(both present),
      over the outputs that carry both a polarity tag and a score, parsed fully or not
      (an answer with a bad third part still says something about consistency). The
      denominator is reported as n_with_polarity_and_score; NaN when it is 0.
    - label_consistency (classification tasks with a label->polarity map, e.g. Mikels
      valence): #(polarity tag == task.label_polarity[label]) / #(polarity tag and a mapped
      label); NaN when there is none.
    - score_out_of_range_rate = #(score outside the task scale) / n.
    - mean_completion_length = mean of `completion_lengths` (tokens, as the caller counts
      them); NaN when not given.

    Raises ValueError on empty input or when `completion_lengths` is not aligned with `parsed`.
    """
    n = len(parsed)
    if n == 0:
        raise ValueError("reasoning_health needs at least one parsed output")
    if completion_lengths is not None and len(completion_lengths) != n:
        raise ValueError(f"completion_lengths has {len(completion_lengths)} entries for {n} parsed outputs")

    n_ok = sum(1 for r in parsed if r.ok)

    both = [r for r in parsed if r.polarity is not None and r.score is not None]
    agree = sum(1 for r in both if task.score_polarity(float(r.score)) == r.polarity)  # type: ignore[arg-type]

    label_map = {normalize_label(k): v for k, v in task.label_polarity.items()}
    with_label = [
        r for r in parsed if r.polarity is not None and r.label is not None and normalize_label(r.label) in label_map
    ]
    label_agree = sum(1 for r in with_label if label_map[normalize_label(r.label)] == r.polarity)  # type: ignore[arg-type]

    mean_len = float(np.mean(np.asarray(completion_lengths, dtype=np.float64))) if completion_lengths else float("nan")

    return {
        "n": n,
        "parse_rate": n_ok / n,
        "self_consistency": agree / len(both) if both else float("nan"),
        "n_with_polarity_and_score": len(both),
        "label_consistency": label_agree / len(with_label) if with_label else float("nan"),
        "n_with_polarity_and_label": len(with_label),
        "score_out_of_range_rate": sum(1 for r in parsed if r.score_out_of_range) / n,
        "mean_completion_length": mean_len,
    }
