"""The VADER recipe script end to end at toy size (a tiny model, a few samples and steps), so
the one command that reproduces docs/RESULTS.md keeps working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_reproduce_vader_toy_runs_every_stage_and_resumes(tmp_path: Path, tiny_models) -> None:
    command = [
        sys.executable,
        str(ROOT / "scripts" / "reproduce_vader.py"),
        "--toy",
        "--model",
        str(tiny_models["causal_lm"]),
        "--out",
        str(tmp_path),
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert (tmp_path / "distill" / "sft.jsonl").is_file()
    assert (tmp_path / "sft" / "final" / "adapter" / "adapter_config.json").is_file()
    for variant in ("hints", "nohints", "drop"):
        assert (tmp_path / f"grpo_{variant}" / "checkpoint-1" / "adapter").is_dir()
        # validated inside training: best/ is what the evaluation stage reads, curves.png is drawn
        assert (tmp_path / f"grpo_{variant}" / "best" / "adapter").is_dir()
        assert (tmp_path / f"grpo_{variant}" / "curves.png").is_file()
    for system in ("base", "sft", "grpo_hints", "grpo_nohints", "grpo_drop"):
        for part in ("tweets-test", "products-test", "movies-test", "movies-valid"):
            metrics = json.loads((tmp_path / "eval" / system / part / "metrics.json").read_text())
            assert metrics["n"] == 2
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["best"] in ("sft", "grpo_hints", "grpo_nohints", "grpo_drop")
    stages = json.loads((tmp_path / "stages.json").read_text())["stages"]
    assert {s["stage"] for s in stages} >= {"distill", "sft", "grpo_hints", "eval_sft_movies_valid"}

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count("skipped") == len(stages)

    # shipping the chosen adapter: fp16 copy, a model card from the run, loadable by peft
    dest = tmp_path / "shipped"
    ship = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "ship_default_adapter.py"),
            "--run",
            str(tmp_path),
            "--dest",
            str(dest),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ship.returncode == 0, ship.stderr[-3000:]
    from safetensors.torch import load_file

    from emoreason.models import load_model

    tensors = load_file(str(dest / "adapter_model.safetensors"))
    assert tensors and all(str(t.dtype) == "torch.float16" for t in tensors.values())
    card = (dest / "README.md").read_text()
    assert f"system `{best['best']}`" in card and "| vader:movies | 2 |" in card and "emoreason sft" in card
    assert "commit `" in card and (dest / "sft_config.yaml").is_file()
    lora = json.loads((dest / "adapter_config.json").read_text())
    assert f"LoRA r={lora['r']}, alpha={lora['lora_alpha']};" in card  # the shipped adapter's own, not a template's
    loaded = load_model(str(tiny_models["causal_lm"]), [str(dest)])
    assert loaded.adapters == [str(dest)]

    # a GRPO winner: best.json named the run folder, which the ship script refused (no adapter_config.json)
    chosen = tmp_path / "eval" / "grpo_hints" / "movies-valid" / "metrics.json"
    metrics = json.loads(chosen.read_text())
    metrics["rows"]["model"]["pearson_r"] = 2.0  # above any r
    chosen.write_text(json.dumps(metrics))
    select = subprocess.run([*command, "--stages", "select"], capture_output=True, text=True, timeout=300)
    assert select.returncode == 0, select.stderr[-3000:]
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["best"] == "grpo_hints" and best["adapter"] == str(tmp_path / "grpo_hints" / "best" / "adapter")


def test_a_failing_stage_command_is_not_taken_for_done(tmp_path: Path) -> None:
    """The stages run the CLI in-process, where click returns (not raises) a command's exit code."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import reproduce_vader
    finally:
        sys.path.pop(0)
    code = reproduce_vader.emoreason(["evaluate", "-d", "vader:movies", "--adapter", str(tmp_path / "missing")])
    assert code == 2
