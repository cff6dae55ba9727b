#!/bin/bash
# This run's best/ paired against the shipped default's fp32 original (the two-way-centred run at
# lr 1e-5, docs/results/rl_centred_in_groups) on the same valid and test sentences, after
# rl_unbalanced/valid.sh and test.sh have evaluated both. Output: vs_shipped.txt.
cd "$(dirname "$0")/../../.."
for split in valid test; do
  for d in tweets products movies; do
    echo "== $split $d: lr 3e-5 best - shipped (lr 1e-5 best)"
    .venv/bin/emoreason compare runs/rl_centred_in_groups/$split/best-$d runs/rl_centred_lr3e5/$split/best-$d \
      --out runs/rl_centred_lr3e5/$split/best-$d-vs-centred_in_groups.json
  done
done
