"""The cue classifier: cross-fitted rankings for the clips it was fitted on, the full model for
others, persistence, the ranking line in the cue text and the `classifier=` spec option."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from emoreason.cues.classifier import RANKING_TITLE, CueClassifier, _softmax, add_ranking, apply_classifier_option
from emoreason.data.errors import DataError
from emoreason.data.schema import Sample
from test_cue_teacher import TASK, speakers, z


def test_clips_it_was_fitted_on_get_their_cross_fitted_ranking() -> None:
    samples = speakers()
    classifier = CueClassifier.fit(samples, TASK.labels or ())
    assert set(classifier.held_out) == {s.id for s in samples}
    first = samples[0]
    held = classifier.probabilities(first.meta["cue_z"], first.id)
    full = classifier.full_probabilities(first.meta["cue_z"])  # what the model fitted on every clip says
    assert held.tolist() == classifier.held_out[first.id]
    assert not np.allclose(held, full)  # in-sample and out-of-speaker models differ
    assert sum(held) == pytest.approx(1.0, abs=1e-3) and sum(full) == pytest.approx(1.0)


def test_a_held_out_row_belongs_to_the_clip_not_to_its_id() -> None:
    """Looked up by the id alone: a new clip under a training clip's id (ids like 1 or clip_001 repeat across
    files) got that clip's held-out ranking, and the training clip under another id the in-sample one, while
    the line said "fitted on other speakers"."""
    samples = speakers()
    classifier = CueClassifier.fit(samples, TASK.labels or ())
    first, new = samples[0], z(2.4, 1.3)
    renamed = classifier.probabilities(first.meta["cue_z"], "1")  # the training clip, as a user's file numbers it
    assert renamed.tolist() == classifier.held_out[first.id]
    borrowed = classifier.probabilities(new, first.id)  # another clip under the training clip's id
    assert borrowed.tolist() != classifier.held_out[first.id]
    assert borrowed == pytest.approx(classifier.probabilities(new, "unseen"))  # the full model's, as for any new clip


def test_a_training_clip_measured_a_little_otherwise_keeps_its_row_and_a_shipped_file_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Keys compared as rounded strings: a z-score moved in its third decimal (float noise between machines)
    lost the clip its held-out row for the in-sample one; and an adapter's file without the training rows kept
    their keys, which loading refused (the speech adapter's ship script wrote one)."""
    samples = speakers()
    classifier = CueClassifier.fit(samples, TASK.labels or ())
    first = samples[0]
    nudged = {
        kind: {name: value + 0.004 for name, value in values.items()} for kind, values in first.meta["cue_z"].items()
    }
    assert classifier.probabilities(nudged, first.id).tolist() == classifier.held_out[first.id]
    assert classifier.probabilities(nudged, "renamed").tolist() == classifier.held_out[first.id]
    with caplog.at_level("WARNING", logger="emoreason.cues.classifier"):
        for _ in range(2):  # the id of a clip fitted on, measured otherwise: the full model, said once
            assert classifier.probabilities(z(2.4, 1.3), first.id) == pytest.approx(
                classifier.full_probabilities(z(2.4, 1.3))
            )
    assert caplog.text.count("carries the id of a clip the cue classifier was fitted on") == 1
    shipped = classifier.without_training_rows()
    shipped.save(tmp_path / "shipped.json")
    loaded = CueClassifier.load(tmp_path / "shipped.json")
    assert loaded.held_out == {} and loaded.clip_keys == {} and classifier.held_out  # the original is kept whole
    assert loaded.probabilities(first.meta["cue_z"], first.id) == pytest.approx(
        classifier.full_probabilities(first.meta["cue_z"])
    )


def test_clips_without_a_measure_own_no_row() -> None:
    """Clips whose measures were all missing share one all-zero key: a new such clip got the first one's row."""
    samples = speakers()
    blank = [
        dataclasses.replace(s, id=f"blank{i}", meta={**s.meta, "cue_z": {"audio": {}}})
        for i, s in enumerate(samples[:2])
    ]
    classifier = CueClassifier.fit([*samples, *blank], TASK.labels or ())
    empty = {"audio": {}}
    assert classifier.probabilities(empty, "new") == pytest.approx(classifier.full_probabilities(empty))
    assert classifier.probabilities(empty, "blank0").tolist() == classifier.held_out["blank0"]  # its own id still


