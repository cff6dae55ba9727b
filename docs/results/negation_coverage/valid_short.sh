#!/bin/bash
# run.sh's valid answers cut to what fits the session: evaluate ran at about 9 minutes per tweets
# split on this CPU (about twice the earlier sessions' time), so the six whole valid splits would
# have taken about 85 minutes. Written after cov40's tweets answers and before any other answer below:
#  (c1), (c2) exactly as run.sh says, on the same sentences: the 142 valid sentences whose input
#       negates a lexicon word (make_negated_valid.py), answered by both adapters;
#       the support share of (c1) is taken over those answers only (not every valid answer);
#  (v3) cov40's mean r on the seeded 200 of each valid split (tweets read from its whole-split
#       answers, products and movies answered here) against the recorded 0.7946;
#  (v1), (v2) are not measured here; they would be needed before test.
# Confidence readout for both, as in run.sh. Log: runs/negcov/valid_short.log.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/negcov
B=$R/grpo/checkpoint-40/adapter
NV="jsonl:$R/negated_valid.jsonl?scale=-4,4&neutral=0.5"
[ -f $R/negated_valid.jsonl ] || .venv/bin/python docs/results/negation_coverage/make_negated_valid.py $R/negated_valid.jsonl
for who in cov40 shipped; do
  a=$B; [ $who = shipped ] && a=sentiment
  out=$R/negated/$who
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --adapter $a --out $out \
    -d "$NV" --split valid > $out.log 2>&1
  echo "$who negated done $(date +%T)"
done
for d in products movies; do
  out=$R/valid/cov40-$d-200
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --adapter $B --out $out \
    -d vader:$d --split valid --sample 200 --seed 0 > $out.log 2>&1
  echo "cov40 $d 200 done $(date +%T)"
done
.venv/bin/python docs/results/negation_coverage/valid_short.py > docs/results/negation_coverage/valid_short.txt
echo "all done $(date +%T)"
