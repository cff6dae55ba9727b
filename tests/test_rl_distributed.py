"""Two CPU processes (gloo) train the same GRPO run; DDP must keep their weights identical."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

WORKER = Path(__file__).with_name("grpo_ddp_worker.py")


def free_port() -> int:
    """A TCP port nobody listens on (torchrun's --master_port 0 hangs the rendezvous)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_end_with_identical_weights(tmp_path: Path, tiny_models: dict[str, Path]) -> None:
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed next to this Python")
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [
            torchrun,
            "--nproc_per_node",
            "2",
            "--master_port",
            str(free_port()),
            str(WORKER),
            str(tiny_models["causal_lm"]),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    infos = [json.loads((out / f"info_rank{r}.json").read_text()) for r in range(2)]
    assert all(i["world"] == 2 and "MULTI_CPU" in i["distributed_type"] for i in infos)
    assert infos[0]["steps"] == [1, 2]
    assert infos[0]["prompts"] != infos[1]["prompts"]  # each process draws its own prompts
    first, second = (torch.load(out / f"weights_rank{r}.pt") for r in range(2))
    initial = load_file(str(tiny_models["causal_lm"] / "model.safetensors"))
    changed = 0
    for name, value in first.items():
        torch.testing.assert_close(value, second[name], atol=0, rtol=0, msg=name)
        key = name if name in initial else name.removeprefix("model.")
        if key in initial and not torch.equal(initial[key], value):
            changed += 1
    assert changed > 0, "the weights did not move"
    assert (out / "checkpoint-2" / "trainer_state.json").is_file()
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2  # rank 0 logs, once per step
    # rank 0 writes every process's rollouts: 2 prompts x G=4 each, its own prompts under its rank
    rollouts = [json.loads(line) for line in (out / "rollouts.jsonl").read_text().splitlines()]
    assert len(rollouts) == 2 * 2 * 2 * 4
    for rank in range(2):
        for step in (1, 2):
            ids = [r["id"] for r in rollouts if r["rank"] == rank and r["step"] == step]
            assert ids == [i for i in infos[rank]["prompts"][step - 1] for _ in range(4)]


@pytest.mark.slow
def test_two_process_sft_takes_the_token_mean_of_the_whole_window(tmp_path: Path, tiny_models: dict[str, Path]) -> None:
    """Each process divided its chains' loss by its own token count: the short chain's tokens weighed
    several times the long one's, and the logged loss was a mean of the two means."""
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed next to this Python")
    worker, model = Path(__file__).with_name("sft_ddp_worker.py"), str(tiny_models["causal_lm"])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    two, one = tmp_path / "two", tmp_path / "one"
    runs = (
        [torchrun, "--nproc_per_node", "2", "--master_port", str(free_port()), str(worker), model, str(two), "1"],
        [sys.executable, str(worker), model, str(one), "2"],
    )
    for command in runs:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        assert result.returncode == 0, result.stderr[-4000:]
    stats = {name: json.loads((folder / "stats.json").read_text()) for name, folder in (("two", two), ("one", one))}
    assert stats["two"]["world"] == 2 and stats["one"]["world"] == 1
    assert stats["two"]["tokens"] == stats["one"]["tokens"] > 50  # the window's count, not a process's mean
    assert stats["two"]["loss"] == pytest.approx(stats["one"]["loss"], rel=1e-4)
    split, whole = torch.load(two / "grads.pt"), torch.load(one / "grads.pt")
    assert split.keys() == whole.keys() and split
    difference = sum(float(((split[k] - whole[k]) ** 2).sum()) for k in whole) ** 0.5
    size = sum(float((whole[k] ** 2).sum()) for k in whole) ** 0.5
    assert difference / size < 1e-3
