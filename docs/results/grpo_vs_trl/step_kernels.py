"""Our GRPO step (benchmarks/grpo_vs_trl.py's setting, fp32, --no-skip) with the rollouts on MKL's
F.linear and on the engine's own choice (the packed kernel on the AMX Xeon), taking turns.

Each turn is a fresh process running `run_ours` of the benchmark with 1 warm-up + 3 timed steps;
`--kernel mkl` replaces the engine's choice with MKL. Prints each turn's median step, generation and
update, then the medians over the turns.

    python docs/results/grpo_vs_trl/step_kernels.py [--rounds 3] > docs/results/grpo_vs_trl/step_kernels_amx.txt
"""

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "grpo_vs_trl.py"


def one_turn(kernel: str) -> None:
    spec = importlib.util.spec_from_file_location("grpo_vs_trl", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    if kernel == "mkl":
        import emoreason.generation.engine as engine

        engine.choose_linear_kernel = lambda *args, **kwargs: "mkl"
    args = argparse.Namespace(
        steps=3, warmup=1, max_new_tokens=48, lr=1e-5, precision="fp32", no_merge=False,
        from_sft=False, no_skip=True, no_stop_strings=False, quiet=True,
    )  # fmt: skip
    result = bench.run_ours(args)
    print(json.dumps({"median_step_s": result["median_step_s"], "phases_s": result["phases_s"]}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kernel", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.kernel:
        one_turn(args.kernel)
        return
    kept: dict[str, list[dict]] = {"mkl": [], "auto": []}
    for turn in range(args.rounds):
        for kernel, runs in kept.items():
            out = subprocess.run(
                [sys.executable, __file__, "--kernel", kernel], capture_output=True, text=True, check=True
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
            r = runs[-1]
            print(
                f"turn {turn} {kernel:<5} step {r['median_step_s']:.2f} s, generation {r['phases_s']['generation']:.2f}"
                f" s, update {r['phases_s']['update']:.2f} s",
                flush=True,
            )
    for kernel, runs in kept.items():
        step = statistics.median(r["median_step_s"] for r in runs)
        gen = statistics.median(r["phases_s"]["generation"] for r in runs)
        update = statistics.median(r["phases_s"]["update"] for r in runs)
        print(f"{kernel:<5} median over turns: step {step:.2f} s, generation {gen:.2f} s, update {update:.2f} s")


if __name__ == "__main__":
    main()
