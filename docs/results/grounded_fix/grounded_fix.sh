#!/bin/sh
# the shipped adapter with grounded quoting after the quote-rule fix (edd62f6), the seeded 300 test
# sentences per domain; paired against its free quoting (sft_free) and the grounded run before the fix.
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
while [ -n "${WAIT_PID:-}" ] && kill -0 "$WAIT_PID" 2>/dev/null; do sleep 10; done
for d in movies tweets products; do
  echo "== grounded $d $(date)"
  .venv/bin/emoreason evaluate -d vader:$d --split test --sample 300 --seed 0 --baselines none \
    --out runs/compare/sft_grounded_fixed/$d > runs/compare.sft_grounded_fixed.$d.log 2>&1
  .venv/bin/emoreason compare runs/compare/sft_free/$d runs/compare/sft_grounded_fixed/$d \
    --out runs/compare/sft_grounded_fixed_vs_sft_free_$d.json
done
echo "== done $(date)"
