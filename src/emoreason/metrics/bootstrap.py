"""Percentile-bootstrap confidence intervals for any paired metric, and for the difference of
two systems scored on the same items (`paired_difference`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class PairedDifference:
    """A metric of systems A and B on the same items, the difference B - A, its percentile
    interval, and the share of resamples in which B - A > 0."""

    a: float
    b: float
    difference: float
    low: float
    high: float
    share_above_zero: float
    n_items: int

    def __str__(self) -> str:
        """`a -> b, difference [low, high]` to three decimals, as the reports print it."""
        return f"{self.a:.3f} -> {self.b:.3f}, {self.difference:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"

    def to_dict(self) -> dict[str, float | int]:
        return {
            "a": self.a,
            "b": self.b,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "share_above_zero": self.share_above_zero,
            "n_items": self.n_items,
        }


def paired_difference(
    metric_fn: Callable[[NDArray[Any], NDArray[Any]], float],
    pred_a: ArrayLike | Sequence[Any],
    pred_b: ArrayLike | Sequence[Any],
    true: ArrayLike | Sequence[Any],
    n: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> PairedDifference:
    """The paired bootstrap of metric(B) - metric(A): each resample draws N item indices with
    replacement and scores BOTH systems on those same items, so what the items have in common
    (an easy resample is easy for both) cancels out of the difference, which an interval for
    each system alone cannot do. (low, high): the alpha/2 and 1 - alpha/2 quantiles of the
    resampled differences, NaN resamples (an undefined metric) left out; `share_above_zero`:
    the share of the defined resamples where B beats A on this metric's scale (for an error
    metric such as MAE, lower is better: read the sign accordingly). Pure in the inputs and seed."""
    a, b, t = _as_array(pred_a), _as_array(pred_b), _as_array(true)
    size = len(t)
    if size == 0:
        raise ValueError("cannot bootstrap an empty sample")
    if len(a) != size or len(b) != size:
        raise ValueError(f"pred_a, pred_b and true differ in length: {len(a)}, {len(b)}, {size}")
    if n < 1 or not 0.0 < alpha < 1.0:
        raise ValueError(f"need n >= 1 and 0 < alpha < 1, got n={n}, alpha={alpha}")
    rng = np.random.default_rng(seed)
    diffs = np.empty(n, dtype=np.float64)
    rows_per_chunk = max(1, _MAX_INDEX_ENTRIES // size)
    done = 0
    while done < n:
        for row in rng.integers(0, size, size=(min(rows_per_chunk, n - done), size)):
            diffs[done] = float(metric_fn(b[row], t[row])) - float(metric_fn(a[row], t[row]))
            done += 1
    defined = diffs[~np.isnan(diffs)]
    value_a, value_b = float(metric_fn(a, t)), float(metric_fn(b, t))
    if defined.size == 0:
        low = high = share = float("nan")
    else:
        low, high = (float(q) for q in np.quantile(defined, [alpha / 2.0, 1.0 - alpha / 2.0]))
        share = float(np.mean(defined > 0))
    return PairedDifference(value_a, value_b, value_b - value_a, low, high, share, size)
