#!/bin/bash
# The two-way-centred Hint-GRPO run (docs/results/rl_centred_in_groups) at 16 prompts a step (grpo.yaml).
# Resumable: run it again after an interruption. Then probe.sh.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/grpo
.venv/bin/emoreason grpo --config docs/results/rl_centred_16prompts/grpo.yaml >> runs/grpo/centred_16prompts.log 2>&1
