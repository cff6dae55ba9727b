#!/bin/bash
# PG's figures with the shipped form of the text-opening rule. PG's valid and test answers were made with
# the second form (a cue list forced after `Text:` for every input with a rated word); the shipped form
# steps in only where the model puts more than half its probability on the teacher's openings. openers.py
# wrote the sentences where the two can differ (the rule stays out and the likeliest opener is not a
# list's) to runs/no_cue_claim/differ-<split>-pg-<domain>-all.jsonl; here they are answered again with
# the shipped code, put into PG's answers as "pgs", and `ship_p2.py` reads pfn against pgs on valid
# (-> ship_pgs.txt). Greedy answers elsewhere are the saved ones. Valid only: openers.py runs one
# forward pass per answer, about 0.5-1.5 s each here, and the session had no room for the test splits'
# 1,852 answers as well, so PG's test figures stay those of the second form.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
N=runs/no_cue_claim
for split in valid; do
  for d in tweets products movies; do
    subset=$N/differ-$split-pg-$d-all.jsonl
    out=$N/pg-$split-$d
    if [ -s $subset ] && [ ! -f $out/metrics.json ]; then
      $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
        --adapter runs/polarity_sft/pg/final/adapter --out $out -d "jsonl:$subset?scale=-4,4&neutral=0.5" \
        --split all > $out.log 2>&1
    fi
    SPLIT=$split D=$d .venv/bin/python - <<'PY'
import json, os, shutil
from pathlib import Path
split, d = os.environ["SPLIT"], os.environ["D"]
saved, new = Path(f"runs/polarity_sft/{split}/pg-{d}-all"), Path(f"runs/no_cue_claim/pg-{split}-{d}/predictions.jsonl")
merged = Path(f"runs/polarity_sft/{split}/pgs-{d}-all")
merged.mkdir(exist_ok=True)
shutil.copy(saved / "run.json", merged / "run.json")
again = {r["id"]: r for r in map(json.loads, new.open())} if new.exists() else {}
rows = [json.loads(line) for line in (saved / "predictions.jsonl").open()]
changed = sum(again[r["id"]]["raw_completion"] != r["raw_completion"] for r in rows if r["id"] in again)
with (merged / "predictions.jsonl").open("w") as f:
    f.writelines(json.dumps(again.get(r["id"], r)) + "\n" for r in rows)
print(f"{split} {d}: {len(again)} answered again, {changed} changed")
PY
  done
done
.venv/bin/python docs/results/polarity_sft/ship_p2.py valid pfn pgs > docs/results/no_cue_claim/ship_pgs.txt
cat docs/results/no_cue_claim/ship_pgs.txt
