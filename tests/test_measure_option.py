"""A user's own clips in a csv: or jsonl: file, measured with `?measure=`: the cue classifier on them,
the messages that say which option measures a dataset's cues, and what `data prepare` does with a spec
whose media were measured into text already."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from cue_media import SR, syllables
from emoreason.cli import app
from emoreason.cues.classifier import RANKING_TITLE, CueClassifier
from emoreason.data import load_dataset
from test_cue_teacher import TASK, speakers

runner = CliRunner()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOREASON_CUES_CACHE", str(tmp_path / "cue-cache"))


def squeezed(output: str) -> str:
    """Output without any whitespace: stdout wraps a long spec at 80 columns, inside its path."""
    return "".join(output.split())


def clips_csv(root: Path, per_speaker: dict[str, int] | None = None) -> Path:
    """Voiced WAVs of varied pitch and rate in clips.csv (id, audio, label, speaker, split train), ids 1, 2, ...
    as a user's file numbers them."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for s, (speaker, count) in enumerate((per_speaker or {"s1": 5, "s2": 5}).items()):
        for k in range(count):
            label = ("angry", "sad")[k % 2]
            wav = root / f"{speaker}_{k}.wav"
            pitch = 140.0 + 25 * s + (60.0 if label == "angry" else 0.0) + 7 * k
            sf.write(wav, syllables(5.0 if label == "angry" else 2.5, 0.9, pitch), SR)
            rows.append(
                {"id": str(len(rows) + 1), "audio": str(wav), "label": label, "speaker": speaker, "split": "train"}
            )
    data = root / "clips.csv"
    with data.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "audio", "label", "speaker", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return data


def test_the_measuring_option_is_named_for_the_kind_of_spec() -> None:
    """`?cues=` on a csv: file names the column of cue text: a csv user told `?cues=only` loaded a column `only`."""
    from emoreason.data.spec_options import how_to_measure, measured_spec, measuring_option, unmeasured_spec

    assert measuring_option("csv:clips.csv") == "measure" and measuring_option("jsonl:c.jsonl?cues=notes") == "measure"
    assert measuring_option("ravdess:DIR") == "cues" and measuring_option("vader:tweets") is None
    assert (
        measured_spec("csv:c.csv?labels=a,b", classifier="k.json")
        == "csv:c.csv?labels=a,b&measure=only&classifier=k.json"
    )
    assert measured_spec("jsonl:c.jsonl?measure=true") == "jsonl:c.jsonl?measure=true"  # it measures already
    assert unmeasured_spec("csv:c.csv?measure=only&classifier=k.json&cues=notes") == "csv:c.csv?cues=notes"
    assert how_to_measure("ravdess:DIR?valid=1") == "?cues=only (ravdess:DIR?valid=1&cues=only)"
    assert (
        "?measure=only on csv: and jsonl:" in how_to_measure() and "?cues=only on ravdess: and raw:" in how_to_measure()
    )
    assert how_to_measure("vader:tweets").endswith("(vader: datasets have no media to measure)")


def test_a_csv_files_measured_clips_take_the_cue_classifier(tmp_path: Path) -> None:
    """`classifier=` was refused on csv:/jsonl: (`unknown option(s) classifier for csv: datasets`), so a user's own
    clips could not be distilled or trained with the ranking line that evaluate and analyze then add."""
    data = clips_csv(tmp_path / "clips")
    CueClassifier.fit(speakers(), TASK.labels or ()).save(tmp_path / "c.json")
    ranked = load_dataset(f"csv:{data}?measure=only&classifier={tmp_path / 'c.json'}")
    assert all(RANKING_TITLE in (s.cues or "") and s.meta["cue_ranking"] for s in ranked.samples)
    jsonl = tmp_path / "clips" / "clips.jsonl"
    with data.open() as handle:
        jsonl.write_text("".join(json.dumps(row) + "\n" for row in csv.DictReader(handle)))
    # the same option on a jsonl: file
    assert load_dataset(f"jsonl:{jsonl}?measure=true&classifier={tmp_path / 'c.json'}").samples[0].meta["cue_ranking"]
    unmeasured = runner.invoke(app, ["data", "inspect", f"csv:{data}?classifier={tmp_path / 'c.json'}"])
    assert unmeasured.exit_code == 2 and "classifier= needs measured cues: add measure=only" in unmeasured.output


def test_fit_classifier_names_the_option_that_measures_a_csv_files_cues(tmp_path: Path) -> None:
    """Its hint said `use it with SPEC?cues=only&classifier=...` and its error `load the dataset with ?cues=only`:
    on a csv: file that names a column `only`."""
    data = clips_csv(tmp_path / "clips")
    out = tmp_path / "c.json"
    bare = runner.invoke(app, ["data", "fit-classifier", f"csv:{data}", "--out", str(out), "--split", "train"])
    said = " ".join(bare.output.split())
    assert bare.exit_code == 2 and "has measured cues; load the dataset with ?measure=only" in said
    assert "?cues=only" not in said and not out.exists()
    fitted = runner.invoke(
        app, ["data", "fit-classifier", f"csv:{data}?measure=only", "--out", str(out), "--split", "train"]
    )
    assert fitted.exit_code == 0, fitted.output
    assert squeezed(f"use it with csv:{data}?measure=only&classifier={out}") in squeezed(fitted.output)


def test_distill_with_the_cues_teacher_names_the_option_for_a_csv_file(tmp_path: Path) -> None:
    """Its error and `distill --help` told a csv user to load with ?cues=only."""
    data = clips_csv(tmp_path / "clips")
    args = ["distill", "--teacher", "cues", "-d", f"csv:{data}", "--split", "train", "--format", "emor3"]
    refused = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "load the dataset with ?measure=only" in said and "?cues=only" not in said
    # plain click help at 80 columns: it wraps between words, where rich's table breaks a phrase with its border
    helped = " ".join(runner.invoke(app, ["distill", "--help"], env={"COLUMNS": "80"}).output.split())
    assert "?measure=only on csv: and jsonl: datasets" in helped


def test_prepare_refuses_a_spec_whose_media_were_measured_into_text(tmp_path: Path) -> None:
    """`?measure=only` drops the media: prepare measured 0 clips, wrote `{}` over an adapter's good reference and
    said it had written it."""
    data = clips_csv(tmp_path / "clips")
    reference = tmp_path / "cue_reference.json"
    reference.write_text('{"audio": "a good one"}')
    result = runner.invoke(app, ["data", "prepare", f"csv:{data}?measure=only", "--reference-out", str(reference)])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "0 of the 10 clips have media to measure" in said
    assert squeezed(f"give csv:{data} so their media are read") in squeezed(result.output)
    assert reference.read_text() == '{"audio": "a good one"}'


def test_prepare_names_the_speakers_with_too_few_clips_of_their_own(tmp_path: Path) -> None:
    """A speaker under the minimum clip count was compared with the whole dataset without a word."""
    data = clips_csv(tmp_path / "clips", {"s1": 5, "s2": 5, "few": 2})
    result = runner.invoke(app, ["data", "prepare", f"csv:{data}", "--reference-out", str(tmp_path / "ref.json")])
    said = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "1 speaker(s) are compared with the whole dataset, not with their own clips" in said
    assert said.split("a speaker needs 5 clips of their own, measured ones): ")[1].startswith("few ")
