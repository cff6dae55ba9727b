"""Dataset adapters, spec strings, polarity rules and bad-row accounting."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from emoreason.cli import app
from emoreason.data import (
    MMSA_TASKS,
    DataError,
    Dataset,
    LoadReport,
    NeutralBand,
    Sample,
    TaskInfo,
    load_dataset,
    parse_spec,
    pool_samples,
    quotable_source,
    vader_task,
)
from emoreason.data.adapters.vader import split_assignment
from emoreason.data.jsonl import read_jsonl_strict

runner = CliRunner()


# --- polarity rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (-0.1, "negative"),
        (-0.09, "neutral"),
        (0.0, "neutral"),
        (0.1, "neutral"),
        (0.11, "positive"),
        (-1.0, "negative"),
    ],
)
def test_sims_band_is_left_open_right_closed(score: float, expected: str) -> None:
    assert MMSA_TASKS["sims"].score_polarity(score) == expected


@pytest.mark.parametrize(("score", "expected"), [(0.0, "neutral"), (0.2, "positive"), (-0.2, "negative")])
def test_mosi_neutral_is_exactly_zero(score: float, expected: str) -> None:
    assert MMSA_TASKS["mosi"].score_polarity(score) == expected


@pytest.mark.parametrize(
    ("score", "expected"), [(0.49, "neutral"), (0.5, "positive"), (-0.5, "negative"), (-0.49, "neutral")]
)
def test_vader_default_band(score: float, expected: str) -> None:
    assert vader_task("tweets").score_polarity(score) == expected


def test_band_description() -> None:
    assert NeutralBand(-0.1, 0.1, False, True).describe() == "(-0.1, 0.1]"


# --- spec strings ---------------------------------------------------------------------------


def test_parse_spec_options() -> None:
    spec = parse_spec("jsonl:data/x.jsonl?scale=-4,4&text=sentence")
    assert (spec.kind, spec.target) == ("jsonl", "data/x.jsonl")
    assert spec.range_option("scale") == (-4.0, 4.0)
    assert spec.option("text") == "sentence"
    # a scale must be two finite numbers, LOW below HIGH: `-inf,4` was taken as a scale, `nan,3` said LOW >= HIGH
    for scale, message in [("-inf,4", "finite"), ("nan,3", "finite"), ("3,1", "LOW must be below HIGH"), ("1", "two")]:
        with pytest.raises(DataError, match=message):
            parse_spec(f"jsonl:x.jsonl?scale={scale}").range_option("scale")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tweets", "has no kind"),
        ("nope:x", "unknown dataset kind 'nope'"),
        ("vader:tweets?colour=red", "unknown option(s) colour"),
        ("vader:poems", "unknown VADER domain"),
        ("vader:tweets?neutral=abc", "must be a number"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(spec)


# --- VADER ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("domain", "rows"), [("tweets", 4200), ("movies", 10605), ("products", 3708)])
def test_vader_domains_load_completely(domain: str, rows: int) -> None:
    dataset = load_dataset(f"vader:{domain}")
    assert len(dataset) == rows
    assert not dataset.report.bad_rows
    counts = dataset.split_counts()
    assert counts["train"] == round(0.8 * rows)
    assert counts["valid"] == round(0.1 * rows)
    assert all(-4 <= s.score <= 4 for s in dataset)  # type: ignore[operator]
    assert all("n_raters" in s.meta and "rating_std" in s.meta for s in dataset)
    assert len({s.id for s in dataset}) == rows


def test_vader_split_is_fixed() -> None:
    # The split is part of the product's contract: results stay comparable across releases.
    dataset = load_dataset("vader:tweets")
    test_ids = [s.id for s in dataset.split("test")][:5]
    assert test_ids == [s.id for s in load_dataset("vader:tweets").split("test")][:5]
    assert split_assignment(["a", "b", "c"]) == split_assignment(["c", "b", "a"])


def test_vader_neutral_option_changes_polarity() -> None:
    narrow = load_dataset("vader:tweets?neutral=0.05")
    wide = load_dataset("vader:tweets?neutral=1.0")
    neutral = lambda d: sum(d.task.gold_polarity(s) == "neutral" for s in d)  # noqa: E731
    assert neutral(narrow) < neutral(wide)


def test_movie_sentences_keep_unicode() -> None:
    texts = [s.text for s in load_dataset("vader:movies")]
    assert any(any(ord(ch) > 127 for ch in t) for t in texts)


def test_split_all_and_unknown_split() -> None:
    dataset = load_dataset("vader:products")
    assert len(dataset.split("all")) == len(dataset)
    with pytest.raises(DataError, match="unknown split"):
        dataset.split("dev")


def test_shipped_vader_matches_shared_copy(shared_data: Path) -> None:
    from emoreason.data.adapters.vader import vader_dir

    for path in (shared_data / "vader_icwsm2014").glob("*.txt"):
        assert (vader_dir() / path.name).read_bytes() == path.read_bytes()


# --- generic JSONL / CSV --------------------------------------------------------------------


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_jsonl_renames_fields_and_reports_bad_rows(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    path = write_jsonl(
        tmp_path / "d.jsonl",
        [
            {"id": "1", "sentence": "great", "rating": 3.0, "split": "train"},
            {"id": "2", "sentence": "", "rating": 1.0},  # line 2: missing text
            {"id": "3", "sentence": "meh", "rating": "lots"},  # line 3: unparsable score
            "{not json",  # line 4
            {"id": "5", "sentence": "hm", "rating": 0.0, "audio": "nope.wav"},  # line 5: missing media
            {"id": "6", "sentence": "fine", "rating": -1, "audio": "a.wav", "split": "validation"},
            {"id": "7", "sentence": "bad", "rating": -2.5},
            {"id": "8", "sentence": 42, "rating": 1.0},  # line 8: a number is not a text (it was read as "42")
        ],
    )
    dataset = load_dataset(f"jsonl:{path}?text=sentence&score=rating&scale=-4,4")
    assert [s.id for s in dataset] == ["1", "6", "7"]
    assert dataset.task.scale == (-4.0, 4.0)
    assert dataset.by_id()["7"].split == "test"  # no split field counts as test
    assert dataset.by_id()["6"].split == "valid"
    assert dataset.by_id()["6"].audio == str(tmp_path / "a.wav")
    reasons = {(r.line, r.reason) for r in dataset.report.bad_rows}
    assert reasons == {
        (2, "missing text"),
        (3, "unparsable score"),
        (4, "invalid JSON"),
        (5, "missing media"),
        (8, "text is not a string"),
    }
    assert dataset.report.rows_read == 8 and dataset.report.rows_kept == 3
    assert "1 text is not a string" in dataset.report.summary()
    assert str(dataset.report.bad_rows[-1]).endswith("d.jsonl:8: field 'sentence' text is not a string (int 42)")
    assert "d.jsonl:3" in dataset.report.summary()


def test_strict_stops_at_first_bad_row_with_file_line_field(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "d.jsonl", [{"id": "1", "text": "ok", "score": 1}, {"id": "2", "text": "x", "score": "?"}]
    )
    with pytest.raises(DataError) as info:
        load_dataset(f"jsonl:{path}?strict=true&scale=-3,3")
    assert f"{path}:2" in str(info.value) and "'score'" in str(info.value) and "unparsable score" in str(info.value)


def test_unknown_label_with_declared_label_set(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "l.jsonl", [{"text": "a", "label": "Joy"}, {"text": "b", "label": "anger"}])
    dataset = load_dataset(f"jsonl:{path}?labels=anger,fear")
    assert [s.label for s in dataset] == ["anger"]
    assert dataset.report.bad_rows[0].reason == "unknown label"
    assert dataset.task.metric_set == "classification"
    assert dataset.task.label_polarity == {"anger": "negative", "fear": "negative"}


def test_label_polarities_cover_ravdess_words_and_can_be_given(tmp_path: Path) -> None:
    """A RAVDESS copy in a generic file lost the polarity of calm, fearful and surprised, and a label set of
    one's own had no way to say its labels' polarity."""
    rows = [{"text": str(i), "label": label} for i, label in enumerate(("calm", "fearful", "surprised", "boredom"))]
    path = write_jsonl(tmp_path / "l.jsonl", rows)
    assert load_dataset(f"jsonl:{path}").task.label_polarity == {
        "calm": "positive",
        "fearful": "negative",
        "surprised": "positive",
    }
    given = load_dataset(f"jsonl:{path}?polarity=boredom:negative,surprised:neutral").task.label_polarity
    assert given["boredom"] == "negative" and given["surprised"] == "neutral" and given["calm"] == "positive"
    with pytest.raises(DataError, match="'boredom:bad' should be LABEL:POLARITY"):
        load_dataset(f"jsonl:{path}?polarity=boredom:bad")
    with pytest.raises(DataError, match="'joy' is not one of the labels"):
        load_dataset(f"jsonl:{path}?polarity=joy:positive")


def test_a_label_set_given_on_the_command_line_gets_the_known_polarities() -> None:
    """`--labels happy,sad,calm` got polarities for Mikels' words only, so a speech label set had none."""
    from emoreason.data.schema import resolve_task

    task = resolve_task(labels=("Happy", "sad", "calm", "boredom"))
    assert task.label_polarity == {"happy": "positive", "sad": "negative", "calm": "positive"}


