#!/bin/bash
# GRPO with advantages balanced per gold polarity from the shipped default (grpo.yaml).
# Resumable: run it again after an interruption.
# Decided before the run, as for ../rl_unbalanced: best/ (highest mean r of the in-training
# validation, 100 per valid split, fp32 and grounded) is evaluated on the seeded 200 of each valid
# split and the seeded 300 of each test split by ../rl_unbalanced/valid.sh and test.sh (argument
# unbalanced_goldadv), paired against SFT 600 and the unbalanced run's best/; it replaces the
# shipped default only if its mean valid r is above 0.792 (SFT 600 on the same sentences).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/grpo
.venv/bin/emoreason grpo --config docs/results/rl_unbalanced_goldadv/grpo.yaml >> runs/grpo/unbalanced_goldadv.log 2>&1
