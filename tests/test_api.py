"""The Python API (`emoreason.api`): `Explainer` on a tiny model, `Explanation` records and `emoreason.evaluate`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from typer.testing import CliRunner

import emoreason
from cue_media import SR, syllables
from emoreason import Explainer, Explanation
from emoreason.api import evaluate
from emoreason.cli import app
from emoreason.data.schema import Sample
from emoreason.formats.consensus import VOTE_TEMPERATURE
from emoreason.inference import ContextTooLong, audit_record
from emoreason.testing.fixtures import make_tiny_causal_lm

TOKENS = 6


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "causal")


@pytest.fixture(scope="module")
def explainer(tiny_path: Path) -> Explainer:
    return Explainer.load(tiny_path, device="cpu", max_new_tokens=TOKENS, batch_size=8)


class Spy:
    """Wraps an engine's `generate`, recording each call's conversations and outputs."""

    def __init__(self, engine: Any) -> None:
        self.generate, self.calls = engine.generate, []

    def __call__(self, conversations: list[Any], params: Any) -> Any:
        outputs = self.generate(conversations, params)
        self.calls.append((list(conversations), outputs))
        return outputs


@pytest.fixture
def spy(explainer: Explainer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    recorder = Spy(explainer.engine)
    monkeypatch.setattr(explainer.engine, "generate", recorder)
    yield recorder


def test_the_package_root_exports_the_api_without_loading_torch() -> None:
    assert emoreason.Explainer is Explainer and emoreason.evaluate is evaluate
    code = "import sys, emoreason; print('torch' in sys.modules, 'transformers' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["False", "False"]
    with pytest.raises(AttributeError, match="no attribute 'Explainr'"):
        _ = emoreason.Explainr  # type: ignore[attr-defined]


def test_the_api_prints_no_notice_about_its_own_library_calls(tiny_path: Path) -> None:
    """A first answer printed transformers' and peft's deprecation notices about emoreason's own calls
    (`past_key_values`, `is_gradient_checkpointing`), which the CLI hid and an API user can do nothing
    about; a fresh process, since transformers prints its log line once per process."""
    script = (
        "import warnings; warnings.simplefilter('default');"
        "from emoreason import Explainer;"
        f"e = Explainer.load({str(tiny_path)!r}, device='cpu', max_new_tokens=3);"
        "print(e('fine').id); warnings.warn('`x` is deprecated: a notice not about us', FutureWarning)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "past_key_values" not in done.stderr and "is_gradient_checkpointing" not in done.stderr
    assert "a notice not about us" in done.stderr  # only our own calls' notices are dropped


def test_one_text_gives_one_explanation(explainer: Explainer, spy: Spy) -> None:
    result = explainer("What a lovely day")
    assert isinstance(result, Explanation)
    assert (result.id, result.model, result.format) == ("input1", explainer.loaded.model_id, "c2f")
    assert 0 < result.completion_tokens <= TOKENS
    assert result.parse_ok or result.errors  # a failed parse always says why
    assert len(spy.calls) == 1 and len(spy.calls[0][0]) == 1
    with pytest.raises(AttributeError):  # frozen
        result.polarity = "positive"  # type: ignore[misc]


def test_a_list_is_generated_in_one_batch_when_it_fits(explainer: Explainer, spy: Spy) -> None:
    texts = ["What a lovely day", "So boring.", "It was fine."]
    results = explainer(texts)
    assert isinstance(results, list) and [r.id for r in results] == ["input1", "input2", "input3"]
    assert len(spy.calls) == 1 and len(spy.calls[0][0]) == 3  # one engine call for the whole list
    assert [r.raw_completion for r in results] == [out[0].text for out in spy.calls[0][1]]


def test_a_list_longer_than_the_batch_takes_several_calls(explainer: Explainer, spy: Spy) -> None:
    small = Explainer(explainer.loaded, explainer.engine, batch_size=2, max_new_tokens=TOKENS)
    assert len(small(["a b", "c d", "e f"])) == 3
    assert [len(conversations) for conversations, _ in spy.calls] == [2, 1]


def test_to_dict_is_the_audit_record_of_the_same_completion(explainer: Explainer, spy: Spy) -> None:
    result = explainer("Not bad at all.")
    completion = spy.calls[0][1][0][0]
    sample = Sample(id="input1", text="Not bad at all.")
    expected = audit_record(
        sample,
        completion,
        explainer.format,
        explainer.task,
        explainer.model_name,
        result.latency_s,
        cues="",
        choice=explainer.choice,
    )
    assert result.to_dict() == expected
    assert list(result.to_dict()) == list(expected)  # same keys, same order
    assert Explanation.from_record(expected | {"gold_score": 1.0}).to_dict() == expected


def test_the_explainer_answers_what_analyze_json_prints(explainer: Explainer, tiny_path: Path) -> None:
    args = ["analyze", "So boring.", "--model", str(tiny_path), "--json", "--max-new-tokens", str(TOKENS)]
    result = CliRunner().invoke(app, [*args, "--device", "cpu"])
    assert result.exit_code == 0, result.output
    printed = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    ours = explainer("So boring.").to_dict()
    assert {k: v for k, v in printed.items() if k != "latency_s"} == {k: v for k, v in ours.items() if k != "latency_s"}


@pytest.mark.parametrize(
    ("texts", "which"),
    [("", "the text"), ("  \t", "the text"), ("\u200b\u200d", "the text"), (["fine", " "], "text 2")],
)
def test_empty_text_is_refused_before_generating(explainer: Explainer, spy: Spy, texts: Any, which: str) -> None:
    with pytest.raises(ValueError, match=f"{which} is empty or only whitespace: there is nothing to analyse"):
        explainer(texts)
    assert spy.calls == []


def test_bad_text_and_media_are_refused(explainer: Explainer, spy: Spy, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lone surrogate|U\\+D800"):
        explainer("bad \ud800 here")
    with pytest.raises(ValueError, match="image file not found"):
        explainer("look", image=tmp_path / "missing.png")
    image = tmp_path / "x.png"
    image.write_bytes(b"not really")
    with pytest.raises(ValueError, match="audio=/video=/image= go with a single text"):
        explainer(["a", "b"], image=image)
    assert spy.calls == []


def test_a_text_that_is_not_a_str_is_a_type_error_naming_it(explainer: Explainer, spy: Spy) -> None:
    """None, 42 and bytes went on to `list(text)`: "'int' object is not iterable", or bytes read as ints."""
    for given, kind in ((None, "NoneType"), (42, "int"), (b"hello", "bytes")):
        with pytest.raises(TypeError, match=f"text must be a str or a list of str, not {kind}"):
            explainer(given)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="text 2 is int, not str"):
        explainer(["ok", 3])  # type: ignore[list-item]
    # a PIL image or a file's bytes for a path: "expected str, bytes or os.PathLike object, not PngImageFile"
    from PIL import Image

    for given, kind in ((Image.new("RGB", (4, 4)), "Image"), (b"\x89PNG", "bytes")):
        with pytest.raises(TypeError, match=rf"image= takes the path of a media file \(str or Path\), not {kind}"):
            explainer("a photo", image=given)  # type: ignore[arg-type]
    assert spy.calls == []


def test_settings_are_checked_before_the_model_loads(
    explainer: Explainer, tiny_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import emoreason.api.explainer as module

    def no_loading(*args: Any) -> Any:
        raise AssertionError("the model was loaded for settings that cannot run")

    monkeypatch.setattr(module, "load_engine", no_loading)
    refusals = {
        "unknown task 'vaderbogus'": {"task": "vaderbogus"},  # any name starting "vader" was vader:text
        "unknown reasoning format .xyz.": {"format": "xyz"},
        "unknown cue mode 'maybe'": {"cues": "maybe"},  # it failed only at the first call
        "score_readout|readout": {"score_readout": "bogus"},
        "votes": {"votes": 0},
        "needs a task with a score scale.*answers with a label: format=.emor3.": {
            "labels": ["joy", "anger"],
            "format": "c2f",
        },
        "needs a task with labels.*answers with a score: format=.c2f.": {"format": "emor3"},  # vader by default
        "not both": {"task": "vader", "scale": (-3.0, 3.0)},
        "max_new_tokens must be at least 1, got 0": {"max_new_tokens": 0},  # 0 was taken for "the default"
        "a label set needs at least two labels, got 1": {"labels": ["joy"], "format": "emor3"},
        "temperature must be 0 .greedy. or above, and finite; got -1": {"temperature": -1.0},
        # a negative batch generated nothing and read as every answer missing; 0 was range()'s error
        "batch_size must be a whole number of at least 1, got -1": {"batch_size": -1},
        "batch_size must be a whole number of at least 1, got 0": {"batch_size": 0},
        "LOW below HIGH.*got 4,-4": {"scale": (4.0, -4.0)},  # the prompt called 4 the most negative
        "LOW below HIGH.*got nan,1": {"scale": (float("nan"), 1.0)},
        "names each label once": {"labels": ["joy", "joy"], "format": "emor3"},
        "a label set needs at least two labels, got 0": {"labels": []},  # read as no labels: vader answered
        # refused only after the weights had loaded
        "attribute reads the polarity word.*'emor3' writes none first": {"labels": ["joy", "anger"], "attribute": True},
    }
    for message, settings in refusals.items():
        with pytest.raises(ValueError, match=message):
            Explainer.load(tiny_path, device="cpu", **settings)
    with pytest.raises(ValueError, match="unknown cue mode"):
        Explainer(explainer.loaded, explainer.engine, cues="maybe")
    own_scale = Explainer(explainer.loaded, explainer.engine, scale=(1.0, 7.0))
    assert own_scale.task.scale == (1.0, 7.0) and own_scale.task.neutral.low == own_scale.task.neutral.high == 4.0
    labelled = Explainer(explainer.loaded, explainer.engine, labels=["joy", "anger"], format="emor3")
    assert labelled.task.labels == ("joy", "anger")
    assert Explainer(explainer.loaded, explainer.engine, labels=["joy", "anger"]).format.name == "emor3"  # by kind
    spelled = Explainer(explainer.loaded, explainer.engine, labels="joy, anger", format="emor3")  # type: ignore[arg-type]
    assert spelled.task.labels == ("joy", "anger")
    # the command line keeps empty items of "joy,,anger": the prompt named ", ," as a label
    from emoreason.data.schema import resolve_task

    assert resolve_task(labels=("joy", "", " anger")).labels == ("joy", "anger")
    # a polarity for a label no lexicon names: `Joy:positive` was taken as a label of that name
    given = resolve_task(labels=("joy:positive", "anger"))
    assert given.labels == ("joy", "anger") and given.label_polarity == {"joy": "positive", "anger": "negative"}
    with pytest.raises(ValueError, match="batch_size"):
        Explainer(explainer.loaded, explainer.engine, batch_size=-1)


def test_counts_that_are_not_ints_are_refused_naming_them_before_anything_loads_or_is_written(
    explainer: Explainer, tiny_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """votes=2.0, max_new_tokens=8.0 and batch_size=2.0 were taken and crashed deep in torch after the model loaded
    (evaluate left a run.json in `out`); True was taken as 1."""
    import emoreason.api.explainer as module

    def no_loading(*args: Any) -> Any:
        raise AssertionError("the model was loaded for settings that cannot run")

    monkeypatch.setattr(module, "load_engine", no_loading)
    data = tmp_path / "s.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "fine", "score": 1.0}) + "\n")
    refusals = {
        "votes takes a whole number .an int., not float 2.0": {"votes": 2.0},
        "votes takes a whole number .an int., not bool True": {"votes": True},
        "max_new_tokens takes a whole number .an int., not float 8.0": {"max_new_tokens": 8.0},
        "max_new_tokens takes a whole number .an int., not bool True": {"max_new_tokens": True},
        "batch_size takes a whole number .an int., not float 2.0": {"batch_size": 2.0},
    }
    for number, (message, settings) in enumerate(refusals.items()):
        with pytest.raises(TypeError, match=message):
            Explainer.load(tiny_path, device="cpu", **settings)
        with pytest.raises(TypeError, match=message):
            Explainer(explainer.loaded, explainer.engine, **settings)
        out = tmp_path / f"run{number}"
        with pytest.raises(TypeError, match=message):
            emoreason.evaluate(f"jsonl:{data}?scale=-4,4", tiny_path, out=out, loader=no_loading, **settings)
        assert not out.exists()  # nothing written: no stray run.json
    for name in ("votes", "max_new_tokens"):
        with pytest.raises(TypeError, match=f"{name} takes a whole number .an int., not float 2.0"):
            explainer.using(**{name: 2.0})
    with pytest.raises(TypeError, match="limit takes a whole number .an int., not float 2.0"):
        emoreason.evaluate(f"jsonl:{data}?scale=-4,4", tiny_path, out=tmp_path / "l", limit=2.0, loader=no_loading)
    # numpy's integers are whole numbers (they worked before the check); its bool is not
    import numpy as np

    assert Explainer(explainer.loaded, explainer.engine, votes=np.int64(2), max_new_tokens=np.int64(4)).votes == 2
    with pytest.raises(TypeError, match="votes takes a whole number .an int., not bool"):
        Explainer(explainer.loaded, explainer.engine, votes=np.bool_(True))


def test_a_neutral_band_is_taken_as_analyze_takes_it_and_a_task_with_a_scale_is_refused_there_too(
    explainer: Explainer, tiny_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Explainer.load had no neutral_band though analyze --neutral-band had; analyze --task vader --scale 1,7 let
    the scale win in silence, where the server and the API refuse the two together."""
    import numpy as np

    import emoreason.api.explainer as module
    from emoreason.data.schema import NeutralBand

    for band in ((3.5, 4.5), "3.5,4.5", np.array([3.5, 4.5])):
        task = Explainer(explainer.loaded, explainer.engine, scale=(1, 7), neutral_band=band).task  # type: ignore[arg-type]
        assert task.scale == (1.0, 7.0) and task.neutral == NeutralBand(3.5, 4.5)
    mosi = Explainer(explainer.loaded, explainer.engine, task="mosi", neutral_band=(0, 0)).task
    assert mosi.name == "mosi" and mosi.neutral == NeutralBand(0.0, 0.0, True, True)

    def no_loading(*args: Any) -> Any:
        raise AssertionError("the model was loaded for settings that cannot run")

    monkeypatch.setattr(module, "load_engine", no_loading)
    refusals = {
        "neutral_band: the neutral band 0,8 reaches outside the custom scale, 1 to 7": {
            "scale": "1,7",
            "neutral_band": "0,8",
        },
        "neutral_band: a neutral band needs LOW <= HIGH; got 4.5,3.5": {"scale": (1, 7), "neutral_band": (4.5, 3.5)},
        "neutral_band: task 'labels' answers with labels; a neutral band applies to a score scale": {
            "labels": "joy,anger",
            "neutral_band": "3.5,4.5",
        },
        "neutral_band takes two numbers .LOW, HIGH., e.g. neutral_band=.-0.5, 0.5.; got 3 values": {
            "neutral_band": (1, 2, 3)
        },
    }
    for message, settings in refusals.items():
        with pytest.raises(ValueError, match=message):
            Explainer.load(tiny_path, device="cpu", **settings)
    with pytest.raises(TypeError, match="neutral_band takes two numbers .LOW, HIGH.*not float"):
        Explainer.load(tiny_path, device="cpu", neutral_band=0.5)  # type: ignore[arg-type]

    base = ["analyze", "Not bad.", "--model", str(tiny_path), "--device", "cpu", "--task", "vader"]
    for given, dropped in ((["--scale", "1,7"], "--scale"), (["--labels", "joy,anger"], "--labels")):
        refused = CliRunner().invoke(app, [*base, *given])
        assert refused.exit_code == 2, refused.output
        said = " ".join(refused.output.split())
        assert f"give a task, or a scale or labels of your own, not both: drop --task or {dropped}" in said
    shown = " ".join(CliRunner().invoke(app, ["analyze", "--help"]).output.split())
    assert "overrides --task" not in shown and "instead of --task (not with it)" in shown