def test_the_basic_emotion_corpora_labels_get_their_polarity() -> None:
    """A file labelled joy / love / sadness / anger / fear / surprise (the six-label tweet corpora) had no
    polarity for joy and love, so their answers had no polarity figures or hint. Surprise stays without one."""
    from emoreason.data.schema import resolve_task

    task = resolve_task(labels=("sadness", "Joy", "love", "anger", "fear", "surprise", "happiness"))
    assert task.label_polarity == {
        "sadness": "negative",
        "joy": "positive",
        "love": "positive",
        "anger": "negative",
        "fear": "negative",
        "happiness": "positive",
    }


def test_labels_that_differ_only_in_case_are_one_label(tmp_path: Path) -> None:
    """ "Amusement" and "amusement" made two labels, and evaluate stopped at the metrics after answering."""
    rows = [{"text": "a", "label": "Amusement"}, {"text": "b", "label": "amusement"}, {"text": "c", "label": "fear"}]
    dataset = load_dataset(f"jsonl:{write_jsonl(tmp_path / 'l.jsonl', rows)}")
    assert dataset.task.labels == ("Amusement", "fear") and len(list(dataset)) == 3
    with pytest.raises(DataError, match="'joy' and 'Joy' are the same label"):
        load_dataset(f"jsonl:{tmp_path / 'l.jsonl'}?labels=joy,Joy,amusement,fear")
    with pytest.raises(ValueError, match="give each label once"):
        TaskInfo("x", labels=("sad ness", "Sad  ness"))
    # the same label written twice alike passed, and the metrics refused it after every answer
    with pytest.raises(DataError, match="label 'angry' is given 2 times; give each label once"):
        load_dataset(f"jsonl:{tmp_path / 'l.jsonl'}?labels=angry,angry,amusement,fear")


