"""Datasets with cues: the RAVDESS adapter (fake and real), raw-video ingestion with
`emoreason data prepare`, and cue text carried by samples."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from cue_media import SR, face_clip, syllables
from emoreason.cli import app
from emoreason.data import DataError, Sample, load_dataset
from emoreason.data.adapters.ravdess import EMOTION_POLARITY, EMOTIONS, parse_name

runner = CliRunner()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EMOREASON_CUES_CACHE", str(tmp_path / "cue-cache"))
    return tmp_path / "cue-cache"


def fake_ravdess(root: Path, actors=(1, 2, 17, 21), emotions=(1, 3, 5), manifest: bool = True) -> Path:
    """Short voiced WAVs named like RAVDESS, in Actor_NN folders, with a manifest."""
    rows = []
    for actor in actors:
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for emotion in emotions:
            for intensity in (1, 2) if emotion != 1 else (1,):
                name = f"03-01-{emotion:02d}-{intensity:02d}-01-01-{actor:02d}.wav"
                pitch = 120.0 + 10 * actor + 30 * emotion * intensity
                sf.write(folder / name, syllables(3.0 + intensity, 0.8, pitch), SR)
                rows.append({"path": f"Actor_{actor:02d}/{name}", "actor": actor, "emotion": EMOTIONS[emotion - 1]})
    if manifest:
        with (root / "manifest.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["path", "actor", "emotion"])
            writer.writeheader()
            writer.writerows(rows)
    return root


# --- RAVDESS --------------------------------------------------------------------------------------


def test_ravdess_names_decode() -> None:
    fields = parse_name("03-01-05-02-01-01-12")
    assert fields == {
        "modality": "audio",
        "channel": "speech",
        "emotion": "angry",
        "intensity": "strong",
        "statement": "01",
        "repetition": 1,
        "actor": 12,
    }
    assert parse_name("03-01-09-01-01-01-12") is None and parse_name("clip") is None


def test_ravdess_adapter_splits_by_actor(tmp_path: Path) -> None:
    dataset = load_dataset(f"ravdess:{fake_ravdess(tmp_path / 'r')}")
    assert dataset.split_counts() == {"train": 10, "valid": 5, "test": 5}
    by_split = {split: {s.meta["actor"] for s in dataset.split(split)} for split in ("train", "valid", "test")}
    assert by_split == {"train": {1, 2}, "valid": {17}, "test": {21}}
    sample = dataset.by_id()["03-01-05-02-01-01-21"]
    assert (sample.label, sample.split, sample.text) == ("angry", "test", "Kids are talking by the door")
    assert sample.meta["speaker"] == "actor21" and sample.meta["gender"] == "male" and sample.audio
    task = dataset.task
    assert task.labels == EMOTIONS and task.metric_set == "classification"
    assert task.gold_polarity(sample) == "negative"
    assert [EMOTION_POLARITY[e] for e in ("neutral", "calm", "happy", "surprised")] == [
        "neutral",
        "positive",
        "positive",
        "positive",
    ]
    other = load_dataset(f"ravdess:{tmp_path / 'r'}?test=1,2&valid=21")
    assert {s.meta["actor"] for s in other.split("test")} == {1, 2}


def test_ravdess_label_task_works_with_formats_and_rewards(tmp_path: Path) -> None:
    from emoreason.formats import get_format
    from emoreason.rewards import Gold, build_reward

    dataset = load_dataset(f"ravdess:{fake_ravdess(tmp_path / 'r')}")
    sample, task = dataset.split("test")[0], dataset.task
    for name in ("r1", "emor3"):
        fmt = get_format(name)
        assert "surprised" in fmt.system_prompt(task)
        reasoning = (
            {"think": "loud, fast, high pitch"}
            if name == "r1"
            else {"step1": "a", "step2": "b", "step3": "negative, high arousal"}
        )
        target = fmt.render_target(task, reasoning=reasoning, label=sample.label)
        parsed = fmt.parse(target, task)
        assert parsed.ok and parsed.label == sample.label
        reward = build_reward(name, task)(target, Gold.from_sample(sample, task), task, None)
        assert reward.components["accuracy"] == 1.0


def test_ravdess_without_manifest_and_bad_rows(tmp_path: Path) -> None:
    root = fake_ravdess(tmp_path / "r", manifest=False)
    (root / "Actor_01" / "notes.wav").write_bytes(b"x")
    dataset = load_dataset(f"ravdess:{root}")
    assert len(dataset) == 20 and dataset.report.bad_by_reason == {"not a RAVDESS file name": 1}
    with (root / "manifest.csv").open("w") as handle:
        handle.write(
            "path,actor,emotion\nActor_01/03-01-05-01-01-01-01.wav,1,happy\nActor_01/03-01-03-01-01-01-01.wav,1,happy\n"
        )
    dataset = load_dataset(f"ravdess:{root}")
    assert len(dataset) == 1 and dataset.report.bad_by_reason == {"manifest disagrees with the file name": 1}
    with pytest.raises(DataError, match="manifest.csv:2"):
        load_dataset(f"ravdess:{root}?strict=true")
    with pytest.raises(DataError, match="both valid and test"):
        load_dataset(f"ravdess:{root}?valid=1&test=1")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(f"ravdess:{tmp_path / 'none'}")


def test_ravdess_with_cue_text(tmp_path: Path) -> None:
    dataset = load_dataset(f"ravdess:{fake_ravdess(tmp_path / 'r')}?cues=true")
    texts = [s.cues for s in dataset]
    assert all(t and t.startswith("Voice (relative to this speaker): pitch") for t in texts)
    assert "sd," in texts[0] and dataset.split("all")[0].audio
    text_only = load_dataset(f"ravdess:{tmp_path / 'r'}?cues=only")  # cached now; cue-to-text: no audio
    assert all(s.audio is None and s.cues for s in text_only)
    assert [s.cues for s in text_only] == texts
    # the numbers travel with the sample when the audio does not (for the cues teacher)
    z = text_only.split("all")[0].meta["cue_z"]["audio"]
    assert set(z) >= {"pitch_mean_hz", "loudness_dbfs"} and all(isinstance(v, float) for v in z.values())
    with pytest.raises(DataError, match="cues='maybe'"):
        load_dataset(f"ravdess:{tmp_path / 'r'}?cues=maybe")


def test_distill_with_the_cues_teacher(tmp_path: Path) -> None:
    root = fake_ravdess(tmp_path / "r", actors=(1, 2, 3, 4, 17, 21))
    out = tmp_path / "distill"
    result = runner.invoke(
        app,
        [
            "distill",
            "--teacher",
            "cues",
            "-d",
            f"ravdess:{root}?cues=only",
            "--split",
            "train",
            "--format",
            "emor3",
            "--out",
            str(out),
            "--min-words",
            "4",
        ],
    )
    assert result.exit_code == 0, result.output
    stats = json.loads((out / "stats.json").read_text())
    assert stats["teacher"] == "cues" and stats["total"] == 20  # 4 train actors x 5 clips
    kept = [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]
    assert len(kept) == stats["kept"] and stats["kept"] + sum(stats["dropped"].values()) == 20
    for record in kept:  # the student prompt carries the cue text the chain cites, never the audio
        prompt, target = record["messages"][-2]["content"], record["messages"][-1]["content"]
        assert "Voice (relative to this speaker)" in prompt and "audio" not in record
        assert "<step1>The voice against this speaker's other clips" in target
        assert target.endswith("\\boxed{" + record["gold"]["label"] + "}")
    no_cues = runner.invoke(
        app,
        [
            "distill",
            "--teacher",
            "cues",
            "-d",
            f"ravdess:{root}",
            "--split",
            "train",
            "--format",
            "emor3",
            "--out",
            str(tmp_path / "bad"),
        ],
    )
    # it stops before asking, naming the fix (it asked for every clip, each failed, and it exited 0)
    said = " ".join(no_cues.output.split())
    assert no_cues.exit_code == 2 and "none of the 20 samples has them: load the dataset with ?cues=only" in said


def test_ravdess_real_data(shared_data: Path) -> None:
    folder = shared_data / "ravdess_speech16k"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    dataset = load_dataset(f"ravdess:{folder}")
    assert len(dataset) == 360 and not dataset.report.bad_rows
    assert dataset.split_counts() == {"train": 240, "valid": 60, "test": 60}
    actors = {split: {s.meta["actor"] for s in dataset.split(split)} for split in ("train", "valid", "test")}
    assert actors["test"] == {21, 22, 23, 24} and not actors["train"] & (actors["valid"] | actors["test"])
    counts = {label: sum(s.label == label for s in dataset) for label in EMOTIONS}
    assert counts == {label: 24 if label == "neutral" else 48 for label in EMOTIONS}


# --- raw videos + data prepare ----------------------------------------------------------------------


def fake_raw(root: Path) -> Path:
    """MMSA raw layout: two talking-face clips, one silent clip, one corrupt file, one missing."""
    (root / "Raw" / "vid1").mkdir(parents=True)
    face_clip(root / "Raw" / "vid1" / "1.mp4", seconds=1.5, freq=180.0)
    face_clip(root / "Raw" / "vid1" / "2.mp4", seconds=1.5, freq=240.0)
    face_clip(root / "Raw" / "vid1" / "3.mp4", seconds=1.5, audio=False)
    (root / "Raw" / "vid1" / "4.mp4").write_bytes(b"\x00not a video" * 50)
    lines = ["video_id,clip_id,text,label,mode"] + [f"vid1,{i},clip {i},0.{i},train" for i in range(1, 6)]
    (root / "label.csv").write_text("\n".join(lines) + "\n")
    return root


def test_data_prepare_on_raw_videos_reports_and_resumes(tmp_path: Path) -> None:
    root = fake_raw(tmp_path / "raw")
    out, refs, wavs = tmp_path / "cues.jsonl", tmp_path / "refs.json", tmp_path / "wav"
    args = [
        "data",
        "prepare",
        f"raw:{root}?dataset=sims",
        "--out",
        str(out),
        "--reference-out",
        str(refs),
        "--audio-out",
        str(wavs),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    squashed = "".join(result.output.split())  # rich wraps long paths mid-word: compare without whitespace
    assert "4 with media" in text and "read from the cache" in text
    assert "1unreadable:vid1$_$4:" in squashed and "4.mp4" in squashed
    assert "1withoutasoundtrack:vid1$_$3" in squashed
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert by_id["vid1$_$1"]["audio"]["pitch_mean_hz"] == pytest.approx(180.0, rel=0.03)
    assert by_id["vid1$_$1"]["face"]["face_frames"] >= 3
    assert by_id["vid1$_$3"]["audio"] is None and by_id["vid1$_$3"]["face"] is not None
    assert by_id["vid1$_$1"]["cues"].startswith("Voice (relative to the dataset)")
    assert set(json.loads(refs.read_text())) == {"audio", "face"}
    assert sf.info(str(wavs / "vid1" / "1.wav")).samplerate == 16000
    again = runner.invoke(app, args)  # resumes: everything readable is cached
    assert "0 cue records extracted" in " ".join(again.output.split())
    # into an adapter folder: written there and named in its emoreason.json, which analyze and serve read
    from emoreason.models.shipped import AdapterSettings

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "emoreason.json").write_text(json.dumps({"format": "emor3"}))
    into = runner.invoke(app, [*args[:3], "--reference-out", str(adapter)])
    assert into.exit_code == 0, into.output
    settings = AdapterSettings.read(adapter)
    assert settings.cue_reference == adapter / "cue_reference.json" and settings.format == "emor3"
    assert json.loads(settings.cue_reference.read_text()) == json.loads(refs.read_text())
    # a path that is neither (the adapter folder mistyped) is refused before any extraction
    typo = runner.invoke(app, [*args[:3], "--reference-out", str(tmp_path / "adaptr")])
    assert typo.exit_code == 2 and "neither an adapter folder that exists" in " ".join(typo.output.split())
    plain = tmp_path / "runs"  # a folder, but no adapter's: no emoreason.json is made up there
    plain.mkdir()
    refused = runner.invoke(app, [*args[:3], "--reference-out", str(plain)])
    assert refused.exit_code == 2 and "is a folder but not an adapter" in " ".join(refused.output.split())
    assert list(plain.iterdir()) == []


def test_raw_adapter_attaches_cues(tmp_path: Path) -> None:
    root = fake_raw(tmp_path / "raw")
    dataset = load_dataset(f"raw:{root}?dataset=sims&cues=true")
    by_id = dataset.by_id()
    assert "Voice (" in by_id["vid1$_$1"].cues and "\nFace (" in by_id["vid1$_$1"].cues
    assert by_id["vid1$_$4"].cues is None
    assert any("unreadable" in w for w in dataset.report.warnings)
    assert "vid1$_$5" in dataset.report.missing_media


def test_sample_cues_round_trip_through_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(Sample(id="a", text="hi", score=1.0, cues="Voice: pitch high").to_record()) + "\n")
    sample = load_dataset(f"jsonl:{path}?scale=-3,3").split("all")[0]
    assert sample.cues == "Voice: pitch high" and "cues" not in sample.meta


def test_analyze_cli_turns_audio_into_cue_text_for_a_text_model(tmp_path: Path) -> None:
    from emoreason.testing.fixtures import make_tiny_causal_lm

    model = make_tiny_causal_lm(tmp_path / "tiny")  # random weights: only the prompt matters here
    wav = tmp_path / "a.wav"
    sf.write(wav, syllables(4.0, 1.0, 200.0), SR)
    args = ["analyze", "it is fine", "--audio", str(wav), "--model", str(model), "--json", "--max-new-tokens", "4"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    record = json.loads(last[last.index("{") :])  # stderr (weight loading) shares the captured output
    assert record["cues"].startswith("Voice (raw values, no reference): pitch 20")
    result = runner.invoke(app, [*args, "--cues", "off"])
    assert result.exit_code == 2 and "describe the media as cue text" in result.output
    assert "?cues=only" in " ".join(result.output.split())  # the way a dataset does it, named
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF but not really" * 4)
    result = runner.invoke(app, ["analyze", "hi", "--audio", str(broken), "--model", str(model)])
    assert result.exit_code == 2 and "broken.wav" in result.output and "takes text only" in result.output


def speaker_reference(root: Path) -> tuple[Path, list[Path]]:
    """A saved cue reference of two voices, `low` and `high`, six clips each, and those clips."""
    from emoreason.cues import CueReference, extract_audio_cues, save_references

    root.mkdir(parents=True, exist_ok=True)
    clips, speakers = [], []
    for speaker, base in (("low", 120.0), ("high", 240.0)):
        for step in range(6):
            clip = root / f"{speaker}{step}.wav"
            sf.write(clip, syllables(3.0 + 0.3 * step, 1.0, base * (1 + 0.03 * step)), SR)
            clips.append(clip)
            speakers.append(speaker)
    reference = CueReference.build([extract_audio_cues(c) for c in clips], speakers)
    save_references({"audio": reference}, root / "reference.json")
    return root / "reference.json", clips


def printed_records(output: str) -> list[dict]:
    """The `analyze --json` records in a CliRunner's output (stderr, weight loading and warnings, shares it)."""
    return [json.loads(line[line.index("{") :]) for line in output.splitlines() if '{"' in line]


