#!/bin/bash
# issue 18, sixth session: domain_traj (the domain_polarity run's soup of checkpoints 10-60) on every
# sentence of the three test splits, paired against SFT and against the shipped soup slow_traj.
# Shipping rule, fixed before the valid figures were read: domain_traj replaces the shipped default
# if on the seeded 200 per valid split its mean r is within 0.01 of slow_traj's (or above) and its
# tweets acc-3 beats slow_traj's with a paired interval above 0. The test figures are reported either way.
set -eu
cd /work/main
runs/full_test.sh domain_traj runs/soup/domain_traj
for domain in movies tweets products; do
  .venv/bin/emoreason compare "runs/full_test/slow_traj/$domain" "runs/full_test/domain_traj/$domain" \
    --out "runs/full_test/domain_traj_vs_slow_traj_$domain.json"
done
echo "== all done $(date)"
