"""The movie chains of runs/alldomains/distill/sft.jsonl subsampled (seeded) so that their gold
polarity mix is the movies train split's: every polarity kept at the lowest keep rate of the three.
The consistency filter kept 27% of the gold-negative movie sentences, 44% of the positive and 24% of
the neutral (the lexicon misses more of the reviews' negativity), so the kept chains were 60% positive
where the split is 47%. Tweet and product chains are left as they are.

`emoreason distill --match-mix` (`distill.filter.mix_matching_drops`) now does this for every domain
of a distill run, with the same counts on movies; this script stays as the record of sft_matched.yaml's
data, whose tweet and product chains were not matched.

    .venv/bin/python docs/results/all_domains/match_mix.py \
        runs/alldomains/distill/sft.jsonl runs/alldomains/matched.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter, defaultdict

from emoreason.data.base import load_dataset


def chain_polarity(row: dict) -> str:
    return row["messages"][-1]["content"].split("<polarity>")[1].split("<")[0]


def main(source: str, out: str) -> None:
    dataset = load_dataset("vader:movies")
    gold = Counter(dataset.task.score_polarity(s.score) for s in dataset.split("train"))
    rows = [json.loads(line) for line in open(source)]
    movies: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row["domain"] == "movies":
            movies[chain_polarity(row)].append(i)
    rate = min(len(movies[p]) / gold[p] for p in gold)
    rng = random.Random(0)
    keep = {i for i, row in enumerate(rows) if row["domain"] != "movies"}
    for polarity, indices in sorted(movies.items()):
        chosen = rng.sample(indices, round(gold[polarity] * rate))
        keep.update(chosen)
        print(f"movies {polarity}: gold {gold[polarity]}, kept {len(indices)}, after matching {len(chosen)}")
    with open(out, "w") as handle:
        for i, row in enumerate(rows):
            if i in keep:
                handle.write(json.dumps(row) + "\n")
    print(f"{len(keep)} chains written to {out} (keep rate {rate:.3f} for every movies polarity)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
