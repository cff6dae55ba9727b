"""`evaluate` and `evaluate-predictions` on the failures users met: a resume into another run, a
baseline that cannot run found only after generating, bad prediction values scored silently."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from emoreason.cli import app
from emoreason.data import DataError, Dataset, Sample, TaskInfo
from emoreason.eval.comparison import fit_baselines
from emoreason.eval.json_report import json_safe, strict_json
from emoreason.eval.predictions import score_system
from emoreason.eval.run_identity import adapter_fingerprint, identity_differences

runner = CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


def strict_load(path: Path) -> Any:
    """Parse JSON the way non-Python readers do: NaN and Infinity are errors."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{path} holds {constant}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


SCORED = [("great", 3), ("awful", -3), ("ok", 0), ("nice", 2), ("bad", -2), ("superb", 3.5), ("fine", 0.5)]


@pytest.fixture
def scored_data(tmp_path: Path) -> Path:
    """A generic scored file: 4 train rows and 3 test rows on the scale [-4, 4]."""
    rows = [
        {"id": f"s{i}", "text": t, "score": s, "split": "train" if i < 4 else "test"} for i, (t, s) in enumerate(SCORED)
    ]
    return write_rows(tmp_path / "d.jsonl", rows)


@pytest.fixture(scope="module")
def tiny_adapter(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter folder for the tiny causal LM (what `--adapter` takes)."""
    from peft import LoraConfig, get_peft_model

    from emoreason.models import load_model

    folder = tmp_path_factory.mktemp("adapter") / "lora"
    model = get_peft_model(
        load_model(str(tiny_models["causal_lm"])).model, LoraConfig(r=2, target_modules="all-linear")
    )
    model.save_pretrained(folder)
    return folder


def evaluate_args(model: Path, data: Path, out: Path, *extra: str) -> list[str]:
    spec = f"jsonl:{data}?scale=-4,4"
    common = ["--max-new-tokens", "4", "--batch-size", "2", "--baselines", "vader,mean"]
    return ["evaluate", "--model", str(model), "--dataset", spec, "--out", str(out), *common, *extra]


# --- 1. a rerun resumes only its own run -----------------------------------------------------


def test_rerun_with_another_adapter_stops_before_generating_and_names_the_difference(
    tiny_models: dict[str, Path], tiny_adapter: Path, scored_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "eval"
    model = tiny_models["causal_lm"]
    first = runner.invoke(app, evaluate_args(model, scored_data, out, "--adapter", str(tiny_adapter)))
    assert first.exit_code == 0, first.output
    written = (out / "predictions.jsonl").read_bytes()
    run = strict_load(out / "run.json")
    assert run["identity"]["adapters"] == [adapter_fingerprint(str(tiny_adapter))]
    assert run["identity"]["adapters"][0].startswith("sha256:")
    from emoreason.models.loading import pick_device, pick_dtype

    auto = str(pick_dtype("auto", pick_device("auto"))).removeprefix("torch.")  # float32 on a CPU
    assert run["identity"]["max_new_tokens"] == 4 and run["identity"]["dtype"] == auto

    import emoreason.cli.evaluation as evaluation

    def no_loading(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the model was loaded for a run that cannot resume")

    monkeypatch.setattr(evaluation, "load_engine", no_loading)
    second = runner.invoke(app, evaluate_args(model, scored_data, out, "--adapter", "none", "--max-new-tokens", "5"))
    assert second.exit_code == 2
    message = " ".join(second.output.split())
    assert f'adapters: ["{run["identity"]["adapters"][0]}"] -> []' in message
    assert "max_new_tokens: 4 -> 5" in message
    assert "--fresh" in message and "another --out" in message
    assert (out / "predictions.jsonl").read_bytes() == written  # nothing appended


def test_outside_sample_evaluates_the_rest_of_the_split_and_says_so(
    tiny_models: dict[str, Path], scored_data: Path, tmp_path: Path
) -> None:
    model, seen, unseen = tiny_models["causal_lm"], tmp_path / "seen", tmp_path / "unseen"
    assert runner.invoke(app, evaluate_args(model, scored_data, seen, "--sample", "1")).exit_code == 0
    result = runner.invoke(app, evaluate_args(model, scored_data, unseen, "--sample", "1", "--outside-sample"))
    assert result.exit_code == 0, result.output
    ids = [
        {json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text().splitlines()}
        for out in (seen, unseen)
    ]
    assert len(ids[0]) == 1 and len(ids[1]) == 2 and ids[0] | ids[1] == {"s4", "s5", "s6"}  # the 3 test rows
    selection = strict_load(unseen / "run.json")["selection"]
    assert selection == {"limit": None, "sample": 1, "seed": 0, "n": 2, "outside_sample": True, "ids": sorted(ids[1])}
    first = (unseen / "report.md").read_text().splitlines()[2]  # what the figures depend on, said at the top
    assert "(test, the rest of the split outside, a seeded random 1 (seed 0))" in first
    assert "scores read `" in first and "at most 4 new tokens" in first
    alone = runner.invoke(app, evaluate_args(model, scored_data, tmp_path / "x", "--outside-sample"))
    assert alone.exit_code == 2 and "give --sample N too" in " ".join(alone.output.split())


def test_fresh_starts_over_and_a_grown_limit_still_resumes(
    tiny_models: dict[str, Path], scored_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "eval"
    model = tiny_models["causal_lm"]
    assert runner.invoke(app, evaluate_args(model, scored_data, out, "--limit", "1")).exit_code == 0
    # the selection is recorded but not compared: the answer to s4 does not depend on it
    grown = runner.invoke(app, evaluate_args(model, scored_data, out))
    assert grown.exit_code == 0, grown.output
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 3
    selection = {"limit": None, "sample": None, "seed": None, "n": 3}
    assert strict_load(out / "run.json")["selection"] == selection | {"ids": ["s4", "s5", "s6"]}
    assert strict_load(out / "metrics.json")["selection"] == selection  # the ids stay in run.json
    assert set(strict_load(out / "metrics.json")["versions"]) >= {"emoreason", "torch", "transformers", "peft"}

    shrunk = runner.invoke(app, evaluate_args(model, scored_data, out, "--limit", "1"))
    assert shrunk.exit_code == 0, shrunk.output  # it said "resuming: 1 of 1" and nothing of the other two
    said = " ".join(shrunk.output.split())  # as the command's other warnings, not as log lines
    assert (
        "warning: resuming: 1 of 1 samples" in said and "also holds 2 answers to samples outside this selection" in said
    )

    refused = runner.invoke(app, evaluate_args(model, scored_data, out, "--max-new-tokens", "3"))
    assert refused.exit_code == 2 and "max_new_tokens: 4 -> 3" in " ".join(refused.output.split())
    fresh = runner.invoke(app, evaluate_args(model, scored_data, out, "--max-new-tokens", "3", "--fresh"))
    assert fresh.exit_code == 0, fresh.output
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(r["completion_tokens"] <= 3 for r in records)
    assert strict_load(out / "run.json")["identity"]["max_new_tokens"] == 3
    assert strict_load(out / "metrics.json")["run"]["max_new_tokens"] == 3


def test_folder_from_before_run_json_is_adopted_only_when_its_records_match(
    tiny_models: dict[str, Path], scored_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "eval"
    model = tiny_models["causal_lm"]
    assert runner.invoke(app, evaluate_args(model, scored_data, out, "--limit", "2")).exit_code == 0
    (out / "run.json").unlink()  # as an evaluation written before this change left it
    adopted = runner.invoke(app, evaluate_args(model, scored_data, out))
    assert adopted.exit_code == 0, adopted.output
    assert "written before run.json existed" in " ".join(adopted.output.split())
    assert (out / "run.json").is_file()
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 3  # the two old answers were reused

    (out / "run.json").unlink()
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    records[0]["model"] = "another-model+some-adapter"
    write_rows(out / "predictions.jsonl", records)
    refused = runner.invoke(app, evaluate_args(model, scored_data, out))
    assert refused.exit_code == 2
    assert "another-model+some-adapter" in refused.output and "--fresh" in refused.output


def test_adapter_fingerprint_follows_the_bytes_not_the_path(tiny_adapter: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_adapter, tmp_path / "moved"))
    assert adapter_fingerprint(str(copy)) == adapter_fingerprint(str(tiny_adapter))
    (copy / "README.md").write_text("notes about the run")  # not what peft loads: same adapter
    assert adapter_fingerprint(str(copy)) == adapter_fingerprint(str(tiny_adapter))
    weights = next(copy.glob("adapter_model.*"))
    data = weights.read_bytes()
    weights.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # retrained in place
    assert adapter_fingerprint(str(copy)) != adapter_fingerprint(str(tiny_adapter))
    assert adapter_fingerprint("someone/hub-adapter") == "name:someone/hub-adapter"


def test_a_model_folder_retrained_in_place_is_another_run(tmp_path: Path) -> None:
    """A full-weight model folder (best/model, final/model) was identified by its path alone: resuming an
    evaluate after training rewrote it mixed two models' answers in one predictions.jsonl."""
    from emoreason.eval.run_identity import run_identity
    from emoreason.generation import SamplingParams

    folder = tmp_path / "final" / "model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(bytes(3 << 20))
    task = TaskInfo("r", scale=(-4.0, 4.0))

    def identity() -> dict[str, Any]:
        return run_identity(
            model=str(folder), format_name="c2f", task=task, params=SamplingParams(), dataset="d", split="valid"
        )

    before = identity()
    (folder / "README.md").write_text("notes")  # not weights: the same model
    assert identity() == before
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-5] = 1  # retrained: its last bytes differ
    (folder / "model.safetensors").write_bytes(bytes(data))
    assert identity_differences(before, identity())[0].startswith("model_weights: ")
    assert "model_weights" not in run_identity(
        model="SmolLM2-135M-Instruct", format_name="c2f", task=task, params=SamplingParams(), dataset="d", split="v"
    )


