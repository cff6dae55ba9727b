"""Input hardening: each test reproduces a finding a user saw and checks the fix.

1 lone surrogates, 2 empty and too-long text, 3 unlabelled analyze files, 4 metric tables in 80
columns, 5 encodings, 6 file names read as markup, 7 library noise, 8 help, 9 small messages.
The text policy under test is `emoreason.data.text` (reject a lone surrogate where it enters,
UTF-8 only with a BOM allowed, errors naming file, line and field).
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from emoreason.cli import app, ui
from emoreason.data import DataError, load_dataset
from emoreason.data.schema import Sample, vader_task
from emoreason.data.text import InvalidTextError, NotUtf8Error, check_text, decode_utf8

runner = CliRunner()
LONE = "\ud800"  # half of a UTF-16 pair: what a JSON "\ud800" escape decodes to
RAW_ROW = '{"id": "a", "text": "bad \\ud800 here", "score": 1}'  # the JSON escape, as a file holds it


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def flat(output: str) -> str:
    """Output as one line: rich wraps long messages (paths) at 80 columns."""
    return " ".join(output.split())


def rows(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


@pytest.fixture(scope="module")
def tiny(tiny_models: dict[str, Path]) -> str:
    return str(tiny_models["causal_lm"])


@pytest.fixture(autouse=True)
def library_logging_restored() -> Iterator[None]:
    """The CLI quiets transformers in this process; give later tests the library's own state back."""
    from transformers.utils import logging as transformers_logging

    level, bars = transformers_logging.get_verbosity(), transformers_logging.is_progress_bar_enabled()
    yield
    transformers_logging.set_verbosity(level)
    (transformers_logging.enable_progress_bar if bars else transformers_logging.disable_progress_bar)()


# --- 1: a lone UTF-16 surrogate ---------------------------------------------------------------


def test_check_text_names_the_field_and_passes_valid_unicode() -> None:
    check_text({"text": "café 😀 naïve", "meta": ["ok", {"k": "ü"}]})
    with pytest.raises(InvalidTextError) as caught:
        check_text({"messages": [{"role": "user", "content": f"bad {LONE}"}]})
    assert caught.value.field == "messages.0.content"
    assert "character 5" in str(caught.value) and "U+D800" in str(caught.value)


def test_a_jsonl_row_with_a_lone_surrogate_is_a_bad_row_with_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", RAW_ROW + "\n" + rows({"id": "b", "text": "fine", "score": -1}))
    dataset = load_dataset(f"jsonl:{path}?scale=-4,4")
    assert [s.id for s in dataset.split("all")] == ["b"]
    (bad,) = dataset.report.bad_rows
    assert (bad.line, bad.field, bad.reason) == (1, "text", "invalid text")
    with pytest.raises(DataError, match=r"s\.jsonl:1 \(field 'text'\): invalid text .*U\+D800"):
        load_dataset(f"jsonl:{path}?scale=-4,4", strict=True)


def test_data_convert_and_distill_skip_the_row_instead_of_crashing(tmp_path: Path) -> None:
    row = {"id": "b", "text": "awful, just awful", "score": -3, "split": "train"}
    path = write(tmp_path / "s.jsonl", RAW_ROW + "\n" + rows(row))
    out = tmp_path / "out.jsonl"
    converted = runner.invoke(app, ["data", "convert", f"jsonl:{path}?scale=-4,4", str(out)])
    assert converted.exit_code == 0, converted.output
    assert "invalid text" in flat(converted.output) and "s.jsonl:1" in flat(converted.output)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["b"]
    distilled = runner.invoke(
        app, ["distill", "-d", f"jsonl:{path}?scale=-4,4", "--split", "all", "--out", str(tmp_path / "d")]
    )
    assert distilled.exit_code == 0, distilled.output
    assert json.loads((tmp_path / "d" / "stats.json").read_text())["total"] == 1


def test_cache_key_refuses_a_sample_built_without_a_loader() -> None:
    from emoreason.distill import LexiconTeacher
    from emoreason.distill.run import cache_key
    from emoreason.distill.teachers import TeacherRequest
    from emoreason.formats import get_format

    c2f, task = get_format("c2f"), vader_task("tweets")
    sample = Sample(id="t1", text=f"bad {LONE}", score=1.0)
    with pytest.raises(InvalidTextError, match="sample 't1' prompt"):
        cache_key(LexiconTeacher(c2f, task), TeacherRequest(sample, c2f.messages(sample, task)))


def test_analyze_refuses_the_text_before_loading_a_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", f"bad {LONE}", "--model", str(tmp_path / "no-model")])
    assert result.exit_code == 2, result.output
    assert "the text: character 5" in flat(result.output) and "U+D800" in flat(result.output)
    assert "Traceback" not in result.output


def test_analyze_reads_stdin_as_utf8_and_names_the_bad_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", "--model", str(tmp_path / "no-model")], input=b"fine\ncaf\xe9\n")
    assert result.exit_code == 2, result.output
    assert "stdin, line 2: not UTF-8" in flat(result.output) and "0xe9" in flat(result.output)


