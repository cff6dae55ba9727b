"""Regression metrics for sentiment scores.

Two families:

* `regression_metrics` reproduces the numbers MMSA's `metricsTop.py` (v2.2.1) reports for
  CMU-MOSI, CMU-MOSEI, CH-SIMS and CH-SIMS v2, key for key and to its 4 decimals, so our
  results sit in the same tables as the published ones (METHOD.md §4). It is written from
  the metric definitions with numpy/scikit-learn; MMSA itself is never imported at run time
  (tests/test_metrics_parity.py checks the parity against the real file).
* `generic_regression_metrics` is the family for any other scored dataset (VADER sets, user
  data): correlation, error, and polarity agreement under the task's neutral band.

Both take plain sequences or arrays, never mutate them, and raise `ValueError` on empty,
mismatched or non-finite input instead of returning silent garbage.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata
from sklearn.metrics import accuracy_score, f1_score

from emoreason.data.schema import POLARITIES, NeutralBand

MMSA_DATASETS: tuple[str, ...] = ("mosi", "mosei", "sims", "simsv2")

# Keys in MMSA's order, per family.
MOSI_KEYS: tuple[str, ...] = (
    "Has0_acc_2",
    "Has0_F1_score",
    "Non0_acc_2",
    "Non0_F1_score",
    "Mult_acc_5",
    "Mult_acc_7",
    "MAE",
    "Corr",
)
SIMS_KEYS: tuple[str, ...] = ("Mult_acc_2", "Mult_acc_3", "Mult_acc_5", "F1_score", "MAE", "Corr")

# CH-SIMS class boundaries: classes are left-open, right-closed intervals between
# consecutive edges; the outer edges (-1.01, 1.01) only enclose the clipped range, so the
# interior edges below are all that decide a class.
SIMS_EDGES_2: tuple[float, ...] = (0.0,)  # [-1, 0], (0, 1]
SIMS_EDGES_3: tuple[float, ...] = (-0.1, 0.1)  # [-1, -0.1], (-0.1, 0.1], (0.1, 1]
SIMS_EDGES_5: tuple[float, ...] = (-0.7, -0.1, 0.1, 0.7)

_DECIMALS = 4


def _as_scores(values: ArrayLike, name: str) -> NDArray[np.floating[Any]]:
    """A 1-D float array; float32 input stays float32 (see `regression_metrics`)."""
    arr = np.asarray(values)
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64)
    arr = arr.reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} contains NaN or infinite values; map unparsed predictions to a number "
            "(or drop them) before computing metrics"
        )
    return arr


def _checked_pair(pred: ArrayLike, true: ArrayLike) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
    p = _as_scores(pred, "pred")
    t = _as_scores(true, "true")
    if p.size == 0 or t.size == 0:
        raise ValueError("cannot compute metrics on empty input (pred and true must be non-empty)")
    if p.size != t.size:
        raise ValueError(f"pred and true differ in length: {p.size} != {t.size}")
    if p.dtype != t.dtype:
        # One side is float32, i.e. it came from MMSA-style float32 storage. Widening it
        # would move float32(0.1) to 0.10000000149 > 0.1, across a SIMS bin edge; MMSA
        # itself holds both sides as float32, so narrow the other side instead.
        p, t = p.astype(np.float32), t.astype(np.float32)
    return p, t


def _round(value: float | np.floating[Any]) -> float:
    """MMSA applies Python's `round(x, 4)` to whatever its computation returned.

    On a Python float (scikit-learn's accuracy/F1) that is correctly rounded decimal
    rounding; on a numpy scalar (MAE, Corr, multi-class accuracies) `round` dispatches to
    numpy's, which is `rint(x * 1e4) / 1e4`. The two disagree on rare half-way cases, so we
    keep each value's type up to this point and round it the same way.
    """
    if isinstance(value, np.floating):
        return float(np.round(value, _DECIMALS))
    return float(round(float(value), _DECIMALS))


def _share_equal(a: NDArray[Any], b: NDArray[Any]) -> np.float64:
    """Share of positions where a == b, as a numpy float (count / n, like MMSA)."""
    return np.float64(np.count_nonzero(a == b)) / float(a.size)


def _pearson_mmsa(p: NDArray[np.floating[Any]], t: NDArray[np.floating[Any]]) -> np.float64:
    """np.corrcoef's off-diagonal entry; NaN (numpy's own result) when either side is constant."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.float64(np.corrcoef(p, t)[0, 1])