def test_text_beyond_the_context_is_refused_naming_the_setting(explainer: Explainer, spy: Spy) -> None:
    with pytest.raises(ContextTooLong, match="max_new_tokens asks for 6; the model's context holds 4096") as refused:
        explainer("word " * 20_000)
    assert refused.value.option == "max_new_tokens" and refused.value.context_length == 4096
    assert str(refused.value).startswith("input1 (100000 characters): the prompt has")
    assert refused.value.detail.startswith("the prompt has")  # what the server says, naming no sample
    assert spy.calls == []


def test_the_steps_give_what_records_gives(explainer: Explainer, spy: Spy) -> None:
    """prepare -> conversations -> generate with `sampling` -> records_from: the path the server
    takes around its batcher, and the one `records` takes."""
    inputs = explainer.prepare([Sample(id="a", text="Loved it."), Sample(id="b", text="Dull.")])
    params = explainer.sampling
    assert (params.max_new_tokens, params.temperature) == (TOKENS, 0.0)
    assert params.stop_strings == explainer.format.stop_strings
    outputs = explainer.engine.generate(explainer.conversations(inputs), params)
    stepped = explainer.records_from(inputs, outputs, 0.25)
    whole = explainer.records(inputs)
    assert [r["latency_s"] for r in stepped] == [0.25, 0.25]
    assert [{**r, "latency_s": 0} for r in stepped] == [{**r, "latency_s": 0} for r in whole]
    assert spy.calls[0][0] == spy.calls[1][0]  # the same prompts


