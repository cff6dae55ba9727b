#!/bin/sh
# Ran at commit b7acdd9 (2026-11-30), against that day's configs/c2f_vader_smollm2.yaml and shipped adapter (the SFT
# one); both have changed since, so today it trains another run or fails validation. To rerun it, run it in a
# checkout of that commit: git worktree add ../at-b7acdd9 b7acdd9
# issue 18: the slow run (trained hints, lr 1e-5) continued from step 60 to 120, every 10th checkpoint kept,
# for a soup of more checkpoints. model.adapter names the SFT adapter by its copy in runs/ (the shipped
# default is now the soup; the KL reference must stay the SFT start). Constant lr: extending is exact.
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "== grpo trained_hint_slow to ${STEPS:-120} $(date)"
.venv/bin/emoreason grpo --config configs/c2f_vader_smollm2.yaml \
  model.adapter=/work/main/runs/sft_adapter run.max_steps=${STEPS:-120} run.save_every=10 \
  run.keep_checkpoints=20 run.resume=true run.output_dir=runs/grpo/trained_hint_slow \
  "data.balance_weights={negative: 3, positive: 3, neutral: 2}" hints.fraction=0.5 hints.train_on_hint=true \
  optim.lr=1.0e-5 validation.every=20
echo "== done $(date)"