def test_ctrl_c_says_whether_any_answer_was_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the first batch it said "finished batches are kept in predictions.jsonl" of a file never written."""
    import emoreason.api
    from emoreason.cli.ui import Terminated

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(emoreason.api, "evaluate", interrupted)
    out = tmp_path / "run"
    args = ["evaluate", "-d", "vader:tweets", "--out", str(out)]
    early = runner.invoke(app, args)
    assert early.exit_code == 130 and "before the first batch finished" in " ".join(early.output.split())
    out.mkdir()
    (out / "predictions.jsonl").write_text('{"id": "1"}\n')
    later = runner.invoke(app, args)
    assert later.exit_code == 130 and "finished batches are kept in" in " ".join(later.output.split())

    def terminated(*args: Any, **kwargs: Any) -> Any:  # what the SIGTERM handler raises
        raise Terminated

    monkeypatch.setattr(emoreason.api, "evaluate", terminated)
    killed = runner.invoke(app, args)  # a scheduler's SIGTERM: the same message, said as such, and 128 + 15
    assert killed.exit_code == 143 and "terminated (SIGTERM): interrupted; finished batches" in flat(killed.output)


def test_a_folder_given_as_the_predictions_file_is_called_a_folder(tmp_path: Path) -> None:
    from emoreason.eval.predictions import read_predictions

    with pytest.raises(DataError, match="is a folder; give the predictions file"):
        read_predictions(tmp_path)


def test_a_baseline_it_cannot_write_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    result = runner.invoke(app, ["baseline", "mean", str(tmp_path / "afile" / "x.jsonl"), "-d", "vader:tweets"])
    assert (
        result.exit_code == 2 and "cannot write" in flat(result.output) and "afile: File exists" in flat(result.output)
    )


def test_out_naming_a_file_is_refused_before_loading(tmp_path: Path) -> None:
    import emoreason

    afile = tmp_path / "afile"
    afile.write_text("")

    def no_loading(*args: Any) -> Any:
        raise AssertionError("the model was loaded for a run with nowhere to go")

    with pytest.raises(ValueError, match="afile is a file; give a folder for the run"):
        emoreason.evaluate("vader:tweets", "default", out=afile, loader=no_loading)
    with pytest.raises(ValueError, match="cannot write to .*afile/sub: Not a directory"):  # was a traceback
        emoreason.evaluate("vader:tweets", "default", out=afile / "sub", loader=no_loading)


def test_identity_differences_name_nested_fields() -> None:
    old = {"model": "m", "task": {"scale": [-3, 3], "name": "t"}, "top_k": 0}
    new = {"model": "m", "task": {"scale": [-1, 1], "name": "t"}, "seed": 1}
    assert identity_differences(old, new) == [
        'seed: "(absent)" -> 1',
        "task.scale: [-3, 3] -> [-1, 1]",
        'top_k: 0 -> "(absent)"',
    ]


def test_the_fitted_line_and_a_voting_batch_are_part_of_the_run() -> None:
    """A line refitted into the adapter resumed a folder whose records kept the old line's scores;
    with votes, another batch size draws other answers."""
    from emoreason.data import vader_task
    from emoreason.eval.run_identity import run_identity
    from emoreason.generation import SamplingParams

    common = {"model": "m", "format_name": "c2f", "task": vader_task("movies"), "dataset": "d", "split": "valid"}
    greedy, voting = SamplingParams(max_new_tokens=8), SamplingParams(max_new_tokens=8, n=3, temperature=0.7, seed=1)
    old = run_identity(**common, params=greedy, score_readout="fitted", score_fit={"weights": [1.0, 0.0]})
    new = run_identity(**common, params=greedy, score_readout="fitted", score_fit={"weights": [0.5, 0.0]})
    assert identity_differences(old, new) == ["score_fit.weights: [1.0, 0.0] -> [0.5, 0.0]"]
    confidence = run_identity(**common, params=greedy, score_readout="confidence", score_fit={"weights": [1.0]})
    assert "score_fit" not in confidence  # the line reads nothing under another readout
    assert "batch_size" not in run_identity(**common, params=greedy, batch_size=16)  # greedy: speed, not answers
    sixteen, two = (run_identity(**common, params=voting, batch_size=size) for size in (16, 2))
    assert identity_differences(sixteen, two) == ["batch_size: 16 -> 2"]


# --- 2. baselines are checked before generating --------------------------------------------------


def test_evaluate_without_train_split_skips_mean_with_a_reason_and_runs_the_rest(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    data = write_rows(
        tmp_path / "test_only.jsonl", [{"id": f"t{i}", "text": t, "score": s} for i, (t, s) in enumerate(SCORED[:3])]
    )
    out = tmp_path / "eval"
    args = evaluate_args(tiny_models["causal_lm"], data, out)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    message = " ".join(result.output.split())
    assert "baseline 'mean' skipped: it is fitted on the train split" in message and "has none" in message
    metrics = strict_load(out / "metrics.json")
    assert set(metrics["rows"]) == {"model", "vader"}
    assert any("'mean' skipped" in w for w in metrics["warnings"])
    assert "'mean' skipped" in (out / "report.md").read_text()


def _dataset(samples: list[Sample], task: TaskInfo) -> Dataset:
    from emoreason.data.base import LoadReport

    return Dataset(spec="test:inline", task=task, samples=samples, report=LoadReport(source="inline"))


def test_fit_baselines_says_why_each_skipped_one_cannot_run() -> None:
    regression = TaskInfo("r", scale=(-1.0, 1.0))
    test_only = [Sample(id="a", text="good", score=0.5, split="test"), Sample(id="b", text="", score=0.1, split="test")]
    fitted = fit_baselines(_dataset(test_only, regression), test_only, ["vader", "mean", "majority"])
    assert set(fitted.fitted) == set()
    assert "1 of 2 samples have none" in fitted.skipped["vader"]
    assert "train split" in fitted.skipped["mean"] and "train split" in fitted.skipped["majority"]

    classes = TaskInfo("c", labels=("joy", "anger"), metric_set="classification")
    labelled = [Sample(id="x", text="yay", label="joy", split="train"), Sample(id="y", text="grr", label="anger")]
    chosen = fit_baselines(_dataset(labelled, classes), labelled[1:], ["mean", "majority"])
    assert list(chosen.fitted) == ["majority"] and "does not apply" in chosen.skipped["mean"]
    with pytest.raises(ValueError, match="unknown baseline 'meen'"):
        fit_baselines(_dataset(labelled, classes), labelled[1:], ["majority", "meen"])


def test_a_baseline_that_learns_is_not_scored_on_its_own_train_samples() -> None:
    regression = TaskInfo("r", scale=(-1.0, 1.0))
    rows = [
        Sample(id="a", text="good", score=0.5, split="train"),
        Sample(id="b", text="bad", score=-0.5, split="train"),
        Sample(id="c", text="fine", score=0.2, split="test"),
    ]
    on_train = fit_baselines(_dataset(rows, regression), rows[:2], ["vader", "mean"])
    assert list(on_train.fitted) == ["vader"]  # VADER's score is the lexicon's: nothing learnt from train
    assert "2 of the 2 samples evaluated are train samples" in on_train.skipped["mean"]
    on_test = fit_baselines(_dataset(rows, regression), rows[2:], ["vader", "mean"])
    assert list(on_test.fitted) == ["vader", "mean"]


def test_a_text_baseline_is_skipped_where_samples_have_no_text() -> None:
    from emoreason.baselines import MiniLMRidgeBaseline

    regression = TaskInfo("r", scale=(-1.0, 1.0))
    rows = [Sample(id="a", text="good", score=0.5, split="train"), Sample(id="b", text="", score=0.1, split="test")]
    fitted = fit_baselines(_dataset(rows, regression), rows[1:], ["minilm-ridge", "mean"])
    assert MiniLMRidgeBaseline.reads_text
    assert "it reads text and 1 of 1 samples have none" in fitted.skipped["minilm-ridge"]
    assert list(fitted.fitted) == ["mean"]


# --- 3. bad prediction values are flagged, and reports are strict JSON ------------------------------


def test_bad_prediction_values_are_counted_named_and_scored_as_unparsed(scored_data: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text(
        '{"id": "s4", "score": "abc"}\n{"id": "s5", "score": NaN}\n{"id": "s6", "score": Infinity}\n'
        '{"id": "s0", "score": 1e9}\n{"id": "s1", "score": -2.5}\n{"id": "s2", "score": null}\n'
    )
    all_rows = f"jsonl:{scored_data}?scale=-4,4"
    metrics_path = tmp_path / "m.json"
    args = [
        "evaluate-predictions",
        str(predictions),
        "--dataset",
        all_rows,
        "--split",
        "all",
        "--out",
        str(metrics_path),
    ]
    result = runner.invoke(app, [*args, "--baselines", "mean"])
    assert result.exit_code == 0, result.output
    message = " ".join(result.output.split())
    assert "3 score(s) are not a finite number ('s4': 'abc', 's5': nan, 's6': inf)" in message
    assert "1 score(s) lie outside the scale [-4, 4] ('s0': 1000000000.0)" in message
    assert "scored as unparsed answers" in message
    # imputed rows are named too: the one without an answer and the one without a row
    assert "1 row(s) give no score (an answer that did not parse, or none given; first ids ['s2'])" in message
    assert "scored as the scale midpoint 0, neutral in the polarity figures" in message  # it said how only for others
    assert "1 of 7 samples have no prediction (first ids ['s3'])" in message
    report = strict_load(metrics_path)
    row = report["rows"]["preds"]
    assert row["not_a_number_predictions"] == 3 and row["out_of_scale_predictions"] == 1
    assert row["n_invalid"] == row["imputed_predictions"] == 6  # 4 rejected, a null score, an id with no row
    assert row["mae"] < 8  # no longer 50,000,000: the wild value costs what a midpoint guess costs
    # `all` holds the train rows the mean is fitted on: no row for it, and the reason said
    assert "mean" not in report["rows"] and "4 of the 7 samples evaluated are train samples" in message
    on_test = runner.invoke(app, [*args[:-3], "test", "--out", str(metrics_path), "--baselines", "mean"])
    assert on_test.exit_code == 0, on_test.output
    assert strict_load(metrics_path)["rows"]["mean"]["pearson_r"] is None  # undefined for a constant: null, not NaN


def test_evaluate_predictions_skips_a_baseline_without_train_split(tmp_path: Path) -> None:
    data = write_rows(
        tmp_path / "test_only.jsonl",
        [{"id": "t0", "text": "good", "score": 1}, {"id": "t1", "text": "meh", "score": 0}],
    )
    predictions = write_rows(tmp_path / "p.jsonl", [{"id": "t0", "score": 0.5}, {"id": "t1", "score": 0}])
    out = tmp_path / "m.json"
    args = ["evaluate-predictions", str(predictions), "-d", f"jsonl:{data}?scale=-4,4", "--out", str(out)]
    result = runner.invoke(app, [*args, "--baselines", "mean,vader"])
    assert result.exit_code == 0, result.output
    message = " ".join(result.output.split())
    assert "baseline 'mean' skipped: it is fitted on the train split" in message
    assert set(strict_load(out)["rows"]) == {"p", "vader"}  # the baseline that can run still does


def test_evaluate_predictions_reads_a_table_of_predictions(tmp_path: Path) -> None:
    """A system that writes its predictions as CSV (id,score) was refused line by line as invalid JSON. The
    table is read by its header; an empty cell is no answer (scored as an unparsed one, as `null` in JSONL)."""
    from emoreason.eval.predictions import read_predictions

    gold = [{"id": f"t{i}", "text": "x", "score": s} for i, s in enumerate((2.0, -1.0, 0.5, -3.0))]
    data = write_rows(tmp_path / "gold.jsonl", gold)
    (tmp_path / "p.csv").write_text("id,score\nt0,1.5\nt1,-0.5\nt2,\nt3,-2.5\n")
    (tmp_path / "p.jsonl").write_text(
        "".join(json.dumps({"id": f"t{i}", "score": s}) + "\n" for i, s in enumerate((1.5, -0.5, None, -2.5)))
    )
    rows, _ = read_predictions(tmp_path / "p.csv")
    assert rows["t0"] == {"id": "t0", "score": "1.5"} and rows["t2"]["score"] is None
    figures = []
    for name in ("p.csv", "p.jsonl"):
        out = tmp_path / f"{name}.json"
        result = runner.invoke(
            app, ["evaluate-predictions", str(tmp_path / name), "-d", f"jsonl:{data}?scale=-4,4", "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        row = strict_load(out)["rows"]["p"]
        figures.append((row["pearson_r"], row["mae"], row["n_invalid"]))
    assert figures[0] == figures[1] and figures[0][2] == 1
    (tmp_path / "bad.tsv").write_text("ident\tscore\nt0\t1\n")
    with pytest.raises(DataError, match="header row with `id`.*columns: ident, score"):
        read_predictions(tmp_path / "bad.tsv")


def test_evaluate_predictions_reads_a_label_tasks_completions_as_its_format(tmp_path: Path) -> None:
    """With c2f by default every emor3 completion was unparsed, reported as accuracy 0 with no error."""
    data = write_rows(
        tmp_path / "gold.jsonl", [{"id": "a", "text": "x", "label": "angry"}, {"id": "b", "text": "y", "label": "sad"}]
    )
    emor3 = "<step1>t</step1><step2>f</step2><step3>v</step3>\\boxed{{{}}}"
    predictions = write_rows(
        tmp_path / "p.jsonl",
        [{"id": "a", "completion": emor3.format("angry")}, {"id": "b", "completion": emor3.format("joy")}],
    )
    args = ["evaluate-predictions", str(predictions), "-d", f"jsonl:{data}?labels=angry,sad,joy"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output
    metrics = strict_load(tmp_path / "m.json")
    row = metrics["rows"]["p"]
    assert row["accuracy"] == 0.5 and row["parse_rate"] == 1.0
    # the file's own labels, which its task's name does not give back: said whole, as the audit record says them
    assert metrics["task_info"]["labels"] == ["angry", "sad", "joy"], metrics["task"]
    refused = runner.invoke(app, [*args, "-f", "c2f"])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "answers with a label: -f emor3 (or -f r1)" in said


def test_labels_outside_the_label_set_are_flagged() -> None:
    task = TaskInfo("c", labels=("joy", "anger"), metric_set="classification")
    samples = [Sample(id="a", text="x", label="joy"), Sample(id="b", text="y", label="anger")]
    scored = score_system(samples, {"a": {"label": "Joy"}, "b": {"label": "happiness"}}, task, "c2f", source="p.jsonl")
    assert scored.metrics["unknown_label_predictions"] == 1 and scored.metrics["accuracy"] == 0.5
    assert scored.warnings == [
        "p.jsonl: 1 label(s) are not in the label set ['anger', 'joy'] ('b': 'happiness'); "
        "they count as wrong (the <invalid> confusion column)"
    ]


def test_valence_and_cue_recall_are_reported_for_score_tasks_only(tmp_path: Path) -> None:
    """They check the numbers a chain states for the input's words, which only the score formats' chains state (c2f,
    the lexicon teacher's): an emotion run's report showed a cue recall of 0.17 and a row of nan beside its accuracy."""
    from emoreason.data import vader_task
    from emoreason.eval.report import write_report

    text = "I hate this terrible mess"
    chain = '<step1>"hate" (-2.7)</step1><step2>cross</step2><step3>negative, high arousal</step3>\\boxed{anger}'
    labels = TaskInfo("emo", labels=("joy", "anger"), label_polarity={"anger": "negative"}, metric_set="classification")
    samples = [Sample(id="a", text=text, label="anger")]
    row = score_system(samples, {"a": {"completion": chain}}, labels, "emor3").metrics
    assert row["accuracy"] == 1.0 and not [key for key in row if "valence" in key]
    c2f = '<polarity>negative</polarity><think>"hate" (-2.7)</think><score>-3</score>'
    scored = score_system(
        [Sample(id="a", text=text, score=-3.0)], {"a": {"completion": c2f}}, vader_task("movies"), "c2f"
    )
    assert scored.metrics["valence_cue_recall"] == pytest.approx(1 / 3)  # "hate" stated, "terrible" and "mess" not
    metrics = {"n": 1, "dataset": "emo", "split": "test", "model": "m", "format": "emor3", "rows": {"model": row}}
    metrics |= {"run": {"task": labels.to_dict()}, "generation": {"score_readout": "written"}}
    record = {"id": "a", "raw_completion": chain, "label": "anger", "parse_ok": True}
    md_path, html_path = write_report(tmp_path, "t", metrics, [record], samples, labels)
    for report in (md_path.read_text(), html_path.read_text()):
        assert "valence" not in report and "cue_recall" not in report and "Rated words" not in report
        assert "scores read" not in report  # a label task has no score to read


def test_an_explicit_value_that_overrides_its_completion_is_said() -> None:
    """A row with both a `score` and a completion was scored by the score without a word, so a file whose
    two disagree (a post-processed score beside the model's text) was read one way silently."""
    task = TaskInfo("r", scale=(-3.0, 3.0))
    samples = [Sample(id=k, text="x", score=1.0) for k in "abc"]
    said = "<polarity>positive</polarity>\n<think>good</think>\n<score>2</score>"
    rows = {
        "a": {"score": -1, "completion": said},
        "b": {"score": "2.0", "completion": said},
        "c": {"completion": said},
    }
    scored = score_system(samples, rows, task, "c2f", source="p.jsonl")
    assert scored.metrics["mae"] == pytest.approx((2 + 1 + 1) / 3)  # a's given -1 is what is scored
    assert scored.warnings == [
        "p.jsonl: 1 row(s) give a `score` that differs from their completion's answer (first ids ['a']); "
        "the given `score` is scored (leave it out to score the completion)"
    ]
    labels = TaskInfo("c", labels=("joy", "anger"), metric_set="classification")
    boxed = "<step1>a</step1><step2>b</step2><step3>c</step3>\\boxed{anger}"
    rows = {"a": {"label": "Joy", "completion": boxed}, "b": {"label": "anger", "completion": boxed}}
    gold = [Sample(id=k, text="x", label="joy") for k in "ab"]
    scored = score_system(gold, rows, labels, "emor3", source="p.jsonl")
    assert len(scored.warnings) == 1 and "give a `label`" in scored.warnings[0] and "['a']" in scored.warnings[0]


def test_parsed_answers_outside_the_scale_are_rejected_too() -> None:
    task = TaskInfo("r", scale=(-1.0, 1.0))
    samples = [Sample(id="a", text="x", score=0.5), Sample(id="b", text="y", score=-0.5)]
    completion = "<polarity>negative</polarity>\n<think>very bad</think>\n<score>-40</score>"
    rows = {"a": {"score": 0.5}, "b": {"completion": completion}}
    scored = score_system(samples, rows, task, "c2f")
    assert scored.metrics["out_of_scale_predictions"] == 1 and "'b': -40.0" in scored.warnings[0]
    assert scored.metrics["mae"] == pytest.approx(0.25)  # b counts as the midpoint 0, not -40


def test_an_mmsa_task_keeps_a_score_outside_the_scale_as_mmsa_does() -> None:
    """MMSA's metricsTop.py clips such a prediction; scoring it as the midpoint 0 gave Non0_acc_2 0.50,
    Mult_acc_7 0.20, MAE 1.52 where MMSA gives 0.75, 0.40, 1.10 (by hand below)."""
    from emoreason.data.schema import MOSI_TASK

    golds, preds = [2.4, -2.2, 0.0, 1.2, 2.8], [1.0, -0.5, 0.3, -0.2, 3.5]
    samples = [Sample(id=str(i), text="x", score=g) for i, g in enumerate(golds)]
    scored = score_system(samples, {str(i): {"score": p} for i, p in enumerate(preds)}, MOSI_TASK, "c2f", "p.jsonl")
    m = scored.metrics
    # signs of the four nonzero golds: 3 of 4 agree; [-3, 3]-clipped and rounded, 0 and 3 match: 2 of 5
    assert m["Non0_acc_2"] == 0.75 and m["Mult_acc_7"] == 0.4
    assert m["MAE"] == pytest.approx((1.4 + 1.7 + 0.3 + 1.4 + 0.7) / 5)  # unclipped, as MMSA's
    assert m["Corr"] == pytest.approx(float(np.corrcoef(preds, golds)[0, 1]), abs=5e-5)  # MMSA rounds to 4 places
    assert m["out_of_scale_predictions"] == 1 and m["imputed_predictions"] == 0
    assert scored.warnings == [
        "p.jsonl: 1 score(s) lie outside the scale [-3, 3] ('4': 3.5); kept, and clipped where MMSA's metrics clip"
    ]


class UnreadableImageEngine:
    """Answers every prompt, except that a batch holding an image named "broken" fails as a processor does."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def generate(self, conversations, params, progress=None):
        from emoreason.generation import Completion
        from emoreason.models import MediaError

        self.batches.append(len(conversations))
        for conversation in conversations:
            if conversation.image and "broken" in conversation.image:
                raise MediaError(f"cannot read image file {conversation.image}: Truncated File Read")
        answer = "<polarity>positive</polarity><think>fine</think><score>1.0</score>"
        return [[Completion(answer, [1], [0.0], "stop")] for _ in conversations]


def test_an_unreadable_image_leaves_out_its_sample_and_keeps_the_others(tmp_path: Path) -> None:
    """One unreadable image stopped the whole evaluation and lost its batch's answers."""
    from emoreason.data import load_dataset
    from emoreason.eval.runner import evaluate_model
    from emoreason.generation import SamplingParams

    rows = []
    for name in ("a", "broken", "c"):
        (tmp_path / f"{name}.png").write_bytes(b"not checked here")
        rows.append({"id": name, "text": "x", "image": f"{name}.png", "score": 1.0})
    dataset = load_dataset(f"jsonl:{write_rows(tmp_path / 'd.jsonl', rows)}?scale=-4,4")
    samples, engine, heard = dataset.split("test"), UnreadableImageEngine(), []
    params = SamplingParams(max_new_tokens=8)
    metrics = evaluate_model(engine, dataset, samples, tmp_path / "run", "m", "c2f", params, 8, [], notify=heard.append)
    answered = [json.loads(x)["id"] for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert answered == ["a", "c"] and engine.batches == [3, 1, 1, 1]  # the batch, then each of its samples
    said = " ".join(heard)
    assert "1 sample(s) have media that could not be read and were left out" in said
    assert "first 'broken': cannot read image file" in said and metrics["rows"]["model"]["imputed_predictions"] == 1
    # a sample kept without its (missing) image is answered from its text: said, not silent
    rows.append({"id": "d", "text": "y", "image": "gone.png", "score": 1.0})
    kept = load_dataset(f"jsonl:{write_rows(tmp_path / 'd.jsonl', rows)}?scale=-4,4&missing_media=keep")
    metrics = evaluate_model(engine, kept, kept.split("test"), tmp_path / "run2", "m", "c2f", params, 8, [])
    assert any("1 of 4 samples lack a media file and are answered without it" in w for w in metrics["warnings"])


class CutAnswerEngine:
    """Every answer stops at the token limit inside its score: `<score>1.` (the next token would be 5)."""

    def generate(self, conversations, params, progress=None):
        from emoreason.generation import Completion

        answer = "<polarity>positive</polarity><think>fine</think><score>1."
        return [[Completion(answer, [1], [0.0], "length")] for _ in conversations]


def test_evaluate_scores_an_answer_cut_in_its_score_as_unparsed(tmp_path: Path) -> None:
    """evaluate scored the completions again without their finish_reason, so `<score>1.` cut at the limit,
    refused when generated, counted as a parsed 1.0 in the metrics (validation already held it to its tag)."""
    from emoreason.data import load_dataset
    from emoreason.eval.runner import evaluate_model
    from emoreason.generation import SamplingParams

    rows = [{"id": k, "text": "x", "score": 2.0} for k in "ab"]
    dataset = load_dataset(f"jsonl:{write_rows(tmp_path / 'd.jsonl', rows)}?scale=-4,4")
    params = SamplingParams(max_new_tokens=8)
    metrics = evaluate_model(
        CutAnswerEngine(), dataset, dataset.split("test"), tmp_path / "run", "m", "c2f", params, 8, []
    )
    model = metrics["rows"]["model"]
    assert model["parse_rate"] == 0.0 and model["imputed_predictions"] == 2
    assert model["mae"] == pytest.approx(2.0)  # the midpoint 0 against gold 2, not 1.0 against 2


def test_compare_counts_an_out_of_scale_mmsa_answer_as_evaluate_does() -> None:
    """compare took an MOSI answer of 3.4 as the midpoint where evaluate keeps it (MMSA's metrics clip it)."""
    from emoreason.data.schema import MOSI_TASK
    from emoreason.eval.compare import usable_score

    assert usable_score({"score": 3.4}, MOSI_TASK) == 3.4
    assert usable_score({"score": 9.0}, TaskInfo("r", scale=(-4.0, 4.0))) == 0.0  # elsewhere: the midpoint
    assert usable_score({"score": None}, MOSI_TASK) == 0.0 and usable_score({"score": True}, MOSI_TASK) == 0.0


def test_a_report_cut_short_leaves_the_file_it_replaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run.json was written in place: a kill mid-write left half a file, the rerun refused the folder, and the
    way out it named (--fresh) deleted the answers."""
    import os

    from emoreason.eval.json_report import write_json_report

    target = write_json_report(tmp_path / "run.json", {"identity": {"split": "valid"}})

    def killed(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        write_json_report(target, {"identity": {"split": "test"}, "more": list(range(1000))})
    assert json.loads(target.read_text()) == {"identity": {"split": "valid"}}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary file left


def test_json_safe_makes_non_finite_values_null() -> None:
    value = {"a": float("nan"), "b": [np.float32("inf"), np.int64(3)], "c": (1.5, -math.inf), "d": np.array([np.nan])}
    assert json_safe(value) == {"a": None, "b": [None, 3], "c": [1.5, None], "d": [None]}
    assert "NaN" not in strict_json(value) and json.loads(strict_json(value))["b"] == [None, 3]


def test_the_report_pairs_answers_with_their_samples_by_id() -> None:
    """A sample left unanswered (unreadable media) shifted every later answer onto the sample before it in the
    scatter, error and confusion plots: gold [-3, 3, 3] with the first unanswered read negative -> positive."""
    from emoreason.eval.report import answers_of, polarity_confusion

    task = TaskInfo("r", scale=(-4.0, 4.0))
    samples = [Sample(id=f"s{i}", text="x", score=g) for i, g in enumerate((-3.0, 3.0, 3.0))]
    records = [{"id": "s1", "polarity": "positive", "score": 2.0}, {"id": "s2", "polarity": "positive", "score": 2.5}]
    (negative, _, positive), _, _ = polarity_confusion(answers_of(records, samples), samples, task)
    assert negative == [0, 0, 0, 1] and positive == [0, 0, 2, 0]  # s0: no answer; s1, s2: positive


def test_the_vader_baseline_does_not_claim_training_data(scored_data: Path, tmp_path: Path) -> None:
    spec = f"jsonl:{scored_data}?scale=-4,4"
    vader = runner.invoke(app, ["baseline", "vader", str(tmp_path / "v.jsonl"), "-d", spec])
    assert vader.exit_code == 0 and "training data" not in vader.output  # its scores are the lexicon's
    mean = runner.invoke(app, ["baseline", "mean", str(tmp_path / "m.jsonl"), "-d", spec])
    assert mean.exit_code == 0 and "training data: 4 samples" in " ".join(mean.output.split())


class SeedRecordingEngine:
    """Answers every prompt alike and records the seed of each call."""

    def __init__(self) -> None:
        self.seeds: list[int | None] = []

    def generate(self, conversations, params, progress=None):
        from emoreason.generation import Completion

        self.seeds.append(params.seed)
        answer = "<polarity>positive</polarity><think>fine</think><score>1</score>"
        return [[Completion(answer, [1], [0.0], "stop")] * params.n for _ in conversations]


def test_each_batch_of_a_voted_run_draws_its_own_numbers_and_a_resumed_one_the_same(tmp_path: Path) -> None:
    """Every batch of a seeded run reseeded with the run's seed, so each drew the same random numbers."""
    from emoreason.data import load_dataset
    from emoreason.eval.runner import evaluate_model
    from emoreason.generation import SamplingParams

    rows = [{"id": f"s{i}", "text": f"text {i}", "score": 1.0} for i in range(6)]
    dataset = load_dataset(f"jsonl:{write_rows(tmp_path / 'd.jsonl', rows)}?scale=-4,4")
    params = SamplingParams(n=3, temperature=0.7, max_new_tokens=8, seed=0)
    whole = SeedRecordingEngine()
    evaluate_model(whole, dataset, dataset.split("test"), tmp_path / "whole", "m", "c2f", params, 2, [])
    assert len(whole.seeds) == 3 and len(set(whole.seeds)) == 3 and None not in whole.seeds
    # a run stopped after its first batch asks the other two again with the seeds they had
    (tmp_path / "part").mkdir()
    first = (tmp_path / "whole" / "predictions.jsonl").read_text().splitlines()[:2]
    (tmp_path / "part" / "predictions.jsonl").write_text("\n".join(first) + "\n")
    shutil.copy(tmp_path / "whole" / "run.json", tmp_path / "part" / "run.json")
    resumed = SeedRecordingEngine()
    evaluate_model(resumed, dataset, dataset.split("test"), tmp_path / "part", "m", "c2f", params, 2, [])
    assert resumed.seeds == whole.seeds[1:]
    other = SeedRecordingEngine()  # another run seed, other numbers
    evaluate_model(
        other, dataset, dataset.split("test"), tmp_path / "other", "m", "c2f", replace(params, seed=1), 2, []
    )
    assert not set(other.seeds) & set(whole.seeds)


def test_a_batch_seed_is_the_runs_seed_and_the_batchs_samples() -> None:
    from emoreason.generation import SamplingParams

    seeded = SamplingParams(seed=7)
    assert SamplingParams().for_batch(["a"]).seed is None
    assert seeded.for_batch(["a", "b"]) == seeded.for_batch(["a", "b"])
    seeds = {seeded.for_batch(k).seed for k in (["a", "b"], ["b", "a"], ["a"], ["ab"])}
    assert len(seeds) == 4 and all(0 <= s < 2**63 for s in seeds)
    assert seeded.for_batch(["a"]).seed != SamplingParams(seed=8).for_batch(["a"]).seed


def test_what_the_load_said_is_kept_with_the_figures(tmp_path: Path) -> None:
    """A gold score outside the scale and the skipped rows were said on the console only: metrics.json and the
    report, which the figures they bear on go with, said nothing."""
    from emoreason.data import load_dataset
    from emoreason.eval.runner import evaluate_model
    from emoreason.generation import SamplingParams

    rows = [{"id": f"s{i}", "text": f"text {i}", "score": s} for i, s in enumerate([1, 4, 7, 9])]
    path = write_rows(tmp_path / "d.jsonl", rows)
    with path.open("a") as handle:
        handle.write('{"id": "broken", "text": 3}\n')
    dataset = load_dataset(f"jsonl:{path}?scale=1,7")
    params = SamplingParams(max_new_tokens=8)
    metrics = evaluate_model(
        CutAnswerEngine(), dataset, dataset.split("test"), tmp_path / "run", "m", "c2f", params, 8, []
    )
    said = " ".join(metrics["warnings"])
    assert "1 scores lie outside the scale (1.0, 7.0), first ids: ['s3']" in said and "skipped 1 bad rows" in said
    assert "lie outside the scale" in (tmp_path / "run" / "report.md").read_text()


def test_the_default_baselines_are_the_rows_that_fit_the_data() -> None:
    """A label task's clips skipped the default VADER and mean rows, with a warning each, on every run."""
    from emoreason.baselines import baselines_for
    from emoreason.data.schema import mikels_task, vader_task

    assert baselines_for(["auto"], vader_task("movies")) == ["vader", "mean"]
    assert baselines_for(["auto"], mikels_task(), texts=False) == ["majority"]
    assert baselines_for(["auto"], mikels_task(), texts=True) == ["vader", "majority"]
    assert baselines_for(["mean", "auto", "minilm-ridge"], vader_task("movies")) == ["mean", "vader", "minilm-ridge"]
    assert baselines_for([], vader_task("movies")) == []
    # one string as --baselines and api.evaluate take it: split on commas, "none" for no rows
    assert baselines_for(" mean, auto ,", vader_task("movies")) == ["mean", "vader"]
    assert baselines_for("None", vader_task("movies")) == []
