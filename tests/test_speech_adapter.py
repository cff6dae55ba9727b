"""Adapters by name and the settings an adapter folder carries (issue 19): a shipped adapter
selected by name, its format / task / cue classifier / cue reference taken by `analyze`, the
Python API and `evaluate`, and `analyze --audio` on a clip alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from cue_media import SR, syllables
from emoreason import Explainer
from emoreason.cli import app
from emoreason.cli.analysis import speech_adapter_for
from emoreason.cues import CueClassifier, CueReference, extract_audio_cues, save_references
from emoreason.data.schema import Sample, resolve_task
from emoreason.models import shipped
from emoreason.models.loading import resolve_adapters
from emoreason.models.shipped import AdapterSettings, resolve_shipped
from emoreason.testing.fixtures import make_tiny_causal_lm
from test_cue_teacher import speakers

TOKENS = 6


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "causal")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("clips")
    paths = []
    for i, (rate, freq) in enumerate([(3.0, 150.0), (4.0, 180.0), (5.0, 210.0), (3.5, 240.0), (4.5, 170.0)]):
        sf.write(root / f"c{i}.wav", syllables(rate, 1.0, freq), SR)
        paths.append(root / f"c{i}.wav")
    return paths


@pytest.fixture(scope="module")
def speech_adapter(tiny_path: Path, clips: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter for the tiny model with the settings file of a speech adapter."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("speech") / "adapter"
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_path), LoraConfig(r=2, target_modules="all-linear")
    )
    model.save_pretrained(folder)
    samples = [
        s.with_(
            meta={
                **s.meta,
                "cue_z": {"audio": {"pitch_mean_hz": z["pitch_mean_hz"], "loudness_dbfs": z["loudness_dbfs"]}},
            }
        )
        for s in speakers()
        for z in [s.meta["cue_z"]["audio"]]
    ]
    CueClassifier.fit(samples, ["angry", "sad"]).save(folder / "cue_classifier.json")
    save_references({"audio": CueReference.build([extract_audio_cues(c) for c in clips])}, folder / "reference.json")
    settings = {
        "format": "emor3",
        "task": "ravdess",
        "max_new_tokens": TOKENS,
        "cue_classifier": "cue_classifier.json",
        "cue_reference": "reference.json",
    }
    (folder / "emoreason.json").write_text(json.dumps(settings))
    return folder


# -- the settings file ----------------------------------------------------------------------


def test_settings_read_and_default(tmp_path: Path, speech_adapter: Path) -> None:
    assert AdapterSettings.read(tmp_path) == AdapterSettings()
    settings = AdapterSettings.read(speech_adapter)
    assert (settings.format, settings.task, settings.max_new_tokens) == ("emor3", "ravdess", TOKENS)
    assert settings.cue_classifier == speech_adapter / "cue_classifier.json"
    # the last adapter with settings wins
    assert AdapterSettings.of([speech_adapter, tmp_path]) == settings


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "emor3", "colour": "red"}', "unknown keys \\['colour'\\]"),
        ('{"cue_classifier": "gone.json"}', "names files that are not there"),
        ("[1, 2]", "not a JSON object"),
        ("{", "Expecting"),
    ],
)
def test_a_bad_settings_file_is_named(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "emoreason.json").write_text(content)
    with pytest.raises(ValueError, match=message) as err:
        AdapterSettings.read(tmp_path)
    assert str(tmp_path / "emoreason.json") in str(err.value)


# -- adapters by name -------------------------------------------------------------------------


def test_shipped_names_resolve_to_their_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_shipped("runs/sft/final/adapter") == "runs/sft/final/adapter"  # not a name: as given
    sentiment = shipped.shipped_adapter("sentiment")
    assert sentiment is not None and resolve_adapters("default", ["sentiment"]) == [str(sentiment)]
    monkeypatch.setitem(shipped.SHIPPED_ADAPTERS, "nowhere", "no_such_folder")
    with pytest.raises(ValueError, match="'nowhere' is not shipped"):
        resolve_shipped("nowhere")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nowhere").mkdir()  # a local folder of that name wins over the package's
    assert resolve_shipped("nowhere") == "nowhere"


def test_the_speech_task_is_known_by_name() -> None:
    task = resolve_task("ravdess")
    assert task.labels and len(task.labels) == 8 and "angry" in task.labels
    assert resolve_task("speech-emotion") == task


def test_a_clip_alone_on_the_default_model_picks_the_speech_adapter(
    monkeypatch: pytest.MonkeyPatch, speech_adapter: Path
) -> None:
    monkeypatch.setattr(shipped, "shipped_adapter", lambda name: speech_adapter if name == "speech-emotion" else None)
    alone, spoken = Sample(id="a", text="", audio="x.wav"), Sample(id="b", text="listen", audio="x.wav")
    assert speech_adapter_for("default", [alone], None, None) == ["speech-emotion"]
    assert speech_adapter_for("default", [spoken], None, None) is None  # words too: the sentiment adapter
    assert speech_adapter_for("default", [alone], resolve_task("vader"), None) is None  # the user chose a task
    assert speech_adapter_for("some/model", [alone], None, None) is None
    monkeypatch.setattr(shipped, "shipped_adapter", lambda name: None)
    assert speech_adapter_for("default", [alone], None, None) is None  # not shipped in this installation


# -- the settings at work ---------------------------------------------------------------------


def test_the_explainer_takes_the_adapters_settings(tiny_path: Path, speech_adapter: Path, clips: list[Path]) -> None:
    explainer = Explainer.load(tiny_path, adapter=str(speech_adapter), device="cpu")
    assert explainer.format.name == "emor3" and explainer.task.name == "ravdess"
    assert explainer.max_new_tokens == TOKENS
    result = explainer("", audio=clips[0])
    # a clip alone: compared with the adapter's reference, and the classifier's ranking added
    assert result.cues is not None and result.cues.startswith("Voice (relative to the dataset)")
    assert "\nCue classifier (fitted on other speakers): " in result.cues
    told = Explainer.load(tiny_path, adapter=str(speech_adapter), device="cpu", format="r1", max_new_tokens=3)
    assert told.format.name == "r1" and told.max_new_tokens == 3  # what the caller says wins


def test_analyze_audio_alone_gives_an_emor3_record(tiny_path: Path, speech_adapter: Path, clips: list[Path]) -> None:
    args = ["analyze", "--audio", str(clips[1]), "--model", str(tiny_path), "--adapter", str(speech_adapter)]
    result = CliRunner().invoke(app, [*args, "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    record = json.loads(last[last.index("{") :])
    assert record["format"] == "emor3" and "Cue classifier" in record["cues"]
    assert record["completion_tokens"] <= TOKENS


def test_evaluate_takes_the_adapters_format_and_adds_its_ranking(
    tiny_path: Path, speech_adapter: Path, tmp_path: Path
) -> None:
    from emoreason.api import evaluate, load_engine
    from test_cues_data import fake_ravdess

    root = fake_ravdess(tmp_path / "r", actors=(1, 2, 3, 4, 5, 21), emotions=(1, 5))
    prompts: list[str] = []

    def loader(*args: object) -> tuple[object, object]:
        loaded, engine = load_engine(*args)  # type: ignore[arg-type]
        generate = engine.generate

        def spy(conversations: list, params: object) -> object:
            prompts.extend(c.messages[-1]["content"] for c in conversations)
            return generate(conversations, params)

        engine.generate = spy  # type: ignore[method-assign]
        return loaded, engine

    metrics = evaluate(
        f"ravdess:{root}?cues=only",
        str(tiny_path),
        adapter=str(speech_adapter),
        split="test",
        out=tmp_path / "eval",
        baselines=["majority"],
        device="cpu",
        loader=loader,
    )
    assert metrics["n"] == 3 and len(prompts) == 3  # actor 21: one neutral, two angry clips
    # three clips are too few for a speaker's own statistics: the dataset's, and the ranking after them
    assert all(
        "Voice (relative to the dataset)" in p and "\nCue classifier (fitted on other speakers): " in p for p in prompts
    )
    run = json.loads((tmp_path / "eval" / "run.json").read_text())
    assert run["identity"]["format"] == "emor3"  # from emoreason.json, not the c2f default
