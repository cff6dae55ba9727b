"""Whether bf16 pays on this machine: fp32 against bf16 matrix products, and what `auto` picks.

The `auto` settings (`optim.precision`, SFT `train.precision`, `rollout.dtype`) take bf16 only
where `emoreason.models.loading.native_bf16` says the device multiplies bf16 in hardware. This
script prints that answer and the throughput behind it, with the model's MLP shape
(576 -> 1536) at the row counts an update (384 token positions) and a rollout batch (8 rows) use:
fp32, bf16 weights and inputs, and fp32 tensors under `torch.autocast(bfloat16)` (what the
update's bf16 precision runs).

    python benchmarks/matmul_dtypes.py [--repeats 20]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from decode_matmuls import median_ms  # this folder is on the path when a script here runs

from emoreason.models.loading import native_bf16

IN, OUT = 576, 1536


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(
        f"native bf16 matmuls on this CPU: {native_bf16('cpu')} (auto picks {'bf16' if native_bf16('cpu') else 'fp32'})"
    )
    print(f"threads {torch.get_num_threads()}; shape [rows x {IN}] x [{IN} x {OUT}]")
    print(f"{'rows':>5} {'way':<25} {'ms':>8} {'GFLOP/s':>8}")
    weight = torch.randn(OUT, IN)
    for rows in (384, 8):
        x = torch.randn(rows, IN)
        flops = 2 * rows * IN * OUT

        def autocast(x=x) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                F.linear(x, weight)

        ways = {
            "fp32": lambda x=x: F.linear(x, weight),
            "bf16": lambda x=x.bfloat16(), w=weight.bfloat16(): F.linear(x, w),
            "fp32 under bf16 autocast": autocast,
        }
        for name, run in ways.items():
            ms = median_ms(run, args.repeats)
            print(f"{rows:>5} {name:<25} {ms:>8.2f} {flops / ms / 1e6:>8.1f}")


if __name__ == "__main__":
    main()
