#!/bin/sh
# Ran at commit 16e0c94 (2026-11-30), against that day's configs/c2f_vader_smollm2.yaml and shipped adapter (the SFT
# one); both have changed since, so today it trains another run or fails validation. To rerun it, run it in a
# checkout of that commit: git worktree add ../at-16e0c94 16e0c94
# issue 18: trained hints (quarter mix, fraction 0.5) at half the lr for twice the steps, every 10th checkpoint
# kept (for checkpoint averaging), validation every 20 steps. Training only; choose on valid afterwards.
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "== grpo trained_hint_slow $(date)"
.venv/bin/emoreason grpo --config configs/c2f_vader_smollm2.yaml \
  model.adapter=/work/main/src/emoreason/resources/default_adapter run.max_steps=80 run.save_every=10 \
  run.keep_checkpoints=10 run.resume=true run.output_dir=runs/grpo/trained_hint_slow \
  "data.balance_weights={negative: 3, positive: 3, neutral: 2}" hints.fraction=0.5 hints.train_on_hint=true \
  optim.lr=1.0e-5 validation.every=20
echo "== done $(date)"
