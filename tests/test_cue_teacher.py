"""The `cues` teacher: cross-fitted cue classifier, grounded evidence, EMO-R3 chains."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoreason.cues.classifier import cross_fit, cue_matrix, feature_names
from emoreason.data.schema import Sample, TaskInfo
from emoreason.distill.cue_teacher import CueTeacher, evidence_for, observed, ranking_phrase, render_cue_chain
from emoreason.distill.teachers import TeacherRequest
from emoreason.formats import get_format

TASK = TaskInfo(
    "toy", labels=("angry", "sad"), label_polarity={"angry": "negative", "sad": "negative"}, metric_set="classification"
)


def z(loud: float, pitch: float) -> dict[str, dict[str, float]]:
    return {"audio": {"loudness_dbfs": loud, "pitch_mean_hz": pitch}}


def speakers(n_speakers: int = 4, per_label: int = 3, seed: int = 0) -> list[Sample]:
    """Angry clips loud and high, sad clips quiet and low, for every speaker, with noise."""
    rng = np.random.default_rng(seed)
    samples = []
    for spk in range(n_speakers):
        for label, sign in (("angry", 1.0), ("sad", -1.0)):
            for k in range(per_label):
                loud, pitch = sign * 1.5 + rng.normal(0, 0.3), sign * 0.8 + rng.normal(0, 0.3)
                samples.append(
                    Sample(
                        id=f"s{spk}-{label}-{k}",
                        text="Kids are talking by the door",
                        label=label,
                        meta={"speaker": f"actor{spk:02d}", "cue_z": z(loud, pitch)},
                    )
                )
    return samples


def test_features_follow_the_record_order_and_missing_is_zero() -> None:
    names = feature_names([z(1, 2), {"audio": {"hnr_db": 0.7}}])
    assert names == [("audio", "pitch_mean_hz"), ("audio", "loudness_dbfs"), ("audio", "hnr_db")]
    x = cue_matrix([z(1, 2), {"audio": {"hnr_db": 0.7}}], names)
    assert x.tolist() == [[2.0, 1.0, 0.0], [0.0, 0.0, 0.7]]


def test_cross_fit_scores_each_speaker_with_a_model_that_never_saw_it() -> None:
    samples = speakers()
    names = feature_names([s.meta["cue_z"] for s in samples])
    x = cue_matrix([s.meta["cue_z"] for s in samples], names)
    y = [s.label for s in samples]
    groups = [s.meta["speaker"] for s in samples]
    proba, coefs = cross_fit(x, y, groups, ["angry", "sad"], folds=4)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert [("angry", "sad")[i] for i in proba.argmax(axis=1)] == y  # separable: every held-out clip right
    loud = names.index(("audio", "loudness_dbfs"))
    assert (coefs[:, 0, loud] > 0).all() and (coefs[:, 1, loud] < 0).all()  # loud pushes to angry
    # an outlier speaker whose angry clips are quiet is predicted from the others, so it is wrong
    flipped = [[-a, -b] if g == "actor03" else [a, b] for (a, b), g in zip(x.tolist(), groups)]
    proba2, _ = cross_fit(np.asarray(flipped), y, groups, ["angry", "sad"], folds=4)
    wrong = [i for i, g in enumerate(groups) if g == "actor03" and ("angry", "sad")[proba2[i].argmax()] != y[i]]
    assert len(wrong) == 6


def test_evidence_cites_only_cues_pushing_towards_the_label_and_not_typical_ones() -> None:
    names = [("audio", "pitch_mean_hz"), ("audio", "loudness_dbfs"), ("audio", "hnr_db")]
    coef = np.array([1.0, 2.0, 5.0])
    row = np.array([1.2, 2.0, 0.3])  # hnr weighs 1.5 but is typical (|z| < 0.5): not cited
    cited = evidence_for(coef, row, names, top=3)
    assert [e.measure.name for e in cited] == ["loudness_dbfs", "pitch_mean_hz"]
    assert cited[0].phrase() == "loudness very loud (+2.0 sd)"
    assert evidence_for(-coef, row, names) == []  # nothing pushes towards it
    hidden = [("audio", "pitch_slope_st_s"), ("audio", "loudness_dbfs")]  # intonation is not in the cue text
    assert [e.measure.name for e in evidence_for(np.array([9.0, 1.0]), np.array([2.0, 1.0]), hidden)] == [
        "loudness_dbfs"
    ]


def test_chain_names_what_was_measured() -> None:
    names = [("audio", "pitch_mean_hz"), ("audio", "loudness_dbfs")]
    row = np.array([-0.7, 0.1])
    steps = render_cue_chain("sad", TASK, observed(row, names), evidence_for(np.array([-1.0, 0.0]), row, names), 0.71)
    assert steps["step1"] == "The voice against this speaker's other clips: pitch slightly low (-0.7 sd)."
    assert steps["step2"] == "What points to sad most: pitch slightly low (-0.7 sd). The cue model gives sad 0.71."
    assert steps["step3"].startswith("The feeling is negative")
    quiet = render_cue_chain("sad", TASK, observed(np.zeros(2), names), [], None)
    assert "close to this speaker's usual" in quiet["step1"] and "No single cue stands out" in quiet["step2"]


@pytest.mark.parametrize("format_name", ["emor3", "r1"])
def test_teacher_replies_parse_to_the_predicted_or_gold_label(format_name: str) -> None:
    fmt = get_format(format_name)
    samples = speakers()
    samples[0] = samples[0].with_(meta={"speaker": "actor00"})  # no measured cues
    requests = [TeacherRequest(sample=s, messages=[{"role": "user", "content": "?"}]) for s in samples]
    replies = {}
    CueTeacher(fmt, TASK).run(requests, lambda i, r: replies.__setitem__(i, r))
    assert len(replies) == len(samples)
    assert not replies[0].ok and "?cues=only" in replies[0].error
    labels = [fmt.parse(replies[i].text, TASK).label for i in range(1, len(samples))]
    assert labels == [s.label for s in samples[1:]]
    assert "loudness" in replies[1].text
    # rationalization: told the gold, it explains the gold even where the cues say otherwise
    told = [TeacherRequest(sample=samples[1], messages=[], gold={"label": "sad"})] + requests[2:]
    CueTeacher(fmt, TASK).run(told, lambda i, r: replies.__setitem__(i, r))
    assert fmt.parse(replies[0].text, TASK).label == "sad"


def test_a_silent_clip_is_not_told_to_load_the_cues_it_was_loaded_with(tmp_path) -> None:
    """A clip with no voiced audio, in a dataset loaded with ?cues=only, was dropped with "load the dataset with
    ?cues=only": the user had, and the clip's own cue text says what is wrong with it."""
    from emoreason.distill import distill

    silent = "Voice: silent recording, no voice found."
    samples = [s.with_(split="train") for s in speakers()]
    samples[0] = samples[0].with_(meta={"speaker": "actor00"}, cues=silent)  # measured, nothing to measure
    requests = [TeacherRequest(sample=s, messages=[{"role": "user", "content": "?"}]) for s in samples]
    replies = {}
    CueTeacher(get_format("emor3"), TASK).run(requests, lambda i, r: replies.__setitem__(i, r))
    assert "?cues=only" not in replies[0].error and repr(silent) in replies[0].error
    assert "its clip gave none" in replies[0].error
    out = tmp_path / "out"
    distill(samples, TASK, get_format("emor3"), CueTeacher(get_format("emor3"), TASK), out)
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    # filed as a clip with no cues, not as a failed request
    assert [(d["reason"], d["error"]) for d in dropped if d["id"] == samples[0].id] == [("no_cues", replies[0].error)]
    # every clip silent: the whole set is refused, without telling a user who loaded the cues to load them
    with pytest.raises(ValueError, match="none of the 24 samples has them; 24 carry cue text") as refused:
        CueTeacher(get_format("emor3"), TASK).check_samples([s.with_(meta={}, cues=silent) for s in samples])
    assert "load the dataset with" not in str(refused.value)