def test_a_file_on_a_likert_scale_is_neutral_at_its_midpoint(tmp_path: Path) -> None:
    rows = [{"text": t, "score": x} for t, x in (("a", 1), ("b", 4), ("c", 7), ("d", 5.5))]
    dataset = load_dataset(f"jsonl:{write_jsonl(tmp_path / 'likert.jsonl', rows)}?scale=1,7")
    assert [dataset.task.gold_polarity(s) for s in dataset] == ["negative", "neutral", "positive", "positive"]


def test_a_neutral_width_below_zero_or_reaching_outside_the_scale_is_refused(tmp_path: Path) -> None:
    """`csv:r.csv?scale=1,7&neutral=5` made the band (-1, 9), every score neutral, and `neutral=-1` was read as the
    midpoint alone; both are refused by the rule `analyze --neutral-band` follows."""
    from emoreason.rewards.adapters import task_for_source

    path = tmp_path / "r.csv"
    path.write_text("id,text,score\na,good,6\nb,bad,2\nc,meh,4\n")
    refusals = {
        "neutral=5": "neutral=5 in .*: the neutral band -1,9 reaches outside the .*scale, 1 to 7; give W from 0 to 3",
        "neutral=-1": "neutral=-1 in csv:.*: the band's half-width W must be 0 or more",
        "neutral=nan": "neutral=nan in csv:.*: the band's half-width W must be 0 or more",
    }
    for option, message in refusals.items():
        with pytest.raises(DataError, match=message):
            load_dataset(f"csv:{path}?scale=1,7&{option}")
        with pytest.raises(DataError, match=message):  # a reward's data source reads the option alike
            task_for_source(f"csv:{path}?scale=1,7&{option}")
    with pytest.raises(DataError, match="the neutral band -5,5 reaches outside the vader:tweets scale, -4 to 4"):
        load_dataset("vader:tweets?neutral=5")
    with pytest.raises(DataError, match="W must be 0 or more"):
        task_for_source("vader:tweets?neutral=-1")
    widest = load_dataset(f"csv:{path}?scale=1,7&neutral=3").task.neutral  # up to the scale's ends: taken
    assert (widest.low, widest.high) == (1.0, 7.0)
    assert load_dataset(f"csv:{path}?scale=1,7&neutral=0.5").task.neutral == NeutralBand(3.5, 4.5)
    for scale, half in (("0.1,0.7", 0.3), ("-0.7,0.2", 0.45)):  # half the scale, whose ends floats miss by a hair
        load_dataset(f"csv:{path}?scale={scale}&neutral={half}")


def test_a_misnamed_text_field_is_named_as_the_cause(tmp_path: Path) -> None:
    """With ?text=utter (the field is "utterance") the error said the file had no scores."""
    path = write_jsonl(tmp_path / "m.jsonl", [{"utterance": "fine", "sentiment": 1.0}] * 3)
    with pytest.raises(DataError, match=r"\?text=utter: no row has a column 'utter' \(columns: sentiment, utterance\)"):
        load_dataset(f"jsonl:{path}?text=utter&score=sentiment&scale=-3,3")


