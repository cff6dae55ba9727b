#!/bin/bash
# The lead of continue.sh: D30 beat the shipped default (A) on movies r on the seeded 100 it was
# looked at on (+0.025 [+0.003, +0.048]). Does it hold on other sentences? A and D30 answer a seeded
# 300 of each valid split drawn with another seed (--seed 1; it overlaps the seed-0 100 in part),
# same decoding as continue.sh. Reported only, not a ship decision: the ship rule asks for every
# valid sentence. It holds if D30's movies r paired interval lies above 0 here too.
#   docs/results/cue_recall/lead.sh       (resumable)
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
R=runs/cuecont
E=.venv/bin/emoreason
SHIPPED=$(.venv/bin/python -c "from emoreason.models.shipped import resolve_shipped; print(resolve_shipped('sentiment'))")
for d in movies tweets products; do  # stopped after movies in its one run (RESULTS)
  for v in A D30; do
    adapter=$([ $v = A ] && echo $SHIPPED || echo $R/grpo/checkpoint-30/adapter)
    out=$R/valid/$v-$d-300s1
    [ -f $out/metrics.json ] || $E evaluate -d vader:$d --split valid --sample 300 --seed 1 --max-new-tokens 192 \
      --score-readout confidence --adapter $adapter --out $out > $out.log 2>&1
  done
  $E compare $R/valid/A-$d-300s1 $R/valid/D30-$d-300s1 --out $R/valid/A-vs-D30-$d-300s1.json \
    > $R/valid/A-vs-D30-$d-300s1.txt
  echo "$d done $(date +%T)"
done