def test_a_label_task_asked_later_is_answered_in_a_label_format(explainer: Explainer) -> None:
    """`using(task="mikels")` kept c2f (the explainer's format), and refused: "the adapter answers in c2f"."""
    assert explainer.own_format is None and explainer.format.name == "c2f"
    assert explainer.using(task="mikels").format.name == "emor3"
    assert explainer.using(task="mosi").format.name == "c2f"  # the current format still answers a score task
    with pytest.raises(ValueError, match="max_new_tokens must be at least 1, got 0"):  # it failed at the call
        explainer.using(max_new_tokens=0)


def test_using_changes_settings_and_shares_the_model(explainer: Explainer, spy: Spy) -> None:
    other = explainer.using(format="emor3", task="mikels", max_new_tokens=3, temperature=0.5)
    assert other.engine is explainer.engine and other.spec is explainer.spec and other.loaded is explainer.loaded
    assert (other.format.name, other.task.name, other.max_new_tokens, other.temperature) == ("emor3", "mikels", 3, 0.5)
    assert (explainer.format.name, explainer.task.name, explainer.max_new_tokens) == ("c2f", "vader:text", TOKENS)
    assert explainer.using().sampling == explainer.sampling
    result = other("Great!")
    assert result.format == "emor3" and result.completion_tokens <= 3
    # votes without a temperature take that count's default; with temperature 0 they are refused
    voting = explainer.using(votes=3)
    assert (voting.votes, voting.temperature, voting.sampling.n) == (3, VOTE_TEMPERATURE, 3)
    assert (explainer.votes, voting.using(temperature=0.9).temperature) == (1, 0.9)
    with pytest.raises(ValueError, match="temperature above 0"):
        explainer.using(votes=2, temperature=0)


