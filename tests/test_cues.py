"""Cue extractors on synthetic media with known properties, references, descriptions, the cache,
cue-to-text prompting and the `emoreason cues` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from cue_media import SR, chirp, draw_face, face_clip, syllables, tone, write_clip
from emoreason.cli import app
from emoreason.cues import (
    AudioCues,
    CueCache,
    CueError,
    CueReference,
    FaceCues,
    NoSoundTrack,
    audio_cues_from_array,
    describe,
    extract_audio_cues,
    extract_face_cues,
    face_cues_from_frames,
    load_references,
    save_references,
)
from emoreason.cues.prepare import file_cues
from emoreason.cues.prompting import cue_inputs
from emoreason.data.schema import Sample

runner = CliRunner()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the user's cue cache."""
    monkeypatch.setenv("EMOREASON_CUES_CACHE", str(tmp_path / "cue-cache"))
    return tmp_path / "cue-cache"


# --- voice ------------------------------------------------------------------------------------


@pytest.mark.parametrize("freq", [110.0, 220.0, 440.0])
def test_tone_pitch_is_estimated_within_two_percent(freq: float) -> None:
    cues = audio_cues_from_array(tone(freq), SR)
    assert cues.pitch_mean_hz == pytest.approx(freq, rel=0.02)
    assert cues.pitch_sd_st < 0.2 and cues.pitch_range_st < 0.5  # a steady tone is monotone
    assert cues.voiced_ratio > 0.9 and cues.pause_ratio < 0.05
    assert cues.clipped_ratio == 0.0


def test_chirp_rises_over_a_wide_range() -> None:
    cues = audio_cues_from_array(chirp(150, 400, 1.5), SR)
    true_range = 12 * np.log2(400 / 150)  # 17 semitones over 1.5 s
    assert cues.pitch_slope_st_s == pytest.approx(true_range / 1.5, rel=0.15)
    assert cues.pitch_range_st > 0.7 * true_range
    falling = audio_cues_from_array(chirp(400, 150, 1.5), SR)
    assert falling.pitch_slope_st_s < -5


def test_silence_has_no_voice_and_is_all_pause() -> None:
    cues = audio_cues_from_array(np.zeros(SR), SR)
    assert cues.silent and not cues.has_voice
    assert cues.pause_ratio == 1.0 and cues.voiced_ratio == 0.0 and cues.speech_rate_syl_s == 0.0
    assert cues.pitch_mean_hz is None and cues.loudness_dbfs is None
    assert describe(cues) == "Voice: silent recording, no voice found."


def test_bursts_give_their_rate_and_pauses() -> None:
    cues = audio_cues_from_array(syllables(rate=4.0, seconds=3.0), SR)
    assert cues.speech_rate_syl_s == pytest.approx(4.0, abs=0.5)
    assert 0.2 < cues.pause_ratio < 0.5


def test_silence_around_the_speech_changes_neither_pausing_nor_rate_nor_voicing() -> None:
    """Pausing and speaking rate were read over the whole clip, so a recording cut with a second of silence
    before and after the speech paused more and spoke slower (on RAVDESS that silence is about half of each
    clip). They are read within the speech span now; the duration stays the clip's."""
    speech = syllables(rate=4.0, seconds=2.0)
    padded = np.concatenate([np.zeros(SR), speech, np.zeros(SR)])
    alone, cut_wide = audio_cues_from_array(speech, SR), audio_cues_from_array(padded, SR)
    assert cut_wide.duration_s == pytest.approx(alone.duration_s + 2.0)
    assert cut_wide.pause_ratio == pytest.approx(alone.pause_ratio, abs=0.03)
    assert cut_wide.speech_rate_syl_s == pytest.approx(alone.speech_rate_syl_s, rel=0.05)
    assert cut_wide.voiced_ratio == pytest.approx(alone.voiced_ratio, abs=0.03)
    # (a file's first and last ~40 ms have no intensity frame of their own: the clip alone loses them)
    assert cut_wide.speech_s == pytest.approx(alone.speech_s, abs=0.08) and 1.5 < alone.speech_s <= 2.0
    assert AudioCues.VERSION == 3  # cached records of the whole-clip measures are not read back


def test_clipped_audio_is_flagged_and_still_measured() -> None:
    clipped = np.clip(4 * tone(220.0, amplitude=0.5), -1, 1)
    cues = audio_cues_from_array(clipped, SR)
    assert cues.clipped_ratio > 0.3
    assert cues.peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert cues.pitch_mean_hz == pytest.approx(220.0, rel=0.02)
    assert "clipped" in describe(cues)


