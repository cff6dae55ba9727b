#!/bin/bash
# The two-way-centred Hint-GRPO run (docs/results/rl_centred_in_groups) at lr 3e-5 (grpo.yaml).
# Resumable: run it again after an interruption. Then rl_unbalanced/valid.sh and test.sh with
# the argument centred_lr3e5.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/grpo
.venv/bin/emoreason grpo --config docs/results/rl_centred_lr3e5/grpo.yaml >> runs/grpo/centred_lr3e5.log 2>&1