def test_distill_with_the_cues_teacher_stops_when_no_sample_has_measured_cues(tmp_path) -> None:
    """It asked for every sample, each failed alone, and it wrote 0 examples with exit status 0."""
    from emoreason.distill import distill

    samples = [s.with_(meta={"speaker": s.meta["speaker"]}, split="train") for s in speakers()]
    with pytest.raises(ValueError, match=r"none of the 24 samples has them: load the dataset with \?cues=only"):
        distill(samples, TASK, get_format("emor3"), CueTeacher(get_format("emor3"), TASK), tmp_path / "out")
    CueTeacher(get_format("emor3"), TASK).check_samples(speakers())  # measured: nothing to say


def test_teacher_refuses_score_tasks_and_other_formats() -> None:
    with pytest.raises(ValueError, match="label task"):
        CueTeacher(get_format("r1"), TaskInfo("s", scale=(-3.0, 3.0)))
    with pytest.raises(ValueError, match="emor3 or r1"):
        CueTeacher(get_format("c2f"), TASK)


def test_default_chains_are_short_and_cite_only_what_the_prompt_gives() -> None:
    wide = {
        "audio": {
            "pitch_sd_st": 1.9,
            "loudness_sd_db": 1.2,
            "speech_rate_syl_s": 0.9,
            "pause_ratio": -0.8,
            "hnr_db": 0.7,
            "spectral_centroid_hz": 1.1,
        }
    }
    samples = [
        s.with_(meta={**s.meta, "cue_z": {"audio": {**wide["audio"], **s.meta["cue_z"]["audio"]}}}) for s in speakers()
    ]
    requests = [TeacherRequest(sample=s, messages=[]) for s in samples]
    for teacher, cites_probability in (
        (CueTeacher(get_format("emor3"), TASK), False),
        (CueTeacher(get_format("emor3"), TASK, seen=5, cite_probability=True), True),
    ):
        replies = {}
        teacher.run(requests, lambda i, r: replies.__setitem__(i, r))
        steps = get_format("emor3").parse(replies[0].text, TASK).reasoning
        assert ("The cue model gives" in steps["step2"]) is cites_probability
        assert steps["step1"].count(" sd)") == (5 if cites_probability else 3)
        assert steps["step2"].count(" sd)") <= 2


