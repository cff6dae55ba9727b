#!/bin/sh
# issue 18: the rationalized cold start against the filtered one. The lexicon teacher explains the
# gold score of every train sentence (--rationalize: 6,273 chains) instead of only the 3,053 where
# it agreed with the raters; SFT at the shipped adapter's settings (150 steps, batch 8, lr 2e-4).
# Both adapters are compared on a seeded 200 of each valid split (free quoting) to choose; test only after.
# Resumable: rerun to go on.
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
while [ -n "${WAIT_PID:-}" ] && kill -0 "$WAIT_PID" 2>/dev/null; do sleep 10; done
echo "== distill $(date)"
.venv/bin/emoreason distill --teacher lexicon --split train --rationalize -d vader:tweets -d vader:products \
  --out runs/distill/vader_rationalized
if [ ! -d runs/sft/rationalized/final ]; then
  echo "== sft $(date)"
  .venv/bin/emoreason sft --config configs/sft_c2f_vader_smollm2.yaml \
    data.train_file=runs/distill/vader_rationalized/sft.jsonl run.output_dir=runs/sft/rationalized \
    run.max_steps=150 run.resume=true eval.every=0
fi
echo "== valid $(date)"
SPLIT=valid EVAL_OPTIONS=--free-quotes scripts/compare_adapters.sh runs/valid 200 \
  sft=default rationalized=runs/sft/rationalized/final/adapter
echo "== done $(date)"
