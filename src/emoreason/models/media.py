"""Loading the media a prompt refers to: images (Pillow), video frames and video sound tracks
(PyAV), and audio files (soundfile, with PyAV for containers soundfile cannot read).

Every failure is a `MediaError` that names the file and says what to do, raised before any
model work starts. Audio comes back as mono float32 at the requested rate (16 kHz by default,
what Whisper-style encoders take); video frames as a uint8 array `(frames, height, width, 3)`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.models.families.base import MediaError

log = logging.getLogger(__name__)

#: Frame sampling defaults, as in Qwen's reference pipeline: 2 frames per second, between 4
#: and 16 frames (a small cap: prompts stay short on CPUs), an even count (the vision encoders
#: pair frames into one temporal patch).
VIDEO_FPS = 2.0
VIDEO_MIN_FRAMES = 4
VIDEO_MAX_FRAMES = 16
FRAME_FACTOR = 2


def _existing_file(path: str | Path, kind: str) -> Path:
    file = Path(path).expanduser()
    if not file.exists():
        raise MediaError(
            f"{kind} file not found: {path} (check the path in the data file; relative paths are "
            "resolved against the data file's folder)"
        )
    if not file.is_file():
        raise MediaError(f"{kind} path is not a file: {path}")
    return file


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------


def load_image(path: str | Path) -> Any:
    """The image as an upright RGB `PIL.Image`, fully decoded (so a truncated file fails here)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    file = _existing_file(path, "image")
    try:
        with Image.open(file) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)  # phone photos: apply the EXIF rotation
            return _as_rgb(upright)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise _unreadable_image(path, err) from None


def check_image(path: str | Path) -> None:
    """Raise the `MediaError` `load_image` would for a file PIL cannot identify or whose structure is damaged
    (`Image.verify`: a PNG's chunks and their checksums), without decoding the pixels: cheap enough for every
    image of a dataset. A JPEG cut short passes here; `load_image` finds it."""
    from PIL import Image, UnidentifiedImageError

    file = _existing_file(path, "image")
    try:
        with Image.open(file) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise _unreadable_image(path, err) from None


def _unreadable_image(path: str | Path, err: Exception) -> MediaError:
    return MediaError(
        f"cannot read image file {path}: {err}; it may be empty or damaged, or in a format PIL cannot read "
        "(then convert it to PNG or JPEG)"
    )


