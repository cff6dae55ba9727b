#!/bin/bash
# issue 18, sixth session: after the slow90 test evaluation, the domain_polarity run, its soup, its valid figures.
set -eu
cd /work/main
while pgrep -f full_test_slow90.sh > /dev/null; do sleep 20; done
STEPS=60 runs/issue18_domain.sh
.venv/bin/emoreason average runs/grpo/domain/checkpoint-{10,20,30,40,50,60}/adapter --out runs/soup/domain_traj
runs/wise_valid.sh domain_traj=runs/soup/domain_traj
for domain in movies tweets products; do
  .venv/bin/emoreason compare runs/valid/slow_traj/$domain runs/valid/domain_traj/$domain \
    --out runs/valid/domain_traj_vs_slow_traj_$domain.json
done
echo "== chain done $(date)"
