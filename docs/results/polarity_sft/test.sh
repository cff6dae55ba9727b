#!/bin/bash
# Test, read once, only if ship.py's verdict on valid was that P1 replaces the shipped default (run.sh's
# rule): both adapters' greedy answers to every sentence of the three test splits, confidence readout,
# 192 tokens; then `ship.py test`. Written with ship.py's test mode before any valid answer of P1 existed.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
mkdir -p $R
for d in ${DOMAINS:-movies tweets products}; do
  for who in shipped p1; do
    out=$R/$who-$d-all
    adapter=$([ $who = p1 ] && echo "--adapter runs/polarity_sft/p1/final/adapter")
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence $adapter \
      --out $out -d vader:$d --split test > $out.log 2>&1
    echo "$who $d done $(date +%T)"
  done
done
