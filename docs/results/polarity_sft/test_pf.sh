#!/bin/bash
# Test, read once, because run_pf.sh's rule put PF above PC on valid (ship_pf.txt): both adapters' greedy
# answers to every sentence of the three test splits with the shipped decoding code (grounded quoting with
# the emphasis and cue-list count rules; "pce" is PC answering so), PC's flags (192 tokens, confidence
# readout, --no-name-negations); then `ship_p2.py test pce pf` -> test_pf.txt. Test decides nothing.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
mkdir -p $R
for d in ${DOMAINS:-tweets products movies}; do
  for who in pce pf; do
    out=$R/$who-$d-all
    adapter=runs/polarity_sft/$([ $who = pce ] && echo pc || echo $who)/final/adapter
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
      --adapter $adapter --out $out -d vader:$d --split test > $out.log 2>&1
    echo "$who $d done $(date +%T)"
  done
done
.venv/bin/python docs/results/polarity_sft/ship_p2.py test pce pf > docs/results/polarity_sft/test_pf.txt
cat docs/results/polarity_sft/test_pf.txt
