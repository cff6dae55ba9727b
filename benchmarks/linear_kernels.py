"""The evaluate workload on each fp32 linear-layer kernel: time, and whether the answers change.

`generation.matmul` picks, per CPU, the kernel the engine's linear layers run on (MKL's
`F.linear`, the oneDNN route, or MKL's sgemm on weights packed for the batch's row count). This
script runs `emoreason.evaluate` (the default model with its shipped adapter, greedy, the
adapter's own token budget, grounded quotes, the fitted readout) on the same sentences once per
kernel, and prints for each: the wall time, samples/s, and against the first kernel the share of
identical completions, of equal polarities, the largest score difference, and each one's r.

    python benchmarks/linear_kernels.py [--dataset vader:movies] [--split valid] [--samples 150]
        [--kernels mkl,mkl_packed] [--batch-size 16] [--repeats 1] [--out runs/bench/linear_kernels]

It also prints what the engine would choose on its own at that batch size (with each accurate
kernel's summed probe time). Run it on an idle CPU; with `--repeats` the kernels take turns and
the median time is shown with its range, since this machine's speed has drifted by up to 1.7x
within an hour. A kernel this CPU computes inaccurately (oneDNN in bf16 on AMX) is
still run if asked for: the answers show what the accuracy check protects against.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import emoreason
from emoreason.generation import TransformersEngine
from emoreason.generation.matmul import LINEAR_KERNELS, choose_linear_kernel, kernel_totals, model_linear_shapes
from emoreason.models import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="vader:movies")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--samples", type=int, default=150, help="a seeded random N of the split (seed 0)")
    parser.add_argument("--kernels", default="mkl,mkl_packed", help=f"comma-separated, of {', '.join(LINEAR_KERNELS)}")
    parser.add_argument("--batch-size", type=int, default=16, help="evaluate's default")
    parser.add_argument("--repeats", type=int, default=1, help="runs per kernel, taking turns; the median is shown")
    parser.add_argument("--out", default="runs/bench/linear_kernels")
    args = parser.parse_args()
    kernels = args.kernels.split(",")
    unknown = sorted(set(kernels) - set(LINEAR_KERNELS))
    if unknown:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}; use {', '.join(LINEAR_KERNELS)}")

    loaded = load_model("default")
    shapes = model_linear_shapes(loaded.model)
    chosen = choose_linear_kernel(loaded.model, loaded.device, loaded.dtype, args.batch_size)
    totals = kernel_totals(args.batch_size, shapes)
    print(
        f"model {loaded.name}, {loaded.dtype}, threads {torch.get_num_threads()}, {args.dataset} {args.split}, "
        f"seeded {args.samples}, batch {args.batch_size}"
    )
    probe_line = ", ".join(f"{k} {1000 * t:.1f} ms{'' if ok else ' (inaccurate)'}" for k, (t, ok) in totals.items())
    print(f"probe, one step's products at {args.batch_size} rows: {probe_line}; the engine chooses {chosen}")

    times: dict[str, list[float]] = {kernel: [] for kernel in kernels}
    runs = {}
    for _ in range(args.repeats):  # the kernels take turns: this machine's speed drifts over minutes
        for kernel in kernels:
            engine = TransformersEngine(loaded, batch_size=args.batch_size, linear_kernel=kernel)
            out = Path(args.out) / kernel
            started = time.perf_counter()
            metrics = emoreason.evaluate(
                args.dataset,
                split=args.split,
                sample=args.samples,
                seed=0,
                out=out,
                batch_size=args.batch_size,
                baselines=(),
                fresh=True,
                loader=lambda *_, engine=engine: (loaded, engine),
            )
            times[kernel].append(time.perf_counter() - started)
            rows = [json.loads(line) for line in (out / "predictions.jsonl").open()]
            runs[kernel] = (rows, metrics["rows"]["model"]["pearson_r"])

    first = kernels[0]
    base_seconds, base_rows = statistics.median(times[first]), runs[first][0]
    columns = f"vs {first}: identical  polarity  max |score diff| | r"
    print(f"{'kernel':<12} {'median s':>8} {'min-max s':>13} {'samples/s':>9} {'speedup':>7} | {columns}")
    for kernel, (rows, r) in runs.items():
        seconds = statistics.median(times[kernel])
        spread = f"{min(times[kernel]):.1f}-{max(times[kernel]):.1f}"
        same = np.mean([a["raw_completion"] == b["raw_completion"] for a, b in zip(rows, base_rows, strict=True)])
        polarity = np.mean([a["polarity"] == b["polarity"] for a, b in zip(rows, base_rows, strict=True)])
        diff = max(abs((a["score"] or 0.0) - (b["score"] or 0.0)) for a, b in zip(rows, base_rows, strict=True))
        print(
            f"{kernel:<12} {seconds:>8.1f} {spread:>13} {len(rows) / seconds:>9.3f} {base_seconds / seconds:>6.2f}x | "
            f"{same:>17.3f} {polarity:>9.3f} {diff:>17.4f} | {r:.4f}"
        )


if __name__ == "__main__":
    main()