def test_ranking_phrase_names_the_label_where_the_classifier_put_it() -> None:
    ranking = [["angry", 0.52], ["sad", 0.31], ["calm", 0.1]]
    assert ranking_phrase("angry", ranking) == "The cue classifier ranks angry first (0.52)."
    assert ranking_phrase("sad", ranking) == "The cue classifier ranks angry first (0.52), sad second (0.31)."
    assert ranking_phrase("happy", ranking) == (
        "The cue classifier ranks angry first (0.52). It does not rank happy near the top."
    )


def test_teacher_cites_the_prompt_ranking_and_answers_its_first_without_gold() -> None:
    from emoreason.cues.classifier import CueClassifier, add_ranking

    samples = speakers()
    classifier = CueClassifier.fit(samples, TASK.labels or ())
    ranked = add_ranking([s.with_(cues="Voice: loud.") for s in samples], classifier, top=2)
    replies: dict[int, str] = {}
    CueTeacher(get_format("emor3"), TASK).run(
        [TeacherRequest(s, []) for s in ranked], lambda i, r: replies.__setitem__(i, r.text or "")
    )
    for index, sample in enumerate(ranked):
        first = sample.meta["cue_ranking"][0][0]
        assert f"ranks {first} first" in replies[index] and replies[index].endswith(f"\\boxed{{{first}}}")


def test_a_rerun_asks_the_cues_teacher_for_every_sample_not_only_the_uncached(tmp_path) -> None:
    """A rerun fitted the cross-fitted model on the uncached samples alone (one speaker's: a model that had heard
    that speaker wrote its labels), and a rerun of a finished run stopped, finding no sample with cues."""
    from emoreason.distill import distill

    fmt = get_format("emor3")
    samples = [s.with_(split="train") for s in speakers(n_speakers=4)]
    first, last = [s for s in samples if not s.id.startswith("s3-")], [s for s in samples if s.id.startswith("s3-")]
    seen: list[int] = []

    class Counting(CueTeacher):
        def run(self, requests, on_reply):  # type: ignore[no-untyped-def]
            seen.append(len(requests))
            super().run(requests, on_reply)

    distill(first, TASK, fmt, Counting(fmt, TASK), tmp_path / "out")
    distill(first + last, TASK, fmt, Counting(fmt, TASK), tmp_path / "out")
    fresh = distill(first + last, TASK, fmt, CueTeacher(fmt, TASK), tmp_path / "fresh")
    assert seen == [len(first), len(samples)]  # the whole set, cached or not
    distill(first + last, TASK, fmt, CueTeacher(fmt, TASK), tmp_path / "out")  # a finished run reruns
    again = (tmp_path / "out" / "sft.jsonl").read_text()
    assert again == (tmp_path / "fresh" / "sft.jsonl").read_text() and fresh.stats.kept > 0
