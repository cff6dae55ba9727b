"""Face cues of a video or an image, from OpenCV's bundled Haar cascades (no model download).

    cues = extract_face_cues("clip.mp4")   # or a .jpg/.png
    cues.face_found, cues.mouth_open, cues.describe ...

Frames are sampled uniformly (2 per second, 4 to 16 frames, `emoreason.models.media`). In each
frame the largest frontal face (`haarcascade_frontalface_default.xml`) is taken. **There are
no facial landmarks here**: the measures below are approximations from the face box and simple
image statistics, good for "more or less than this speaker usually does", not for action units.

- face_ratio: share of sampled frames with a face; face_size: face-box width / frame width.
- smile_ratio: share of face frames where the bundled smile cascade fires in the lower face
  (stands in for mouth-corner lift; the cascade fires on broad, teeth-showing smiles).
- mouth_open: height of the largest dark blob in the mouth area (rows 62-95 % of the face
  box, middle 40 %), as a share of face height. An open mouth shows its dark inside; lips,
  a beard or a shadow also count, so compare against the same person.
- eye_open: height of the dark blob of each eye (lower dark blob in each eye area) / face
  height; brow_raise: vertical distance from that eye blob to the dark blob above it (the
  brow) / face height. "Dark" is darker than 60 % of the median cheek brightness.
- eyes_visible: share of face frames where the bundled eye cascade finds both eyes (closed or
  squinting eyes are often missed).
- head_motion: mean movement of the face-box centre between sampled frames, in face widths
  per second (videos only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from emoreason.cues.base import CueError, CueRecord, Measure, finite

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
FACE_SIDE = 128  # face boxes are resized to this square before measuring
DARK_FRACTION = 0.6  # "dark" = below this share of the median cheek brightness
FRAMES_PER_SECOND = 2.0
MAX_FRAMES = 16


@dataclass(frozen=True)
class FaceCues(CueRecord):
    """Face measures over the sampled frames (None: no face, or not measurable)."""

    KIND: ClassVar[str] = "face"
    VERSION: ClassVar[int] = 1
    MEASURES: ClassVar[tuple[Measure, ...]] = (
        Measure("smile_ratio", "smiling", "", "more", "less", "{:.2f}"),
        Measure("mouth_open", "mouth opening", "", "open", "closed", "{:.3f}"),
        Measure("eye_open", "eye opening", "", "wide", "narrowed", "{:.3f}"),
        Measure("brow_raise", "brows", "", "raised", "lowered", "{:.3f}"),
        Measure("head_motion", "head movement", "face widths/s", "moving", "still", "{:.2f}"),
        Measure("eyes_visible", "eyes visible", "", "more", "less", "{:.2f}", describe=False),
        Measure("face_size", "face size", "", "closer", "farther", "{:.2f}", describe=False),
        Measure("face_ratio", "face present", "", "more", "less", "{:.2f}", describe=False),
    )

    frames: int = 0
    face_frames: int = 0
    face_ratio: float = 0.0
    face_size: float | None = None
    smile_ratio: float | None = None
    mouth_open: float | None = None
    eye_open: float | None = None
    eyes_visible: float | None = None
    brow_raise: float | None = None
    head_motion: float | None = None

    @property
    def face_found(self) -> bool:
        return self.face_frames > 0


def extract_face_cues(path: str | Path, fps: float = FRAMES_PER_SECOND, max_frames: int = MAX_FRAMES) -> FaceCues:
    """Face cues of a video (sampled frames) or an image. Raises `CueError` naming the file when
    it is missing or unreadable; a file without a face gives `face_found == False`."""
    from emoreason.models.media import MediaError, load_image, load_video_frames

    file = Path(path)
    try:
        if file.suffix.lower() in IMAGE_SUFFIXES:
            frames = np.asarray(load_image(file))[None]
            times = [0.0]
        else:
            video = load_video_frames(file, fps=fps, max_frames=max_frames)
            frames = video.frames
            rate = video.fps or (video.total_frames / video.duration if video.duration > 0 else 1.0)
            times = [i / rate for i in video.indices]
    except MediaError as err:
        raise CueError(f"cannot read frames from {file}: {err}") from None
    return face_cues_from_frames(frames, times, path=str(file))


def face_cues_from_frames(frames: np.ndarray, times: list[float] | None = None, path: str = "<frames>") -> FaceCues:
    """Face cues of RGB frames `(T, H, W, 3)` uint8 taken at `times` seconds."""
    import cv2

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise CueError(f"{path}: expected RGB frames (T, H, W, 3), got shape {frames.shape}")
    times = list(times) if times is not None else [float(i) for i in range(len(frames))]
    cascades = _cascades()
    found: list[tuple[float, tuple[int, int, int, int], dict[str, float | None]]] = []
    for time, frame in zip(times, frames):
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        box = _largest_face(cascades["face"], gray)
        if box is not None:
            found.append((time, box, _measure_face(gray, box, cascades)))
    base = dict(path=path, frames=len(frames), face_frames=len(found), face_ratio=round(len(found) / len(frames), 4))
    if not found:
        return FaceCues(**base)

    def mean(key: str) -> float | None:
        values = [m[key] for _, _, m in found if m[key] is not None]
        return finite(np.mean(values)) if values else None

    return FaceCues(
        **base,
        face_size=finite(np.mean([b[2] / frames.shape[2] for _, b, _ in found])),
        smile_ratio=mean("smile"),
        mouth_open=mean("mouth_open"),
        eye_open=mean("eye_open"),
        eyes_visible=mean("eyes_visible"),
        brow_raise=mean("brow_raise"),
        head_motion=_head_motion([(t, b) for t, b, _ in found]),
    )


# --------------------------------------------------------------------------------------


_CASCADES: dict[str, object] = {}


def _cascades() -> dict[str, object]:
    """The bundled cascades, loaded once per process."""
    import cv2

    if not _CASCADES:
        files = {
            "face": "haarcascade_frontalface_default.xml",
            "eye": "haarcascade_eye.xml",
            "smile": "haarcascade_smile.xml",
        }
        for name, file in files.items():
            cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / file))
            if cascade.empty():
                raise CueError(f"OpenCV's bundled {file} is missing; reinstall opencv-python-headless (4.x)")
            _CASCADES[name] = cascade
    return _CASCADES


def _largest_face(cascade, gray: np.ndarray) -> tuple[int, int, int, int] | None:
    import cv2

    side = min(gray.shape)
    faces = cascade.detectMultiScale(
        cv2.equalizeHist(gray), scaleFactor=1.1, minNeighbors=5, minSize=(max(24, side // 10), max(24, side // 10))
    )
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    return int(x), int(y), int(w), int(h)


def _measure_face(gray: np.ndarray, box: tuple[int, int, int, int], cascades: dict) -> dict[str, float | None]:
    import cv2

    x, y, w, h = box
    face = cv2.resize(gray[y : y + h, x : x + w], (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_AREA)
    s = FACE_SIDE
    cheeks = np.concatenate(
        [
            face[int(0.55 * s) : int(0.7 * s), int(0.12 * s) : int(0.3 * s)].ravel(),
            face[int(0.55 * s) : int(0.7 * s), int(0.7 * s) : int(0.88 * s)].ravel(),
        ]
    )
    dark = face < DARK_FRACTION * float(np.median(cheeks))

    mouth = _blobs(dark[int(0.62 * s) : int(0.95 * s), int(0.3 * s) : int(0.7 * s)])
    mouth_open = max((b[3] for b in mouth), default=0) / s

    eye_open, brow_raise = [], []
    for left, right in ((0.1, 0.48), (0.52, 0.9)):
        top = int(0.1 * s)
        blobs = _blobs(dark[top : int(0.58 * s), int(left * s) : int(right * s)])
        eyes = [b for b in blobs if 0.25 * s <= top + b[4] <= 0.58 * s]
        if not eyes:
            continue
        eye = max(eyes, key=lambda b: b[4])  # the lowest dark blob in the eye area
        eye_open.append(eye[3] / s)
        brows = [b for b in blobs if b[4] < eye[1]]  # centre above the eye's top
        if brows:
            brow = max(brows, key=lambda b: b[4])
            brow_raise.append((eye[4] - brow[4]) / s)

    upper = cv2.equalizeHist(face[: int(0.6 * s)])
    eyes_found = cascades["eye"].detectMultiScale(upper, scaleFactor=1.1, minNeighbors=5, minSize=(s // 8, s // 8))
    lower = cv2.equalizeHist(face[int(0.55 * s) :])
    smiles = cascades["smile"].detectMultiScale(lower, scaleFactor=1.1, minNeighbors=15, minSize=(s // 4, s // 10))
    return {
        "mouth_open": mouth_open,
        "eye_open": float(np.mean(eye_open)) if eye_open else None,
        "brow_raise": float(np.mean(brow_raise)) if brow_raise else None,
        "eyes_visible": 1.0 if len(eyes_found) >= 2 else 0.0,
        "smile": 1.0 if len(smiles) else 0.0,
    }


def _blobs(mask: np.ndarray, min_area: int = 6) -> list[tuple[int, int, int, int, float]]:
    """Connected dark blobs as (x, y, width, height, centre_y), small specks dropped."""
    import cv2

    count, _, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return [
        (int(stats[i, 0]), int(stats[i, 1]), int(stats[i, 2]), int(stats[i, 3]), float(centroids[i, 1]))
        for i in range(1, count)
        if stats[i, cv2.CC_STAT_AREA] >= min_area
    ]


def _head_motion(track: list[tuple[float, tuple[int, int, int, int]]]) -> float | None:
    """Mean face-centre speed between consecutive face frames, in face widths per second."""
    speeds = []
    for (t0, (x0, y0, w0, h0)), (t1, (x1, y1, w1, h1)) in zip(track, track[1:]):
        if t1 <= t0:
            continue
        shift = np.hypot((x1 + w1 / 2) - (x0 + w0 / 2), (y1 + h1 / 2) - (y0 + h0 / 2))
        speeds.append(shift / ((w0 + w1) / 2) / (t1 - t0))
    return finite(np.mean(speeds)) if speeds else None
