"""Hand-computed cases for emoreason.metrics and emoreason.baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emoreason.baselines import BASELINES, MajorityBaseline, MeanBaseline, VaderBaseline, get_baseline
from emoreason.data.schema import MOSI_TASK, SIMS_TASK, NeutralBand, Sample, TaskInfo, mikels_task, vader_task
from emoreason.formats.base import ParseResult
from emoreason.metrics import (
    INVALID,
    bootstrap_ci,
    bootstrap_distribution,
    classification_metrics,
    generic_regression_metrics,
    reasoning_health,
    regression_metrics,
    task_metrics,
)

VADER_BAND = NeutralBand(-0.5, 0.5)


# --- generic regression ---------------------------------------------------------------


def test_generic_regression_hand_computed() -> None:
    pred = [-2.0, 0.3, 1.0, 2.0]
    true = [-1.0, 0.6, 0.0, 3.0]
    m = generic_regression_metrics(pred, true, (-4.0, 4.0), VADER_BAND)
    # polarities  pred: neg, neu, pos, pos   gold: neg, pos, neu, pos
    assert m["acc_3"] == pytest.approx(0.5)
    # F1 per class: neg 1 (support 1), neu 0 (support 1), pos p=r=1/2 -> 0.5 (support 2)
    assert m["f1_3_weighted"] == pytest.approx((1.0 + 0.0 + 2 * 0.5) / 4)
    # gold non-neutral: items 0, 1, 3; every prediction is on the right side of 0
    # (0.3 is neutral but positive in sign)
    assert m["acc_2_nonneutral"] == pytest.approx(1.0)
    assert m["mae"] == pytest.approx((1.0 + 0.3 + 1.0 + 1.0) / 4)
    assert m["mae_normalized"] == pytest.approx(m["mae"] / 8.0)
    # ranks pred 1,2,3,4 / gold 1,3,2,4: rho = 1 - 6 * 2 / (4 * 15)
    assert m["spearman_rho"] == pytest.approx(0.8)
    p, t = np.array(pred), np.array(true)
    pc, tc = p - p.mean(), t - t.mean()
    assert m["pearson_r"] == pytest.approx(pc @ tc / math.sqrt((pc @ pc) * (tc @ tc)))
    assert m["n"] == 4 and m["notes"] == []


def test_generic_regression_mosi_band_matches_non0_acc() -> None:
    rng = np.random.default_rng(0)
    pred, true = rng.uniform(-3, 3, 50), np.round(rng.uniform(-3, 3, 50))
    m = generic_regression_metrics(pred, true, MOSI_TASK.scale, MOSI_TASK.neutral)  # type: ignore[arg-type]
    assert round(m["acc_2_nonneutral"], 4) == regression_metrics(pred, true, "mosi")["Non0_acc_2"]


def test_generic_regression_constant_is_nan_with_note() -> None:
    m = generic_regression_metrics([1.0, 1.0, 1.0], [0.0, 1.0, 2.0], (-4, 4), VADER_BAND)
    assert math.isnan(m["pearson_r"]) and math.isnan(m["spearman_rho"])
    assert any("predictions constant" in note for note in m["notes"])
    single = generic_regression_metrics([2.0], [3.0], (-4, 4), VADER_BAND)
    assert math.isnan(single["pearson_r"]) and single["mae"] == pytest.approx(1.0)


def test_generic_regression_all_neutral_gold() -> None:
    m = generic_regression_metrics([1.0, -1.0], [0.0, 0.2], (-4, 4), VADER_BAND)
    assert math.isnan(m["acc_2_nonneutral"])
    assert any("acc_2_nonneutral" in note for note in m["notes"])


@pytest.mark.parametrize(
    ("pred", "true", "message"), [([], [], "empty"), ([1.0], [1.0, 2.0], "length"), ([float("nan")], [1.0], "NaN")]
)
def test_regression_rejects_bad_input(pred: list[float], true: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generic_regression_metrics(pred, true, (-4, 4), VADER_BAND)
    with pytest.raises(ValueError, match=message):
        regression_metrics(pred, true, "mosi")


def test_regression_metrics_keys_and_unknown_dataset() -> None:
    assert list(regression_metrics([0.5, -1], [1, -2], "mosei"))[:2] == ["Has0_acc_2", "Has0_F1_score"]
    assert list(regression_metrics([0.5, -1], [1, -1], "simsv2")) == [
        "Mult_acc_2",
        "Mult_acc_3",
        "Mult_acc_5",
        "F1_score",
        "MAE",
        "Corr",
    ]
    with pytest.raises(ValueError, match="unknown MMSA dataset"):
        regression_metrics([0.0], [0.0], "iemocap")


def test_sims_edges_by_hand() -> None:
    # -0.1 is negative, 0.1 neutral, 0.7 weakly positive, 0.71 strongly positive.
    m = regression_metrics([-0.1, 0.1, 0.7, 0.71], [-0.2, 0.0, 0.4, 0.9], "sims")
    assert m["Mult_acc_3"] == 1.0 and m["Mult_acc_5"] == 1.0
    # 2-class edge 0: pred 0.1 is in (0, 1], gold 0.0 in [-1, 0]
    assert m["Mult_acc_2"] == 0.75


# --- classification -------------------------------------------------------------------


def test_classification_hand_computed() -> None:
    labels = ["a", "b", "c"]
    true = ["a", "a", "b", "b", "c", "a"]
    pred = ["a", "b", "b", None, "zzz", "A "]  # None and out-of-set count as wrong; "A " is "a"
    m = classification_metrics(pred, true, labels)
    assert m["confusion_columns"] == ["a", "b", "c", INVALID]
    assert m["confusion_matrix"] == [[2, 1, 0, 0], [0, 1, 0, 1], [0, 0, 0, 1]]
    assert m["accuracy"] == pytest.approx(0.5) and m["war"] == m["accuracy"]
    assert m["uar"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    # f1: a: p=1, r=2/3 -> 0.8; b: p=1/2, r=1/2 -> 0.5; c: 0
    assert m["f1_weighted"] == pytest.approx((3 * 0.8 + 2 * 0.5 + 0) / 6)
    assert m["f1_macro"] == pytest.approx((0.8 + 0.5 + 0) / 3)
    assert m["n_invalid"] == 2 and m["n"] == 6
    assert m["per_class_recall"] == pytest.approx({"a": 2 / 3, "b": 0.5, "c": 0.0})


def test_uar_skips_classes_absent_from_gold() -> None:
    m = classification_metrics(["a", "d", "b", "b"], ["a", "a", "b", "b"], ["a", "b", "c", "d"])
    assert m["uar"] == pytest.approx((0.5 + 1.0) / 2)
    assert set(m["per_class_recall"]) == {"a", "b"}
    assert m["confusion_matrix"][3] == [0, 0, 0, 0, 0]


def test_classification_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="not in the label set"):
        classification_metrics(["a"], ["x"], ["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        classification_metrics([], [], ["a"])
    with pytest.raises(ValueError, match="length"):
        classification_metrics(["a"], ["a", "a"], ["a"])


# --- reasoning health -----------------------------------------------------------------


def _pr(ok: bool, polarity: str | None, score: float | None = None, label: str | None = None) -> ParseResult:
    return ParseResult(format="c2f", ok=ok, polarity=polarity, score=score, label=label)  # type: ignore[arg-type]


def test_reasoning_health_hand_computed() -> None:
    parsed = [
        _pr(True, "positive", 0.5),  # agrees
        _pr(True, "neutral", 0.1),  # 0.1 is inside SIMS's (-0.1, 0.1]: agrees
        _pr(False, "negative", 0.2),  # disagrees, counted although the parse failed
        _pr(False, None, None),  # no tag, no score: not in the denominator
        _pr(True, "positive", -0.1),  # -0.1 is negative on SIMS: disagrees
    ]
    h = reasoning_health(parsed, [10, 20, 30, 40, 50], SIMS_TASK)
    assert h["parse_rate"] == pytest.approx(3 / 5)
    assert h["n_with_polarity_and_score"] == 4
    assert h["self_consistency"] == pytest.approx(2 / 4)
    assert h["mean_completion_length"] == pytest.approx(30.0)
    assert math.isnan(h["label_consistency"])


def test_reasoning_health_labels_and_edge_cases() -> None:
    task = mikels_task()
    h = reasoning_health([_pr(True, "positive", label="Awe"), _pr(True, "positive", label="fear")], None, task)
    assert h["label_consistency"] == pytest.approx(0.5)
    assert math.isnan(h["self_consistency"]) and math.isnan(h["mean_completion_length"])
    with pytest.raises(ValueError):
        reasoning_health([], None, task)
    with pytest.raises(ValueError, match="completion_lengths"):
        reasoning_health([_pr(True, "positive")], [1, 2], task)


# --- bootstrap ------------------------------------------------------------------------


def _mae(p: np.ndarray, t: np.ndarray) -> float:
    return float(np.mean(np.abs(p - t)))


def test_bootstrap_contains_estimate_and_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    true = rng.uniform(-3, 3, 200)
    pred = true + rng.normal(0, 1, 200)
    low, high = bootstrap_ci(_mae, pred, true, n=300, seed=5)
    assert low < _mae(pred, true) < high
    assert (low, high) == bootstrap_ci(_mae, pred, true, n=300, seed=5)
    assert (low, high) != bootstrap_ci(_mae, pred, true, n=300, seed=6)
    narrow = bootstrap_ci(_mae, pred, true, n=300, seed=5, alpha=0.5)
    assert low <= narrow[0] <= narrow[1] <= high


def test_bootstrap_distribution_keeps_undefined_resamples() -> None:
    # a correlation carried by one varying prediction is undefined wherever that item is not drawn
    pred = np.zeros(50)
    pred[0] = 2.0
    true = np.linspace(-2, 2, 50)

    def corr(p: np.ndarray, t: np.ndarray) -> float:
        return float("nan") if np.ptp(p) == 0 else float(np.corrcoef(p, t)[0, 1])

    stats = bootstrap_distribution(corr, pred, true, n=400, seed=0)
    share = float(np.mean(np.isnan(stats)))
    assert stats.shape == (400,) and 0.25 < share < 0.5  # P(item 0 never drawn) = (49/50)^50 = 0.36
    low, high = bootstrap_ci(corr, pred, true, n=400, seed=0)  # the interval of the defined ones
    defined = stats[~np.isnan(stats)]
    assert (low, high) == tuple(float(q) for q in np.quantile(defined, [0.025, 0.975]))


def test_bootstrap_on_labels_and_errors() -> None:
    true = ["a", "b", "a", "b", "a", "a", "b", "a"]
    pred = ["a", "b", None, "b", "a", "b", "b", "a"]

    def acc(p: np.ndarray, t: np.ndarray) -> float:
        return classification_metrics(list(p), list(t), ["a", "b"])["accuracy"]

    low, high = bootstrap_ci(acc, pred, true, n=200)
    assert 0.0 <= low <= 0.75 <= high <= 1.0
    with pytest.raises(ValueError):
        bootstrap_ci(_mae, [], [])
    with pytest.raises(ValueError):
        bootstrap_ci(_mae, [1.0], [1.0, 2.0])


# --- task_metrics dispatch ------------------------------------------------------------


def test_task_metrics_dispatch() -> None:
    pred, gold = [1.2, -0.4, 0.0, 2.5], [1.0, -1.0, 0.4, 3.0]
    m = task_metrics(pred, gold, MOSI_TASK)
    assert {"Has0_acc_2", "Non0_F1_score", "Mult_acc_7", "MAE", "Corr"} <= set(m)
    assert {"pearson_r", "spearman_rho", "mae", "f1_3_weighted", "acc_2_nonneutral", "n"} <= set(m)
    assert m["n_invalid"] == 0

    v = task_metrics(pred, gold, vader_task("tweets"))
    assert "Has0_acc_2" not in v and v["n"] == 4

    samples = [Sample(id=str(i), label=lab) for i, lab in enumerate(["awe", "fear", "awe"])]
    c = task_metrics(["awe", None, "fear"], samples, mikels_task())
    assert c["accuracy"] == pytest.approx(1 / 3) and c["n_invalid"] == 1


def test_task_metrics_invalid_scores() -> None:
    with pytest.raises(ValueError, match="invalid_score"):
        task_metrics([None, 1.0], [0.0, 1.0], MOSI_TASK)
    m = task_metrics([None, 1.0, float("nan")], [0.0, 1.0, -1.0], MOSI_TASK, invalid_score=0.0)
    assert m["n_invalid"] == 2
    assert m["MAE"] == pytest.approx(1 / 3, abs=1e-4)
    with pytest.raises(ValueError, match="metric_set"):
        task_metrics([0.0], [0.0], TaskInfo("odd", scale=(0, 1), metric_set="nope"))


# --- baselines ------------------------------------------------------------------------

POSITIVE = "I love this movie, it is wonderful and the acting is great!"
NEGATIVE = "This was a terrible, boring film and I hated every minute."


def _scored(*scores: float) -> list[Sample]:
    return [Sample(id=f"s{i}", text="x", score=s, split="train") for i, s in enumerate(scores)]


def _labelled(*labels: str) -> list[Sample]:
    return [Sample(id=f"s{i}", label=lab, split="train") for i, lab in enumerate(labels)]


def test_vader_maps_compound_onto_scale() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    samples = [Sample(id="p", text=POSITIVE), Sample(id="n", text=NEGATIVE), Sample(id="e", text="")]
    mosi = VaderBaseline().fit([], MOSI_TASK).predict(samples)
    compound = analyzer.polarity_scores(POSITIVE)["compound"]
    assert mosi[0] == pytest.approx(3.0 * compound)  # [-1, 1] -> [-3, 3]
    assert mosi[0] > 0 > mosi[1] and mosi[2] == pytest.approx(0.0)
    shifted = VaderBaseline().fit([], TaskInfo("unit", scale=(0.0, 1.0))).predict(samples)
    assert shifted[0] == pytest.approx((compound + 1) / 2) and shifted[2] == pytest.approx(0.5)
    assert all(0.0 <= s <= 1.0 for s in shifted)  # type: ignore[operator]


def test_vader_classification_uses_polarity_majorities() -> None:
    train = _labelled("amusement", "amusement", "awe", "sadness", "sadness", "anger", "amusement")
    samples = [Sample(id="p", text=POSITIVE), Sample(id="n", text=NEGATIVE), Sample(id="z", text="The table.")]
    preds = VaderBaseline().fit(train, mikels_task()).predict(samples)
    assert preds == ["amusement", "sadness", "amusement"]  # neutral: no neutral label -> majority
    plain = TaskInfo("plain", labels=("x", "y"), metric_set="classification")
    assert VaderBaseline().fit(_labelled("y", "x", "y"), plain).predict(samples) == ["y", "y", "y"]
    with pytest.raises(ValueError, match="empty"):
        VaderBaseline().fit([], mikels_task())


def test_mean_and_majority_baselines() -> None:
    assert MeanBaseline().fit(_scored(1.0, 2.0, 6.0), vader_task("t")).predict(_scored(0, 0)) == [3.0, 3.0]
    # MOSI polarities: neg, neg, neutral, pos -> majority negative, mean of -2 and -1
    maj = MajorityBaseline().fit(_scored(-2.0, -1.0, 0.0, 1.5), MOSI_TASK)
    assert maj.predict(_scored(5.0)) == [-1.5]
    assert MajorityBaseline().fit(_labelled("fear", "Awe", "awe"), mikels_task()).predict(_scored(0)) == ["awe"]
    # a tie goes to the alphabetically first label
    assert MajorityBaseline().fit(_labelled("fear", "awe"), mikels_task()).predict(_scored(0)) == ["awe"]
    assert not MeanBaseline.supports(mikels_task()) and MeanBaseline.supports(MOSI_TASK)


def test_baseline_errors_and_registry() -> None:
    for cls in (MeanBaseline, MajorityBaseline):
        with pytest.raises(ValueError, match="empty"):
            cls().fit([], MOSI_TASK)
    with pytest.raises(ValueError, match="no training sample has a score"):
        MeanBaseline().fit(_labelled("awe"), MOSI_TASK)
    with pytest.raises(RuntimeError, match="before fit"):
        MeanBaseline().predict(_scored(1.0))
    with pytest.raises(ValueError, match="regression"):
        MeanBaseline().fit(_labelled("awe"), mikels_task())
    assert set(BASELINES) == {"vader", "majority", "mean", "minilm-ridge"}
    assert isinstance(get_baseline("Mean"), MeanBaseline)
    with pytest.raises(ValueError, match="unknown baseline"):
        get_baseline("oracle")


def test_constant_predictions_with_rounding_residue_give_nan_correlation() -> None:
    from emoreason.data.schema import vader_task
    from emoreason.metrics.regression import generic_regression_metrics

    value = 0.1 + 0.2  # mean() of many copies of this float is not exactly the float
    rng = np.random.default_rng(0)
    gold = rng.uniform(-4, 4, 371)
    pred = np.full(371, value)
    metrics = generic_regression_metrics(pred, gold, (-4.0, 4.0), vader_task("x").neutral)
    assert np.isnan(metrics["pearson_r"]) and np.isnan(metrics["spearman_rho"])
    assert any("predictions constant" in note for note in metrics["notes"])
