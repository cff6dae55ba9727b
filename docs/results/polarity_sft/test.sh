#!/bin/bash
# Test, read once, only if ship.py's verdict on valid was that P1 replaces the shipped default (run.sh's
# rule): both adapters' greedy answers to every sentence of the three test splits, confidence readout,
# 192 tokens; then `ship.py test`. Written with ship.py's test mode before any valid answer of P1 existed.
# "shipped" is the default shipped before P1 (start.sh pins it, since the package's has been replaced).
# WHOS names other candidates (test_p2.sh: WHOS=p2), each answering from runs/polarity_sft/<who>/final.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
mkdir -p $R
bash docs/results/polarity_sft/start.sh
# --no-name-negations: the answers compared here were all made before that option became the default
# (docs/results/negation_naming); it changes no polarity and r by less than 0.001 there.
for d in ${DOMAINS:-movies tweets products}; do
  for who in ${WHOS:-shipped p1}; do
    out=$R/$who-$d-all
    adapter=runs/polarity_sft/$([ $who = shipped ] && echo start || echo $who/final/adapter)
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations --adapter $adapter \
      --out $out -d vader:$d --split test > $out.log 2>&1
    echo "$who $d done $(date +%T)"
  done
done