def test_the_readout_choice_is_tokenized_once_and_follows_using(explainer: Explainer) -> None:
    choice = explainer.choice
    assert choice is not None and set(choice) == {"positive", "negative", "neutral"}
    assert explainer.choice is choice  # cached, not tokenized again on every request
    assert explainer.using(score_readout="written").choice is None  # `using` drops the cached value
    assert explainer.using(format="emor3", task="mikels").choice is None  # no polarity written first
    assert explainer.using(max_new_tokens=3).choice == choice


def test_cue_text_is_carried_as_analyze_json_prints_it(explainer: Explainer, tiny_path: Path, tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(wav, syllables(4.0, 1.0, 200.0), SR)
    result = explainer("it is fine", audio=wav)
    assert result.cues is not None and result.cues.startswith("Voice (raw values, no reference): pitch 20")
    record = result.to_dict()
    assert list(record)[-1] == "cues" and record["cues"] == result.cues
    assert Explanation.from_record(record) == result
    alone = explainer(audio=wav)  # a clip without text: `ex(audio=...)` raised a TypeError for the missing text
    assert alone.cues == result.cues
    args = ["analyze", "it is fine", "--audio", str(wav), "--model", str(tiny_path), "--json"]
    printed = CliRunner().invoke(app, [*args, "--max-new-tokens", str(TOKENS), "--device", "cpu"])
    assert printed.exit_code == 0, printed.output
    last = printed.stdout.strip().splitlines()[-1]
    cli_record = json.loads(last[last.index("{") :])
    assert {k: v for k, v in cli_record.items() if k != "latency_s"} == {
        k: v for k, v in record.items() if k != "latency_s"
    }
    plain = explainer("it is fine")
    assert plain.cues is None and "cues" not in plain.to_dict()


def test_evaluate_returns_the_metrics_and_writes_only_in_out(
    tiny_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["Loved it.", "Awful.", "Fine.", "Great fun.", "Dull.", "Superb.", "Bad."]
    rows = [
        {"id": f"s{i}", "text": t, "score": float(i % 5 - 2), "split": "train" if i < 4 else "test"}
        for i, t in enumerate(texts)
    ]
    data = tmp_path / "data" / "d.jsonl"
    data.parent.mkdir()
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = {p for p in tmp_path.rglob("*")}
    out = tmp_path / "out"
    heard: list[str] = []

    metrics = emoreason.evaluate(
        f"jsonl:{data}?scale=-4,4",
        tiny_path,
        out=out,
        max_new_tokens=4,
        batch_size=2,
        baselines=["mean"],
        device="cpu",
        notify=heard.append,
    )
    assert set(metrics) == {
        "dataset",
        "split",
        "n",
        "model",
        "format",
        "generation",
        "run",
        "selection",
        "versions",
        "adapter_paths",
        "rows",
        "warnings",
    }
    assert metrics["n"] == 3 and metrics["split"] == "test" and set(metrics["rows"]) == {"model", "mean"}
    assert metrics["generation"]["max_new_tokens"] == 4 and metrics["warnings"] == heard
    written = json.loads((out / "metrics.json").read_text())
    assert (written["n"], written["dataset"], set(written["rows"])) == (3, metrics["dataset"], {"model", "mean"})
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 3
    new = {p for p in tmp_path.rglob("*")} - before
    assert new and all(p == out or out in p.parents for p in new), sorted(map(str, new - {out}))

    def no_loading(*args: Any) -> Any:
        raise AssertionError("the model was loaded for a run that cannot resume")

    with pytest.raises(ValueError, match="max_new_tokens: 4 -> 5"):
        emoreason.evaluate(
            f"jsonl:{data}?scale=-4,4", tiny_path, out=out, max_new_tokens=5, device="cpu", loader=no_loading
        )


def test_evaluate_refuses_media_a_text_model_cannot_read_before_loading_it(tiny_path: Path, tmp_path: Path) -> None:
    from emoreason.models import MediaError

    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"RIFF")
    data = tmp_path / "clips.jsonl"
    data.write_text(json.dumps({"id": "a", "audio": str(clip), "label": "happy", "split": "test"}) + "\n")

    def no_loading(*args: Any) -> Any:
        raise AssertionError("the model was loaded for media it cannot read")

    # the spec that measures them, named whole: a generic file's option is `measure` (the message said
    # `?cues=only`, which names a file's cue column there)
    measured = re.escape(f"'jsonl:{data}?labels=happy,sad&measure=only'")
    with pytest.raises(MediaError, match=rf"takes text only, not audio \(.*clip.wav\); give the data as {measured}"):
        emoreason.evaluate(f"jsonl:{data}?labels=happy,sad", tiny_path, out=tmp_path / "run", loader=no_loading)


def test_evaluate_answers_a_label_task_in_a_label_format_unless_told_otherwise(tiny_path: Path, tmp_path: Path) -> None:
    """c2f was the default whatever the task: a label task failed at the first batch, after the load."""
    data = tmp_path / "l.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "x", "label": "happy", "split": "test"}) + "\n")

    def no_loading(*args: Any) -> Any:
        raise AssertionError("loaded")

    with pytest.raises(ValueError, match=r"answers with a label: format='emor3' \(or format='r1'\)"):
        emoreason.evaluate(
            f"jsonl:{data}?labels=happy,sad", tiny_path, format="c2f", out=tmp_path / "a", loader=no_loading
        )
    with pytest.raises(AssertionError, match="loaded"):  # emor3 by default: the settings pass, the model loads
        emoreason.evaluate(f"jsonl:{data}?labels=happy,sad", tiny_path, out=tmp_path / "b", loader=no_loading)


def test_evaluate_refuses_counts_below_one_before_loading(tiny_path: Path, tmp_path: Path) -> None:
    """limit=-3 took all but three samples (samples[:-3]); max_new_tokens=0 became 256."""
    data = tmp_path / "s.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "text": "fine", "score": 1.0}) + "\n" for i in range(4)))

    def no_loading(*args: Any) -> Any:
        raise AssertionError("the model was loaded for settings that cannot run")

    for settings, message in (
        ({"limit": -3}, "limit must be at least 1, got -3"),
        ({"sample": 0}, "sample must be at least 1, got 0"),
        ({"max_new_tokens": 0}, "max_new_tokens must be >= 1, got 0"),
        ({"batch_size": -1}, "batch_size must be a whole number of at least 1, got -1"),
        ({"baselines": ["vader", "vadr"]}, "unknown baseline 'vadr'"),  # after the model had loaded
        ({"baselines": "vader,mean,meen"}, "unknown baseline 'meen'"),  # a string was read letter by letter
    ):
        with pytest.raises(ValueError, match=message):
            emoreason.evaluate(
                f"jsonl:{data}?scale=-4,4", tiny_path, out=tmp_path / "run", loader=no_loading, **settings
            )
    heard: list[str] = []
    with pytest.raises(AssertionError, match="loaded for settings"):  # a warning, then the run goes on
        emoreason.evaluate(
            f"jsonl:{data}?scale=-4,4",
            tiny_path,
            out=tmp_path / "r2",
            sample=10,
            notify=heard.append,
            loader=no_loading,
        )
    assert heard == ["sample 10 is not fewer than the split's 4 samples: all of them are evaluated"]
    refused = CliRunner().invoke(app, ["evaluate", "-d", f"jsonl:{data}?scale=-4,4", "--limit", "-3"])
    assert refused.exit_code == 2 and "--limit" in refused.output and "greater than or equal to 1" in refused.output
    refused = CliRunner().invoke(app, ["evaluate", "-d", f"jsonl:{data}?scale=-4,4", "--batch-size", "-1"])
    assert refused.exit_code == 2 and "--batch-size" in refused.output
    assert "greater than or equal to 1" in refused.output


def test_evaluate_refuses_a_busy_folder_before_loading_and_frees_it_when_the_load_fails(
    tiny_path: Path, tmp_path: Path
) -> None:
    """The lock was taken after the model loaded: a second evaluate into a busy folder loaded, then stopped."""
    from emoreason.locking import FolderLock

    data = tmp_path / "s.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "fine", "score": 1.0}) + "\n")
    out = tmp_path / "run"

    def no_loading(*args: Any) -> Any:
        raise AssertionError("the model was loaded")

    with FolderLock(out, "evaluate"), pytest.raises(ValueError, match=r"run is in use by another run \(evaluate"):
        emoreason.evaluate(f"jsonl:{data}?scale=-4,4", tiny_path, out=out, loader=no_loading)
    with pytest.raises(AssertionError, match="the model was loaded"):  # free: this one gets as far as the load
        emoreason.evaluate(f"jsonl:{data}?scale=-4,4", tiny_path, out=out, loader=no_loading)
    FolderLock(out, "sft run").acquire().release()  # and the failed load let go of it


def test_votes_sample_several_answers_and_keep_the_one_that_speaks_for_them(
    explainer: Explainer, spy: Spy, tiny_path: Path
) -> None:
    voting = Explainer(explainer.loaded, explainer.engine, votes=3, max_new_tokens=TOKENS)
    assert (voting.sampling.n, voting.sampling.temperature) == (3, 0.7)
    record = voting("So boring.").to_dict()
    outputs = spy.calls[0][1]
    assert len(outputs) == 1 and len(outputs[0]) == 3
    votes = record["votes"]
    assert votes["k"] == 3 and len(votes["answers"]) == 3
    assert record["raw_completion"] == outputs[0][votes["chosen"]].text
    with pytest.raises(ValueError, match="temperature above 0"):
        Explainer(explainer.loaded, explainer.engine, votes=3, temperature=0.0)
    args = ["analyze", "So boring.", "--model", str(tiny_path), "--votes", "2", "--temperature", "0", "--device", "cpu"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0 and "--votes 2" in result.output and "temperature above 0" in result.output


def test_the_engine_batches_every_vote_of_a_batch_of_samples(tiny_path: Path) -> None:
    from emoreason.api.explainer import load_engine

    assert load_engine(str(tiny_path), None, "auto", "auto", "cpu", 2, 3)[1].batch_size == 6
    assert Explainer.load(tiny_path, batch_size=4, votes=5, device="cpu").engine.batch_size == 20


def test_evaluate_with_votes_records_them_and_resumes_only_with_the_same_votes(tiny_path: Path, tmp_path: Path) -> None:
    rows = [
        {"id": f"s{i}", "text": t, "score": float(i - 1), "split": "test"}
        for i, t in enumerate(["Bad.", "Ok.", "Good."])
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out, spec = tmp_path / "out", f"jsonl:{data}?scale=-4,4"
    metrics = emoreason.evaluate(spec, tiny_path, out=out, max_new_tokens=4, votes=2, baselines=[], device="cpu")
    assert (metrics["run"]["n"], metrics["run"]["temperature"], metrics["run"]["seed"]) == (2, 0.7, 0)
    assert (metrics["generation"]["votes"], metrics["generation"]["temperature"]) == (2, 0.7)
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(r["votes"]["k"] == 2 and len(r["votes"]["answers"]) == 2 for r in records)
    with pytest.raises(ValueError, match="n: 2 -> 1"):
        emoreason.evaluate(spec, tiny_path, out=out, max_new_tokens=4, baselines=[], device="cpu")
    with pytest.raises(ValueError, match="votes=1"):
        emoreason.evaluate(spec, tiny_path, out=tmp_path / "f", votes=2, faithfulness=True, device="cpu")


def test_evaluate_says_it_resumes_as_it_says_its_other_warnings_and_its_help_names_the_batch_size(
    tiny_path: Path, tmp_path: Path
) -> None:
    """The resume notice came as a raw log line ("WARNING emoreason.eval.runner: resuming: ..."), unlike the other
    `warning:` lines; and `evaluate --help` did not say that with votes the batch size must match to resume."""
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": f"s{i}", "text": "Fine.", "score": 1.0}) + "\n" for i in range(2)))
    out, spec = tmp_path / "out", f"jsonl:{data}?scale=-4,4"
    emoreason.evaluate(spec, tiny_path, out=out, limit=1, max_new_tokens=2, baselines=[], device="cpu")
    heard: list[str] = []
    emoreason.evaluate(spec, tiny_path, out=out, max_new_tokens=2, baselines=[], device="cpu", notify=heard.append)
    assert f"resuming: 1 of 2 samples already in {out / 'predictions.jsonl'}" in heard
    args = ["evaluate", "-d", spec, "--model", str(tiny_path), "--out", str(out), "--max-new-tokens", "2"]
    again = CliRunner().invoke(app, [*args, "--baselines", "none", "--device", "cpu"])
    assert again.exit_code == 0, again.output
    assert "warning: resuming: 2 of 2 samples already in" in " ".join(again.output.split())
    shown = " ".join(CliRunner().invoke(app, ["evaluate", "--help"]).output.split())
    assert "with --votes above 1 the --batch-size" in shown and "and with --votes above 1 its --batch-size" in shown


def test_an_adapter_trained_on_a_scale_of_ones_own_answers_on_it(tmp_path: Path) -> None:
    """emoreason.json named a task only where its name read back as it: an adapter trained on a file's 1..7
    scale said nothing, and analyze, serve and the API answered with it on -4..4."""
    from emoreason.api.explainer import checked_settings
    from emoreason.data.schema import NeutralBand, TaskInfo, resolve_task
    from emoreason.models.shipped import AdapterSettings
    from emoreason.train.weights import trained_for

    mine = TaskInfo("mine", scale=(1.0, 7.0), neutral=NeutralBand.around((1.0, 7.0), 0.5))
    written = trained_for("c2f", mine)
    assert written["task"] == mine.to_dict() and trained_for("c2f", resolve_task("mosi"))["task"] == "mosi"
    (tmp_path / "emoreason.json").write_text(json.dumps(written))
    own = AdapterSettings.read(tmp_path)
    assert own.task_info() == mine
    _, task, _ = checked_settings(own, None, None, None, None, 1, None, "auto", "fitted")
    assert task == mine  # not vader's -4..4
    (tmp_path / "emoreason.json").write_text(json.dumps({"task": {"scale": [1, 7]}}))
    with pytest.raises(ValueError, match="emoreason.json: task is not a task written by TaskInfo.to_dict"):
        AdapterSettings.read(tmp_path)


def test_paths_are_taken_where_a_path_is_meant(tmp_path: Path) -> None:
    """`evaluate(Path(...))` failed on `.split`, `adapter=Path(...)` was iterated, and `fit_score` with one run
    walked its path letter by letter ("/: this run is given twice")."""
    from emoreason.data import DataError
    from emoreason.models.loading import resolve_adapters

    assert resolve_adapters("/m", tmp_path) == [str(tmp_path)]
    assert resolve_adapters("/m", [tmp_path, str(tmp_path / "b")]) == [str(tmp_path), str(tmp_path / "b")]
    with pytest.raises(DataError) as one_run:
        emoreason.fit_score(str(tmp_path / "run"))
    assert "given twice" not in str(one_run.value)
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "fine", "score": 1.0}) + "\n")
    with pytest.raises(DataError, match="unknown dataset kind|spec"):  # read as the spec its string is
        emoreason.evaluate(data, "none", out=tmp_path / "out")


