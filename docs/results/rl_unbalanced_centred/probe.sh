#!/bin/bash
# The polarity probe (docs/results/rollout_pull/probe.sh) on the centred run's checkpoints of
# steps 20, 40 and 60: did centring remove the shift of every domain's log-odds by the same
# amount? Resumable.
cd "$(dirname "$0")/../../.."
bash docs/results/rollout_pull/probe_checkpoints.sh unbalanced_centred docs/results/rl_unbalanced_centred/probe.txt 20 40 60
