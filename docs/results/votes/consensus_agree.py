"""Does agreement among the 5 sampled answers say how likely the chosen answer is right?"""

import json
import sys

from emoreason.data import load_dataset
from emoreason.formats import ParseResult
from emoreason.formats.consensus import choose_consensus

name, split = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "valid")
tot = {}
for domain in ("tweets", "products", "movies"):
    task = load_dataset(f"vader:{domain}").task
    try:
        rows = [json.loads(line) for line in open(f"runs/consensus/{name}/{domain}.{split}.sampled.jsonl")]
        greedy = {
            json.loads(line)["id"]: json.loads(line)
            for line in open(f"runs/consensus/{name}/{domain}.{split}.greedy.jsonl")
        }
    except FileNotFoundError:
        continue
    for r in rows:
        parsed = [ParseResult("c2f", a["ok"], a["polarity"], a["score"]) for a in r["answers"]]
        c = choose_consensus(parsed)
        gold = task.score_polarity(r["gold"])
        g = greedy[r["id"]]["answers"][0]
        gs = g["score"] if g["ok"] else None
        right_vote = parsed[c.index].score is not None and task.score_polarity(parsed[c.index].score) == gold
        right_greedy = gs is not None and task.score_polarity(gs) == gold
        t = tot.setdefault((domain, c.votes), [0, 0, 0])
        t[0] += 1
        t[1] += right_vote
        t[2] += right_greedy
for (domain, v), (n, rv, rg) in sorted(tot.items()):
    print(f"{domain:8s} agree={v}  n={n:3d}  acc3 voted={rv / n:.2f}  greedy={rg / n:.2f}")
allv = {}
for (domain, v), (n, rv, rg) in tot.items():
    a = allv.setdefault(v, [0, 0, 0])
    a[0] += n
    a[1] += rv
    a[2] += rg
for v, (n, rv, rg) in sorted(allv.items()):
    print(f"all      agree={v}  n={n:3d}  acc3 voted={rv / n:.2f}  greedy={rg / n:.2f}")