def test_an_old_file_without_clip_keys_matches_by_id_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    samples = speakers()
    classifier = CueClassifier.fit(samples, TASK.labels or ())
    classifier.save(tmp_path / "new.json")
    assert CueClassifier.load(tmp_path / "new.json").clip_keys == classifier.clip_keys  # kept with the file
    old = classifier.to_dict()
    del old["clip_keys"]
    old["version"] = 1
    (tmp_path / "old.json").write_text(json.dumps(old))
    with caplog.at_level("WARNING", logger="emoreason.cues.classifier"):
        loaded = [CueClassifier.load(tmp_path / "old.json") for _ in range(2)]
    assert caplog.text.count("refit it with `emoreason data fit-classifier`") == 1
    first = samples[0]
    assert loaded[0].probabilities(z(2.4, 1.3), first.id).tolist() == classifier.held_out[first.id]  # as it did


def test_full_model_ranks_a_new_loud_clip_angry() -> None:
    classifier = CueClassifier.fit(speakers(), TASK.labels or ())
    assert classifier.ranking(z(2.0, 1.0))[0][0] == "angry"
    assert classifier.ranking(z(-2.0, -1.0), top=1) == [("sad", pytest.approx(classifier.probabilities(z(-2, -1))[1]))]
    assert classifier.ranking(z(0.0, 0.0), top=5)[-1][0] in ("angry", "sad")  # top is capped at the labels


def test_a_fold_of_one_class_says_that_class_instead_of_failing() -> None:
    """The first 16 RAVDESS clips are one speaker's and one of another's, the other's a single class:
    sklearn refused to fit that fold and distill stopped with its traceback."""
    samples = speakers(n_speakers=2)
    samples = [s for s in samples if s.meta["speaker"] == "actor00" or s.label == "sad"]  # actor01: sad only
    classifier = CueClassifier.fit(samples, TASK.labels or ())
    held = classifier.held_out[next(s.id for s in samples if s.meta["speaker"] == "actor00")]
    assert held == pytest.approx([0.0, 1.0], abs=1e-9)  # fitted on actor01's clips: sad, all of them


def test_binary_probabilities_equal_sklearn() -> None:
    from sklearn.linear_model import LogisticRegression

    samples = speakers()
    x = np.asarray([[s.meta["cue_z"]["audio"][k] for k in ("pitch_mean_hz", "loudness_dbfs")] for s in samples])
    y = [s.label for s in samples]
    reference = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(x, y)
    ours = CueClassifier.fit(samples, TASK.labels or ())
    probe = z(0.3, -0.2)
    expected = reference.predict_proba(np.asarray([[-0.2, 0.3]]))[0]  # classes sorted: angry, sad
    assert ours.probabilities(probe) == pytest.approx(expected, abs=1e-6)


def test_save_load_round_trip_and_a_bad_file(tmp_path: Path) -> None:
    classifier = CueClassifier.fit(speakers(), TASK.labels or ())
    classifier.save(tmp_path / "c.json")
    loaded = CueClassifier.load(tmp_path / "c.json")
    assert loaded.labels == classifier.labels and loaded.features == classifier.features
    assert loaded.probabilities(z(1.0, 0.5)) == pytest.approx(classifier.probabilities(z(1.0, 0.5)), abs=1e-5)
    (tmp_path / "bad.json").write_text('{"labels": ["a"], "features": [], "coef": [[1.0]], "intercept": [0.0]}')
    with pytest.raises(ValueError, match="bad.json is not a cue classifier file"):
        CueClassifier.load(tmp_path / "bad.json")


def test_fit_needs_measured_cues() -> None:
    with pytest.raises(ValueError, match=r"\?cues=only"):
        CueClassifier.fit([Sample(id="a", text="x", label="angry")], ["angry", "sad"])


def test_add_ranking_appends_one_line_and_keeps_it_in_meta() -> None:
    classifier = CueClassifier.fit(speakers(), TASK.labels or ())
    loud = Sample(id="new", text="Kids", label="angry", cues="Voice: loud.", meta={"cue_z": z(2.0, 1.0)})
    bare = Sample(id="bare", text="Kids")
    ranked, untouched = add_ranking([loud, bare], classifier, top=2)
    first, second = ranked.meta["cue_ranking"]
    assert first[0] == "angry" and first[1] > second[1]
    assert ranked.cues == f"Voice: loud.\n{RANKING_TITLE}: angry {first[1]:.2f}, sad {second[1]:.2f}."
    assert untouched is bare