def test_analyze_speaker_compares_a_clip_with_its_speakers_statistics(tmp_path: Path) -> None:
    """`analyze --audio clip --speaker S` had no --speaker (`emoreason cues` has one): a clip given on the command
    line was always compared with the reference's whole dataset, never with its speaker's own clips."""
    from emoreason.testing.fixtures import make_tiny_causal_lm

    model = make_tiny_causal_lm(tmp_path / "tiny")
    reference, clips = speaker_reference(tmp_path / "voices")
    args = ["analyze", "--audio", str(clips[5]), "--model", str(model), "--cue-reference", str(reference)]
    args += ["--json", "--max-new-tokens", "4"]
    result = runner.invoke(app, [*args, "--speaker", "low"])
    assert result.exit_code == 0, result.output
    assert printed_records(result.output)[0]["cues"].startswith("Voice (relative to this speaker): pitch high")
    # a speaker the reference does not know: compared with its whole dataset, as `CueReference.stats` does, and said
    result = runner.invoke(app, [*args, "--speaker", "stranger"])
    assert result.exit_code == 0, result.output
    assert printed_records(result.output)[0]["cues"].startswith("Voice (relative to the dataset)")
    said = " ".join(result.output.split())
    assert (
        said.count(
            "has no statistics of speaker stranger (a speaker needs 5 clips of their own; its speakers: high, low)"
        )
        == 1
    )
    # where it cannot be read it is refused before the model loads, never ignored
    refused = runner.invoke(app, ["analyze", "--audio", str(clips[0]), "--model", str(model), "--speaker", "low"])
    assert refused.exit_code == 2 and "--speaker low is read against a cue reference" in refused.output
    refused = runner.invoke(app, ["analyze", "hi", "--model", str(model), "--speaker", "low"])
    assert refused.exit_code == 2 and "give one with --audio, --video or --image" in " ".join(refused.output.split())
    listed = tmp_path / "clips.jsonl"
    listed.write_text(json.dumps({"id": "a", "text": "", "audio": str(clips[0])}) + "\n")
    refused = runner.invoke(app, ["analyze", "--input", str(listed), "--model", str(model), "--speaker", "low"])
    assert refused.exit_code == 2 and "in a `speaker` column" in " ".join(refused.output.split())


