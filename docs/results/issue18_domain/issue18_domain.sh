#!/bin/bash
# issue 18, sixth session: the slow run's settings, but each domain keeps a polarity mix of its own
# (data.balance: domain_polarity): products as before (3:3:2 negative:positive:neutral), tweets at
# about its natural mix (2:4:2; train is 26% negative, 56% positive). The shipped soup answers
# "negative" to 151 of 420 tweets (gold 90) after the balanced stream gave tweets 37.5% negative
# prompts. Candidate fixed before the run: the soup of checkpoints 10-60 (runs/soup/domain_traj).
#   STEPS=60 runs/issue18_domain.sh      (resumes from its last checkpoint)
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "== grpo domain to ${STEPS:-60} $(date)"
.venv/bin/emoreason grpo --config configs/c2f_vader_smollm2.yaml \
  model.adapter=/work/main/runs/sft_adapter run.max_steps=${STEPS:-60} run.save_every=10 \
  run.keep_checkpoints=20 run.resume=true run.output_dir=runs/grpo/domain \
  data.balance=domain_polarity \
  "data.balance_weights={negative: 3, positive: 3, neutral: 2, tweets/positive: 4, tweets/negative: 2}" \
  hints.fraction=0.5 hints.train_on_hint=true optim.lr=1.0e-5 validation.every=20
echo "== done $(date)"
