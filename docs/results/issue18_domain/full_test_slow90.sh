#!/bin/bash
# issue 18, sixth session: slow90 (the candidate that beat the shipped soup on valid acc-3) on every
# sentence of the three test splits, then paired against SFT and against the shipped soup slow_traj.
set -eu
cd /work/main
runs/full_test.sh slow90 runs/soup/slow90
for domain in movies tweets products; do
  .venv/bin/emoreason compare "runs/full_test/slow_traj/$domain" "runs/full_test/slow90/$domain" \
    --out "runs/full_test/slow90_vs_slow_traj_$domain.json"
done
echo "== all done $(date)"
