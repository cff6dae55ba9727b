#!/bin/bash
# The polarity probe (docs/results/rollout_pull/probe.sh) on this run's checkpoints (steps 10 and
# 20, and later ones when the run was taken further): does a shared shift of every domain's
# log-odds remain? Resumable.
cd "$(dirname "$0")/../../.."
bash docs/results/rollout_pull/probe_checkpoints.sh centred_in_groups docs/results/rl_centred_in_groups/probe.txt 10 20 30 40 50 60
