#!/bin/sh
# issue 18: the slow run's settings (trained hints, fraction 0.5, neutral a quarter, lr 1e-5, KL 0.04 to the SFT
# start) plus the valence reward (weight 1: stated cue valences against the lexicon and the answer), from the SFT
# adapter, every 10th checkpoint kept for the soup of checkpoints 10-60 (the candidate, fixed before the run).
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "== grpo valence $(date)"
.venv/bin/emoreason grpo --config configs/c2f_vader_smollm2.yaml \
  model.adapter=/work/main/runs/sft_adapter run.max_steps=${STEPS:-60} run.save_every=10 \
  run.keep_checkpoints=20 run.resume=true run.output_dir=runs/grpo/valence \
  "reward.add={grounding: 0.5, valence: 1.0}" validation.every=20
echo "== done $(date)"
