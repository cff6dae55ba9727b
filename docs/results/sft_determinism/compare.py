"""probe.sh's readout: SFT's first 4 steps in runs A and B of this session, the twenty-ninth session's
SFT 600 (runs/sft600) and the eighteenth session's recorded rebuild, side by side; then A's and B's
step-4 adapters compared tensor by tensor."""

import json
import os
import platform
from pathlib import Path

import torch
from safetensors.torch import load_file

RUNS = {
    "A (this session)": Path("runs/sft_determinism/a/metrics.jsonl"),
    "B (this session)": Path("runs/sft_determinism/b/metrics.jsonl"),
    "SFT 600 (29th session)": Path("runs/sft600/metrics.jsonl"),
    "recorded rebuild (18th)": Path("docs/results/rl_centred_lr3e5/sft600_rebuild_metrics.jsonl"),
}


def steps(path: Path) -> dict[int, dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["step"]: r for r in rows if "loss" in r and 1 <= r["step"] <= 4}


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    print(
        f"cpu: {cpu_name()}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    table = {name: steps(path) for name, path in RUNS.items() if path.exists()}
    print(f"{'run':<26}" + "".join(f"  step {s}: loss / grad_norm   " for s in range(1, 5)))
    for name, rows in table.items():
        cells = "".join(
            f"  {rows[s]['loss']:.6f} / {rows[s]['grad_norm']:.6f}" if s in rows else "  -" for s in range(1, 5)
        )
        print(f"{name:<26}{cells}")
    a = load_file("runs/sft_determinism/a/final/adapter/adapter_model.safetensors")
    b = load_file("runs/sft_determinism/b/final/adapter/adapter_model.safetensors")
    differing = [k for k in a if not torch.equal(a[k], b[k])]
    largest = max((float((a[k].float() - b[k].float()).abs().max()) for k in a), default=0.0)
    print(
        f"step-4 adapters A vs B: {len(a)} tensors, {len(differing)} differ, largest absolute difference {largest:.3g}"
    )


if __name__ == "__main__":
    main()
