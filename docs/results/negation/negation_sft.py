"""Greedy answers of an adapter on the seeded 200-per-split sentences that hold a negation word
(the same sentences as runs/consensus/shipped), written like consensus_probe's greedy files."""

import json
import re
import sys
import time
from pathlib import Path

from emoreason.api.explainer import load_engine
from emoreason.data import load_dataset, random_subset
from emoreason.formats import get_format
from emoreason.generation import SamplingParams
from emoreason.inference import conversations_for

NEG = re.compile(r"\b(not|no|never|nothing|nobody|none|neither|nor|without|hardly|barely)\b|n't\b", re.I)
name, adapter = sys.argv[1], sys.argv[2]
fmt = get_format("c2f")
loaded, engine = load_engine("default", adapter, batch_size=16)
out = Path(f"runs/negation/{name}")
out.mkdir(parents=True, exist_ok=True)
params = SamplingParams(max_new_tokens=192, stop_strings=fmt.stop_strings, ground_quotes=True)
for split in ("valid", "test"):
    for domain in ("tweets", "products", "movies"):
        ds = load_dataset(f"vader:{domain}")
        samples = [s for s in random_subset(ds.split(split), 200, 0) if NEG.search(s.text)]
        path = out / f"{domain}.{split}.greedy.jsonl"
        began = time.time()
        with path.open("w") as f:
            for i in range(0, len(samples), 16):
                part = samples[i : i + 16]
                for s, comps in zip(part, engine.generate(conversations_for(part, fmt, ds.task), params)):
                    p = fmt.parse(comps[0].text, ds.task)
                    f.write(
                        json.dumps(
                            {
                                "id": s.id,
                                "gold": s.score,
                                "answers": [
                                    {"polarity": p.polarity, "score": p.score, "ok": p.ok, "text": comps[0].text}
                                ],
                            }
                        )
                        + "\n"
                    )
        print(f"{name} {split} {domain} {len(samples)} in {time.time() - began:.0f}s", flush=True)
