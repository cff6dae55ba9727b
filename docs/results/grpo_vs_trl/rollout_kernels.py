"""GRPO-setting rollouts on MKL's F.linear and on MKL's packed sgemm, taking turns.

The default model with its shipped adapter (so answers are in the format and stop at
`</score>`), 2 train prompts x 4 samples, at most 48 new tokens, temperature 1, seeded: six
batches, each generated once per kernel; the first batch is a warm-up. Prints each batch's
times, whether the two kernels sampled the same tokens, and the medians.

    python docs/results/grpo_vs_trl/rollout_kernels.py > docs/results/grpo_vs_trl/rollout_kernels_amx.txt
"""

import statistics
import time

from emoreason.data import load_dataset
from emoreason.formats import build_conversation, get_format
from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.models import load_model

loaded = load_model("default")
fmt = get_format("c2f")
ds = load_dataset("vader:movies")
train = ds.split("train")
times: dict[str, list[float]] = {"mkl": [], "mkl_packed": []}
for batch in range(6):
    conversations = [build_conversation(s, fmt, ds.task) for s in train[2 * batch : 2 * batch + 2]]
    params = SamplingParams(n=4, max_new_tokens=48, temperature=1.0, stop_strings=fmt.stop_strings, seed=batch)
    tokens = {}
    for kernel, kept in times.items():
        engine = TransformersEngine(loaded, batch_size=8, linear_kernel=kernel)
        started = time.perf_counter()
        out = engine.generate(conversations, params)
        kept.append(time.perf_counter() - started)
        tokens[kernel] = [c.token_ids for cs in out for c in cs]
    same = tokens["mkl"] == tokens["mkl_packed"]
    print(batch, {k: round(v[-1], 2) for k, v in times.items()}, "same tokens:", same, flush=True)
for kernel, kept in times.items():
    timed = kept[1:]
    print(f"{kernel}: median {statistics.median(timed):.2f} s, range {min(timed):.2f}-{max(timed):.2f}")
