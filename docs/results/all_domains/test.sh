#!/bin/bash
# Reported only (sft.yaml's rule decides on valid; `test.sh sft_matched` for the second run): C in
# float16 (as it would ship) with its own score line, refit on its answers to the three valid
# splits (runs/alldomains/valid), against the shipped default as shipped (its answers on every test
# sentence: runs/calib/test). Every sentence of each test split, greedy,
# <= 192 new tokens, grounded quotes; `emoreason compare` (1,000 paired resamples).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
RUN=${1:-sft}  # or sft_matched
NAME=$([ "$RUN" = sft ] && echo C || echo "C_$RUN")
F=runs/alldomains/${NAME}_fit
if [ ! -f $F/score_fit.json ]; then
  # the float16 copy that would ship (scripts/ship_default_adapter.py's copy_fp16)
  .venv/bin/python -c "import sys; sys.path.insert(0, 'scripts'); from pathlib import Path; \
from ship_default_adapter import copy_fp16; copy_fp16(Path('runs/alldomains/$RUN/final/adapter'), Path('$F'))"
  .venv/bin/emoreason fit-score runs/alldomains/valid/$NAME-tweets-all runs/alldomains/valid/$NAME-products-all \
    runs/alldomains/valid/$NAME-movies-all --out $F
fi
mkdir -p runs/alldomains/test
for d in tweets products movies; do
  out=runs/alldomains/test/$NAME-$d-all
  [ -f $out/metrics.json ] || .venv/bin/emoreason evaluate -d vader:$d --split test --max-new-tokens 192 \
    --adapter $F --out $out > $out.log 2>&1
  .venv/bin/emoreason compare runs/calib/test/shipped-$d-all $out --out runs/alldomains/test/A-vs-$NAME-$d.json \
    > runs/alldomains/test/A-vs-$NAME-$d.txt
  echo "$d done $(date +%T)"
done
