"""Paired polarity accuracy of the shipped default and SFT on the negation sentences."""

import json

import numpy as np

from emoreason.data import load_dataset

rows = []
for split in ("valid", "test"):
    for domain in ("tweets", "products", "movies"):
        ds = load_dataset(f"vader:{domain}")
        text = {s.id: s.text for s in ds.split(split)}
        sft = {
            json.loads(line)["id"]: json.loads(line)
            for line in open(f"runs/negation/sft/{domain}.{split}.greedy.jsonl")
        }
        for line in open(f"runs/consensus/shipped/{domain}.{split}.greedy.jsonl"):
            r = json.loads(line)
            if r["id"] in sft:
                gold = ds.task.score_polarity(r["gold"])
                a, b = sft[r["id"]]["answers"][0], r["answers"][0]
                rows.append(
                    (
                        split,
                        domain,
                        text[r["id"]],
                        gold,
                        a["polarity"],
                        b["polarity"],
                        a["score"],
                        b["score"],
                        r["gold"],
                    )
                )
rng = np.random.default_rng(0)
for split in ("valid", "test", "both"):
    part = [r for r in rows if split == "both" or r[0] == split]
    a = np.array([r[4] == r[3] for r in part], float)
    b = np.array([r[5] == r[3] for r in part], float)
    boots = [(b[i] - a[i]).mean() for i in (rng.integers(0, len(part), len(part)) for _ in range(1000))]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    pos = [r for r in part if r[3] == "positive"]
    print(
        f"{split}: n={len(part)} acc-3 SFT {a.mean():.3f} shipped {b.mean():.3f}"
        f" diff {b.mean() - a.mean():+.3f} [{lo:+.3f}, {hi:+.3f}];"
        f" gold positive {len(pos)}: SFT says negative {sum(r[4] == 'negative' for r in pos)},"
        f" shipped {sum(r[5] == 'negative' for r in pos)}"
    )
print("shipped wrong, SFT right (first 12):")
for r in [r for r in rows if r[5] != r[3] and r[4] == r[3]][:12]:
    print(f"  [{r[1]}] gold {r[3]} ({r[8]:+.2f}); SFT {r[4]}; shipped {r[5]}: {r[2][:110]}")
print(
    "SFT wrong, shipped right:",
    sum(1 for r in rows if r[4] != r[3] and r[5] == r[3]),
    "shipped wrong, SFT right:",
    sum(1 for r in rows if r[5] != r[3] and r[4] == r[3]),
)