def test_numpy_arrays_serve_as_a_scale_or_labels_and_other_kinds_are_a_type_error_naming_them(
    explainer: Explainer,
) -> None:
    """A numpy scale failed on `if scale` ("the truth value of an array ... is ambiguous"); a label that is
    no str failed as "'int' object has no attribute 'strip'"."""
    import numpy as np

    for scale in (np.array([1, 7]), np.array([1.0, 7.0], dtype=np.float32), [np.int64(1), np.float64(7)]):
        task = Explainer(explainer.loaded, explainer.engine, scale=scale).task  # type: ignore[arg-type]
        assert task.scale == (1.0, 7.0) and all(type(end) is float for end in task.scale)
    labelled = Explainer(explainer.loaded, explainer.engine, labels=np.array(["joy", "anger"]))  # type: ignore[arg-type]
    assert labelled.task.labels == ("joy", "anger") and all(type(label) is str for label in labelled.task.labels)
    refusals = {
        "scale takes two numbers .LOW, HIGH.*not float64": {"scale": np.float64(3)},
        "scale takes two numbers .LOW, HIGH.; got bool True": {"scale": (True, 3)},
        "labels takes label names .str.; label 1 is int 1": {"labels": np.array([1, 2])},
        "labels takes label names .str.; label 2 is int 2": {"labels": ["joy", 2]},
        "labels takes label names .str..*not dict": {"labels": {"joy": 1, "anger": 2}},
    }
    for message, settings in refusals.items():
        with pytest.raises(TypeError, match=message):
            Explainer(explainer.loaded, explainer.engine, **settings)
    with pytest.raises(ValueError, match="scale takes two numbers .LOW, HIGH., e.g. scale=.-3, 3.; got 3 values"):
        Explainer(explainer.loaded, explainer.engine, scale=np.array([1, 4, 7]))  # type: ignore[arg-type]


