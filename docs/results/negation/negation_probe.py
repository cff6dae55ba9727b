"""Polarity accuracy of saved greedy answers on sentences with and without a negation word."""

import json
import re
import sys
from pathlib import Path

from emoreason.data import load_dataset

NEG = re.compile(r"\b(not|no|never|nothing|nobody|none|neither|nor|without|hardly|barely)\b|n't\b", re.I)
root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/consensus/shipped")
for split in ("valid", "test"):
    tallies = {True: [0, 0], False: [0, 0]}
    for domain in ("tweets", "products", "movies"):
        ds = load_dataset(f"vader:{domain}")
        text = {s.id: s.text for s in ds.split(split)}
        for line in (root / f"{domain}.{split}.greedy.jsonl").open():
            r = json.loads(line)
            gold = ds.task.score_polarity(r["gold"])
            neg = bool(NEG.search(text[r["id"]]))
            tallies[neg][0] += r["answers"][0]["polarity"] == gold
            tallies[neg][1] += 1
    for neg, (right, n) in tallies.items():
        print(f"{split} {'negation' if neg else 'no negation':<12} acc-3 {right / n:.3f} (n={n})")
