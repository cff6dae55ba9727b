#!/bin/bash
# The polarity probe (docs/results/rollout_pull/probe.sh) on this run's checkpoints: does the gap
# between negative and positive sentences' log-odds hold with 16 prompts a step? Resumable.
cd "$(dirname "$0")/../../.."
bash docs/results/rollout_pull/probe_checkpoints.sh centred_16prompts docs/results/rl_centred_16prompts/probe.txt 8 16
