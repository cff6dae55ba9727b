#!/bin/bash
# GRPO with the `negation` reward from neg120 (grpo.yaml), then its step 40 on the whole valid
# splits against neg120 (its start) and against the shipped default. The candidate is step 40,
# fixed before the run. Rule, written before the run:
#  (n1) on the three whole valid splits pooled, the share of named negations that stand just
#       before their cue (support.py) is above neg120's, and the number of such true negations
#       named is not lower than neg120's: fewer false negations, not fewer negations;
#  (n2) against neg120, no split's r has a paired interval entirely below 0.
#  It replaces the shipped default only by run.sh's (v1)-(v3) against the shipped default
#  (with (v3): mean seeded-200 valid r >= 0.7946), then test.sh.
# Resumable. Log: runs/negation_sft/rl.log.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/negation_sft
B=runs/grpo/negation_reward/checkpoint-40/adapter
[ -f $B/adapter_config.json ] || $E grpo --config docs/results/negation_sft/grpo.yaml >> runs/grpo/negation_reward.log 2>&1
echo "grpo done $(date +%T)"
for d in tweets products movies; do
  out=$R/valid/rl40-$d-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --adapter $B --out $out -d vader:$d --split valid \
    > $out.log 2>&1
  echo "rl40 $d done $(date +%T)"
  $E compare $R/valid/{neg120,rl40}-$d-all --out $R/valid/rl40-$d-all-vs-neg120.json
  $E compare $R/valid/{shipped,rl40}-$d-all --out $R/valid/rl40-$d-all-vs-shipped.json
done
echo "all done $(date +%T)"
