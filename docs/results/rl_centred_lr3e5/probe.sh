#!/bin/bash
# The polarity probe (docs/results/rollout_pull/probe.sh) on this run's checkpoints 10, 20, 30:
# did the larger step move the shared shift of every domain's log-odds, the gap between negative
# and positive sentences, or the AUC? Resumable.
cd "$(dirname "$0")/../../.."
bash docs/results/rollout_pull/probe_checkpoints.sh centred_lr3e5 docs/results/rl_centred_lr3e5/probe.txt 10 20 30
