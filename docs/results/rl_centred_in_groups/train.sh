#!/bin/bash
# The unbalanced-stream Hint-GRPO run with advantages centred by answer and by group (grpo.yaml).
# Resumable: run it again after an interruption. Then probe.sh.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/grpo
.venv/bin/emoreason grpo --config docs/results/rl_centred_in_groups/grpo.yaml >> runs/grpo/centred_in_groups.log 2>&1
