"""Rollouts from bf16 weights against fp32 (`rollout.dtype` of a GRPO recipe): agreement and speed.

The shipped default (SmolLM2-135M + its LoRA adapter, as GRPO after SFT starts) answers the same
prompts (a seeded random sample of a valid split; C2F format) greedily twice: from the fp32
policy with its LoRA deltas merged in place, and from the bf16 copy that `RolloutWeights`
keeps. Prints the share of identical completions, of equal parsed polarity, the correlation of
the parsed scores, and the generation time of each (the two take turns, `--repeats` times).

    python benchmarks/rollout_dtype.py [--dataset vader:movies] [--count 150] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from emoreason.data import load_dataset, random_subset
from emoreason.formats import build_conversation, get_format
from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.models import load_model
from emoreason.models.loading import shipped_default_adapter
from emoreason.train.config import ModelConfig
from emoreason.train.policy import RolloutWeights, prepare_policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="vader:movies")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--count", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    loaded = load_model("default", str(shipped_default_adapter()), trainable=True)
    policy = prepare_policy(loaded, ModelConfig())  # the loaded adapter, trainable, as GRPO continues it
    policy.eval()
    dataset = load_dataset(args.dataset)
    samples = random_subset(dataset.split(args.split), args.count, seed=0)
    fmt = get_format("c2f")
    conversations = [build_conversation(s, fmt, dataset.task) for s in samples]
    params = SamplingParams(max_new_tokens=args.max_new_tokens, temperature=0.0, stop_strings=fmt.stop_strings)
    systems = {dtype: RolloutWeights(loaded, merge=True, dtype=dtype) for dtype in ("float32", "bfloat16")}
    engines = {dtype: TransformersEngine(w.loaded, batch_size=args.batch_size) for dtype, w in systems.items()}
    texts: dict[str, list[str]] = {}
    seconds: dict[str, list[float]] = {dtype: [] for dtype in systems}
    for _ in range(args.repeats):
        for dtype, weights in systems.items():
            began = time.perf_counter()
            with weights():
                outputs = engines[dtype].generate(conversations, params)
            seconds[dtype].append(time.perf_counter() - began)
            texts[dtype] = [out[0].text for out in outputs]
    parsed = {dtype: [fmt.parse(t, dataset.task) for t in texts[dtype]] for dtype in texts}
    same_text = sum(a == b for a, b in zip(texts["float32"], texts["bfloat16"]))
    same_polarity = sum(a.polarity == b.polarity for a, b in zip(parsed["float32"], parsed["bfloat16"]))
    pairs = [
        (a.score, b.score)
        for a, b in zip(parsed["float32"], parsed["bfloat16"])
        if a.score is not None and b.score is not None
    ]
    r = float(np.corrcoef(np.array(pairs).T)[0, 1]) if len(pairs) > 2 else float("nan")
    n = len(samples)
    print(f"{n} prompts of {args.dataset} {args.split} (seed 0), greedy, <= {args.max_new_tokens} new tokens")
    print(f"  identical completions: {same_text}/{n} ({same_text / n:.2f})")
    print(f"  equal polarity:        {same_polarity}/{n} ({same_polarity / n:.2f})")
    print(f"  score correlation r:   {r:.3f} over {len(pairs)} answers with a score in both")
    for dtype in systems:
        print(f"  {dtype}: median {statistics.median(seconds[dtype]):.1f} s for {n} answers")


if __name__ == "__main__":
    main()
