"""Synthetic media with known properties for the cue tests: tones, chirps, a drawn face that
OpenCV's bundled frontal-face cascade detects, and short MP4 clips made of both."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SR = 16000


def tone(freq: float = 220.0, seconds: float = 1.5, amplitude: float = 0.3, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chirp(start: float = 150.0, end: float = 400.0, seconds: float = 1.5, sr: int = SR) -> np.ndarray:
    """An exponential sweep: pitch rises steadily (in semitones) from `start` to `end` Hz."""
    t = np.arange(int(seconds * sr)) / sr
    freq = start * np.exp(np.log(end / start) * t / seconds)
    return (0.3 * np.sin(2 * np.pi * np.cumsum(freq) / sr)).astype(np.float32)


def syllables(rate: float = 4.0, seconds: float = 2.0, freq: float = 180.0, sr: int = SR) -> np.ndarray:
    """A voiced tone switched on and off `rate` times per second: syllable-like bursts and gaps."""
    t = np.arange(int(seconds * sr)) / sr
    gate = (np.sin(2 * np.pi * rate * t) > 0).astype(np.float64)
    smooth = np.convolve(gate, np.hanning(int(0.02 * sr)) / np.hanning(int(0.02 * sr)).sum(), mode="same")
    return (0.3 * smooth * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def draw_face(brow: float = 0.0, mouth: float = 0.0, size: int = 120, shift: tuple[int, int] = (0, 0)) -> np.ndarray:
    """A grey cartoon face (RGB uint8, 2*size square) that the Haar frontal-face cascade finds:
    dark eye sockets under dark brows on a lighter skin oval, a nose shadow and a mouth.
    `brow` raises the brows and `mouth` opens the mouth (fractions of the face height)."""
    import cv2

    img = np.full((size * 2, size * 2), 60, np.uint8)
    cx, cy = size + shift[0], size + shift[1]
    w, h, skin = int(size * 0.5), int(size * 0.65), 190
    cv2.ellipse(img, (cx, cy), (w, h), 0, 0, 360, skin, -1)
    eye_y = cy - int(h * 0.15)
    for side in (-1, 1):
        ex = cx + side * int(w * 0.42)
        cv2.ellipse(img, (ex, eye_y), (int(w * 0.22), int(h * 0.1)), 0, 0, 360, skin - 60, -1)
        cv2.ellipse(img, (ex, eye_y), (int(w * 0.14), int(h * 0.05)), 0, 0, 360, 40, -1)
        cv2.ellipse(img, (ex, eye_y - int(h * (0.16 + brow))), (int(w * 0.25), int(h * 0.03)), 0, 0, 360, 50, -1)
    cv2.ellipse(img, (cx, cy + int(h * 0.2)), (int(w * 0.12), int(h * 0.05)), 0, 0, 360, skin - 40, -1)
    cv2.ellipse(img, (cx, cy + int(h * 0.45)), (int(w * 0.35), int(h * (0.04 + mouth))), 0, 0, 360, 70, -1)
    img = cv2.GaussianBlur(img, (0, 0), 3)
    return np.repeat(img[..., None], 3, axis=2)


def write_clip(path: Path, frames: list[np.ndarray], audio: np.ndarray | None = None, fps: int = 4) -> Path:
    """An MP4 (MPEG-4 video, AAC sound at 16 kHz when `audio` is given)."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=SR) if audio is not None else None
        if sound is not None:
            sound.layout = "mono"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None and audio is not None:
            for start in range(0, len(audio), 1024):
                chunk = av.AudioFrame.from_ndarray(
                    audio[None, start : start + 1024].astype(np.float32), format="flt", layout="mono"
                )
                chunk.sample_rate, chunk.pts = SR, start
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path


def face_clip(path: Path, seconds: float = 2.0, freq: float = 200.0, audio: bool = True, drift: int = 3) -> Path:
    """A talking-face clip: the drawn face drifting sideways, with a tone as its voice."""
    fps = 4
    frames = [draw_face(mouth=0.08 * (i % 2), shift=(drift * i, 0)) for i in range(int(seconds * fps))]
    return write_clip(path, frames, syllables(3.0, seconds, freq) if audio else None, fps)
