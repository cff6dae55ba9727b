#!/bin/bash
# The unbalanced-stream Hint-GRPO run again with its rollouts recorded (grpo.yaml).
# Resumable: run it again after an interruption. Then: emoreason rollouts runs/grpo/unbalanced_rollouts
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/grpo
.venv/bin/emoreason grpo --config docs/results/rollout_pull/grpo.yaml >> runs/grpo/unbalanced_rollouts.log 2>&1
