#!/bin/bash
# The ship check of sft.yaml's run (or, with `valid.sh sft_matched`, sft_matched.yaml's), its rule
# written there before the run: C = runs/alldomains/<run>/final/ with the shipped default's score
# line copied beside it (so both read scores off the same line), A = the shipped default, whose
# answers on every valid sentence are in runs/calib/valid (runs/calib/valid.sh: the same settings).
# Every sentence of each valid split, greedy, <= 192 new tokens, grounded quotes; `emoreason
# compare` (1,000 paired resamples).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
RUN=${1:-sft}
NAME=$([ "$RUN" = sft ] && echo C || echo "C_$RUN")
C=runs/alldomains/$NAME
if [ ! -f $C/emoreason.json ]; then
  mkdir -p $C && cp runs/alldomains/$RUN/final/adapter/* $C/
  cp src/emoreason/resources/default_adapter/score_fit.json $C/
  echo '{"score_fit": "score_fit.json"}' > $C/emoreason.json
fi
for d in ${DOMAINS:-tweets products movies}; do  # DOMAINS="movies tweets products" changes the order
  mkdir -p runs/alldomains/valid
  out=runs/alldomains/valid/$NAME-$d-all
  [ -f $out/metrics.json ] || .venv/bin/emoreason evaluate -d vader:$d --split valid --max-new-tokens 192 \
    --adapter $C --out $out > $out.log 2>&1
  .venv/bin/emoreason compare runs/calib/valid/shipped-$d-all $out --out runs/alldomains/valid/A-vs-$NAME-$d.json \
    > runs/alldomains/valid/A-vs-$NAME-$d.txt
  echo "$d done $(date +%T)"
done
