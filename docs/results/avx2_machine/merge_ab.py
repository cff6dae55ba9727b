"""Exploratory: rollout generation with the LoRA merged vs unmerged, TRL's setting (2 prompts x
G=4, 48 new tokens, fresh LoRA r=16), the same prompts and seed, alternating, on this CPU."""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, "benchmarks")
import grpo_vs_trl as b

import emoreason.rl.trainer as T

args = argparse.Namespace(
    warmup=1,
    steps=1,
    max_new_tokens=48,
    from_sft=False,
    no_merge=False,
    precision="fp32",
    lr=1e-5,
    no_stop_strings=False,
)
holder = {}
T.GRPOTrainer.train = lambda self, *a, **k: holder.setdefault("t", self) and []
try:
    b.run_ours(args)
except BaseException:
    pass
tr = holder["t"]
merged = tr.rollout_weights.merged
prompts = tr.prompts_for_step(0)
times = {"merged": [], "unmerged": []}
tr.model.eval()
for rep in range(5):
    for name in ("merged", "unmerged"):
        tr.rollout_weights.merged = merged if name == "merged" else None
        began = time.perf_counter()
        with tr.rollout_weights():
            groups, _ = tr.generate_rollouts(prompts, 0)
        elapsed = time.perf_counter() - began
        tokens = sum(len(r.completion_ids) if hasattr(r, "completion_ids") else 0 for g in groups for r in g)
        if rep:  # the first round warms up
            times[name].append(elapsed)
        print(rep, name, f"{elapsed:.2f} s", flush=True)
for name, ts in times.items():
    print(name, f"median {statistics.median(ts):.2f} s, min {min(ts):.2f}, max {max(ts):.2f} (n={len(ts)})")
