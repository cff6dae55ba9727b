#!/bin/bash
# Which default to ship, decided on valid: the shipped soup against the 600-step cold start on
# EVERY sentence of the movies valid split (1,060; the seeded 200 cannot separate them), greedy,
# at most 192 new tokens, grounded quoting, confidence readout (evaluate's defaults).
# The rule, written before this ran: the default is the adapter with the higher mean valid r over
# tweets (seeded 200), products (seeded 200) and movies (this whole split); tweets and products are
# the figures of docs/results/longer_sft/valid.sh and of the ninth session (same sentences, settings).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
while pgrep -f "rl_from_sft600/test.sh" > /dev/null; do sleep 20; done
declare -A ADAPTER=([sft600]="--adapter runs/sft600/final/adapter" [shipped]="--adapter runs/shipped_soup")
mkdir -p runs/ship_choice
for who in shipped sft600; do
  out=runs/ship_choice/$who-movies-valid-all
  [ -f $out/metrics.json ] && continue
  .venv/bin/emoreason evaluate -d vader:movies --split valid --max-new-tokens 192 ${ADAPTER[$who]} \
    --out $out > $out.log 2>&1
  echo "$who movies valid (all) done $(date +%T)"
done
.venv/bin/emoreason compare runs/ship_choice/shipped-movies-valid-all runs/ship_choice/sft600-movies-valid-all \
  --out runs/ship_choice/sft600-vs-shipped-movies-valid-all.json
