#!/bin/bash
# The 600-step SFT adapter against the shipped soup (the default before it), on a seeded 300 of each
# VADER test split (--sample 300 --seed 0), greedy, at most 192 new tokens, default readout and
# grounded quoting. runs/shipped_soup holds the soup's adapter as shipped at 9286481.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
declare -A ADAPTER=([sft600]=runs/sft600/final/adapter [shipped]=runs/shipped_soup)
mkdir -p runs/longer_sft/test
for d in movies tweets products; do
  for who in sft600 shipped; do
    out=runs/longer_sft/test/$who-$d
    [ -f $out/metrics.json ] && continue
    .venv/bin/emoreason evaluate -d vader:$d --split test --sample 300 --seed 0 --max-new-tokens 192 \
      --adapter ${ADAPTER[$who]} --out $out > $out.log 2>&1
    echo "$who test $d done $(date +%T)"
  done
done