def test_analyze_input_file_skips_the_bad_row_and_answers_the_rest(tiny: str, tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", RAW_ROW + "\n" + rows({"id": "b", "text": "fine"}))
    result = runner.invoke(app, ["analyze", "--input", str(path), "--model", tiny, "--json", "--max-new-tokens", "2"])
    assert result.exit_code == 0, result.output
    assert "invalid text" in flat(result.output)
    assert [json.loads(line)["id"] for line in result.stdout.splitlines() if line.startswith("{")] == ["b"]


@pytest.mark.parametrize("command", [["evaluate", "-d", "vader:movies"], ["data", "inspect", "vader:movies"]])
def test_a_misspelt_split_is_refused_as_the_arguments_are_read(command: list[str]) -> None:
    """`--split tset` was said after the dataset (and evaluate's imports) had loaded, seconds later; the
    choices are the dataset's own splits."""
    from typing import get_args

    from emoreason.cli import options
    from emoreason.data.schema import SPLITS

    assert get_args(get_args(options.Split)[0]) == (*SPLITS, "all")
    result = runner.invoke(app, [*command, "--split", "tset"])
    said = flat(result.output)
    assert result.exit_code == 2 and "Invalid value for '--split'" in said and "'tset' is not one of 'train'," in said


@pytest.mark.parametrize("command", [["analyze", "Fine."], ["serve"]], ids=" ".join)
def test_an_unknown_score_readout_fails_before_the_model_loads(
    command: list[str], tiny: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import emoreason.cli.analysis
    import emoreason.serve

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(emoreason.serve, "build_app", no_load)
    monkeypatch.setattr(emoreason.cli.analysis, "load_engine", no_load)
    result = runner.invoke(app, [*command, "--model", tiny, "--score-readout", "weighted"])
    assert result.exit_code != 0 and "the model was loaded" not in flat(result.output)
    assert "confidence, written" in flat(result.output) and "weighted" in flat(result.output)


@pytest.fixture(scope="module")
def client(tiny: str) -> Iterator[TestClient]:
    from emoreason.generation import TransformersEngine
    from emoreason.models import load_model
    from emoreason.serve import ModelInfo, ServeSettings, create_app

    loaded = load_model(tiny)
    settings = ServeSettings(default_max_tokens=2, max_tokens_limit=64)
    app_ = create_app(TransformersEngine(loaded, batch_size=4), ModelInfo.from_loaded(loaded, "tiny"), settings)
    with TestClient(app_, raise_server_exceptions=False) as running:
        yield running


def post_raw(client: TestClient, path: str, body: str) -> dict:
    response = client.post(path, content=body.encode(), headers={"content-type": "application/json"})
    return {"status": response.status_code, **response.json().get("error", {})}


def test_a_json_body_is_held_to_its_types_a_form_is_not(client: TestClient) -> None:
    """`"votes": "3"` and `"attribute": "yes"` passed in a JSON body (pydantic's lax mode, which forms need)."""
    for body, field in (('{"text": "x", "votes": "3"}', "votes"), ('{"text": "x", "attribute": "yes"}', "attribute")):
        refused = post_raw(client, "/v1/analyze", body)
        assert (refused["status"], refused["param"]) == (400, field)
    form = client.post("/v1/analyze", data={"text": "x", "votes": "1", "attribute": "false", "max_tokens": "2"})
    assert form.status_code == 200 and "attribution" not in form.json()


def test_analyze_bounds_attribution_and_names_an_unmeasurable_upload_by_its_field(client: TestClient) -> None:
    """`attribute: true` ran one prompt pass per word with no bound (10,000 for a long text, beyond the request
    timeout); a clip that could not be measured into cue text answered with the server's private upload path
    and param "task"."""
    many = client.post("/v1/analyze", json={"text": "hi", "labels": [f"label{i}" for i in range(5000)]}).json()
    assert many["error"]["param"] == "labels" and "the limit is 20000" in many["error"]["message"]
    long = client.post("/v1/analyze", json={"text": "fine " * 201, "attribute": True}).json()["error"]
    assert (
        long["param"] == "attribute" and "the text has 201 words, this server attributes at most 200" in long["message"]
    )
    fake = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64  # sniffs as a WAV file, does not decode
    response = client.post("/v1/analyze", data={"text": "hi"}, files={"audio": ("clip.wav", fake, "audio/wav")})
    error = response.json()["error"]
    assert response.status_code == 400 and (error["param"], error["code"]) == ("audio", "invalid_media")
    assert (
        "emoreason-uploads" not in error["message"] and "cannot read audio file the uploaded audio" in error["message"]
    )


def test_an_unexpected_error_still_carries_the_request_id(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 was sent from outside the middleware that adds X-Request-ID, so the one answer that most needs
    tracing in the log had none."""
    from emoreason.generation import TransformersEngine

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(TransformersEngine, "generate", broken)
    response = client.post("/v1/analyze", json={"text": "hi"}, headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 500 and response.headers["x-request-id"] == "trace-42"
    assert response.json()["error"]["code"] == "internal_error"


def test_server_answers_400_naming_the_field_not_500(client: TestClient) -> None:
    analyzed = post_raw(client, "/v1/analyze", '{"text": "bad \\ud800 here"}')
    assert (analyzed["status"], analyzed["param"]) == (400, "text") and "U+D800" in analyzed["message"]
    chat = post_raw(
        client, "/v1/chat/completions", '{"model": "tiny", "messages": [{"role": "user", "content": "\\ud800"}]}'
    )
    assert (chat["status"], chat["param"]) == (400, "messages.0.content")
    parts = '[{"type": "text", "text": "x\\udc00"}]'
    chat = post_raw(
        client, "/v1/chat/completions", f'{{"model": "tiny", "messages": [{{"role": "user", "content": {parts}}}]}}'
    )
    assert (chat["status"], chat["param"]) == (400, "messages.0.content.0.text")
    assert (
        post_raw(client, "/v1/analyze", '{"text": "caf\\u00e9 \\ud83d\\ude00"}')["status"] == 200
    )  # a whole pair is fine


# --- 2: empty text and text beyond the model's context ------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_analyze_refuses_empty_and_whitespace_text_before_loading(text: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", text, "--model", str(tmp_path / "no-model")])
    assert result.exit_code == 2 and "empty or only whitespace" in flat(result.output), result.output


def test_analyze_refuses_blank_stdin(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", "--model", str(tmp_path / "no-model")], input="\n  \n")
    assert result.exit_code == 2 and "stdin held no text" in flat(result.output), result.output


def test_the_library_refuses_a_sample_with_nothing_to_read() -> None:
    from emoreason.inference import check_inputs

    check_inputs([Sample(id="media", text="", audio="a.wav"), Sample(id="cues", text="")], {"cues": "pitch high"})
    with pytest.raises(ValueError, match="'blank' has no text, no media and no cue text"):
        check_inputs([Sample(id="blank", text="  ")])
    with pytest.raises(InvalidTextError, match="sample 'x' text"):
        check_inputs([Sample(id="x", text=LONE)])


def test_analyze_refuses_text_beyond_the_context_with_both_numbers(tiny: str) -> None:
    result = runner.invoke(app, ["analyze", "word " * 20_000, "--model", tiny, "--max-new-tokens", "8"])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "input1 (100000 characters): the prompt has" in message
    assert "--max-new-tokens asks for 8; the model's context holds 4096" in message  # the server's own words


def test_the_server_refuses_it_with_the_same_check(client: TestClient) -> None:
    refused = client.post("/v1/analyze", json={"text": "word " * 3_900}).json()["error"]
    assert refused["code"] == "context_length_exceeded" and "the model's context holds 4096" in refused["message"]


# --- 3: analyze --input needs no gold --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"), [("u.jsonl", rows({"id": "a", "text": "I love it"})), ("u.csv", "id,text\na,I love it\n")]
)
def test_analyze_input_works_on_unlabelled_files(name: str, content: str, tiny: str, tmp_path: Path) -> None:
    path = write(tmp_path / name, content)
    result = runner.invoke(app, ["analyze", "-i", str(path), "--model", tiny, "--json", "--max-new-tokens", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["id"] == "a"


def test_unlabelled_datasets_say_how_to_load_them(tmp_path: Path) -> None:
    path = write(tmp_path / "u.jsonl", rows({"id": "a", "text": "hi"}))
    with pytest.raises(DataError, match=r"\?targets=optional"):
        load_dataset(f"jsonl:{path}")
    assert [s.id for s in load_dataset(f"jsonl:{path}?targets=optional").split("all")] == ["a"]
    with pytest.raises(DataError, match="use required or optional"):
        load_dataset(f"jsonl:{path}?targets=maybe")


# --- 4: metric tables fit 80 columns -------------------------------------------------------------


METRICS = [
    "pearson_r",
    "spearman_rho",
    "mae",
    "mae_normalized",
    "acc_2_nonzero",
    "f1_2_nonzero",
    "acc_2_nonneutral",
    "acc_3",
    "f1_3_weighted",
    "acc_5",
    "acc_7",
    "parse_rate",
    "polarity_consistency",
    "reasoning_tokens_mean",
    "citations_grounded_rate",
    "missing_predictions",
    "imputed_predictions",
    "not_a_number_predictions",
    "out_of_scale_predictions",
    "n_invalid",
    "n",
    "kl_mean",
    "reward_mean",
]


def printed_metrics(monkeypatch: pytest.MonkeyPatch, systems: list[str]) -> str:
    out = io.StringIO()
    monkeypatch.setattr(ui, "console", Console(file=out, width=80, markup=False, emoji=False))
    table = {system: {m: (-0.123456 if i % 2 else 1234) for i, m in enumerate(METRICS)} for system in systems}
    ui.print_metric_rows(table, "vader:tweets test: 400 samples")
    return out.getvalue()


def test_23_metrics_print_as_rows_within_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    text = printed_metrics(monkeypatch, ["predictions", "vader", "mean"])
    assert max(map(len, text.splitlines())) <= 80 and "…" not in text
    for metric in METRICS:
        assert any(line.split("│")[1].strip() == metric for line in text.splitlines() if line.count("│") > 2)
    assert text.count("-0.1235") == 3 * (len(METRICS) // 2)


def test_a_metric_no_system_has_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(ui, "console", Console(file=out, width=80, markup=False, emoji=False))
    nan = float("nan")
    rows = {"model": {"pearson_r": 0.5, "label_consistency": nan, "f1": nan}, "mean": {"pearson_r": 0.0, "f1": 0.25}}
    ui.print_metric_rows(rows, "a score task")
    text = out.getvalue()
    assert "pearson_r" in text and "label_consistency" not in text  # NaN for every system
    assert "f1" in text and "nan" in text  # a figure one system has is printed, the other's NaN beside it


def test_many_systems_are_spread_over_tables_that_each_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    systems = [f"a-rather-long-system-name-{i}" for i in range(7)]
    text = printed_metrics(monkeypatch, systems)
    assert max(map(len, text.splitlines())) <= 80 and "…" not in text
    assert "(1/" in text and all(name in text for name in systems)


def test_evaluate_predictions_prints_readable_rows_when_piped(tmp_path: Path) -> None:
    data = write(
        tmp_path / "gold.jsonl", rows({"id": "a", "text": "x", "score": 2}, {"id": "b", "text": "y", "score": -1})
    )
    predictions = write(tmp_path / "p.jsonl", rows({"id": "a", "score": 1.5}, {"id": "b", "score": -2}))
    spec = f"jsonl:{data}?scale=-4,4"
    result = runner.invoke(app, ["evaluate-predictions", str(predictions), "-d", spec, "--split", "all"])
    assert result.exit_code == 0, result.output
    assert max(map(len, result.stdout.splitlines())) <= 80 and "…" not in result.stdout
    assert "pearson_r" in result.stdout and "spearman_rho" in result.stdout


# --- 5: encodings ----------------------------------------------------------------------------------


def test_decode_utf8_names_line_and_column_and_drops_a_bom_only_at_the_start() -> None:
    assert decode_utf8(b"\xef\xbb\xbfab\n") == "ab\n"
    assert decode_utf8(b"\xef\xbb\xbfab", first_line=2) == "\ufeffab"  # mid-file it is a character
    with pytest.raises(NotUtf8Error) as caught:
        decode_utf8(b"\xef\xbb\xbfok\nfine\ncaf\xe9 au lait\n")
    assert (caught.value.line, caught.value.detail.split(":")[0]) == (3, "byte 0xe9 at column 4")


def test_a_bom_keeps_row_one_of_jsonl_and_prediction_files(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    data = write(
        tmp_path / "d.jsonl",
        bom + rows({"id": "a", "text": "x", "score": 1}, {"id": "b", "text": "y", "score": -1}).encode(),
    )
    assert [s.id for s in load_dataset(f"jsonl:{data}?scale=-4,4").split("all")] == ["a", "b"]
    predictions = write(tmp_path / "p.jsonl", bom + rows({"id": "a", "score": 1}, {"id": "b", "score": -1}).encode())
    result = runner.invoke(
        app, ["evaluate-predictions", str(predictions), "-d", f"jsonl:{data}?scale=-4,4", "--split", "all"]
    )
    assert result.exit_code == 0, result.output
    csv_file = write(tmp_path / "d.csv", bom + b"id,text,score\na,x,1\n")
    assert [s.id for s in load_dataset(f"csv:{csv_file}?scale=-4,4").split("all")] == ["a"]


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        (
            "l.jsonl",
            b'{"id": "a", "text": "x", "score": 1}\n\n{"id": "b", "text": "caf\xe9", "score": 1}\n',
            "l.jsonl:3",
        ),
        ("l.csv", b'id,text,score\na,"two\nlines",1\nb,caf\xe9,1\n', "l.csv:4"),
    ],
)
def test_latin1_is_refused_naming_the_line_of_the_byte(name: str, content: bytes, where: str, tmp_path: Path) -> None:
    path = write(tmp_path / name, content)
    with pytest.raises(DataError, match=rf"{where}: file is not UTF-8 \(byte 0xe9 at column \d+"):
        load_dataset(f"{path.suffix[1:]}:{path}?scale=-4,4")


# --- 6: user strings are printed as written, never read as markup --------------------------------


@pytest.mark.parametrize("name", ["[bold red]x[/bold red].jsonl", "run[/].jsonl"])
def test_file_names_print_as_written(name: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "inspect", f"jsonl:{tmp_path / name}"])
    assert result.exit_code == 2 and name in flat(result.output), result.output
    assert "MarkupError" not in result.output and "Traceback" not in result.output


def test_an_error_keeps_a_long_file_name_whole(tmp_path: Path) -> None:
    """rich breaks a line at the console's width (80 where stderr is no terminal, as in a log):
    the error must not break the file name it quotes, or it cannot be copied."""
    path = tmp_path / ("a_long_folder_name_" * 6) / "data.jsonl"
    result = runner.invoke(app, ["data", "inspect", f"jsonl:{path}"])
    assert result.exit_code == 2 and f"error: {path}" in result.output, result.output


def test_show_config_prints_yaml_that_reads_back_with_a_long_value(tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    out = tmp_path / ("a_long_folder_name_" * 8)
    result = runner.invoke(app, ["sft", "--show-config", f"run.output_dir={out}"])
    assert result.exit_code == 0, result.output
    assert OmegaConf.create(result.stdout).run.output_dir == str(out)


def test_records_and_warnings_with_brackets_print_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(ui, "console", Console(file=out, width=120, markup=False))
    monkeypatch.setattr(ui, "err_console", Console(file=out, width=120, markup=False))
    record = {
        "id": "[red]id",
        "polarity": "positive",
        "score": 1.0,
        "label": None,
        "reasoning": {"think": "she said [/] and [bold]"},
        "parse_ok": False,
        "errors": ["score: [/i] missing"],
        "raw_completion": "",
        "completion_tokens": 3,
        "latency_s": 0.1,
        "model": "m[/]",
    }
    ui.show_record(Sample(id="[red]id", text="run[/] text"), record)
    ui.warn("file [/].jsonl")
    shown = out.getvalue()
    for written in ("[red]id: run[/] text", "she said [/] and [bold]", "score: [/i] missing", "m[/]", "file [/].jsonl"):
        assert written in shown


# --- 7: the model libraries' noise -----------------------------------------------------------------


def test_the_cli_quiets_transformers_unless_verbose() -> None:
    from transformers.utils import logging as transformers_logging

    from emoreason.cli.quiet import quiet_libraries

    transformers_logging.set_verbosity_warning()
    transformers_logging.enable_progress_bar()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_libraries(verbose=True)
        assert transformers_logging.is_progress_bar_enabled()
        quiet_libraries(verbose=False)
        warnings.warn_explicit("`past_key_values` is deprecated", FutureWarning, "module.py", 1, module="torch.nn")
        warnings.warn_explicit("ours", FutureWarning, "x.py", 1, module="emoreason.x")
    assert [str(w.message) for w in caught] == ["ours"]  # only the known library notices are hidden
    assert transformers_logging.get_verbosity() == logging.ERROR
    assert not transformers_logging.is_progress_bar_enabled()


def test_only_the_first_process_of_a_torchrun_run_prints_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rank printed every warning: a two-process run said each one twice."""
    root = logging.getLogger()
    before = root.level
    try:
        for rank, level in (("1", logging.ERROR), ("0", before)):
            root.setLevel(before)
            monkeypatch.setenv("RANK", rank)
            assert runner.invoke(app, ["data", "list"]).exit_code == 0
            assert root.level == level, rank
    finally:
        root.setLevel(before)


def test_analyze_prints_no_loading_bar_or_future_warning(tiny: str) -> None:
    result = runner.invoke(app, ["analyze", "fine", "--model", tiny, "--json", "--max-new-tokens", "2"])
    assert result.exit_code == 0, result.output
    assert "Loading weights" not in result.output and "FutureWarning" not in result.output
    assert "deprecated" not in result.output


# --- 8: help ----------------------------------------------------------------------------------------


COMMANDS = [
    ["analyze"],
    ["evaluate"],
    ["evaluate-predictions"],
    ["baseline"],
    ["distill"],
    ["sft"],
    ["grpo"],
    ["cues"],
    ["serve"],
    ["data", "list"],
    ["data", "inspect"],
    ["data", "convert"],
    ["data", "prepare"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_examples_plain_usage_and_untyped_flags(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "Examples" in flat(result.output) and f"emoreason {' '.join(command)}" in flat(result.output)
    assert "<bool>" not in result.output and "{" not in result.output.split("\n\n")[1]


@pytest.mark.parametrize("command", [["evaluate"], ["analyze"], ["serve"], ["data", "prepare"]], ids=" ".join)
def test_help_on_an_80_column_terminal_cuts_no_word(command: list[str]) -> None:
    """Rich's option table left its help column ~20 wide there: `--max-new-toke…`, `SmolLM2-135M-In…`."""
    narrow = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0 and "…" not in narrow.output and "╭" not in narrow.output  # plain click help
    options, examples = narrow.output.split("Examples:\n")
    assert max(map(len, options.splitlines())) <= 80  # the examples are command lines, kept whole
    assert all(line.startswith("  ") for line in examples.splitlines())
    assert f"  emoreason {' '.join(command)}" in examples  # one example a line, as written
    wide = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "160"})
    assert "╭" in wide.output  # rich's panels where they fit


def test_usage_names_arguments_in_upper_case() -> None:
    usage = runner.invoke(app, ["evaluate-predictions", "--help"], env={"COLUMNS": "160"}).output
    assert "emoreason evaluate-predictions [OPTIONS] PREDICTIONS" in usage and "{predictions}" not in usage
    assert "emoreason analyze [OPTIONS] [TEXT]..." in runner.invoke(app, ["analyze", "--help"]).output
    assert "<bool>" not in runner.invoke(app, ["--help"]).output


def test_help_lists_the_commands_in_the_readmes_order() -> None:
    """`emoreason --help` lists what a new user does first (explain, measure) before training and
    serving, in the order the README's command list gives them."""
    listed = re.findall(r"^\S (\S+) ", runner.invoke(app, ["--help"], env={"COLUMNS": "160"}).output, re.M)
    commands = [name for name in listed if not name.startswith("-")]
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    in_readme = list(dict.fromkeys(re.findall(r"^emoreason ([a-z-]+)", readme, re.M)))
    assert commands[:2] == ["analyze", "evaluate"] and commands[-1] == "data"
    assert sorted(commands) == sorted(in_readme)  # every command in the README, and nothing else
    # the `data` group is listed after every command (typer lists groups last)
    assert [c for c in commands if c != "data"] == [c for c in in_readme if c != "data"]


@pytest.mark.parametrize("command", [[], ["grpo"], ["analyze"]], ids=lambda c: " ".join(c) or "top")
def test_help_does_not_load_torch(command: list[str]) -> None:
    """`--help` answers in a fraction of a second: torch and transformers load only to run a command."""
    code = (
        "import sys; from typer.testing import CliRunner; from emoreason.cli import app; "
        f"result = CliRunner().invoke(app, {[*command, '--help']!r}); "
        "print(result.exit_code, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["0", "False", "False"]


def test_sft_without_config_says_which_recipe_it_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sft", "max_steps=1"])
    message = " ".join(result.output.split())
    assert "no --config given: sft runs its built-in recipe" in message
    assert "data.train_file=runs/distill/sft.jsonl" in message and "--show-config" in message


# --- 9: small messages --------------------------------------------------------------------------------


def test_input_directory_is_called_a_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", "--input", str(tmp_path), "--model", str(tmp_path / "no-model")])
    assert result.exit_code == 2 and "is a directory" in flat(result.output) and "not exist" not in result.output
    inspected = runner.invoke(app, ["data", "inspect", f"jsonl:{tmp_path}"])
    assert inspected.exit_code == 2 and "is a directory" in flat(inspected.output)


def test_a_missing_adapter_is_found_before_the_base_model_loads(tmp_path: Path) -> None:
    no_model = str(tmp_path / "no-model")  # were the model loaded first, its error would come first
    missing = runner.invoke(app, ["analyze", "hi", "--model", no_model, "--adapter", str(tmp_path / "runs/x/adapter")])
    assert missing.exit_code == 2 and "adapter folder" in missing.output and "does not exist" in flat(missing.output)
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(app, ["analyze", "hi", "--model", no_model, "--adapter", str(tmp_path / "empty")])
    assert empty.exit_code == 2 and "no adapter_config.json" in flat(empty.output)


def test_a_training_run_names_a_missing_start_adapter_before_loading(tmp_path: Path) -> None:
    """grpo model.adapter=/tmp/nonexist said only peft's "Can't find 'adapter_config.json'", after the base loaded."""
    from emoreason.models.loading import load_model

    no_model = str(tmp_path / "no-model")  # were the model loaded first, its error would come first
    with pytest.raises(FileNotFoundError, match=r"adapter folder .*nonexist does not exist; check the path"):
        load_model(no_model, str(tmp_path / "nonexist"), trainable=True)
    result = runner.invoke(app, ["grpo", f"model.name={no_model}", f"model.adapter={tmp_path / 'nonexist'}"])
    assert result.exit_code != 0 and "does not exist; check the path" in flat(result.output)


def test_models_and_adapters_take_one_hub_id_rule(tmp_path: Path) -> None:
    """A model and an adapter were told apart from a hub id by two rules; "a b/c" passed as a model's."""
    from emoreason.models.loading import HUB_ID, resolve_model_path

    assert resolve_model_path("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    for not_an_id in ("my model/x", "-x/y", str(tmp_path / "gone"), "runs/a/b"):
        assert not HUB_ID.fullmatch(not_an_id)
        with pytest.raises(FileNotFoundError, match="neither `default`, a model folder"):
            resolve_model_path(not_an_id)


def test_a_fake_wav_error_is_readable(tmp_path: Path) -> None:
    from emoreason.models import MediaError
    from emoreason.models.media import load_audio

    fake = write(tmp_path / "fake.wav", b"RIFF but not really a wave file at all")
    with pytest.raises(MediaError) as caught:
        load_audio(fake)
    assert "Errno" not in str(caught.value) and "Invalid data found when processing input" in str(caught.value)
    assert str(caught.value).count(str(fake)) == 1


def test_an_empty_predictions_file_says_so(tmp_path: Path) -> None:
    data = write(tmp_path / "gold.jsonl", rows({"id": "a", "text": "x", "score": 2}))
    empty = write(tmp_path / "p.jsonl", "")
    result = runner.invoke(
        app, ["evaluate-predictions", str(empty), "-d", f"jsonl:{data}?scale=-4,4", "--split", "all"]
    )
    assert (
        result.exit_code == 2 and "the predictions file is empty" in flat(result.output) and "None" not in result.output
    )


def test_json_errors_keep_the_parsers_reason_and_position(client: TestClient) -> None:
    analyzed = post_raw(client, "/v1/analyze", '{"text": "x",}')
    assert analyzed["message"] == (
        "the request body is not valid JSON: Expecting property name enclosed in double quotes at character 13; "
        'send a JSON object with at least `text`, e.g. {"text": "Not bad at all."}'
    )
    chat = post_raw(client, "/v1/chat/completions", '{"model": "tiny" "messages": []}')
    assert chat["status"] == 400 and "Expecting ',' delimiter at character 17" in chat["message"]
    not_utf8 = client.post("/v1/analyze", content=b'{"text": "caf\xe9"}', headers={"content-type": "application/json"})
    assert not_utf8.status_code == 400 and "not UTF-8 (byte 0xe9" in not_utf8.json()["error"]["message"]


def test_exponents_are_refused_in_answers_and_read_in_data_files() -> None:
    from emoreason.data.adapters._rows import parse_score
    from emoreason.formats import format_number, get_format, parse_number

    assert parse_number("-1e0") is None and parse_number("-1.0") == -1.0
    parsed = get_format("c2f").parse("<polarity>negative</polarity><think>x</think><score>-1e0</score>")
    assert not parsed.ok and parsed.score is None  # c2f, r1 and emor3 share parse_number
    assert "e" not in format_number(0.00001) and "e" not in format_number(-1e6)  # targets never teach one
    assert parse_score("-1e0") == -1.0 and parse_score(-1e0) == -1.0


def test_data_convert_to_a_folder_or_an_unwritable_place_says_so(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "fine", "score": 1}\n')
    folder = tmp_path / "out"
    folder.mkdir()
    result = runner.invoke(app, ["data", "convert", f"jsonl:{source}?scale=-4,4", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "is a folder; give a file name" in " ".join(result.output.split())
    assert list(folder.iterdir()) == [] and not list(tmp_path.glob(".*.tmp"))  # nothing left behind
    missing = tmp_path / "no" / "such"
    missing.parent.write_text("a file where a folder should be")
    result = runner.invoke(app, ["data", "convert", f"jsonl:{source}?scale=-4,4", str(missing / "x.jsonl")])
    assert result.exit_code == 2 and "cannot write" in result.output and "Traceback" not in result.output


def test_analyze_refuses_inputs_it_would_drop_and_reads_stdin_where_dash_stands(tmp_path: Path) -> None:
    """A file or the examples won over the texts and media given beside them, silently; `-` beside a
    text left stdin unread."""
    from emoreason.cli.inputs import given_input

    file = write(tmp_path / "in.jsonl", rows({"id": "a", "text": "Fine."}))
    clip = write(tmp_path / "clip.wav", b"")
    no_media = {"audio": None, "video": None, "image": None}
    refusals = {
        "leave out TEXT": (["typed"], file, False, no_media),
        "leave out --examples": (None, file, True, no_media),
        "leave out --audio/--video/--image": (None, file, False, {**no_media, "audio": clip}),
        "--examples analyses the built-in sentences; leave out TEXT": (["typed"], None, True, no_media),
    }
    for message, (texts, input_file, examples, media) in refusals.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            given_input(texts, input_file, examples, media, iter(["piped"]))
    read = given_input(["typed", "-"], None, False, no_media, iter(["one", "", "two"])).samples
    assert [s.text for s in read] == ["typed", "one", "two"]
    with pytest.raises(ValueError, match="'-' reads stdin, and nothing is piped"):
        given_input(["typed", "-"], None, False, no_media, None)
    with pytest.raises(ValueError, match="once"):
        given_input(["-", "-"], None, False, no_media, iter(["one"]))
    assert [s.text for s in given_input(["typed"], None, False, no_media, iter(["unread"])).samples] == ["typed"]


def test_recipe_and_command_line_mistakes_are_refused_before_any_work(tmp_path: Path) -> None:
    """GRPO and the polarity term read a test split without a word; a mistyped option read as a bad override;
    a number given for a name refused; metrics written over the predictions they scored; a log level or a
    cue mode checked only after the model had loaded; a mistyped rollouts folder blamed on the run."""
    from emoreason.config_loader import ConfigError, expand_override, load_recipe
    from emoreason.rl.config import GRPOConfig, parse_config
    from emoreason.train.config import PolarityObjectiveConfig

    with pytest.raises(ValueError, match="data.split=test trains on the test sentences.*data.allow_test=true"):
        parse_config({"data": {"split": "test"}})
    assert parse_config({"data": {"split": "all", "allow_test": True}}).data.split == "all"
    with pytest.raises(ValueError, match="polarity.split=all trains on the test sentences"):
        PolarityObjectiveConfig(weight=1.0, dataset="vader:tweets", split="all")
    with pytest.raises(ValueError, match="literal_error|Input should be 'train'"):
        parse_config({"data": {"split": "tset"}})
    with pytest.raises(ConfigError, match=r"unknown option --show-confg \(see --help\)"):
        expand_override(GRPOConfig, "--show-confg")
    assert parse_config({"run": {"output_dir": 2024}}).run.output_dir == "2024"
    for key, value in (("rollout.temperature", ".inf"), ("algorithm.beta", ".inf"), ("reward.weights.score", ".nan")):
        # taken where the key has no bound: a KL weight of infinity, a NaN reward weight
        with pytest.raises(ConfigError, match=f"{key}: Input should be a finite number"):
            load_recipe(GRPOConfig, None, [f"{key}={value}"])

    predictions = write(tmp_path / "p.jsonl", rows({"id": "a", "score": 1.0}))
    data = write(tmp_path / "d.jsonl", rows({"id": "a", "text": "Fine.", "score": 1.0, "split": "test"}))
    spec = f"jsonl:{data}?scale=-4,4"
    clobber = runner.invoke(app, ["evaluate-predictions", str(predictions), "-d", spec, "--out", str(predictions)])
    assert clobber.exit_code != 0 and "is the predictions file being scored" in flat(clobber.output)
    assert json.loads(predictions.read_text()) == {"id": "a", "score": 1.0}
    for command, option in (
        (["serve", "--log-level", "bogus"], "--log-level"),
        (["analyze", "hi", "--cues", "x"], "--cues"),
    ):
        said = runner.invoke(app, command)
        assert said.exit_code == 2 and f"Invalid value for '{option}'" in flat(said.output)
    bare = runner.invoke(app, ["distill", "-d", "vader:tweets", "--show-config"])  # the options, not the keys
    assert "run.output_dir: Field required: give --out" in flat(bare.output)
    bogus = runner.invoke(
        app, ["distill", "-d", "vader:tweets", "--out", str(tmp_path), "--teacher", "x", "--show-config"]
    )
    assert "teacher.name: Input should be" in flat(bogus.output) and "[from --teacher]" in flat(bogus.output)
    missing = runner.invoke(app, ["rollouts", str(tmp_path / "nope")])
    assert missing.exit_code != 0 and "no such folder or file" in flat(missing.output)


def test_a_missing_cue_reference_is_refused_before_the_model_loads(
    tiny: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import emoreason.cli.analysis

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(emoreason.cli.analysis, "load_engine", no_load)
    result = runner.invoke(app, ["analyze", "Fine.", "--model", tiny, "--cue-reference", str(tmp_path / "none.json")])
    assert result.exit_code != 0 and "the model was loaded" not in flat(result.output)
    assert "none.json is not a file" in flat(result.output)


def test_analyze_answers_on_the_scale_its_input_spec_names(tiny: str, tmp_path: Path, monkeypatch) -> None:
    """`--input 'csv:F?scale=1,7'` was answered on the adapter's -4..4: the spec's scale was read for the rows
    only. The file is read once for its rows and its task (it was loaded a second time for the task)."""
    import emoreason.data
    from emoreason.cli.inputs import read_input

    loads: list[object] = []
    load = emoreason.data.load_dataset

    def counted(spec, strict=None):  # noqa: ANN001, ANN202
        loads.append(spec)
        return load(spec, strict)

    monkeypatch.setattr(emoreason.data, "load_dataset", counted)

    data = write(tmp_path / "mine.csv", "text,score\nLovely cafe,6\n")
    assert read_input(Path(str(data))).task is None  # a plain file: the adapter's task stands
    assert read_input(Path(f"csv:{data}?scale=1,7")).task.scale == (1.0, 7.0)  # type: ignore[union-attr]
    result = runner.invoke(
        app, ["analyze", "--input", f"csv:{data}?scale=1,7", "--model", tiny, "--max-new-tokens", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output.strip().splitlines()[-1])
    assert record["task"] == "mine"  # the file's task (1..7), not the adapter's vader:text
    assert len(loads) == 3  # the two reads above, then analyze's one


def test_a_text_file_is_read_one_text_per_line(tiny: str, tmp_path: Path) -> None:
    """`--input notes.txt` was read as JSONL: every line "invalid JSON", nothing analysed. A .txt file is read
    as piped lines are, blank lines skipped, each sample named by its line so an answer leads back to it."""
    from emoreason.cli.inputs import read_input

    notes = tmp_path / "notes.txt"
    notes.write_bytes("\ufeffFirst one.\n\n  Second, with spaces.  \r\n\u200b\nThird\n".encode())
    samples = read_input(notes).samples
    assert [(s.id, s.text) for s in samples] == [
        ("line1", "First one."),
        ("line3", "Second, with spaces."),
        ("line5", "Third"),
    ]
    result = runner.invoke(app, ["analyze", "--input", str(notes), "--model", tiny, "--max-new-tokens", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.output.strip().splitlines()[-3:]] == ["line1", "line3", "line5"]

    (tmp_path / "blank.txt").write_text("\n  \n")
    (tmp_path / "latin1.txt").write_bytes("ok\ncaf\u00e9\n".encode("latin-1"))
    for name, says in (("blank.txt", "holds no text"), ("latin1.txt", "line 2")):
        result = runner.invoke(app, ["analyze", "--input", str(tmp_path / name), "--model", tiny])
        assert result.exit_code != 0
        assert name in flat(result.output) and says in flat(result.output), result.output


def test_a_tsv_file_is_read_with_tabs_and_an_unknown_suffix_is_named(tiny: str, tmp_path: Path) -> None:
    """A .tsv file was read as JSONL ("invalid JSON" on every line); it is CSV with tabs. A file of another
    suffix is still read as JSONL, and when no row can be read the error says so and which suffixes are known."""
    from emoreason.cli.inputs import read_input

    table = write(tmp_path / "mine.tsv", "id\ttext\tscore\na\tLovely, warm cafe\t2\n")
    assert [(s.id, s.text) for s in read_input(table).samples] == [("a", "Lovely, warm cafe")]
    odd = write(tmp_path / "mine.dat", "text\tscore\nnice\t2\n")
    result = runner.invoke(app, ["analyze", "--input", str(odd), "--model", tiny])
    assert result.exit_code != 0
    assert "read as JSONL" in flat(result.output) and ".tsv" in flat(result.output), result.output


def test_the_cue_classifier_is_not_fitted_on_test_clips_unless_told(tmp_path: Path) -> None:
    """Fitted on test clips, its ranking went into those clips' prompts as "fitted on other speakers"."""
    fit = ["data", "fit-classifier", "ravdess:/nowhere?cues=only", "--out", str(tmp_path / "c.json"), "--split"]
    for split in ("test", "all"):
        said = runner.invoke(app, [*fit, split])
        assert said.exit_code != 0 and f"--split {split} fits the classifier on test clips" in flat(said.output)
    allowed = runner.invoke(app, [*fit, "test", "--allow-test"])
    assert "fits the classifier on test clips" not in flat(allowed.output)  # it goes on to read the data


def test_analyze_input_skips_a_clip_it_cannot_read_and_answers_the_rest(
    tiny: str, media_files: dict[str, Path], tmp_path: Path
) -> None:
    """One unreadable wav in an --input file stopped every other row with its error."""
    data = write(
        tmp_path / "clips.jsonl",
        rows(
            {"id": "good", "text": "Listen.", "audio": str(media_files["wav"])},
            {"id": "bad", "text": "Listen.", "audio": str(media_files["broken_wav"])},
        ),
    )
    result = runner.invoke(app, ["analyze", "--input", str(data), "--model", tiny, "--max-new-tokens", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert "bad skipped: " in flat(result.output)
    answered = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [r["id"] for r in answered] == ["good"]


def test_every_output_option_answers_to_o() -> None:
    """`-o` named the output of distill, average and data fit-classifier but not of evaluate, compare,
    rollouts, fit-score, evaluate-predictions or data prepare: a user who learned it on one was refused on the
    next."""
    import click
    import typer

    def commands(group: click.Command, path: str = "") -> list[tuple[str, click.Command]]:
        found = [(path, group)]
        for name, sub in getattr(group, "commands", {}).items():
            found += commands(sub, f"{path} {name}".strip())
        return found

    outs = {
        path: param.opts
        for path, command in commands(typer.main.get_command(app))
        for param in command.params
        if "--out" in param.opts
    }
    assert {"evaluate", "compare", "distill", "data prepare"} <= set(outs)
    assert [path for path, opts in outs.items() if "-o" not in opts] == []


def test_a_stray_word_says_which_option_it_was_probably_meant_for() -> None:
    """`emoreason evaluate default -d ...` said only "Got unexpected extra argument(s) (default)" and
    `emoreason evaluate vader:tweets` only that -d was missing: neither said where the word goes."""
    said = {
        ("evaluate", "default", "-d", "vader:tweets"): "give it with --model default",
        ("evaluate", "vader:tweets"): "is a dataset spec: give it with -d/--dataset vader:tweets",
        ("evaluate", "-d", "vader:tweets", "--bogus"): "No such option",
    }
    for args, says in said.items():
        result = runner.invoke(app, list(args))
        boxed = " ".join(result.output.replace("│", " ").split())  # the error box wraps the message
        assert result.exit_code == 2 and says in boxed, (args, result.output)
    assert "--model" not in runner.invoke(app, ["evaluate", "-d", "vader:tweets", "--bogus"]).output
