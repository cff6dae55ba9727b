"""The exclamation-count claims of PC's valid answers without ("pc") and with ("pce") the decode-time
count constraint: how many answers state a count, how many of those are wrong (`metrics.grounding`),
and how many answers write an "Emphasis" sentence at all.

    .venv/bin/python docs/results/emphasis_counts/counts.py > docs/results/emphasis_counts/counts.txt
"""

import json
from pathlib import Path

from emoreason.data import load_pooled
from emoreason.metrics.grounding import citation_grounding, counted_claims, grounding_summary

for domain in ("tweets", "products", "movies"):
    texts = {s.id: s.text for s in load_pooled(f"vader:{domain}", "valid")[0]}
    for who in ("pc", "pce"):
        rows = [
            json.loads(line) for line in Path(f"runs/polarity_sft/valid/{who}-{domain}-all/predictions.jsonl").open()
        ]
        chains = [(r["raw_completion"], texts[r["id"]]) for r in rows]
        claims = [(c, t) for c, t in chains if counted_claims(c)]
        wrong = sum(any(n != t.count("!") for _, n in counted_claims(c)) for c, t in claims)
        emphasis = sum("Emphasis" in c for c, _ in chains)
        summary = grounding_summary([citation_grounding(c, t) for c, t in chains])
        print(
            f"{domain} {who}: {len(rows)} answers, {emphasis} with an Emphasis sentence, {len(claims)} state a count, "
            f"{wrong} wrong; answers wholly grounded {summary['answers_fully_grounded']:.3f} "
            f"of {summary['n_answers_citing']}"
        )
