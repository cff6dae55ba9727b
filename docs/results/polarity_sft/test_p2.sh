#!/bin/bash
# Test, read once, because ship_p2.py's verdict on valid was that P2 replaces P1 (run_p2.sh's rule):
# P2's greedy answers to every sentence of the three test splits (192 tokens, confidence readout), the
# same settings as test.sh gave P1; then `ship_p2.py test`. Written with its test mode before any test
# answer of P2 existed.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
mkdir -p $R
for d in ${DOMAINS:-movies tweets products}; do
  out=$R/p2-$d-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence \
    --adapter runs/polarity_sft/p2/final/adapter --out $out -d vader:$d --split test > $out.log 2>&1
  echo "p2 $d done $(date +%T)"
done