def test_spec_option_needs_cues_and_a_readable_file(tmp_path: Path) -> None:
    classifier = CueClassifier.fit(speakers(), TASK.labels or ())
    classifier.save(tmp_path / "c.json")
    with pytest.raises(DataError, match="add cues=only"):
        apply_classifier_option([Sample(id="a", text="x")], "ravdess:D?classifier=c.json", str(tmp_path / "c.json"), [])
    with pytest.raises(DataError, match="missing.json"):
        apply_classifier_option(speakers(), "ravdess:D", str(tmp_path / "missing.json"), [])
    with_text = [s.with_(cues="Voice: loud.") for s in speakers()[:1]]
    out = apply_classifier_option(with_text, "ravdess:D", str(tmp_path / "c.json"), [])
    assert out[0].meta["cue_ranking"]


def test_softmax_is_stable() -> None:
    assert _softmax(np.array([[1000.0, 1000.0]])).tolist() == [[0.5, 0.5]]


def test_one_speaker_is_said_to_give_in_sample_probabilities(caplog: pytest.LogCaptureFixture) -> None:
    """With one speaker there is no other to cross-fit on: the probabilities are in-sample, while the ranking's
    title says "fitted on other speakers"; it was silent."""
    from emoreason.cues.classifier import cross_fit, cue_matrix, feature_names

    samples = [s for s in speakers() if s.meta["speaker"] == "actor00"]
    zscores = [s.meta["cue_z"] for s in samples]
    x = cue_matrix(zscores, feature_names(zscores))
    with caplog.at_level("WARNING", logger="emoreason.cues.classifier"):
        cross_fit(x, [s.label for s in samples], ["actor00"] * len(samples), ["angry", "sad"], 4, 1.0, 0)
    assert "one speaker to cross-fit by: its probabilities are in-sample" in caplog.text


def test_a_file_of_other_measures_says_so_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Pausing and speaking rate were redefined (`AudioCues.VERSION` 3): a classifier fitted, or a reference
    built, on the old measures was read against the new ones without a word. The files record the extractor's
    version; one that differs, or a file from before, is read with one warning that says how to redo it."""
    from emoreason.cues import AudioCues, CueReference, load_references, save_references

    classifier = CueClassifier.fit(speakers(), TASK.labels or ())
    assert classifier.measures == {"audio": AudioCues.VERSION}
    for name, measures in (("now", {"audio": AudioCues.VERSION}), ("v2", {"audio": 2}), ("before", None)):
        data = classifier.to_dict() | {"measures": measures or {}}
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    with caplog.at_level("WARNING"):
        for name in ("now", "v2", "v2", "before"):
            CueClassifier.load(tmp_path / f"{name}.json")
    said = [r.getMessage() for r in caplog.records if "clips measured now" in r.getMessage()]
    assert len(said) == 2, said  # v2 once, the file from before once, the current one never
    assert "audio cues of version 2, where this emoreason measures version 3" in said[0]
    assert "audio cues of version below 3" in said[1] and "refit it with `emoreason data fit-classifier`" in said[1]

    record = AudioCues(path="a", pitch_mean_hz=200.0, pause_ratio=0.1)
    reference = CueReference.build([record, dataclasses.replace(record, pitch_mean_hz=220.0)])
    assert reference.version == AudioCues.VERSION
    save_references({"audio": reference}, tmp_path / "ref.json")
    old = json.loads((tmp_path / "ref.json").read_text())
    del old["audio"]["version"]
    (tmp_path / "old_ref.json").write_text(json.dumps(old))
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert load_references(tmp_path / "ref.json")["audio"].version == AudioCues.VERSION
        assert load_references(tmp_path / "old_ref.json")["audio"].version is None
    said = [r.getMessage() for r in caplog.records if "clips measured now" in r.getMessage()]
    assert len(said) == 1 and "old_ref.json" in said[0] and "--reference-out" in said[0], said