def test_quiet_recordings_are_measured_like_loud_ones() -> None:
    loud, quiet = (
        audio_cues_from_array(tone(200.0, amplitude=0.5), SR),
        audio_cues_from_array(tone(200.0, amplitude=0.005), SR),
    )
    assert quiet.pitch_mean_hz == pytest.approx(loud.pitch_mean_hz, rel=0.01)
    assert loud.loudness_dbfs - quiet.loudness_dbfs == pytest.approx(40.0, abs=0.5)


def test_audio_file_and_video_sound_track(tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    sf.write(wav, tone(300.0, 1.0), SR)
    assert extract_audio_cues(wav).pitch_mean_hz == pytest.approx(300.0, rel=0.02)
    clip = face_clip(tmp_path / "talk.mp4", seconds=1.5, freq=200.0)
    assert extract_audio_cues(clip).pitch_mean_hz == pytest.approx(200.0, rel=0.03)


def test_unreadable_media_name_the_file(media_files: dict[str, Path], tmp_path: Path) -> None:
    for name in ("broken_wav", "broken_mp4"):
        with pytest.raises(CueError, match=str(media_files[name].name)):
            extract_audio_cues(media_files[name])
    with pytest.raises(CueError, match="cannot read video file .*broken.mp4.*re-encode it as MP4"):
        extract_audio_cues(media_files["broken_mp4"])
    notes = tmp_path / "notes.md"  # a text file given as audio is neither audio nor video
    notes.write_text("# notes\n")
    with pytest.raises(CueError, match="cannot read media file .*notes.md.*give audio as WAV or video as MP4"):
        extract_audio_cues(notes)
    with pytest.raises(CueError, match="broken.png"):
        extract_face_cues(media_files["broken_png"])
    with pytest.raises(CueError, match="not found"):
        extract_audio_cues(tmp_path / "nope.wav")
    with pytest.raises(CueError, match="too short"):
        audio_cues_from_array(np.zeros(100), SR, path="tiny.wav")
    with pytest.raises(NoSoundTrack, match="clip.mp4"):
        extract_audio_cues(media_files["video"])  # a video without a sound track


# --- face -------------------------------------------------------------------------------------


def test_drawn_face_is_found_and_its_parts_measured() -> None:
    plain = face_cues_from_frames(draw_face()[None])
    assert plain.face_found and plain.face_ratio == 1.0
    open_mouth = face_cues_from_frames(draw_face(mouth=0.1)[None])
    raised = face_cues_from_frames(draw_face(brow=0.08)[None])
    assert open_mouth.mouth_open > 2 * plain.mouth_open
    assert raised.brow_raise > plain.brow_raise + 0.02
    assert plain.eye_open is not None and 0 < plain.eye_open < 0.2
    assert plain.head_motion is None  # one frame: no motion


def test_head_motion_follows_the_face(tmp_path: Path) -> None:
    still = face_cues_from_frames(np.stack([draw_face()] * 4), [0.0, 0.5, 1.0, 1.5])
    moving = face_cues_from_frames(np.stack([draw_face(shift=(6 * i, 0)) for i in range(4)]), [0.0, 0.5, 1.0, 1.5])
    assert still.head_motion == pytest.approx(0.0, abs=0.01)
    assert moving.head_motion > 0.05  # 12 px/s on a ~160 px face


def test_blank_image_and_faceless_video_say_no_face(tmp_path: Path) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (160, 120), (200, 200, 200)).save(blank)
    cues = extract_face_cues(blank)
    assert not cues.face_found and cues.mouth_open is None
    assert describe(cues) == "Face: no face found in the image."
    clip = write_clip(tmp_path / "empty.mp4", [np.full((96, 128, 3), 30 * i, np.uint8) for i in range(6)], fps=4)
    video = extract_face_cues(clip)
    assert not video.face_found and video.frames >= 4
    assert "no face found in the" in describe(video) and "sampled frames" in describe(video)


def test_face_from_image_file_and_video(tmp_path: Path) -> None:
    from PIL import Image

    image = tmp_path / "face.png"
    Image.fromarray(draw_face()).save(image)
    assert extract_face_cues(image).face_found
    video = extract_face_cues(face_clip(tmp_path / "talk.mp4", seconds=2.0, drift=4))
    assert video.face_ratio >= 0.75 and video.head_motion > 0


# --- references and descriptions ----------------------------------------------------------------


def _voices() -> tuple[list[AudioCues], list[str]]:
    records, speakers = [], []
    for speaker, base in (("low", 110.0), ("high", 220.0)):
        for step in range(6):
            records.append(audio_cues_from_array(tone(base * 2 ** (step / 12), 0.5), SR, path=f"{speaker}{step}.wav"))
            speakers.append(speaker)
    return records, speakers