def test_the_api_names_a_clips_speaker_as_analyze_does(tmp_path: Path) -> None:
    """`Explainer` had no speaker: a clip was compared with the whole dataset where `analyze --speaker` compared it
    with its speaker's own clips."""
    from emoreason.api import Explainer
    from emoreason.testing.fixtures import make_tiny_causal_lm

    model = make_tiny_causal_lm(tmp_path / "tiny")
    reference, clips = speaker_reference(tmp_path / "voices")
    explainer = Explainer.load(str(model), cue_reference=reference, max_new_tokens=4, device="cpu")
    assert explainer(audio=clips[5], speaker="low").cues.startswith("Voice (relative to this speaker): pitch high")
    assert explainer(audio=clips[5]).cues.startswith("Voice (relative to the dataset)")
    with pytest.raises(ValueError, match="speaker= low names who speaks in a clip: give one with audio="):
        explainer("hi", speaker="low")
    plain = Explainer(explainer.loaded, explainer.engine, max_new_tokens=4)  # no cue reference
    with pytest.raises(
        ValueError, match=r"read against a cue reference's speakers: give Explainer.load\(cue_reference"
    ):
        plain(audio=clips[5], speaker="low")


def test_analyze_input_names_each_rows_speaker_and_an_unknown_one_once(tmp_path: Path) -> None:
    """A file's `speaker` column is each clip's speaker against the adapter's (or --cue-reference's) reference; the
    speakers it does not know were compared with the whole dataset without a word."""
    from emoreason.testing.fixtures import make_tiny_causal_lm

    model = make_tiny_causal_lm(tmp_path / "tiny")
    reference, clips = speaker_reference(tmp_path / "voices")
    rows = [("a", clips[5], "low"), ("b", clips[0], "actor99"), ("c", clips[1], "actor99"), ("d", clips[2], "")]
    listed = tmp_path / "clips.jsonl"
    listed.write_text(
        "".join(json.dumps({"id": i, "text": "", "audio": str(c), "speaker": s}) + "\n" for i, c, s in rows)
    )
    args = ["analyze", "--input", str(listed), "--model", str(model), "--cue-reference", str(reference), "--json"]
    result = runner.invoke(app, [*args, "--max-new-tokens", "4"])
    assert result.exit_code == 0, result.output
    cues = {r["id"]: r["cues"] for r in printed_records(result.output)}
    assert cues["a"].startswith("Voice (relative to this speaker)")
    assert all(cues[i].startswith("Voice (relative to the dataset)") for i in "bcd")
    said = " ".join(result.output.split())
    assert (
        said.count(
            "has no statistics of speaker actor99 (a speaker needs 5 clips of their own; its speakers: high, low)"
        )
        == 1
    )  # two clips, one warning


