#!/bin/bash
# GRPO without hints from the shipped default, the stream at the pool's own mix (grpo.yaml):
# the ablation of ../rl_unbalanced. Resumable: run it again after an interruption.
# Decided before the run, as there: its best/ (highest mean r of the in-training validation) is
# evaluated on the seeded 200 of each valid split and the seeded 300 of each test split, the
# sentences and settings of ../rl_unbalanced/valid.sh and test.sh (run them with the argument
# unbalanced_nohints), paired against SFT 600 and that run's best/; it replaces the shipped
# default only if its mean valid r is above 0.792.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/grpo
.venv/bin/emoreason grpo --config docs/results/rl_unbalanced_nohints/grpo.yaml >> runs/grpo/unbalanced_nohints.log 2>&1