def test_reference_normalises_per_speaker_and_falls_back_to_dataset(tmp_path: Path) -> None:
    records, speakers = _voices()
    reference = CueReference.build(records, speakers)
    top_low = records[5]  # the highest tone of the low voice: high for that speaker, low for the dataset
    assert reference.zscores(top_low, "low")["pitch_mean_hz"] > 1.0
    assert reference.zscores(top_low, None)["pitch_mean_hz"] < 0
    assert reference.scope("low") == "speaker" and reference.scope("stranger") == "dataset"
    text = describe(top_low, reference, "low")
    assert text.startswith("Voice (relative to this speaker): pitch high (+1.")
    assert "Hz)" in text  # the raw value stays next to the word
    # constant measures have no spread: no z-score, never a division by zero
    assert reference.zscores(top_low, "low")["pitch_sd_st"] is None or np.isfinite(
        reference.zscores(top_low, "low")["pitch_sd_st"]
    )
    # a measure the speaker's clips cannot give (too few voiced ones) is taken against the dataset: said so,
    # where the line's "relative to this speaker" called a woman's usual pitch "high" against a mixed dataset
    del reference.groups["low"]["pitch_mean_hz"]
    fallback = describe(top_low, reference, "low")
    assert fallback.startswith("Voice (relative to this speaker): pitch slightly low (-0.6 sd vs the dataset, 147 Hz)")
    assert fallback.count("vs the dataset") == 1
    reference = CueReference.build(records, speakers)
    path = tmp_path / "ref.json"
    save_references({"audio": reference}, path)
    assert load_references(path)["audio"].zscores(top_low, "low") == reference.zscores(top_low, "low")
    with pytest.raises(ValueError, match="not a cue reference"):
        (tmp_path / "bad.json").write_text("[1, 2]")
        load_references(tmp_path / "bad.json")


def test_a_silent_clip_gets_no_zscores_so_no_classifier_ranks_it() -> None:
    """A silent clip was described as "no voice found" and then ranked "surprised 0.53" by the cue
    classifier, from the z-scores of measures that describe no voice."""
    from emoreason.cues.prepare import ClipCues, cue_zscores

    records, speakers = _voices()
    reference = {"audio": CueReference.build(records, speakers)}
    silent = audio_cues_from_array(np.zeros(SR), SR, path="silent.wav")
    samples = [Sample(id="voiced", text=""), Sample(id="silent", text="")]
    clips = {"voiced": ClipCues("voiced", audio=records[0]), "silent": ClipCues("silent", audio=silent)}
    zscores = cue_zscores(samples, clips, reference)
    assert set(zscores) == {"voiced"} and zscores["voiced"]["audio"]

    # nor does it count in the statistics: its pause ratio of 1 moved the speaker's mean and sd
    from emoreason.cues.prepare import build_references

    with_silent = [Sample(id=f"v{i}", text="", meta={"speaker": s}) for i, s in enumerate(speakers)]
    clips = {f"v{i}": ClipCues(f"v{i}", audio=r) for i, r in enumerate(records)}
    alone = build_references(with_silent, clips, overall_split=None)["audio"]
    with_silent.append(Sample(id="quiet", text="", meta={"speaker": speakers[0]}))
    clips["quiet"] = ClipCues("quiet", audio=silent)
    assert build_references(with_silent, clips, overall_split=None)["audio"].to_dict() == alone.to_dict()


def test_a_clip_too_short_or_without_a_voiced_frame_stays_out_of_the_statistics_and_the_ranking() -> None:
    """`data prepare` reported a 0.2 s clip as too short, and room tone as nothing: both still moved their
    speaker's mean and sd (other clips' cue text changed), and the classifier ranked room tone "angry 0.99"."""
    import dataclasses

    from emoreason.cues.prepare import ClipCues, build_references, cue_zscores

    records, speakers = _voices()
    samples = [Sample(id=f"v{i}", text="", meta={"speaker": s}) for i, s in enumerate(speakers)]
    clips = {f"v{i}": ClipCues(f"v{i}", audio=r) for i, r in enumerate(records)}
    alone = build_references(samples, clips, overall_split=None)["audio"].to_dict()
    short = ClipCues("short", audio=records[0], duration_s=0.2, problems=["too short: 0.20 s < 0.3 s"])
    room = ClipCues("room", audio=dataclasses.replace(records[1], voiced_ratio=0.0))
    more = samples + [Sample(id=c.id, text="", meta={"speaker": speakers[0]}) for c in (short, room)]
    clips |= {"short": short, "room": room}
    references = build_references(more, clips, overall_split=None)
    assert references["audio"].to_dict() == alone
    assert not {"short", "room"} & set(cue_zscores(more, clips, references))