@pytest.mark.slow
def test_reproduce_ravdess_toy_runs_every_stage(tmp_path: Path, tiny_models) -> None:
    import subprocess
    import sys

    root = fake_ravdess(tmp_path / "r", actors=(1, 2, 3, 4, 17, 21))
    out = tmp_path / "run"
    script = Path(__file__).resolve().parents[1] / "scripts" / "reproduce_ravdess.py"
    command = [
        sys.executable,
        str(script),
        "--data",
        str(root),
        "--toy",
        "--model",
        str(tiny_models["causal_lm"]),
        "--out",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (out / "cue_classifier.json").is_file()
    chain = json.loads((out / "distill" / "sft.jsonl").read_text().splitlines()[0])
    assert "Cue classifier (fitted on other speakers): " in chain["messages"][1]["content"]  # the prompt's ranking
    assert "The cue classifier ranks " in chain["messages"][2]["content"]  # and the chain cites it
    assert (out / "grpo" / "best" / "adapter" / "adapter_config.json").is_file()  # chosen on the valid actor
    for system in ("sft", "grpo"):
        for split in ("valid", "test"):  # actor 17's and actor 21's five clips
            metrics = json.loads((out / "eval" / f"{system}_{split}" / "metrics.json").read_text())
            assert metrics["n"] == 5 and "majority" in metrics["rows"] and "+" in metrics["model"]


def test_a_files_clips_are_measured_into_cue_text_with_measure(tmp_path, media_files) -> None:
    """A user's own clips listed in a CSV or JSONL had no way to cue text (`?cues=` names a column there), so
    the cues teacher, evaluate and a text model's training refused them."""
    import json

    from emoreason.data import DataError, load_dataset

    wav = str(media_files["wav"])
    rows = [{"id": f"c{i}", "audio": wav, "label": "happy", "speaker": "s1", "split": "train"} for i in range(2)]
    data = tmp_path / "clips.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    only = load_dataset(f"jsonl:{data}?measure=only")
    assert all(s.cues and s.cues.startswith("Voice") and s.audio is None for s in only.samples)
    kept = load_dataset(f"jsonl:{data}?measure=true")
    assert all(s.cues and s.audio == wav for s in kept.samples)
    with pytest.raises(DataError, match="measure"):
        load_dataset(f"jsonl:{data}?measure=maybe")
