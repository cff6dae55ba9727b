"""Probe: greedy vs k sampled chains per sentence, on a seeded 200 of each VADER valid split.
Writes runs/consensus/<name>/<domain>.{greedy,sampled}.jsonl (resumable per file)."""

import json
import sys
import time
from pathlib import Path

from emoreason.api.explainer import load_engine
from emoreason.data import load_dataset, random_subset
from emoreason.formats import get_format
from emoreason.generation import SamplingParams
from emoreason.inference import conversations_for
from emoreason.models.loading import resolve_adapters
from emoreason.models.shipped import AdapterSettings

name, adapter = sys.argv[1], (None if sys.argv[2] == "default" else sys.argv[2])
k, temperature = int(sys.argv[3]), float(sys.argv[4])
split = sys.argv[5] if len(sys.argv) > 5 else "valid"
n_sample = int(sys.argv[6]) if len(sys.argv) > 6 else 200
own = AdapterSettings.of(resolve_adapters("default", adapter))
fmt = get_format("c2f")
loaded, engine = load_engine("default", adapter, batch_size=40)
out = Path(f"runs/consensus/{name}")
out.mkdir(parents=True, exist_ok=True)
for domain in ("tweets", "products", "movies"):
    ds = load_dataset(f"vader:{domain}")
    samples = random_subset(ds.split(split), n_sample, 0)
    for kind, params, chunk in (
        (
            "greedy",
            SamplingParams(max_new_tokens=own.max_new_tokens or 192, stop_strings=fmt.stop_strings, ground_quotes=True),
            16,
        ),
        (
            "sampled",
            SamplingParams(
                n=k,
                temperature=temperature,
                seed=0,
                max_new_tokens=own.max_new_tokens or 192,
                stop_strings=fmt.stop_strings,
                ground_quotes=True,
            ),
            8,
        ),
    ):
        path = out / f"{domain}.{split}.{kind}.jsonl"
        done = {json.loads(line)["id"] for line in path.open()} if path.exists() else set()
        todo = [s for s in samples if s.id not in done]
        began = time.time()
        with path.open("a") as f:
            for i in range(0, len(todo), chunk):
                part = todo[i : i + chunk]
                outs = engine.generate(conversations_for(part, fmt, ds.task), params)
                for s, comps in zip(part, outs):
                    answers = []
                    for c in comps:
                        p = fmt.parse(c.text, ds.task)
                        answers.append({"polarity": p.polarity, "score": p.score, "ok": p.ok, "text": c.text})
                    f.write(json.dumps({"id": s.id, "gold": s.score, "answers": answers}) + "\n")
                f.flush()
                print(f"{name} {domain} {kind} {i + len(part)}/{len(todo)} {time.time() - began:.0f}s", flush=True)