def test_describe_without_reference_gives_raw_values_only() -> None:
    text = describe(audio_cues_from_array(tone(200.0), SR))
    assert text.startswith("Voice (raw values, no reference): pitch 200 Hz")
    assert "sd" not in text


def test_reference_of_another_kind_is_refused() -> None:
    records, speakers = _voices()
    with pytest.raises(ValueError, match="cannot describe"):
        describe(FaceCues(path="x"), CueReference.build(records, speakers))


# --- cache ----------------------------------------------------------------------------------------


def test_cache_computes_once_and_survives_renames(tmp_path: Path, private_cache: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(wav, tone(250.0, 0.5), SR)
    cache = CueCache()
    assert cache.root == private_cache
    first = cache.audio(wav)
    again = cache.audio(wav)
    assert (cache.misses, cache.hits) == (1, 1) and again == first
    renamed = wav.rename(tmp_path / "b.wav")
    assert cache.audio(renamed).path == str(renamed) and cache.hits == 2
    sf.write(renamed, tone(330.0, 0.5), SR)  # new content: a miss
    assert cache.audio(renamed).pitch_mean_hz == pytest.approx(330.0, rel=0.02) and cache.misses == 2
    with pytest.raises(CueError, match="not found"):
        cache.audio(tmp_path / "gone.wav")


def test_file_cues_picks_kinds_by_file_type(tmp_path: Path) -> None:
    clip = face_clip(tmp_path / "talk.mp4", seconds=1.5)
    assert [r.KIND for r in file_cues(clip)] == ["audio", "face"]
    assert [r.KIND for r in file_cues(clip, ["face"])] == ["face"]
    silent = face_clip(tmp_path / "silent.mp4", seconds=1.5, audio=False)
    assert [r.KIND for r in file_cues(silent)] == ["face"]  # no sound track: face only
    wav = tmp_path / "a.wav"
    sf.write(wav, tone(), SR)
    with pytest.raises(CueError, match="gives audio cues, not face"):
        file_cues(wav, ["face"])


# --- prompting ------------------------------------------------------------------------------------


def test_cue_inputs_modes(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(wav, tone(), SR)
    samples = [Sample(id="a", text="hello", audio=str(wav)), Sample(id="b", text="plain")]
    text_model, omni = frozenset(), frozenset({"audio", "video", "image"})

    given, texts, report = cue_inputs(samples, text_model, "auto")
    assert given[0].audio is None and texts["a"].startswith("Voice (raw values") and "b" not in texts
    assert report is not None and report.extracted == 1

    given, texts, _ = cue_inputs(samples, omni, "auto")
    assert given[0].audio == str(wav) and texts == {}  # the model hears the audio itself
    given, texts, _ = cue_inputs(samples, omni, "on")
    assert given[0].audio == str(wav) and "a" in texts
    given, texts, _ = cue_inputs(samples, text_model, "off")
    assert given[0].audio == str(wav) and texts == {}
    prepared = [samples[0].with_(cues="Voice: given")]
    assert cue_inputs(prepared, text_model, "auto")[1] == {"a": "Voice: given"}
    with pytest.raises(ValueError, match="unknown cue mode"):
        cue_inputs(samples, text_model, "maybe")


def test_analyze_puts_cue_text_into_the_prompt() -> None:
    from emoreason.data.schema import vader_task
    from emoreason.generation import Completion
    from emoreason.inference import analyze

    class Recorder:
        def __init__(self) -> None:
            self.prompts: list[str] = []

        def generate(self, conversations, params):
            self.prompts += [c.messages[-1]["content"] for c in conversations]
            return [
                [Completion(text="<polarity>neutral</polarity>", token_ids=[1], logprobs=[0.0], finish_reason="eos")]
                for _ in conversations
            ]

    engine = Recorder()
    samples = [Sample(id="a", text="hi"), Sample(id="b", text="yo", cues="Voice: own cues")]
    analyze(engine, samples, vader_task("tweets"), "c2f", "m", cues={"a": "Voice: pitch high"})
    assert "Voice: pitch high" in engine.prompts[0] and "own cues" not in engine.prompts[1]
    analyze(engine, samples, vader_task("tweets"), "c2f", "m")  # no mapping: each sample's own cues
    assert "Measured cues" not in engine.prompts[2] and "Voice: own cues" in engine.prompts[3]


# --- CLI ------------------------------------------------------------------------------------------


def test_cues_command_prints_table_and_json(tmp_path: Path) -> None:
    clip = face_clip(tmp_path / "talk.mp4", seconds=1.5)
    result = runner.invoke(app, ["cues", str(clip)])
    assert result.exit_code == 0, result.output
    assert "audio cues of talk.mp4" in result.output and "face cues of talk.mp4" in result.output
    assert "Voice (raw values" in result.output and "Face (raw values" in result.output
    result = runner.invoke(app, ["cues", str(clip), "--json", "--kind", "audio"])
    data = json.loads(result.output)
    assert [r["kind"] for r in data["records"]] == ["audio"] and data["description"].startswith("Voice")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video" * 10)
    result = runner.invoke(app, ["cues", str(broken)])
    assert result.exit_code == 2 and "broken.mp4" in result.output


def test_cues_speaker_is_refused_without_a_reference_that_has_it(tmp_path: Path) -> None:
    """--speaker was silently ignored: raw values without --reference, the dataset's for a speaker it lacks."""
    records, speakers = _voices()
    # a third speaker with two clips, under the five a speaker's own statistics need
    records, speakers = records + records[:2], speakers + ["few", "few"]
    save_references({"audio": CueReference.build(records, speakers)}, tmp_path / "ref.json")
    clip = tmp_path / "tone.wav"
    sf.write(clip, tone(220.0, 1.0), SR)
    alone = runner.invoke(app, ["cues", str(clip), "--speaker", "actor01", "--no-cache"])
    assert alone.exit_code == 2 and "is read against a --reference file's speakers" in " ".join(alone.output.split())
    # --cue-reference, analyze's name for the file, was "No such option" here
    reference = str(tmp_path / "ref.json")
    unknown = runner.invoke(app, ["cues", str(clip), "--cue-reference", reference, "--speaker", "nobody"])
    said = " ".join(unknown.output.split())
    assert unknown.exit_code == 2 and "--speaker nobody has no statistics in" in said and "speakers: high, low" in said
    # one the file names with too few clips was compared with its whole dataset without a word
    few = runner.invoke(app, ["cues", str(clip), "--reference", str(tmp_path / "ref.json"), "--speaker", "few"])
    said = " ".join(few.output.split())
    assert few.exit_code == 2 and "--speaker few has no statistics" in said and "needs 5 clips of their own" in said


def test_cues_command_on_a_real_ravdess_clip(shared_data: Path) -> None:
    folder = shared_data / "ravdess_speech16k"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    clip = folder / "Actor_01" / "03-01-05-02-01-01-01.wav"  # angry, strong intensity
    result = runner.invoke(app, ["cues", str(clip), "--json", "--no-cache"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)["records"][0]
    # within the speech (4.1 s of clip, about 1.7 s of speech): mostly voiced, few pauses
    assert 150 < record["pitch_mean_hz"] < 450 and 0.5 < record["voiced_ratio"] < 0.95
    assert 2.5 < record["speech_rate_syl_s"] < 6.0  # seven syllables ("Kids are talking by the door")
    assert 0.0 <= record["pause_ratio"] < 0.3


def test_a_clip_too_short_to_measure_well_is_warned_about(tmp_path: Path, private_cache: Path) -> None:
    """`analyze --audio` on a 0.1 s clip gave "HNR very clear (+36.8 sd)" and a label, with no word of warning."""
    from emoreason.api.explainer import _model_inputs

    clip = tmp_path / "short.wav"
    sf.write(clip, tone(200.0, 0.1), SR)
    inputs = _model_inputs([Sample(id="x", text="", audio=str(clip))], "causal_lm", frozenset(), "auto", None, None)
    assert inputs.cue_text["x"] and inputs.warnings == ["x: 0.10 s < 0.3 s: its cues describe very little"]


def test_a_silent_clip_is_warned_about(tmp_path: Path, private_cache: Path) -> None:
    """A silent clip's cue text said "no voice found", and the model gave it a confident label without a word
    to the user; `data prepare` did not count silent clips either."""
    from emoreason.api.explainer import _model_inputs
    from emoreason.cues.prepare import prepare_cues

    clip = tmp_path / "quiet.wav"
    sf.write(clip, np.zeros(SR), SR)
    sample = Sample(id="x", text="", audio=str(clip))
    inputs = _model_inputs([sample], "causal_lm", frozenset(), "auto", None, None)
    assert "no voice found" in inputs.cue_text["x"]
    assert inputs.warnings == ["x: a silent recording, no voice found: no voice cues back its answer"]
    _, report = prepare_cues([sample])
    assert report.silent == ["x"] and "1 silent (no voice found): x" in report.summary()