def _as_rgb(image: Any) -> Any:
    """`image` as 8-bit RGB the way the models' image processors make it: transparent parts on white
    (PIL's plain conversion drops the alpha and leaves them black), 16-bit and float greys scaled to
    8 bits (PIL clips them at 255: a 16-bit PNG came out nearly all white)."""
    from PIL import Image

    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        if image.mode == "F" and values.max(initial=0) <= 1.0:
            top = 1.0
        image = Image.fromarray(np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    if image.mode == "P" and "transparency" in image.info or image.mode in ("LA", "La", "PA"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "RGBa"):
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


# --------------------------------------------------------------------------------------
# Video
# --------------------------------------------------------------------------------------


@dataclass
class VideoFrames:
    """Frames sampled from a video, with what the models need to place them in time."""

    frames: np.ndarray  # (T, H, W, 3) uint8
    indices: list[int]  # frame numbers in the video
    total_frames: int
    fps: float  # the video's own frame rate
    duration: float  # seconds
    path: str = ""

    @property
    def sampled_fps(self) -> float:
        """Frames per second of the sampled frames (what mrope spaces temporal positions by)."""
        if self.duration > 0 and len(self.indices) > 1:
            return len(self.indices) / self.duration
        return self.fps or VIDEO_FPS

    def metadata(self) -> dict[str, Any]:
        """Fields of transformers' `VideoMetadata` (its `sampled_fps` then equals ours)."""
        return {
            "total_num_frames": self.total_frames,
            "fps": self.total_frames / self.duration if self.duration > 0 else self.fps,
            "width": int(self.frames.shape[2]),
            "height": int(self.frames.shape[1]),
            "duration": self.duration,
            "video_backend": "pyav",
            "frames_indices": list(self.indices),
        }


def frame_count(
    total_frames: int,
    video_fps: float,
    fps: float | None = VIDEO_FPS,
    num_frames: int | None = None,
    min_frames: int = VIDEO_MIN_FRAMES,
    max_frames: int = VIDEO_MAX_FRAMES,
    factor: int = FRAME_FACTOR,
) -> int:
    """How many frames to sample: `num_frames` if given, else `fps` frames per second clamped to
    [min_frames, max_frames]; a multiple of `factor`, never more than the video has (a video
    shorter than `factor` frames gives all it has)."""
    if total_frames <= 0:
        return 0
    if num_frames is not None:
        wanted = float(num_frames)
    else:
        seconds = total_frames / video_fps if video_fps > 0 else total_frames / 24.0
        wanted = min(max(seconds * (fps or VIDEO_FPS), min_frames), max_frames)
    available = total_frames - total_frames % factor if total_frames >= factor else total_frames
    count = max(factor, int(round(wanted / factor)) * factor)
    return max(1, min(count, available))


def load_video_frames(
    path: str | Path,
    fps: float | None = VIDEO_FPS,
    num_frames: int | None = None,
    min_frames: int = VIDEO_MIN_FRAMES,
    max_frames: int = VIDEO_MAX_FRAMES,
) -> VideoFrames:
    """Frames sampled uniformly over the whole video (first and last frame included).

    `num_frames` fixes the count; otherwise `fps` frames per second, clamped to
    [min_frames, max_frames] and rounded to an even number.
    """
    file = _existing_file(path, "video")
    try:
        video_fps, total, duration = _probe_video(file)
        if total <= 0:  # container without a frame count: count by decoding
            total = _count_frames(file)
        if total <= 0:
            raise MediaError(f"video file {path} has no frames; re-encode it (e.g. ffmpeg -i in -c:v libx264 out.mp4)")
        frames, indices = _decode_frames(file, total, fps, num_frames, min_frames, max_frames)
        if len(frames) < len(indices):  # the header over-counted: count for real and sample again
            total = _count_frames(file)
            frames, indices = _decode_frames(file, total, fps, num_frames, min_frames, max_frames)
    except MediaError:
        raise
    except Exception as err:  # av.error.FFmpegError and friends: corrupt or not a video
        raise MediaError(f"cannot read video file {path}: {decoder_words(err)}; re-encode it as MP4 (H.264)") from None
    if not frames:
        raise MediaError(f"video file {path} has no decodable frames; re-encode it as MP4 (H.264)")
    if duration <= 0:
        duration = total / video_fps if video_fps > 0 else 0.0
    return VideoFrames(
        frames=np.stack(frames),
        indices=indices[: len(frames)],
        total_frames=total,
        fps=video_fps,
        duration=duration,
        path=str(path),
    )


def _probe_video(file: Path) -> tuple[float, int, float]:
    import av

    with av.open(str(file)) as container:
        if not container.streams.video:
            raise MediaError(f"{file} has no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        video_fps = float(rate) if rate else 0.0
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        total = int(stream.frames or 0)
        if total <= 0 and duration > 0 and video_fps > 0:
            total = int(round(duration * video_fps))
        return video_fps, total, duration


def _count_frames(file: Path) -> int:
    import av

    with av.open(str(file)) as container:
        stream = container.streams.video[0]
        return sum(1 for _ in container.decode(stream))


def _decode_frames(
    file: Path, total: int, fps: float | None, num_frames: int | None, min_frames: int, max_frames: int
) -> tuple[list[np.ndarray], list[int]]:
    import av

    with av.open(str(file)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        count = frame_count(total, float(rate) if rate else 0.0, fps, num_frames, min_frames, max_frames)
        indices = np.linspace(0, total - 1, count).round().astype(int).tolist() if count > 1 else [0]
        wanted: dict[int, int] = {}
        for index in indices:
            wanted[index] = wanted.get(index, 0) + 1
        frames: list[np.ndarray] = []
        last = indices[-1]
        for number, frame in enumerate(container.decode(stream)):
            if number in wanted:
                array = frame.to_ndarray(format="rgb24")
                frames.extend([array] * wanted[number])
            if number >= last:
                break
        return frames, indices


# --------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------


def resample(audio: np.ndarray, orig_sr: int, sr: int) -> np.ndarray:
    """Polyphase resampling (scipy), float32 out."""
    if orig_sr == sr:
        return audio.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = gcd(int(orig_sr), int(sr))
    return resample_poly(audio, int(sr) // g, int(orig_sr) // g).astype(np.float32)


def load_audio(path: str | Path, sr: int = 16000) -> np.ndarray:
    """Mono float32 samples at `sr` Hz. WAV/FLAC/OGG/MP3 via soundfile; anything else with an
    audio stream (M4A, AAC, MP4, WebM...) via PyAV."""
    import soundfile as sf

    file = _existing_file(path, "audio")
    try:
        data, orig_sr = sf.read(str(file), dtype="float32", always_2d=True)
        audio = resample(data.mean(axis=1), int(orig_sr), sr)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        audio = _decode_audio_av(file, sr, kind="audio")
        if audio is None:
            raise MediaError(f"audio file {path} has no audio stream") from None
    if audio.size == 0:
        raise MediaError(f"audio file {path} has no samples; check the file (it may be empty or truncated)")
    if not np.isfinite(audio).all():  # a float file can hold NaN or inf, which every measure downstream passes on
        raise MediaError(f"audio file {path} holds NaN or infinite samples; export it again (e.g. as 16-bit PCM)")
    return audio


def extract_audio_from_video(path: str | Path, sr: int = 16000, kind: str = "video") -> np.ndarray | None:
    """The video's sound track as mono float32 at `sr` Hz, or None when it has none. `kind` names
    the file in errors ("media" for a file whose name says neither audio nor video)."""
    file = _existing_file(path, kind)
    return _decode_audio_av(file, sr, kind=kind)


def _decode_audio_av(file: Path, sr: int, kind: str) -> np.ndarray | None:
    import av

    try:
        with av.open(str(file)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
            chunks = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except Exception as err:  # av.error.FFmpegError and friends
        hint = {"audio": "convert it to 16 kHz WAV", "video": "re-encode it as MP4 (H.264 + AAC)"}.get(
            kind, "give audio as WAV or video as MP4 (H.264 + AAC)"
        )
        raise MediaError(f"cannot read {kind} file {file}: {decoder_words(err)}; {hint}") from None
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def decoder_words(err: Exception) -> str:
    """What a decoding error says, in words: PyAV's `str()` is `[Errno 1094995529] Invalid data
    found when processing input: 'x.wav'`, FFmpeg's internal error number (meaningless to a user)
    and the path again; its `strerror` is the part a user can act on."""
    words = getattr(err, "strerror", None)
    return str(words) if words else str(err)


def silence(seconds: float, sr: int = 16000) -> np.ndarray:
    return np.zeros(max(1, int(math.ceil(seconds * sr))), dtype=np.float32)


__all__ = [
    "VideoFrames",
    "check_image",
    "extract_audio_from_video",
    "frame_count",
    "load_audio",
    "load_image",
    "load_video_frames",
    "resample",
    "silence",
]
