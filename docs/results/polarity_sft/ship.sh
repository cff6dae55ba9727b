#!/bin/bash
# P1 ships (ship.txt: mean valid r 0.7635 -> 0.7989, parse rate kept). Its final adapter is 19.6 MB in
# fp32; every shipped adapter is stored in fp16 (`copy_fp16` of scripts/ship_default_adapter.py, 9.8 MB).
# Written before the fp16 form existed, what it must show on the seeded 300 of movies valid (greedy, 192
# tokens, confidence readout; P1's answers to the same sentences are in runs/polarity_sft/valid):
#   (f1) the same completion as P1 on at least 98% of them, and (f2) no polarity probability more than
#   0.02 from P1's. Both: the fp16 form ships with P1's score line (fitted on P1's tweets + products valid
#   answers, `emoreason fit-score`). Otherwise P1 ships in fp32 (within the package's 20 MB).
# WHO=p2 makes the same check for P2 (rater_sd 0.5), which replaced P1 by run_p2.sh's rule (ship_p2.txt),
# with the same two conditions against P2's own answers.
# WHO=pb (ship_check_pb.txt): the same for PB, which replaced P2 by run_pa.sh's rule (ship_pb.txt).
# WHO=pc (ship_check_pc.txt): the same for PC, which replaced PB by run_pc.sh's rule (ship_pc.txt).
# WHO=pf (ship_check_pf.txt): the same for PF, which replaced PC by run_pf.sh's rule (ship_pf.txt).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft
WHO=${WHO:-p1}
F=$R/${WHO}_fp16
[ -f $F/adapter_config.json ] || .venv/bin/python -c "
import sys; from pathlib import Path; sys.path.insert(0, 'scripts')
from ship_default_adapter import copy_fp16
print(copy_fp16(Path('$R/$WHO/final/adapter'), Path('$F')), 'MB')"
out=$R/valid/${WHO}fp16-movies-300
[ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations --adapter $F --out $out \
  -d vader:movies --split valid --sample 300 > $out.log 2>&1
WHO=$WHO .venv/bin/python - <<'PY'
import json, os
who = os.environ["WHO"]
read = lambda path: {r["id"]: r for r in map(json.loads, open(path))}
full = read(f"runs/polarity_sft/valid/{who}-movies-all/predictions.jsonl")
half = read(f"runs/polarity_sft/valid/{who}fp16-movies-300/predictions.jsonl")
same = sum(full[i]["raw_completion"] == r["raw_completion"] for i, r in half.items())
gap = max(abs(full[i]["polarity_probs"][k] - r["polarity_probs"][k]) for i, r in half.items() for k in r["polarity_probs"])
print(f"(f1) {same} of {len(half)} completions equal to {who}'s: {'holds' if same >= 0.98 * len(half) else 'fails'}")
print(f"(f2) largest polarity probability difference {gap:.4f}: {'holds' if gap <= 0.02 else 'fails'}")
PY
