"""Parity of `emoreason.metrics.regression_metrics` with MMSA's own metricsTop.py.

MMSA's file is loaded by path (importing the `MMSA` package would pull in its whole
training stack); the test is skipped when mmsa is not installed. Values must be equal
after both sides round to 4 decimals, NaN matching NaN.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from emoreason.metrics import regression_metrics


def _load_metrics_top() -> ModuleType:
    spec = importlib.util.find_spec("MMSA")  # does not execute MMSA/__init__.py
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("mmsa is not installed (pip install --no-deps mmsa==2.2.1 to run the MMSA parity test)")
    path = Path(next(iter(spec.submodule_search_locations))) / "utils" / "metricsTop.py"
    if not path.is_file():
        pytest.skip(f"mmsa is installed but {path} is missing")
    file_spec = importlib.util.spec_from_file_location("_mmsa_metrics_top", path)
    assert file_spec is not None and file_spec.loader is not None
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mmsa() -> Any:
    torch = pytest.importorskip("torch", reason="MMSA's metric functions take torch tensors")
    module = _load_metrics_top()
    return module.MetricsTop("regression"), torch


def _mmsa_name(top: Any, dataset: str) -> str:
    # MMSA 2.2.1 has no SIMSV2 entry: its SIMS v2 results come from the SIMS function.
    name = dataset.upper()
    return name if name in top.metrics_dict else {"SIMSV2": "SIMS"}[name]


def _run_mmsa(mmsa: Any, dataset: str, pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    top, torch = mmsa
    fn = top.getMetics(_mmsa_name(top, dataset))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(torch.from_numpy(pred.copy()), torch.from_numpy(true.copy()))
    return {k: float(v) for k, v in out.items()}


def _assert_parity(mmsa: Any, dataset: str, pred: np.ndarray, true: np.ndarray) -> None:
    theirs = _run_mmsa(mmsa, dataset, pred, true)
    ours = regression_metrics(pred, true, dataset)
    assert list(ours) == list(theirs), f"{dataset}: keys differ"
    for key in theirs:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=f"{dataset} {key}")


MOSI_LIKE = ("mosi", "mosei")
SIMS_LIKE = ("sims", "simsv2")
ALL = MOSI_LIKE + SIMS_LIKE


def test_simsv2_is_sims_in_mmsa(mmsa: Any) -> None:
    top, _ = mmsa
    assert set(top.metrics_dict) >= {"MOSI", "MOSEI", "SIMS"}
    assert _mmsa_name(top, "simsv2") in top.metrics_dict


@pytest.mark.parametrize("dataset", ALL)
@pytest.mark.parametrize("seed", range(6))
def test_random_scores(mmsa: Any, dataset: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    width = 4.5 if dataset in MOSI_LIKE else 1.6  # reaches beyond the clip range
    pred = rng.uniform(-width, width, n)
    true = rng.uniform(-width, width, n)
    if seed % 2:  # gold on the annotation grid, with zeros and edge values
        step = 1 / 3 if dataset in MOSI_LIKE else 0.1
        true = np.round(true / step) * step
    _assert_parity(mmsa, dataset, pred, true)


@pytest.mark.parametrize("dataset", ALL)
@pytest.mark.parametrize("seed", range(3))
def test_grid_and_half_integers(mmsa: Any, dataset: str, seed: int) -> None:
    # Half-integers hit np.round's half-to-even ties; 0.1-steps hit every SIMS edge.
    rng = np.random.default_rng(100 + seed)
    grid = np.arange(-3.5, 3.51, 0.5) if dataset in MOSI_LIKE else np.round(np.arange(-1.2, 1.21, 0.1), 10)
    pred = rng.choice(grid, 120)
    true = rng.choice(grid, 120)
    _assert_parity(mmsa, dataset, pred, true)


EDGES = np.array(
    [-3.0, -2.5, -2.0, -1.5, -1.01, -1.0, -0.7, -0.5, -0.1, 0.0, 0.1, 0.5, 0.7, 1.0, 1.01, 1.5, 2.0, 2.5, 3.0]
)


@pytest.mark.parametrize("dataset", ALL)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exact_bin_edges(mmsa: Any, dataset: str, dtype: type) -> None:
    rng = np.random.default_rng(7)
    true = np.concatenate([EDGES, rng.permutation(EDGES), EDGES]).astype(dtype)
    pred = np.concatenate([EDGES, EDGES, rng.permutation(EDGES) + 0.05]).astype(dtype)
    _assert_parity(mmsa, dataset, pred, true)
    _assert_parity(mmsa, dataset, true, pred)
    # each edge predicted as its neighbour values just across the edge
    _assert_parity(mmsa, dataset, np.nextafter(true, np.inf, dtype=dtype), true)
    _assert_parity(mmsa, dataset, np.nextafter(true, -np.inf, dtype=dtype), true)


@pytest.mark.parametrize("dataset", ALL)
def test_float32_labels_on_edges(mmsa: Any, dataset: str) -> None:
    # MMSA's tensors are float32: float32(0.1) is compared with the edge in float32.
    true = np.array([0.1, -0.1, 0.7, -0.7, 0.0, 0.3, -0.3, 1.0], dtype=np.float32)
    pred = np.array([0.1, 0.1, -0.1, 0.7, -0.7, 0.2, 0.0, 0.9], dtype=np.float32)
    _assert_parity(mmsa, dataset, pred, true)


@pytest.mark.parametrize("dataset", SIMS_LIKE)
def test_mixed_precision_is_float32(mmsa: Any, dataset: str) -> None:
    # Parsed predictions are float64, MMSA gold labels float32: MMSA sees both as float32.
    pred = np.array([0.1, -0.1, 0.7, 0.1, -0.7, 0.0])
    true = np.array([0.1, -0.1, 0.7, 0.2, -0.7, 0.1], dtype=np.float32)
    theirs = _run_mmsa(mmsa, dataset, pred.astype(np.float32), true)
    ours = regression_metrics(pred, true, dataset)
    for key in theirs:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


@pytest.mark.parametrize("dataset", MOSI_LIKE)
def test_integer_scores_mosi(mmsa: Any, dataset: str) -> None:
    ints = np.arange(-3, 4, dtype=np.float64)
    pred = np.tile(ints, 3)
    true = np.concatenate([ints, ints[::-1], np.roll(ints, 2)])
    _assert_parity(mmsa, dataset, pred, true)


@pytest.mark.parametrize("dataset", ALL)
@pytest.mark.parametrize("value", [0.0, 1.5, -0.1, 0.1])
def test_constant_predictions(mmsa: Any, dataset: str, value: float) -> None:
    true = np.random.default_rng(3).uniform(-2, 2, 50)
    pred = np.full(50, value)
    _assert_parity(mmsa, dataset, pred, true)  # Corr is NaN on both sides


@pytest.mark.parametrize("dataset", SIMS_LIKE)
def test_all_zero_truth_sims(mmsa: Any, dataset: str) -> None:
    pred = np.random.default_rng(4).uniform(-1, 1, 40)
    _assert_parity(mmsa, dataset, pred, np.zeros(40))


@pytest.mark.parametrize("dataset", MOSI_LIKE)
def test_all_zero_truth_mosi(mmsa: Any, dataset: str) -> None:
    pred = np.array([-1.2, 0.0, 0.4, 2.6, -0.2, 0.6])
    true = np.zeros(6)
    ours = regression_metrics(pred, true, dataset)
    try:
        theirs = _run_mmsa(mmsa, dataset, pred, true)
    except IndexError:
        # MMSA 2.2.1 builds the non-zero index list with np.array([]) (float dtype) and
        # crashes indexing with it. We report NaN for the two Non0 metrics and the rest as usual.
        assert np.isnan(ours["Non0_acc_2"]) and np.isnan(ours["Non0_F1_score"])
        assert ours["Has0_acc_2"] == round(4 / 6, 4)  # pred >= 0 for 0.0, 0.4, 2.6, 0.6; gold all >= 0
        assert ours["Mult_acc_7"] == round(3 / 6, 4)  # -0.2, 0.0, 0.4 round to 0
        assert ours["MAE"] == round(float(np.mean(np.abs(pred))), 4)
        assert np.isnan(ours["Corr"])
    else:
        for key in theirs:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


@pytest.mark.parametrize("dataset", ALL)
def test_tiny_inputs(mmsa: Any, dataset: str) -> None:
    _assert_parity(mmsa, dataset, np.array([0.3]), np.array([0.5]))
    _assert_parity(mmsa, dataset, np.array([0.3, -0.4]), np.array([0.5, -0.2]))


def test_the_generic_figures_read_float32_scores_as_written() -> None:
    """float32 scores were widened bit for bit, so 0.1 became 0.10000000149 and left CH-SIMS's neutral band
    (-0.1, 0.1] in the generic acc_3 (MMSA's own Mult_acc_3 kept it neutral)."""
    from emoreason.data.schema import SIMS_TASK
    from emoreason.metrics.regression import generic_regression_metrics

    pred = np.array([0.1, 0.5, -0.5], dtype=np.float32)
    figures = generic_regression_metrics(pred, [0.05, 0.6, -0.6], SIMS_TASK.scale, SIMS_TASK.neutral)
    assert figures["acc_3"] == 1.0
