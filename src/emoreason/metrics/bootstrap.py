"""Percentile-bootstrap confidence intervals for any paired metric."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Index matrices are drawn in chunks of at most this many entries (~40 MB of int64), so a
# 1000-resample bootstrap of a large test set does not allocate n * N indices at once.
_MAX_INDEX_ENTRIES = 5_000_000


def _as_array(values: ArrayLike | Sequence[Any]) -> NDArray[Any]:
    arr = np.asarray(values)
    if arr.dtype.kind in "US":  # labels: keep None-capable object dtype, no fixed-width surprises
        arr = arr.astype(object)
    return arr


def bootstrap_distribution(
    metric_fn: Callable[[NDArray[Any], NDArray[Any]], float],
    pred: ArrayLike | Sequence[Any],
    true: ArrayLike | Sequence[Any],
    n: int = 1000,
    seed: int = 0,
) -> NDArray[np.float64]:
    """`metric_fn` on each of `n` paired resamples (with replacement) of the N items, NaN where
    it is undefined. The index matrix is drawn at once (chunked for large N) from
    `np.random.default_rng(seed)`, so the result is a pure function of the inputs and the seed.
    `metric_fn` receives numpy arrays (object dtype for labels)."""
    p, t = _as_array(pred), _as_array(true)
    size = len(p)
    if size == 0:
        raise ValueError("cannot bootstrap an empty sample")
    if len(t) != size:
        raise ValueError(f"pred and true differ in length: {size} != {len(t)}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")

    rng = np.random.default_rng(seed)
    rows_per_chunk = max(1, _MAX_INDEX_ENTRIES // size)
    stats = np.empty(n, dtype=np.float64)
    done = 0
    while done < n:
        rows = min(rows_per_chunk, n - done)
        idx = rng.integers(0, size, size=(rows, size))
        for row in idx:
            stats[done] = float(metric_fn(p[row], t[row]))
            done += 1
    return stats


def bootstrap_ci(
    metric_fn: Callable[[NDArray[Any], NDArray[Any]], float],
    pred: ArrayLike | Sequence[Any],
    true: ArrayLike | Sequence[Any],
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """(low, high) percentile-bootstrap interval of `metric_fn(pred, true)`: the alpha/2 and
    1 - alpha/2 quantiles (linear interpolation) of `bootstrap_distribution`.

    Resamples where the metric is undefined (NaN, e.g. a correlation on a resample whose
    gold is constant) are left out; if every resample is NaN the interval is (nan, nan). When
    many are (a correlation carried by a handful of items), the interval describes only the
    resamples where it exists: check `bootstrap_distribution` for the share.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    stats = bootstrap_distribution(metric_fn, pred, true, n=n, seed=seed)
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(stats, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)
