"""Measured multimodal cues (voice prosody and quality, face) as numbers and as text.

    from emoreason.cues import extract_audio_cues, extract_face_cues, CueReference, describe

    cues = extract_audio_cues("clip.wav")           # AudioCues: pitch, loudness, rate, pauses, voice quality
    face = extract_face_cues("clip.mp4")            # FaceCues: smile, mouth, eyes, brows, head motion
    reference = CueReference.build(many_cues, groups=speakers)
    describe(cues, reference, group="actor07")  # 'Voice (relative to this speaker): pitch high (+1.8 sd, ...'

The text goes into a prompt through `emoreason.formats.build_conversation(..., cues=text)` for models that
cannot
take the media themselves (cue-to-text), or next to the media for omni / VL models.
`CueCache` keeps records per media file (content-hashed) so training epochs never recompute
them; `prepare_cues` / `attach_cues` do whole datasets (`emoreason data prepare SPEC`).
"""

from emoreason.cues.audio import AudioCues, NoSoundTrack, audio_cues_from_array, extract_audio_cues
from emoreason.cues.base import CueError, CueRecord, Measure
from emoreason.cues.cache import CueCache, default_cache_dir
from emoreason.cues.classifier import CueClassifier, add_ranking
from emoreason.cues.describe import CueRow, cue_rows, describe, describe_all
from emoreason.cues.face import FaceCues, extract_face_cues, face_cues_from_frames
from emoreason.cues.prepare import (
    ClipCues,
    PrepareReport,
    attach_cues,
    build_references,
    clip_cues,
    cue_texts,
    prepare_cues,
)
from emoreason.cues.reference import CueReference, load_references, save_references

__all__ = [
    "AudioCues",
    "ClipCues",
    "CueCache",
    "CueClassifier",
    "CueError",
    "CueRecord",
    "CueReference",
    "CueRow",
    "FaceCues",
    "Measure",
    "NoSoundTrack",
    "PrepareReport",
    "add_ranking",
    "attach_cues",
    "audio_cues_from_array",
    "build_references",
    "clip_cues",
    "cue_rows",
    "cue_texts",
    "default_cache_dir",
    "describe",
    "describe_all",
    "extract_audio_cues",
    "extract_face_cues",
    "face_cues_from_frames",
    "load_references",
    "prepare_cues",
    "save_references",
]
