"""Grounded quoting's per-input candidate scan, before and after e433047, on the evaluate workload.

Before, each new input squashed all 49k token texts of the vocabulary again; now they are squashed
once per tokenizer. `emoreason.evaluate` on a seeded 64 of vader:movies valid (the default model,
batch 16, the engine's own kernel choice), the old scan and the new one taking turns, twice each;
the completions must be identical.

    python docs/results/grpo_vs_trl/quotes_ab.py > docs/results/grpo_vs_trl/quotes_ab_amx.txt
"""

import json
import time

import emoreason
from emoreason.api.explainer import load_engine
from emoreason.generation.chain_text import FIRST_MARK, lowered, squash
from emoreason.generation.quotes import GroundedQuotes

loaded, engine = load_engine("default", batch_size=16)
new = GroundedQuotes.candidates


def old(self: GroundedQuotes, row: int) -> list[int]:
    source = self.sources[row] or ""
    if source not in self._candidates:
        lowered_source = lowered(source)
        self._candidates[source] = [
            i
            for i, text in enumerate(self.texts)
            if FIRST_MARK.search(text) or ("\n" not in text and squash(text) in lowered_source)
        ]
    return self._candidates[source]


times: dict[str, list[float]] = {"old scan": [], "new": []}
outs = {}
for _ in range(2):
    for name, scan in (("old scan", old), ("new", new)):
        GroundedQuotes.candidates = scan  # type: ignore[method-assign]
        started = time.perf_counter()
        out = f"runs/bench/quotes_ab/{name.replace(' ', '_')}"
        emoreason.evaluate(
            "vader:movies",
            split="valid",
            sample=64,
            seed=0,
            out=out,
            baselines=(),
            fresh=True,
            loader=lambda *_: (loaded, engine),
        )
        times[name].append(time.perf_counter() - started)
        outs[name] = [json.loads(line)["raw_completion"] for line in open(f"{out}/predictions.jsonl")]
for name, kept in times.items():
    print(f"{name}: {', '.join(f'{t:.1f}' for t in kept)} s (64 sentences)")
print("identical completions:", outs["old scan"] == outs["new"])
