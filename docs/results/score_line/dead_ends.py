"""Would the dead-end change of grounded quoting (a bare closer only) have changed any answer of answers.sh?
Replays each answer (its completion re-tokenized) through `GroundedQuotes` and flags every one where,
inside a quote, no token qualified and the fallback was offered: only those answers could differ.

    .venv/bin/python docs/results/score_line/dead_ends.py > docs/results/score_line/dead_ends.txt
"""

import json

from transformers import AutoTokenizer

from emoreason.data import load_pooled
from emoreason.generation.quotes import GroundedQuotes
from emoreason.models.loading import resolve_model_path

tok = AutoTokenizer.from_pretrained(resolve_model_path("default"))
total = dead = 0
for split in ("valid", "test"):
    for d in ("tweets", "products", "movies"):
        samples, _ = load_pooled([f"vader:{d}"], split)
        text = {s.id: s.text for s in samples}
        for line in open(f"runs/score_line/{split}-{d}/predictions.jsonl"):
            r = json.loads(line)
            q = GroundedQuotes(tok, [text[r["id"]]])
            ids = tok(r["raw_completion"], add_special_tokens=False)["input_ids"]
            hit = False
            for i in ids:
                if q.inside[0]:
                    allowed = q.allowed(0)
                    if allowed is q.closing:
                        hit = True
                q.advance(0, i)
            total += 1
            dead += hit
            if hit:
                print(split, d, r["id"], repr(text[r["id"]][:80]), "|", r["raw_completion"][30:160].replace("\n", " "))
print("answers", total, "with a dead end", dead)
