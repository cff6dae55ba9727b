"""Profile the rollout generation inside our GRPO step (benchmarks/grpo_vs_trl.py's setting, fp32,
--no-skip, 1 warm-up + 2 steps), with the engine's kernel choice (`packed` on the AMX Xeon) or
MKL forced (`mkl`); cProfile covers only the engine's `generate` calls.

    python docs/results/grpo_vs_trl/step_profile.py packed|mkl
"""

import argparse
import cProfile
import importlib.util
import pstats
import sys

import emoreason.generation.engine as eng

spec = importlib.util.spec_from_file_location("b", "benchmarks/grpo_vs_trl.py")
b = importlib.util.module_from_spec(spec)
spec.loader.exec_module(b)
if sys.argv[1] == "mkl":
    eng.choose_linear_kernel = lambda *a, **k: "mkl"
prof = cProfile.Profile()
orig = eng.TransformersEngine.generate


def gen(self, *a, **k):
    prof.enable()
    r = orig(self, *a, **k)
    prof.disable()
    return r


eng.TransformersEngine.generate = gen
args = argparse.Namespace(
    steps=2,
    warmup=1,
    max_new_tokens=48,
    lr=1e-5,
    precision="fp32",
    no_merge=False,
    from_sft=False,
    no_skip=True,
    no_stop_strings=False,
    quiet=True,
)
res = b.run_ours(args)
print(sys.argv[1], res["phases_s"], res["step_s"])
pstats.Stats(prof).sort_stats("tottime").print_stats(12)
