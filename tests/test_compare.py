"""The paired bootstrap and `emoreason compare`: is B better than A on the same samples?"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emoreason.cli.main import app
from emoreason.data import DataError
from emoreason.data.schema import vader_task
from emoreason.eval.compare import compare_runs, paired_metrics
from emoreason.eval.run_identity import write_identity_file
from emoreason.metrics import bootstrap_ci, paired_difference


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.abs(pred - true)))


def test_a_constant_gap_has_a_zero_width_interval() -> None:
    true = np.zeros(5)
    result = paired_difference(mae, np.ones(5), np.zeros(5), true, n=200)
    assert (result.a, result.b, result.difference) == (1.0, 0.0, -1.0)
    assert (result.low, result.high, result.share_above_zero, result.n_items) == (-1.0, -1.0, 0.0, 5)


def test_pairing_separates_what_two_separate_intervals_cannot() -> None:
    rng = np.random.default_rng(1)
    true = rng.normal(size=60)
    noise = rng.normal(scale=2.0, size=60)
    a, b = true + noise, true + 0.9 * noise  # B's error is 10% smaller on every sentence
    paired = paired_difference(mae, a, b, true, n=500)
    assert paired.high < 0 and paired.share_above_zero == 0.0  # B better on every resample
    low_a, high_a = bootstrap_ci(mae, a, true, n=500)
    low_b, high_b = bootstrap_ci(mae, b, true, n=500)
    assert low_a < high_b  # the intervals of each system alone overlap


def test_paired_difference_prints_as_the_reports_write_it() -> None:
    result = paired_difference(mae, np.ones(5), np.zeros(5), np.zeros(5), n=200)
    assert str(result) == "1.000 -> 0.000, -1.000 [-1.000, -1.000]"


def test_paired_metrics_are_the_tasks_metrics_on_one_resample() -> None:
    task = vader_task("movies")
    rng = np.random.default_rng(0)
    gold = rng.uniform(-3, 3, 40)
    a, b = gold + rng.normal(0, 1.5, 40), gold + rng.normal(0, 0.5, 40)
    got = paired_metrics(task, a, b, gold, names=("pearson_r", "mae"), n=300, seed=1)
    assert list(got) == ["pearson_r", "mae"]
    assert got["mae"] == paired_difference(mae, a, b, gold, n=300, seed=1)
    assert got["pearson_r"].difference > 0 and got["mae"].difference < 0
    assert "acc_3" in paired_metrics(task, a, b, gold, n=50)  # every metric of the task by default
    with pytest.raises(ValueError, match="unknown metric"):
        paired_metrics(task, a, b, gold, names=("accuracy",))


def test_paired_difference_refuses_unaligned_input() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference(mae, [1.0, 2.0], [1.0], [0.0, 0.0])


def write_run(folder: Path, scores: dict[str, float | None], gold: dict[str, float]) -> Path:
    folder.mkdir(parents=True)
    identity = {"task": vader_task("movies").to_dict(), "dataset": "vader:movies"}
    write_identity_file(folder, identity, {"model_id": "m"})  # run.json as evaluate writes it
    rows = [
        {"id": i, "score": s, "parse_ok": s is not None, "gold_score": gold[i], "polarity": None}
        for i, s in scores.items()
    ]
    (folder / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


GOLD = {"s1": 2.0, "s2": -2.0, "s3": 1.0, "s4": -1.0}


def test_compare_runs_on_shared_ids(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", {"s1": 1.0, "s2": -1.0, "s3": None, "s4": 0.0, "extra": 1.0}, {**GOLD, "extra": 0})
    b = write_run(tmp_path / "b", {"s1": 2.0, "s2": -2.0, "s3": 1.0, "s4": -1.0}, GOLD)
    result = compare_runs(a, b, n=200)
    assert result["n_shared"] == 4 and result["only_in_a"] == 1 and result["only_in_b"] == 0
    # A: |1-2| + |-1+2| + |0-1| (unparsed: the midpoint 0) + |0+1| = 4 -> 1.0; B is exact
    assert result["metrics"]["mae"]["a"] == 1.0 and result["metrics"]["mae"]["b"] == 0.0
    assert result["metrics"]["mae"]["lower_is_better"] and result["metrics"]["parse_rate"]["a"] == 0.75
    assert result["metrics"]["pearson_r"]["b"] == pytest.approx(1.0)


def test_a_folder_reused_with_another_sample_is_read_as_its_current_selection(tmp_path: Path) -> None:
    """A folder that answered 4 sentences and then --sample 2 of them holds 4 answers; compare took all 4."""
    a = write_run(tmp_path / "a", {"s1": 1.0, "s2": -1.0, "s3": 0.5, "s4": 0.0}, GOLD)
    stored = json.loads((a / "run.json").read_text())
    write_identity_file(a, stored["identity"], {"model_id": "m", "selection": {"sample": 2, "ids": ["s1", "s2"]}})
    b = write_run(tmp_path / "b", {"s1": 2.0, "s2": -2.0, "s3": 1.0, "s4": -1.0}, GOLD)
    result = compare_runs(a, b, n=50)
    assert result["n_shared"] == 2 and result["only_in_b"] == 2
    assert result["metrics"]["mae"]["a"] == 1.0  # |1-2| and |-1+2|: s3 and s4 are another run's


def test_compare_refuses_different_gold(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", {"s1": 1.0}, GOLD)
    b = write_run(tmp_path / "b", {"s1": 1.0}, {**GOLD, "s1": -3.0})
    with pytest.raises(DataError, match="not the same data"):
        compare_runs(a, b)
    with pytest.raises(DataError, match="run.json is missing: give a run folder written by `emoreason evaluate`"):
        compare_runs(tmp_path, b)
    with pytest.raises(DataError, match="nowhere: does not exist: give a run folder"):  # not "run.json is missing"
        compare_runs(tmp_path / "nowhere", b)


def test_compare_command_reads_the_verdict(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", {k: 0.0 for k in GOLD}, GOLD)
    b = write_run(tmp_path / "b", dict(GOLD), GOLD)
    out = tmp_path / "c.json"
    result = CliRunner().invoke(app, ["compare", str(a), str(b), "--out", str(out)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    mae_line = next(line for line in result.output.splitlines() if " mae " in line)
    assert "B better" in mae_line and "-1.500" in mae_line
    assert json.loads(out.read_text())["metrics"]["mae"]["b"] == 0.0
    missing = CliRunner().invoke(app, ["compare", str(tmp_path / "nope"), str(b)])
    assert missing.exit_code != 0 and "evaluate" in missing.output


def test_polarity_recalls_tell_a_shift_from_a_better_separation(tmp_path: Path) -> None:
    # gold: 4 positive, 2 negative, 2 neutral (VADER's band: |score| < 0.5 is neutral)
    gold = {"p1": 2.0, "p2": 2.0, "p3": 1.0, "p4": 1.0, "n1": -2.0, "n2": -1.0, "z1": 0.0, "z2": 0.2}
    # A: every positive right, one negative answered positive, neutrals answered positive
    a = write_run(tmp_path / "a", {**gold, "n2": 1.0, "z1": 1.0, "z2": 1.0}, gold)
    # B moved two positives to negative and found the negative and one neutral: acc-3 falls, UAR rises
    b = write_run(tmp_path / "b", {**gold, "p1": -1.0, "p2": -1.0, "z2": 1.0}, gold)
    metrics = compare_runs(a, b, n=50)["metrics"]
    assert metrics["acc_3"]["a"] == 5 / 8 and metrics["acc_3"]["b"] == 5 / 8
    assert metrics["recall_positive"]["a"] == 1.0 and metrics["recall_positive"]["b"] == 0.5
    assert metrics["recall_negative"]["a"] == 0.5 and metrics["recall_negative"]["b"] == 1.0
    assert metrics["recall_neutral"]["a"] == 0.0 and metrics["recall_neutral"]["b"] == 0.5
    assert metrics["uar_3"]["a"] == pytest.approx(0.5) and metrics["uar_3"]["b"] == pytest.approx(2 / 3)
    # each recall rests on its own class's gold items, which n_items (all 8) does not say
    assert [metrics[f"recall_{p}"]["n_gold"] for p in ("positive", "negative", "neutral")] == [4, 2, 2]
    assert "n_gold" not in metrics["acc_3"]


def test_polarity_array_follows_the_band_edges() -> None:
    from emoreason.data.schema import NeutralBand
    from emoreason.metrics.regression import polarity_array, uar_3

    sims = NeutralBand(-0.1, 0.1, False, True)  # (-0.1, 0.1]
    scores = [-0.1, -0.05, 0.1, 0.2, 0.0]
    assert polarity_array(scores, sims).tolist() == ["negative", "neutral", "neutral", "positive", "neutral"]
    assert polarity_array(scores, sims).tolist() == [sims.polarity(s) for s in scores]
    # a polarity the gold lacks is left out of the mean, not counted as 0
    assert uar_3(np.array(["positive", "negative"]), np.array(["positive", "positive"])) == 0.5
