"""Shared test set-up: offline model hubs, the optional ../shared data, tiny models and media."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# No test may reach a model or dataset hub; these make any accidental attempt fail fast.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# transformers binds its log handler to whatever sys.stderr is when its logging is first set up.
# Under typer's CliRunner that is a temporary stream, closed after the call, and a later warning
# then prints a logging traceback into another command's captured output. Set it up here, on
# the real stderr, as a command-line process always has it.
from transformers.utils import logging as _transformers_logging  # noqa: E402

_transformers_logging.get_logger("transformers")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def shared_data() -> Path:
    """The project's ../shared/data folder; tests that need it skip when it is absent."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent (it sits beside the checkout in the dev/CI layout)")
    return path


# --------------------------------------------------------------------------------------
# tiny offline models of every family, and small media files (built once per session)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders of a tiny causal LM, Qwen2.5-VL and Qwen2.5-Omni thinker (random weights)."""
    from emoreason.testing import fixtures

    root = tmp_path_factory.mktemp("tiny-models")
    return {
        "causal_lm": fixtures.make_tiny_causal_lm(root / "causal_lm"),
        "qwen2_5_vl": fixtures.make_tiny_qwen2_5_vl(root / "qwen2_5_vl"),
        "qwen2_5_omni": fixtures.make_tiny_qwen2_5_omni_thinker(root / "qwen2_5_omni"),
    }


def _write_video(
    path: Path, frames: int = 8, fps: int = 4, width: int = 64, height: int = 48, audio: bool = False
) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=16000) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for i in range(frames):
            array = np.zeros((height, width, 3), np.uint8)
            array[..., 0] = (40 * i) % 256
            array[height // 4 : height // 2, (6 * i) % (width - 10) : (6 * i) % (width - 10) + 10] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if sound is not None:
            total = 16000 * frames // fps
            signal = (0.2 * np.sin(2 * np.pi * 330 * np.arange(total) / 16000)).astype(np.float32)
            for start in range(0, total, 1024):
                frame = av.AudioFrame.from_ndarray(signal[None, start : start + 1024], format="flt", layout="mono")
                frame.sample_rate, frame.pts = 16000, start
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import soundfile as sf
    from PIL import Image, ImageDraw

    root = tmp_path_factory.mktemp("media")
    out: dict[str, Path] = {}
    image = Image.new("RGB", (80, 60), "white")
    ImageDraw.Draw(image).ellipse((10, 10, 50, 50), fill="red")
    image.save(out.setdefault("image", root / "face.png"))
    Image.new("RGB", (120, 90), (20, 60, 200)).save(out.setdefault("image2", root / "blue.png"))
    t = np.arange(int(16000 * 1.5)) / 16000
    sf.write(out.setdefault("wav", root / "tone.wav"), (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    t44 = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 220 * t44), np.sin(2 * np.pi * 330 * t44)], axis=1) * 0.2
    sf.write(out.setdefault("wav44", root / "stereo44k.wav"), stereo.astype(np.float32), 44100)
    out["video"] = _write_video(root / "clip.mp4")
    out["video_audio"] = _write_video(root / "talk.mp4", frames=12, audio=True)
    for name in ("png", "mp4", "wav"):
        (root / f"broken.{name}").write_bytes(b"definitely not media " * 8)
        out[f"broken_{name}"] = root / f"broken.{name}"
    return out