def test_inferred_scale_warns(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", [{"text": "a", "score": 2.5}, {"text": "b", "score": -1}])
    dataset = load_dataset(f"jsonl:{path}")
    assert dataset.task.scale == (-3.0, 3.0)
    assert any("scale=LOW,HIGH" in w for w in dataset.report.warnings)
    # ratings none of which is negative: 1..7 was read as -7..7, every rating positive
    ratings = write_jsonl(tmp_path / "r.jsonl", [{"text": t, "score": s} for t, s in (("a", 1), ("b", 4), ("c", 7))])
    rated = load_dataset(f"jsonl:{ratings}")
    assert rated.task.scale == (1.0, 7.0) and rated.task.score_polarity(1.0) == "negative"
    assert any("inferred 1..7" in w and "midpoint 4 is neutral" in w for w in rated.report.warnings)


def test_csv_adapter(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text,score,split\n1,good film,2.0,train\n2,awful,-3,test\n3,,1,test\n", encoding="utf-8")
    dataset = load_dataset(f"csv:{path}?scale=-3,3&neutral=0.5")
    assert [s.id for s in dataset] == ["1", "2"]
    assert dataset.report.bad_rows[0].line == 4 and dataset.report.bad_rows[0].reason == "missing text"
    assert dataset.task.score_polarity(0.4) == "neutral"


def test_csv_without_text_column_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,sentence,score\n1,x,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"\?text=COLUMN"):
        load_dataset(f"csv:{path}")


def test_missing_file() -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("jsonl:/no/such/file.jsonl")


# --- MMSA pickles ---------------------------------------------------------------------------


def make_mmsa_pickle(path: Path, sims: bool = False) -> Path:
    rng = np.random.default_rng(0)

    def part(n: int, offset: int) -> dict[str, object]:
        entry: dict[str, object] = {
            "raw_text": [f"sentence {offset + i}" for i in range(n)],
            "id": [f"vid{offset + i}$_${i}" for i in range(n)],
            "regression_labels": rng.uniform(-1 if sims else -3, 1 if sims else 3, n).astype(np.float32),
            "audio": np.full((n, 5, 3), -np.inf, dtype=np.float32),
            "vision": rng.normal(size=(n, 4, 2)).astype(np.float32),
            "text": rng.normal(size=(n, 6, 8)).astype(np.float32),
        }
        if sims:
            for m in "TAV":
                entry[f"regression_labels_{m}"] = rng.uniform(-1, 1, n).astype(np.float32)
        return entry

    data = {"train": part(6, 0), "valid": part(2, 100), "test": part(3, 200)}
    data["test"]["raw_text"][1] = ""  # one bad row
    with path.open("wb") as handle:
        pickle.dump(data, handle)
    return path


def test_mmsa_pickle_loads_text_labels_and_lazy_features(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = make_mmsa_pickle(tmp_path / "aligned_50.pkl", sims=True)
    dataset = load_dataset(f"mmsa:{path}?dataset=sims")
    assert dataset.task.name == "sims"
    assert dataset.split_counts() == {"train": 6, "valid": 2, "test": 2}
    assert dataset.report.bad_rows[0].reason == "missing text" and "test[1]" in dataset.report.bad_rows[0].detail
    sample = dataset.split("train")[0]
    assert {"label_T", "label_A", "label_V", "video_id", "clip_id"} <= set(sample.meta)
    assert "pickles execute code" in caplog.text
    features = dataset.extra["features"]
    audio = features.get(sample.id, "audio")  # type: ignore[attr-defined]
    assert audio.shape == (5, 3) and float(np.abs(audio).max()) == 0.0  # -inf set to 0


def test_mmsa_needs_dataset_name(tmp_path: Path) -> None:
    path = make_mmsa_pickle(tmp_path / "features.pkl")
    with pytest.raises(DataError, match=r"\?dataset=mosi"):
        load_dataset(f"mmsa:{path}")
    assert load_dataset(f"mmsa:{path}?dataset=mosi").task.scale == (-3.0, 3.0)


def test_mmsa_rejects_non_mmsa_pickle(tmp_path: Path) -> None:
    path = tmp_path / "mosi.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DataError, match="train/valid/test"):
        load_dataset(f"mmsa:{path}")


# --- raw MMSA layout ------------------------------------------------------------------------


def make_raw_tree(root: Path) -> Path:
    (root / "Raw" / "v1").mkdir(parents=True)
    (root / "Raw" / "v1" / "1.mp4").write_bytes(b"\x00")
    (root / "label.csv").write_text(
        "video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode\n"
        "v1,1,I like it,0.8,0.6,1.0,0.8,Positive,train\n"
        "v1,2,not sure,0.0,0,0,0,Neutral,valid\n"
        "v2,1,I hate it,-0.6,-0.8,-0.4,-0.6,Negative,test\n"
        "v2,2,,0.2,0,0,0,Neutral,test\n",
        encoding="utf-8",
    )
    return root


def test_raw_layout_reports_missing_videos(tmp_path: Path) -> None:
    root = make_raw_tree(tmp_path / "SIMS")
    dataset = load_dataset(f"raw:{root}?dataset=sims")
    assert len(dataset) == 3
    assert dataset.report.missing_media == ["v1$_$2", "v2$_$1"]
    assert dataset.by_id()["v1$_$1"].video is not None and dataset.by_id()["v2$_$1"].video is None
    assert dataset.report.bad_rows[0].line == 5
    skipped = load_dataset(f"raw:{root}?dataset=sims&missing_media=skip")
    assert [s.id for s in skipped] == ["v1$_$1"]


def test_raw_names_labels_off_the_scale_a_comma_in_a_text_and_takes_dev(tmp_path: Path) -> None:
    """A label of 1.8 on CH-SIMS (-1..1) passed without a word and, without ?dataset=, made the whole set
    MOSI; an unquoted comma blamed the label column; mode=dev was an unknown split."""
    root = make_raw_tree(tmp_path / "SIMS")
    with (root / "label.csv").open("a", encoding="utf-8") as handle:
        handle.write("v3,1,too high,1.8,0,0,0,Positive,dev\nv3,2,well, it was great,0.5,0,0,0,Positive,test\n")
    named = load_dataset(f"raw:{root}?dataset=sims")
    assert any(
        "1 label(s) lie outside the sims scale [-1, 1], first ids: ['v3$_$1']" in w for w in named.report.warnings
    )
    assert named.by_id()["v3$_$1"].split == "valid"
    comma = named.report.bad_rows[-1]
    assert (comma.line, comma.reason) == (7, "too many fields") and "quote a text that holds a comma" in comma.detail
    guessed = load_dataset(f"raw:{root}")
    assert any("using mosi scale and metrics (a |label| of 1.8 is above 1)" in w for w in guessed.report.warnings)


def test_raw_needs_label_csv(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no label.csv"):
        load_dataset(f"raw:{tmp_path}")


# --- image folders --------------------------------------------------------------------------


def make_image_tree(root: Path, with_splits: bool = False) -> Path:
    from PIL import Image

    for split in ("train", "test") if with_splits else ("",):
        for label in ("amusement", "sadness"):
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(2):
                Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(folder / f"{i}.png")
    (root / ("train" if with_splits else "") / "sadness" / "notes.txt").write_text("x")
    return root


def test_image_folder(tmp_path: Path) -> None:
    dataset = load_dataset(f"images:{make_image_tree(tmp_path / 'emo')}")
    assert len(dataset) == 4 and dataset.split_counts() == {"test": 4}
    assert dataset.task.labels == ("amusement", "sadness")
    assert dataset.task.gold_polarity(dataset.samples[0]) == "positive"
    assert dataset.report.bad_rows[0].reason == "not an image file"


def test_image_folder_with_splits(tmp_path: Path) -> None:
    dataset = load_dataset(f"images:{make_image_tree(tmp_path / 'emo', with_splits=True)}")
    assert dataset.split_counts() == {"train": 4, "test": 4}
    """A hidden folder beside them (.ipynb_checkpoints) or val/ for valid turned split detection off: train/
    and test/ became labels, and every image test data."""
    root = tmp_path / "emo"
    (root / ".ipynb_checkpoints").mkdir()
    (root / "test").rename(root / "val")
    dataset = load_dataset(f"images:{root}")
    assert dataset.split_counts() == {"train": 4, "valid": 4} and dataset.task.labels == ("amusement", "sadness")
    (root / "cats").mkdir()
    with pytest.raises(DataError, match="no images found; .* folder.s. train, val look like splits but cats do not"):
        load_dataset(f"images:{root}")


# --- CLI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["vader", "jsonl", "csv", "mmsa", "raw", "images"])
def test_cli_inspect_every_adapter(kind: str, tmp_path: Path) -> None:
    specs = {
        "vader": "vader:products",
        "jsonl": f"jsonl:{write_jsonl(tmp_path / 'd.jsonl', [{'text': 'a', 'score': 1}, {'text': 'b', 'score': -2}])}"
        "?scale=-3,3",
        "csv": None,
        "mmsa": f"mmsa:{make_mmsa_pickle(tmp_path / 'mosei.pkl')}",
        "raw": f"raw:{make_raw_tree(tmp_path / 'raw')}?dataset=sims",
        "images": f"images:{make_image_tree(tmp_path / 'img')}",
    }
    if kind == "csv":
        (tmp_path / "d.csv").write_text("text,label\nnice,happy\nugh,sad\n", encoding="utf-8")
        specs["csv"] = f"csv:{tmp_path / 'd.csv'}"
    result = runner.invoke(app, ["data", "inspect", specs[kind]])
    assert result.exit_code == 0, result.output
    assert "rows per split" in result.output
    as_json = runner.invoke(app, ["data", "inspect", specs[kind], "--json"])
    info = json.loads(as_json.stdout)
    assert info["rows"] > 0 and info["polarity"]


def test_cli_convert_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "products_test.jsonl"
    result = runner.invoke(app, ["data", "convert", "vader:products", str(out), "--split", "test"])
    assert result.exit_code == 0, result.output
    back = load_dataset(f"jsonl:{out}?scale=-4,4")
    original = load_dataset("vader:products").split("test")
    assert [(s.id, s.text, s.score, s.split) for s in back] == [(s.id, s.text, s.score, s.split) for s in original]
    # converting a file onto itself would replace the user's original: refused, the file untouched
    before = out.read_bytes()
    onto = runner.invoke(app, ["data", "convert", f"jsonl:{out}?scale=-4,4", str(out)])
    assert onto.exit_code == 2 and "is the file being converted" in onto.output and out.read_bytes() == before


def test_a_converted_file_finds_its_media_from_its_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Media paths were written relative to the working directory, where readers look from the file's
    folder: a dataset given by a relative path converted into another folder lost every image."""
    monkeypatch.chdir(tmp_path)
    make_image_tree(tmp_path / "emo")
    result = runner.invoke(app, ["data", "convert", "images:emo", "conv/img.jsonl"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "conv" / "img.jsonl").read_text().splitlines()[0])["image"].startswith("../emo/")
    back = load_dataset("jsonl:conv/img.jsonl?labels=amusement,sadness")
    original = load_dataset("images:emo")
    assert not back.report.bad_rows and len(back) == len(original) == 4
    assert [Path(s.image).resolve() for s in back] == [Path(s.image).resolve() for s in original]


def test_inspect_counts_labels_as_compared_missing_media_and_unspaced_words(tmp_path: Path) -> None:
    """inspect listed "Angry" and "angry" as two labels, said "0 missing" beside the missing media it had
    just reported, and counted a Chinese sentence as one word."""
    from emoreason.data.inspect import describe

    (tmp_path / "a.wav").write_bytes(b"RIFF")
    rows = [
        {"id": "1", "text": "so angry", "label": "Angry", "audio": "a.wav"},
        {"id": "2", "text": "angry too", "label": "angry", "audio": "gone.wav"},
        {"id": "3", "text": "这家店很好吃。", "label": "happy"},
    ]
    data = write_jsonl(tmp_path / "l.jsonl", rows)
    info = describe(load_dataset(f"jsonl:{data}?missing_media=keep"))
    assert info["labels"] == {"Angry": 2, "happy": 1}
    assert info["media"]["audio"] == {"present": 1, "missing": 1, "unreadable": 0}
    assert info["text_words"]["max"] == 6  # 这 家 店 很 好 吃, the full stop no word
    skipped = describe(load_dataset(f"jsonl:{data}"))  # the row without its file is a bad row: still missing
    assert skipped["media"]["audio"] == {"present": 1, "missing": 1, "unreadable": 0}


def test_inspect_reports_empty_and_corrupt_media_as_unreadable_without_decoding(
    tmp_path: Path, media_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that was there but empty (0 bytes) or not media at all counted as present: inspect said all was well,
    and the run failed on it later. Headers only: the loaders that decode a whole file are never called."""
    import emoreason.models.media as media

    def decoded(*args: object, **kwargs: object) -> None:
        raise AssertionError("inspect decoded a whole file")

    for loader in ("load_audio", "load_image", "load_video_frames", "extract_audio_from_video"):
        monkeypatch.setattr(media, loader, decoded)
    (tmp_path / "empty.wav").write_bytes(b"")
    rows = [
        {
            "id": "ok",
            "text": "fine",
            "label": "happy",
            "audio": str(media_files["wav"]),
            "image": str(media_files["image"]),
        },
        {"id": "empty", "text": "hm", "label": "sad", "audio": str(tmp_path / "empty.wav")},
        {"id": "junk", "text": "hm", "label": "sad", "audio": str(media_files["broken_wav"])},
        {"id": "picture", "text": "hm", "label": "sad", "image": str(media_files["broken_png"])},
        {"id": "clip", "text": "hm", "label": "sad", "video": str(media_files["video"])},
    ]
    spec = f"jsonl:{write_jsonl(tmp_path / 'm.jsonl', rows)}"
    result = runner.invoke(app, ["data", "inspect", spec, "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["media"]["audio"] == {"present": 1, "missing": 0, "unreadable": 2}
    assert info["media"]["image"] == {"present": 1, "missing": 0, "unreadable": 1}
    assert info["media"]["video"] == {"present": 1, "missing": 0, "unreadable": 0}
    broken = info["unreadable_media"]
    assert broken["count"] == 3 and [e.split(":")[0] for e in broken["examples"]] == ["empty", "junk", "picture"]
    assert broken["examples"][0] == f"empty: {tmp_path / 'empty.wav'} is empty (0 bytes)"
    assert "broken.wav: Invalid data found when processing input" in broken["examples"][1]  # no FFmpeg errno
    assert "cannot read image file" in broken["examples"][2]
    shown = " ".join(runner.invoke(app, ["data", "inspect", spec]).output.split())
    assert "audio: 1 present, 0 missing, 2 unreadable" in shown and "unreadable media (3), first: empty:" in shown


def test_inspect_leaves_scores_outside_the_scale_out_of_the_statistics_and_names_them(tmp_path: Path) -> None:
    """A score of 40 on -3..3 went into the mean and the maximum, and the histogram clipped it into its top bin."""
    from emoreason.data.inspect import describe

    rows = [
        {"id": "a", "text": "x", "score": 1},
        {"id": "b", "text": "y", "score": -2},
        {"id": "c", "text": "z", "score": 40},
    ]
    spec = f"jsonl:{write_jsonl(tmp_path / 's.jsonl', rows)}?scale=-3,3"
    info = describe(load_dataset(spec))
    assert (info["score"]["mean"], info["score"]["min"], info["score"]["max"]) == (-0.5, -2.0, 1.0)
    assert sum(b["count"] for b in info["score"]["histogram"]) == 2
    assert info["scores_outside_scale"] == {"count": 1, "first_ids": ["c"], "scale": [-3.0, 3.0]}
    shown = " ".join(runner.invoke(app, ["data", "inspect", spec]).output.split())
    assert "1 scores outside the scale -3..3, left out of the figures above; first ids: c" in shown


def test_a_control_character_in_json_is_reported_once_at_its_column(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", ['{"text": "a\u0001b", "score": 1}', {"text": "fine", "score": 1}])
    detail = load_dataset(f"jsonl:{path}?scale=-4,4").report.bad_rows[0].detail
    assert detail.startswith("Invalid control character at column ") and "at at" not in detail


def test_an_unclosed_object_is_reported_at_its_own_column(tmp_path: Path) -> None:
    """The line's newline was parsed with it: every unclosed object failed "at column 1"."""
    path = tmp_path / "u.jsonl"
    path.write_text('{"id": "a", "text": "x", "score": 1}\n{"id": "b", "text": "bad", "score": -2\n')
    bad = load_dataset(f"jsonl:{path}?scale=-4,4").report.bad_rows[0]
    assert (bad.line, bad.detail) == (2, "Expecting ',' delimiter at column 39")
    with pytest.raises(DataError, match=r"u.jsonl:2: not valid JSON \(Expecting ',' delimiter at column 39\)"):
        list(read_jsonl_strict(path))  # no "(field '(line)')": the whole line is at fault


def test_an_empty_file_is_called_empty(tmp_path: Path) -> None:
    """It said "no scores and no labels found ... add ?targets=optional", which would not help."""
    (tmp_path / "e.jsonl").write_text("")
    (tmp_path / "h.csv").write_text("id,text,score\n")
    for spec in (f"jsonl:{tmp_path / 'e.jsonl'}", f"csv:{tmp_path / 'h.csv'}"):
        with pytest.raises(DataError, match="the file has no rows: nothing to read"):
            load_dataset(spec)


def test_a_csv_row_with_more_fields_than_its_header_is_a_bad_row(tmp_path: Path) -> None:
    """An unquoted comma in a text cut it, and the rest went into meta under "null"."""
    path = tmp_path / "x.csv"
    path.write_text("id,text,score\na,I love it, really,2.5\nb,ok,1\n")
    dataset = load_dataset(f"csv:{path}?scale=-4,4")
    assert [s.id for s in dataset] == ["b"]
    bad = dataset.report.bad_rows[0]
    assert (bad.line, bad.reason) == (2, "too many fields")
    assert bad.detail.startswith("1 beyond the header's 3 columns: ['2.5']") and "quote a text" in bad.detail


def test_cli_error_is_a_message_not_a_traceback() -> None:
    result = runner.invoke(app, ["data", "inspect", "jsonl:/missing.jsonl"])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_sample_modalities() -> None:
    sample = Sample(id="x", text="hi", video="v.mp4", audio="a.wav")
    assert sample.modalities == ("text", "audio", "video")


def test_quotable_source_is_text_then_cues_and_skips_what_is_absent() -> None:
    assert quotable_source("so good", "voice: loud") == "so good\nvoice: loud"
    assert quotable_source("", "voice: loud") == "voice: loud"  # a media-only sample: the cues alone
    assert quotable_source("so good", None) == "so good"
    assert Sample(id="x", text="hi", cues="face: smiling").source == "hi\nface: smiling"
    assert Sample(id="y").source == ""


def test_random_subset_is_seeded_ordered_and_representative() -> None:
    from emoreason.data import random_subset

    movies = load_dataset("vader:movies").split("test")  # the file lists positive snippets first
    task = load_dataset("vader:movies").task
    first = [task.score_polarity(s.score) for s in movies[:150]]
    subset = random_subset(movies, 150, seed=0)
    drawn = [task.score_polarity(s.score) for s in subset]
    assert first.count("negative") < 10 < drawn.count("negative")  # the first 150 are not a sample
    assert subset == random_subset(movies, 150, seed=0) != random_subset(movies, 150, seed=1)
    order = {s.id: i for i, s in enumerate(movies)}
    assert [order[s.id] for s in subset] == sorted(order[s.id] for s in subset) and len({s.id for s in subset}) == 150
    assert random_subset(movies[:3], 10) == movies[:3]
    with pytest.raises(ValueError, match=">= 1"):
        random_subset(movies, 0)


def test_outside_a_random_subset_is_the_rest_of_the_split_in_order() -> None:
    from emoreason.data import random_subset

    rows = [Sample(id=str(i), text=f"t{i}", score=0.0) for i in range(10)]
    drawn = random_subset(rows, 4, seed=3)
    rest = random_subset(rows, 4, seed=3, outside=True)
    assert len(rest) == 6 and not {s.id for s in drawn} & {s.id for s in rest}
    assert sorted(drawn + rest, key=lambda s: int(s.id)) == rows and rest == sorted(rest, key=lambda s: int(s.id))
    assert random_subset(rows, 4, seed=4, outside=True) != rest  # the seed's sample, not any 4
    assert random_subset(rows, 10, outside=True) == [] == random_subset(rows, 12, outside=True)


# --- pooling --------------------------------------------------------------------------------


def test_pooled_train_samples_are_mapped_onto_the_target_scale() -> None:
    def dataset(name: str, scale: tuple[float, float], scores: list[float]) -> Dataset:
        samples = [Sample(id=f"{name}/{i}", text="x", score=s, split="train") for i, s in enumerate(scores)]
        samples.append(Sample(id=f"{name}/test", text="x", score=scores[0], split="test"))
        task = TaskInfo(name=name, scale=scale)
        return Dataset(spec=f"test:{name}", task=task, samples=samples, report=LoadReport(source=name))

    target = vader_task("target")  # scale (-4, 4)
    pooled, _ = pool_samples(
        [dataset("a", (-4.0, 4.0), [-4.0, 2.0]), dataset("b", (0.0, 1.0), [0.0, 0.5, 1.0])], "train", task=target
    )
    assert [s.score for s in pooled] == [-4.0, 2.0, -4.0, 0.0, 4.0]  # train splits only, b rescaled
    empty = Dataset(spec="test:empty", task=target, samples=[], report=LoadReport(source="empty"))
    with pytest.raises(ValueError, match="no train split"):
        pool_samples([empty], "train", task=target)


def test_a_pool_of_one_task_under_several_names_is_named_for_all_of_them() -> None:
    """It took the first one's name, and adapters trained on tweets + products said they answer vader:tweets."""
    from emoreason.train.weights import trained_for

    def dataset(task: TaskInfo) -> Dataset:
        samples = [Sample(id=f"{task.name}/1", text="x", score=1.0, split="train")]
        return Dataset(spec=task.name, task=task, samples=samples, report=LoadReport(source=task.name))

    _, one = pool_samples([dataset(vader_task("tweets"))], "train")
    assert one.name == "vader:tweets" and trained_for("c2f", one) == {"format": "c2f", "task": "vader:tweets"}
    _, both = pool_samples([dataset(vader_task("tweets")), dataset(vader_task("products"))], "train")
    assert both.name == "vader" and both.scale == (-4.0, 4.0)
    assert trained_for("c2f", both) == {"format": "c2f", "task": "vader"}  # no one domain's name


def test_vader_with_no_neutral_width_keeps_an_exact_zero_neutral() -> None:
    """`vader:tweets?neutral=0` built an open band of width 0, which holds nothing: the 139 VADER sentences
    rated exactly 0 read positive, while the prompt called 0 neutral."""
    from emoreason.data.schema import vader_task

    task = load_dataset("vader:tweets?neutral=0").task
    assert task.score_polarity(0.0) == "neutral" and task.score_polarity(0.1) == "positive"
    assert vader_task("tweets").neutral == vader_task("tweets", 0.5).neutral  # the default band is unchanged
    assert task.score_polarity(-0.01) == "negative"


def test_pooling_refuses_another_neutral_band_and_a_repeated_id(tmp_path: Path) -> None:
    """The pool took the first dataset's task, so vader:products?neutral=1 pooled after vader:tweets read its
    -0.9 as negative (and in the other order, tweets' 0.7 as neutral); two files without ids both had line1."""
    from emoreason.data import load_pooled

    with pytest.raises(DataError, match=r"neutral band \(-0.5, 0.5\) vs \(-1, 1\)"):
        load_pooled(["vader:tweets", "vader:products?neutral=1"], "train")
    a = write_jsonl(tmp_path / "a.jsonl", [{"text": "good day", "score": 2, "split": "train"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"text": "bad day", "score": -2, "split": "train"}])
    with pytest.raises(DataError, match=r"id 'line1' is in both jsonl:.*a.jsonl.* and jsonl:.*b.jsonl"):
        load_pooled([f"jsonl:{a}?scale=-4,4", f"jsonl:{b}?scale=-4,4"], "train")
    samples, task = load_pooled(["vader:tweets", "vader:products"], "train")  # one task: pooled as before
    assert task.name == "vader" and len({s.id for s in samples}) == len(samples)


def test_raw_and_mmsa_refuse_a_clip_listed_twice(tmp_path: Path) -> None:
    """The same clip id in train and test passed silently: it would be trained on and then scored."""
    root = make_raw_tree(tmp_path / "SIMS")
    with (root / "label.csv").open("a", encoding="utf-8") as handle:
        handle.write("v1,1,I like it,0.8,0.6,1.0,0.8,Positive,test\n")
    raw = load_dataset(f"raw:{root}?dataset=sims")
    assert raw.by_id()["v1$_$1"].split == "train" and sum(s.id == "v1$_$1" for s in raw) == 1
    twice = raw.report.bad_rows[-1]
    assert (twice.line, twice.reason) == (6, "duplicate id") and "first on line 2" in twice.detail
    path = make_mmsa_pickle(tmp_path / "aligned_50.pkl")
    with path.open("rb") as handle:
        data = pickle.load(handle)
    data["test"]["id"][0] = data["train"]["id"][0]
    with path.open("wb") as handle:
        pickle.dump(data, handle)
    mmsa = load_dataset(f"mmsa:{path}?dataset=mosi")
    assert [s.split for s in mmsa if s.id == data["train"]["id"][0]] == ["train"]
    assert any(r.reason == "duplicate id" and "first train[0]" in r.detail for r in mmsa.report.bad_rows)


def test_a_csv_row_short_of_fields_is_a_bad_row_not_test_data(tmp_path: Path) -> None:
    """A row with fewer fields than the header got None for the missing ones: a train row without its split
    was read as test data, silently."""
    path = tmp_path / "c.csv"
    path.write_text("id,text,score,split\n1,fine,2,train\n2,short row,1\n", encoding="utf-8")
    dataset = load_dataset(f"csv:{path}?scale=-4,4")
    assert [s.id for s in dataset] == ["1"]
    short = dataset.report.bad_rows[0]
    assert (short.line, short.field, short.reason) == (3, "split", "too few fields")
    root = make_raw_tree(tmp_path / "SIMS")
    with (root / "label.csv").open("a", encoding="utf-8") as handle:
        handle.write("v4,1,cut short,0.5\n")
    raw = load_dataset(f"raw:{root}?dataset=sims")
    assert "v4$_$1" not in raw.by_id() and raw.report.bad_rows[-1].reason == "too few fields"


def test_a_csv_record_over_several_lines_is_named_by_its_first(tmp_path: Path) -> None:
    """A quoted text running over lines 2-3 was reported at line 3, the record's last line."""
    path = tmp_path / "c.csv"
    path.write_text('id,text,score\n1,"two\nlines",lots\n2,fine,1\n', encoding="utf-8")
    dataset = load_dataset(f"csv:{path}?scale=-4,4")
    assert [s.id for s in dataset] == ["2"] and dataset.report.bad_rows[0].line == 2


def test_a_renamed_column_that_no_row_has_is_refused(tmp_path) -> None:
    """`jsonl:F?cues=only` (a media dataset's cue mode) named a column `only`: read silently as no cue text."""
    from emoreason.data import DataError, load_dataset

    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "a", "text": "fine", "label": "joy", "split": "train", "voice": "bright"}\n')
    with pytest.raises(DataError, match=r"\?cues=only: no row has a column 'only' .*\?measure=only measures"):
        load_dataset(f"jsonl:{data}?cues=only")
    assert load_dataset(f"jsonl:{data}?cues=voice").samples[0].cues == "bright"


def test_a_missing_train_split_says_where_splits_come_from(tmp_path) -> None:
    """An image folder laid out DIR/<label>/ is all test; the error only counted the rows."""
    from emoreason.data import DataError, load_pooled

    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "a", "text": "fine", "score": 1.0}\n')
    with pytest.raises(DataError, match=r"has no train split .*a `split` column .*DIR/<split>/<label>/"):
        load_pooled(f"jsonl:{data}?scale=-4,4", "train")


def test_inspect_names_the_labels_without_a_polarity(tmp_path) -> None:
    """`surprise` has no polarity of its own (no Mikels or RAVDESS word): inspect counted it `unknown` and never
    said which label, or how to fix it."""
    from emoreason.data import load_dataset
    from emoreason.data.inspect import describe

    data = tmp_path / "d.jsonl"
    rows = [("wow", "surprise"), ("grr", "anger"), ("hm", "Surprise")]
    data.write_text(
        "".join(json.dumps({"id": str(i), "text": t, "label": label}) + "\n" for i, (t, label) in enumerate(rows))
    )
    info = describe(load_dataset(f"jsonl:{data}"))
    assert info["polarity"] == {"negative": 1, "unknown": 2} and info["labels_without_polarity"] == ["surprise"]
    given = describe(load_dataset(f"jsonl:{data}?polarity=surprise:positive"))
    assert "labels_without_polarity" not in given and given["polarity"] == {"positive": 2, "negative": 1}
