"""Prosody and voice-quality cues of one recording, measured with Praat (praat-parselmouth).

    cues = extract_audio_cues("clip.wav")          # a WAV/FLAC/MP3 file or a video's sound track
    cues = audio_cues_from_array(samples, 16000)   # or samples already in memory

What is measured, and how (Praat's standard analyses; only the glue is ours):

- pitch: autocorrelation pitch track (`To Pitch (ac)`, 10 ms steps, 75-600 Hz). Mean in Hz;
  5th/95th percentiles; range and standard deviation in semitones (level-free, comparable
  between voices); slope of a straight line through the voiced frames in semitones per second
  (intonation rising or falling); voiced ratio = voiced frames / the frames of the speech span.
- loudness: Praat intensity (10 ms), over the *sounding* frames (those within 25 dB of the
  loudest 1 %); mean in dBFS (0 dBFS = a full-scale square wave) and its standard deviation in dB.
  The level depends on the recording gain: compare it to the same speaker (`CueReference`).
- speech span: from the first sounding frame to the last (its length: speech duration). Pausing,
  speaking rate and voicing are read within it, so the silence a recording starts or ends with (how
  it was cut, not how the person spoke) does not count: on RAVDESS that silence is about half of each
  clip, and the whole-clip pause ratio (version 2) did not correlate with the pauses inside the
  speech (r 0.02 over 40 clips).
- pause ratio: share of the speech span's frames that are not sounding. Digital silence gives 1.
- speaking rate: syllable nuclei per second of the speech span, after de Jong & Wempe (2009):
  intensity peaks at least 2 dB above the dips around them, above the silence threshold and the
  median sounding intensity, and voiced.
- voice quality: local jitter and shimmer in % (`To PointProcess (periodic, cc)`, Praat's
  default limits), mean harmonics-to-noise ratio in dB (`To Harmonicity (cc)`), spectral tilt
  = energy 1-4 kHz relative to 0-1 kHz in dB (higher: a tenser, brighter voice).
- spectral centroid (Praat `Get centre of gravity`, power 2), in Hz.
- quality flags: peak level in dBFS and the share of samples in clipped runs (three or more
  consecutive samples at the peak value).

The analysis runs on a peak-normalised copy (quiet recordings are measured as well as loud
ones); only `loudness_dbfs` and `peak_dbfs` describe the raw level.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from emoreason.cues.base import CueError, CueRecord, Measure, finite

SAMPLE_RATE = 16000
PITCH_FLOOR = 75.0
PITCH_CEILING = 600.0
FRAME_STEP = 0.01
SILENCE_BELOW_PEAK_DB = 25.0  # frames quieter than the loudest 1 % minus this are pauses
MIN_DIP_DB = 2.0  # a syllable nucleus stands out by at least this much from its neighbourhood
DIGITAL_SILENCE = 1e-4  # peak amplitude below which a recording counts as silent (-80 dBFS)
MIN_DURATION_S = 0.1
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aif", ".aiff"}
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".flv", ".wmv", ".3gp", ".ts"}
# Praat intensity is in dB re 2e-5 (an amplitude-1 signal reads 93.98 dB); dBFS subtracts that.
PRAAT_FULL_SCALE_DB = 20 * np.log10(1 / 2e-5)


class NoSoundTrack(CueError):
    """The file is readable but has no audio stream (a silent video): not a corrupt file."""


@dataclass(frozen=True)
class AudioCues(CueRecord):
    """Raw prosody and voice-quality measures of one recording (None: not measurable)."""

    KIND: ClassVar[str] = "audio"
    #: 3: pausing, speaking rate and voicing within the speech span (2 read them over the whole clip)
    VERSION: ClassVar[int] = 3
    MEASURES: ClassVar[tuple[Measure, ...]] = (
        Measure("pitch_mean_hz", "pitch", "Hz", "high", "low", "{:.0f}"),
        Measure("pitch_sd_st", "pitch variability", "st", "variable", "monotone"),
        Measure("pitch_range_st", "pitch range", "st", "wide", "narrow", describe=False),
        Measure("pitch_slope_st_s", "intonation", "st/s", "rising", "falling", "{:+.1f}", describe=False),
        Measure("voiced_ratio", "voicing", "", "more voiced", "less voiced", "{:.2f}", describe=False),
        Measure("loudness_dbfs", "loudness", "dBFS", "loud", "quiet", "{:.0f}"),
        Measure("loudness_sd_db", "loudness variability", "dB", "varying", "steady"),
        Measure("speech_rate_syl_s", "speaking rate", "syll/s", "fast", "slow"),
        Measure("pause_ratio", "pausing", "", "more", "less", "{:.2f}"),
        Measure("jitter_pct", "jitter", "%", "irregular", "steady", "{:.2f}", describe=False),
        Measure("shimmer_pct", "shimmer", "%", "irregular", "steady", "{:.1f}", describe=False),
        Measure("hnr_db", "voice clarity (HNR)", "dB", "clear", "breathy or rough"),
        Measure("spectral_tilt_db", "spectral tilt", "dB", "tense", "lax", describe=False),
        Measure("spectral_centroid_hz", "timbre", "Hz", "bright", "dark", "{:.0f}"),
        Measure("duration_s", "duration", "s", "long", "short", "{:.2f}", describe=False),
        Measure("speech_s", "speech duration", "s", "long", "short", "{:.2f}", describe=False),
    )

    duration_s: float = 0.0
    speech_s: float = 0.0  # the speech span's length: how long the speaking took, without the edge silence
    peak_dbfs: float | None = None
    clipped_ratio: float = 0.0
    pitch_mean_hz: float | None = None
    pitch_p5_hz: float | None = None
    pitch_p95_hz: float | None = None
    pitch_range_st: float | None = None
    pitch_sd_st: float | None = None
    pitch_slope_st_s: float | None = None
    voiced_ratio: float = 0.0
    loudness_dbfs: float | None = None
    loudness_sd_db: float | None = None
    speech_rate_syl_s: float = 0.0
    pause_ratio: float = 1.0
    jitter_pct: float | None = None
    shimmer_pct: float | None = None
    hnr_db: float | None = None
    spectral_tilt_db: float | None = None
    spectral_centroid_hz: float | None = None

    @property
    def has_voice(self) -> bool:
        return self.pitch_mean_hz is not None

    @property
    def silent(self) -> bool:
        return self.pause_ratio >= 0.999


def extract_audio_cues(path: str | Path, sr: int = SAMPLE_RATE) -> AudioCues:
    """Cues of an audio file, or of a video file's sound track. Raises `CueError` naming the
    file when it is missing, unreadable, has no sound track, or is too short to measure."""
    from emoreason.models.media import MediaError, extract_audio_from_video, load_audio

    file = Path(path)
    try:
        if file.suffix.lower() in AUDIO_SUFFIXES:
            samples = load_audio(file, sr)
        else:  # a video (or any container): its sound track
            kind = "video" if file.suffix.lower() in VIDEO_SUFFIXES else "media"  # a README.md is no video
            samples = extract_audio_from_video(file, sr, kind=kind)
            if samples is None:
                raise NoSoundTrack(f"{file} has no sound track; audio cues need one")
    except MediaError as err:
        raise CueError(str(err)) from None  # media errors name the file and say what to do
    return audio_cues_from_array(samples, sr, path=str(file))


def audio_cues_from_array(samples: np.ndarray, sr: int, path: str = "<array>") -> AudioCues:
    """Cues of mono samples (float, -1..1) at `sr` Hz; `path` only names them in records and errors."""
    import parselmouth

    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size and not np.all(np.isfinite(x)):
        raise CueError(f"{path}: the audio contains NaN or infinite samples")
    duration = x.size / sr
    if duration < MIN_DURATION_S:
        raise CueError(f"{path}: {duration:.3f} s of audio is too short for cues (at least {MIN_DURATION_S} s)")
    peak = float(np.max(np.abs(x)))
    base = dict(
        path=path,
        duration_s=round(duration, 4),
        clipped_ratio=round(clipped_ratio(x), 4),
        peak_dbfs=finite(20 * np.log10(peak)) if peak > 0 else None,
    )
    if peak < DIGITAL_SILENCE:
        return AudioCues(**base)  # no voice, all pause

    sound = parselmouth.Sound(x * (0.5 / peak), sampling_frequency=sr)
    gain_db = 20 * np.log10(peak / 0.5)  # undoes the normalisation for the raw level

    intensity = sound.to_intensity(minimum_pitch=PITCH_FLOOR, time_step=FRAME_STEP)
    level = intensity.values[0]
    level_times = intensity.xs()
    threshold = np.percentile(level, 99) - SILENCE_BELOW_PEAK_DB
    sounding = level > threshold
    spoken = np.flatnonzero(sounding)
    if spoken.size:  # the speech span (see the module's notes): its edges are the outer sounding frames' edges
        span = sounding[spoken[0] : spoken[-1] + 1]
        start, end = level_times[spoken[0]] - FRAME_STEP / 2, level_times[spoken[-1]] + FRAME_STEP / 2
        pause_ratio = 1.0 - float(np.mean(span))
    else:
        start = end = 0.0
        pause_ratio = 1.0

    pitch = sound.to_pitch_ac(time_step=FRAME_STEP, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING)
    f0 = pitch.selected_array["frequency"]
    f0_times = pitch.xs()
    voiced = f0 > 0
    in_speech = (f0_times >= start) & (f0_times <= end)
    pitch_fields = _pitch_stats(f0[voiced], f0_times[voiced])

    nuclei = _syllable_nuclei(level, level_times, threshold, sounding, pitch)
    voice = _voice_quality(sound) if voiced.sum() >= 3 else {}
    spectrum = sound.to_spectrum()
    low_band = spectrum.get_band_energy(0.0, 1000.0)
    high_band = spectrum.get_band_energy(1000.0, 4000.0)
    tilt = 10 * np.log10(high_band / low_band) if low_band > 0 and high_band > 0 else None

    return AudioCues(
        **base,
        **pitch_fields,
        voiced_ratio=round(float(np.mean(voiced[in_speech])), 4) if in_speech.any() else 0.0,
        loudness_dbfs=finite(np.mean(level[sounding]) + gain_db - PRAAT_FULL_SCALE_DB, 2) if sounding.any() else None,
        loudness_sd_db=finite(np.std(level[sounding]), 3) if sounding.sum() > 1 else None,
        speech_rate_syl_s=round(nuclei / (end - start), 3) if end > start else 0.0,
        speech_s=round(end - start, 4),
        pause_ratio=round(pause_ratio, 4),
        **voice,
        spectral_tilt_db=finite(tilt, 3),
        spectral_centroid_hz=finite(spectrum.get_centre_of_gravity(2.0), 1),
    )


def clipped_ratio(x: np.ndarray, run: int = 3) -> float:
    """Share of samples inside runs of `run` or more consecutive samples at the peak magnitude
    (a clipped waveform flattens at its peak; a clean one touches it for a single sample)."""
    if x.size == 0:
        return 0.0
    magnitude = np.abs(x)
    peak = magnitude.max()
    if peak <= 0:
        return 0.0
    at_peak = magnitude >= peak * (1 - 1e-4)
    # lengths of runs of True
    edges = np.diff(np.concatenate(([0], at_peak.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = ends - starts
    return float(lengths[lengths >= run].sum()) / x.size


def _pitch_stats(f0: np.ndarray, times: np.ndarray) -> dict[str, float | None]:
    if f0.size == 0:
        return {}
    semitones = 12 * np.log2(f0 / 100.0)
    p5, p95 = np.percentile(f0, [5, 95])
    slope = None
    if f0.size >= 3 and times[-1] - times[0] >= 0.1:
        slope = float(np.polyfit(times, semitones, 1)[0])
    return {
        "pitch_mean_hz": finite(np.mean(f0), 2),
        "pitch_p5_hz": finite(p5, 2),
        "pitch_p95_hz": finite(p95, 2),
        "pitch_range_st": finite(12 * np.log2(p95 / p5), 3),
        "pitch_sd_st": finite(np.std(semitones), 3),
        "pitch_slope_st_s": finite(slope, 3),
    }


def _syllable_nuclei(level: np.ndarray, times: np.ndarray, threshold: float, sounding: np.ndarray, pitch) -> int:
    """Intensity peaks above the silence threshold and the median sounding level, separated from
    the previous nucleus by a dip of at least MIN_DIP_DB (else the higher of the two is kept),
    and voiced (de Jong & Wempe 2009)."""
    from scipy.signal import find_peaks

    if not sounding.any():
        return 0
    floor = max(threshold, float(np.median(level[sounding])))
    nuclei: list[int] = []
    for index in find_peaks(level, height=floor)[0]:
        if nuclei:
            last = nuclei[-1]
            dip = float(level[last : index + 1].min())
            if min(level[last], level[index]) - dip < MIN_DIP_DB:
                if level[index] > level[last]:
                    nuclei[-1] = index  # the same syllable: keep its highest point
                continue
        nuclei.append(int(index))
    voiced = [pitch.get_value_at_time(float(times[i])) for i in nuclei]
    return sum(1 for f0 in voiced if f0 is not None and np.isfinite(f0) and f0 > 0)


def _voice_quality(sound) -> dict[str, float | None]:
    from parselmouth.praat import call

    points = call(sound, "To PointProcess (periodic, cc)", PITCH_FLOOR, PITCH_CEILING)
    jitter = call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
    shimmer = call([sound, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
    harmonicity = sound.to_harmonicity_cc(time_step=FRAME_STEP, minimum_pitch=PITCH_FLOOR)
    hnr = call(harmonicity, "Get mean", 0, 0)
    return {
        "jitter_pct": finite(100 * jitter if jitter is not None else None, 3),
        "shimmer_pct": finite(100 * shimmer if shimmer is not None else None, 3),
        "hnr_db": finite(hnr, 2),
    }