def _weighted_f1(true: NDArray[Any], pred: NDArray[Any]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-support classes: scikit-learn's own convention
        return float(f1_score(true, pred, average="weighted"))


def _mae(p: NDArray[np.floating[Any]], t: NDArray[np.floating[Any]]) -> np.float64:
    # Mean in the input dtype, then widened: float32 labels give MMSA's float32 mean.
    return np.float64(np.mean(np.absolute(p - t)))


def mosi_metrics(pred: ArrayLike, true: ArrayLike) -> dict[str, float]:
    """CMU-MOSI / CMU-MOSEI regression metrics (identical definitions for both).

    - Has0_acc_2 / Has0_F1_score: binary classes `x >= 0` (so a gold 0 counts as positive);
      accuracy and support-weighted F1.
    - Non0_acc_2 / Non0_F1_score: drop items whose gold is exactly 0, then classes `x > 0`.
      When every gold score is 0 there is nothing left; MMSA crashes there (it indexes with
      an empty float array), we report NaN for both.
    - Mult_acc_7 / Mult_acc_5: clip both sides to [-3, 3] / [-2, 2], round to the nearest
      integer with numpy's half-to-even rule (2.5 -> 2, -0.5 -> -0), and count equality.
    - MAE = mean |pred - true|, Corr = Pearson r (np.corrcoef), both on unclipped values;
      Corr is NaN when either side is constant.
    """
    p, t = _checked_pair(pred, true)

    has0_true, has0_pred = t >= 0, p >= 0
    acc2 = float(accuracy_score(has0_true, has0_pred))
    f1_2 = _weighted_f1(has0_true, has0_pred)

    nonzero = t != 0
    if np.any(nonzero):
        non0_true, non0_pred = t[nonzero] > 0, p[nonzero] > 0
        non0_acc2: float = float(accuracy_score(non0_true, non0_pred))
        non0_f1: float = _weighted_f1(non0_true, non0_pred)
    else:
        non0_acc2 = non0_f1 = float("nan")

    mult_a7 = _share_equal(np.round(np.clip(p, -3.0, 3.0)), np.round(np.clip(t, -3.0, 3.0)))
    mult_a5 = _share_equal(np.round(np.clip(p, -2.0, 2.0)), np.round(np.clip(t, -2.0, 2.0)))

    values: dict[str, float | np.floating[Any]] = {
        "Has0_acc_2": acc2,
        "Has0_F1_score": f1_2,
        "Non0_acc_2": non0_acc2,
        "Non0_F1_score": non0_f1,
        "Mult_acc_5": mult_a5,
        "Mult_acc_7": mult_a7,
        "MAE": _mae(p, t),
        "Corr": _pearson_mmsa(p, t),
    }
    return {key: _round(values[key]) for key in MOSI_KEYS}


def _sims_classes(x: NDArray[np.floating[Any]], interior_edges: tuple[float, ...]) -> NDArray[np.intp]:
    """Class index of each (clipped) score for left-open, right-closed bins.

    The index is the number of interior edges strictly below the value, so a value equal to
    an edge falls in the lower class (-0.1 is negative, 0.1 is neutral). Edges are cast to
    the scores' dtype, which is how numpy compares an array with a Python float: float32
    labels are binned at float32(0.1), exactly as MMSA bins its float32 tensors.
    """
    edges = np.asarray(interior_edges, dtype=x.dtype)
    return np.searchsorted(edges, x, side="left")


def sims_metrics(pred: ArrayLike, true: ArrayLike) -> dict[str, float]:
    """CH-SIMS / CH-SIMS v2 regression metrics.

    Both sides are first clipped to [-1, 1]; every metric, MAE and Corr included, uses the
    clipped values. Classes are left-open right-closed bins (see `_sims_classes`):
    2-class edge 0, 3-class edges -0.1 / 0.1, 5-class edges -0.7 / -0.1 / 0.1 / 0.7.
    Mult_acc_k = share of items whose predicted class equals the gold class; F1_score is the
    support-weighted F1 of the 2-class split; Corr is NaN when either side is constant.
    """
    p, t = _checked_pair(pred, true)
    p, t = np.clip(p, -1.0, 1.0), np.clip(t, -1.0, 1.0)

    p2, t2 = _sims_classes(p, SIMS_EDGES_2), _sims_classes(t, SIMS_EDGES_2)
    p3, t3 = _sims_classes(p, SIMS_EDGES_3), _sims_classes(t, SIMS_EDGES_3)
    p5, t5 = _sims_classes(p, SIMS_EDGES_5), _sims_classes(t, SIMS_EDGES_5)

    values: dict[str, float | np.floating[Any]] = {
        "Mult_acc_2": _share_equal(p2, t2),
        "Mult_acc_3": _share_equal(p3, t3),
        "Mult_acc_5": _share_equal(p5, t5),
        "F1_score": _weighted_f1(t2, p2),
        "MAE": _mae(p, t),
        "Corr": _pearson_mmsa(p, t),
    }
    return {key: _round(values[key]) for key in SIMS_KEYS}


def regression_metrics(pred: ArrayLike, true: ArrayLike, dataset: str) -> dict[str, float]:
    """MMSA's regression metrics for `dataset` in {"mosi", "mosei", "sims", "simsv2"}.

    Keys and values equal MMSA `MetricsTop("regression").getMetics(NAME)(pred, true)`
    rounded to 4 decimals. CH-SIMS v2 uses the CH-SIMS definitions (MMSA 2.2.1's
    `metricsTop.py` has no separate SIMSV2 entry; its SIMS v2 runs evaluate with the SIMS
    function). Input may be any 1-D array-like; float32 input is computed in float32 as MMSA
    does with its float32 tensors (this matters for scores exactly on a bin edge such as
    0.1), anything else in float64; if only one side is float32, both are computed in
    float32 (what MMSA, whose tensors are all float32, would see).
    """
    name = dataset.lower().replace("-", "").replace("_", "")
    if name in ("mosi", "mosei"):
        return mosi_metrics(pred, true)
    if name in ("sims", "simsv2"):
        return sims_metrics(pred, true)
    raise ValueError(f"unknown MMSA dataset {dataset!r}; expected one of {', '.join(MMSA_DATASETS)}")


def _pearson(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Pearson r; NaN when either side has zero variance (r is undefined, not 0)."""
    # Test constancy on the values themselves: x - x.mean() of a constant array can leave
    # rounding residue (the mean of many equal floats is not always that float), which
    # would turn an undefined r into a spurious +-0.0.
    if x.size == 0 or np.ptp(x) == 0.0 or np.ptp(y) == 0.0:
        return float("nan")
    xc, yc = x - x.mean(), y - y.mean()
    denom = float(np.sqrt(np.dot(xc, xc) * np.dot(yc, yc)))
    if denom == 0.0:
        return float("nan")
    return float(np.clip(np.dot(xc, yc) / denom, -1.0, 1.0))


def polarities(scores: Sequence[float] | NDArray[np.floating[Any]], neutral: NeutralBand) -> list[str]:
    """Each score's polarity under the neutral band."""
    return polarity_array(scores, neutral).tolist()


def polarity_array(scores: Sequence[float] | NDArray[np.floating[Any]], neutral: NeutralBand) -> NDArray[np.str_]:
    """`NeutralBand.polarity` of every score at once (the bootstrap calls it a thousand times)."""
    x = np.asarray(scores, dtype=np.float64)
    above = x >= neutral.low if neutral.low_closed else x > neutral.low
    below = x <= neutral.high if neutral.high_closed else x < neutral.high
    return np.where(above & below, "neutral", np.where(x >= neutral.high, "positive", "negative"))


def polarity_recall(pred: NDArray[np.str_], true: NDArray[np.str_], polarity: str) -> float:
    """The share of the items of gold `polarity` answered with it; NaN when there are none."""
    mask = true == polarity
    return float(np.mean(pred[mask] == polarity)) if mask.any() else float("nan")


def uar_3(pred: NDArray[np.str_], true: NDArray[np.str_]) -> float:
    """The mean of the three polarities' recalls (unweighted average recall) over the polarities
    present in the gold: unlike acc-3, moving answers from the gold's majority polarity to a
    minority one does not raise it unless it finds more of the minority than it loses."""
    recalls = [polarity_recall(pred, true, name) for name in POLARITIES if (true == name).any()]
    return float(np.mean(recalls)) if recalls else float("nan")


def generic_regression_metrics(
    pred: ArrayLike, true: ArrayLike, scale: tuple[float, float], neutral: NeutralBand
) -> dict[str, Any]:
    """Scale-agnostic regression metrics for any scored dataset.

    - pearson_r: Pearson correlation; spearman_rho: Pearson correlation of average ranks.
      Both are NaN, with an entry in `notes`, when a side is constant (n = 1 included),
      because a correlation is undefined there, not zero.
    - mae: mean |pred - true| on raw values; mae_normalized = mae / (scale_max - scale_min),
      comparable across scales.
    - acc_3 / f1_3_weighted: accuracy and support-weighted F1 of the 3 polarity classes,
      the neutral band applied to both pred and gold (the same rule decides both).
    - acc_2_nonneutral: over gold items outside the neutral band only, the share whose
      prediction lies on the same side of the band's midpoint (the sign, for symmetric
      bands); for MOSI's band {0} this is MMSA's Non0_acc_2. NaN (with a note) when every
      gold item is neutral.
    - n: number of items; notes: human-readable caveats (empty when none).
    """
    p, t = _checked_pair(pred, true)
    # float32 (MMSA's storage) widened bit for bit moves 0.1 to 0.10000000149, across a band edge at 0.1;
    # through its shortest decimal it stays the 0.1 it was written as
    p, t = (x.astype(str).astype(np.float64) if x.dtype == np.float32 else x.astype(np.float64) for x in (p, t))
    lo, hi = scale
    if not hi > lo:
        raise ValueError(f"scale must be (min, max) with max > min, got {scale}")
    notes: list[str] = []

    r = _pearson(p, t)
    rho = _pearson(rankdata(p).astype(np.float64), rankdata(t).astype(np.float64))
    if np.isnan(r):
        which = " and ".join(side for side, arr in (("predictions", p), ("gold", t)) if np.ptp(arr) == 0.0)
        notes.append(f"pearson_r and spearman_rho are undefined (NaN): {which} constant")

    pol_p, pol_t = polarities(p, neutral), polarities(t, neutral)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f1_3 = float(f1_score(pol_t, pol_p, labels=list(POLARITIES), average="weighted", zero_division=0))
    acc_3 = float(np.mean([a == b for a, b in zip(pol_p, pol_t)]))

    mid = (neutral.low + neutral.high) / 2.0
    gold_polar = np.array([pol != "neutral" for pol in pol_t])
    if np.any(gold_polar):
        acc_2 = float(np.mean((p[gold_polar] > mid) == (t[gold_polar] > mid)))
    else:
        acc_2 = float("nan")
        notes.append("acc_2_nonneutral is undefined (NaN): every gold score is neutral")

    mae = float(np.mean(np.abs(p - t)))
    return {
        "pearson_r": r,
        "spearman_rho": rho,
        "mae": mae,
        "mae_normalized": mae / (hi - lo),
        "acc_3": acc_3,
        "f1_3_weighted": f1_3,
        "acc_2_nonneutral": acc_2,
        "n": int(p.size),
        "notes": notes,
    }