def test_a_scale_given_as_a_string_is_read_as_analyze_reads_scale(explainer: Explainer) -> None:
    """`scale="1,7"` was read character by character ("could not convert string to float: ','")."""
    assert Explainer(explainer.loaded, explainer.engine, scale="1,7").task.scale == (1.0, 7.0)  # type: ignore[arg-type]
    assert Explainer(explainer.loaded, explainer.engine, scale=" -2.5, 2.5").task.scale == (-2.5, 2.5)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"""scale takes two numbers LOW,HIGH, e.g. scale="-3,3" or scale=\(-3, 3\); got '1-7'"""
    ):
        Explainer(explainer.loaded, explainer.engine, scale="1-7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="LOW below HIGH.*got 7,1"):  # the order is checked as for a tuple
        Explainer(explainer.loaded, explainer.engine, scale="7,1")  # type: ignore[arg-type]
    from emoreason.data.schema import parse_low_high  # the rule the command line's --scale follows

    assert parse_low_high("-3,3") == (-3.0, 3.0)
    with pytest.raises(ValueError, match="^--scale takes two numbers LOW,HIGH, e.g. --scale -3,3; got 'x'$"):
        parse_low_high("x")  # the command line's words


def test_none_as_the_text_with_media_is_the_media_alone(explainer: Explainer, spy: Spy, tmp_path: Path) -> None:
    """`ex(None, audio=...)` raised "text must be a str ... not NoneType" though `ex(audio=...)` answers."""
    wav = tmp_path / "a.wav"
    sf.write(wav, syllables(4.0, 1.0, 200.0), SR)
    alone, given_none = explainer(audio=wav), explainer(None, audio=wav)
    assert given_none.cues is not None and given_none.cues == alone.cues
    assert {k: v for k, v in given_none.to_dict().items() if k != "latency_s"} == {
        k: v for k, v in alone.to_dict().items() if k != "latency_s"
    }
    calls = len(spy.calls)
    with pytest.raises(TypeError, match="not NoneType; for media alone, give audio=, video= or image= and no text"):
        explainer(None)  # type: ignore[call-overload]
    assert len(spy.calls) == calls


def test_from_record_names_the_missing_keys_and_those_expected() -> None:
    """A record without `latency_s` raised a bare KeyError('latency_s'), naming one key and no others."""
    record = Explanation(
        id="a",
        polarity="positive",
        score=1.0,
        label=None,
        reasoning={},
        parse_ok=True,
        errors=(),
        raw_completion="",
        completion_tokens=1,
        finish_reason="stop",
        model="m",
        format="c2f",
        latency_s=0.1,
    ).to_dict()
    assert Explanation.from_record(record).to_dict() == record
    lacking = {k: v for k, v in record.items() if k not in ("polarity", "latency_s")}
    with pytest.raises(ValueError, match="not an audit record: it lacks polarity, latency_s; an audit record has id, "):
        Explanation.from_record(lacking)
    with pytest.raises(TypeError, match="an audit record is a mapping .a dict., not str"):
        Explanation.from_record(json.dumps(record))  # type: ignore[arg-type]


def test_the_cache_is_passed_as_transformers_names_it_so_no_notice_is_raised(
    explainer: Explainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passing `past_key_values` raised transformers' FutureWarning at every forward pass (every decoding
    step), which the warnings filter `load_model` set hid only until a caller reset the filters (pytest
    does, per test; so does `warnings.catch_warnings`), and logged "`past_key_values`/`cache_params` are
    deprecated" once."""
    import logging

    logged: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    monkeypatch.setattr(logging.getLogger("transformers.utils.generic"), "filters", [])
    logging.getLogger("transformers.utils.generic").addHandler(handler)
    once = getattr(logging.Logger, "warning_once", None)  # transformers logs each message once per process
    if once is not None and hasattr(once, "cache_clear"):
        once.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            explainer(["What a lovely day", "So boring."])  # a shared prefix, a prompt pass, decoding steps
            explainer("fine")
            explainer.using(attribute=True)("Not bad at all.")  # the polarity probabilities, read without generating
    finally:
        logging.getLogger("transformers.utils.generic").removeHandler(handler)
    assert [str(w.message) for w in caught if "past_key_values" in str(w.message)] == []
    assert [message for message in logged if "past_key_values" in message] == []


def test_average_adapters_is_exported_at_the_root_with_the_default_model_as_the_others() -> None:
    import inspect

    from emoreason.models.soup import average_adapters

    assert "average_adapters" in emoreason.__all__ and "average_adapters" in dir(emoreason)
    assert emoreason.average_adapters is average_adapters
    from emoreason.api import average_adapters as from_api

    assert from_api is average_adapters
    defaults = {
        fn.__qualname__: inspect.signature(fn).parameters["model"].default
        for fn in (average_adapters, emoreason.evaluate, Explainer.load)
    }
    assert set(defaults.values()) == {"default"}, defaults


def test_an_adapter_asked_another_task_than_it_was_trained_for_is_said(tiny_path: Path, tmp_path: Path) -> None:
    """The shipped default asked for 1..7 kept writing -4..4 numbers (unparsed, or read on the wrong side of the
    middle) without a word that it was trained for another scale."""
    from peft import LoraConfig, get_peft_model

    from emoreason.models import load_model

    adapter = tmp_path / "vader_adapter"
    get_peft_model(load_model(str(tiny_path)).model, LoraConfig(r=2, target_modules="all-linear")).save_pretrained(
        adapter
    )
    (adapter / "emoreason.json").write_text(json.dumps({"format": "c2f", "task": "vader"}))
    with pytest.warns(UserWarning, match=r"trained to answer a score on -4..4 \(vader.*asked here for a score on 1..7"):
        Explainer.load(str(tiny_path), adapter=str(adapter), scale=(1, 7), max_new_tokens=4, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the scale it was trained on, under another name: nothing to say
        Explainer.load(str(tiny_path), adapter=str(adapter), task="vader:movies", max_new_tokens=4, device="cpu")
    rows = [{"id": f"s{i}", "text": t, "score": float(i + 1), "split": "test"} for i, t in enumerate(["Bad.", "Good."])]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    heard: list[str] = []
    metrics = emoreason.evaluate(
        f"jsonl:{data}",  # no scale given: the load infers 1..2 and says so
        str(tiny_path),
        adapter=str(adapter),
        out=tmp_path / "out",
        max_new_tokens=4,
        baselines=[],
        device="cpu",
        notify=heard.append,
    )
    said = [m for m in heard if "trained to answer a score on -4..4" in m or "no score scale given" in m]
    assert len(said) == 2 and all(m in metrics["warnings"] for m in said)  # heard, and kept with the figures
    # analyze says it as its other warnings, not as a Python warning with a line of source
    from typer.testing import CliRunner

    from emoreason.cli import app

    args = ["analyze", "fine", "--model", str(tiny_path), "--adapter", str(adapter), "--scale", "1,7"]
    shown = " ".join(CliRunner().invoke(app, [*args, "--max-new-tokens", "2"]).output.split())
    assert "warning: the adapter was trained to answer a score on -4..4" in shown and "UserWarning" not in shown


def test_a_record_says_the_task_it_was_asked_where_the_name_does_not(explainer: Explainer) -> None:
    """A record of a scale and neutral band of one's own said only "custom": nobody could read its score."""
    own = Explainer(explainer.loaded, explainer.engine, scale=(1, 7), neutral_band=(3.5, 4.5), max_new_tokens=4)("fine")
    assert own.task == "custom" and own.task_info is not None
    assert own.task_info["scale"] == [1.0, 7.0] and own.task_info["neutral"]["low"] == 3.5
    assert Explanation.from_record(own.to_dict()) == own
    assert "task_info" not in explainer.using(task="vader:movies", max_new_tokens=4)("fine").to_dict()
