#!/bin/bash
# Negation-weighted SFT continuation of the shipped default, then it against the shipped default
# on the whole valid splits. Why: the shipped default reads "Not bad at all, ..." as negative, and
# on the tweets and products valid splits it writes "negated by" on 1 of the 44 answers to
# sentences where the lexicon teacher finds a negated cue (the teacher writes it on all of them).
# A = the shipped default, B = this run's final adapter (step 120), fixed before the run.
# Rule, written before the run (all three for B to go to test.sh):
#  (v1) on the valid sentences where the teacher finds a negated cue (three whole valid splits),
#       B's acc-3 > A's and B writes "negated by" on more of them (negation.py);
#  (v2) no loss in domain: on the whole tweets and products valid splits the paired intervals of
#       B - A for r and for acc-3 reach 0 or above;
#  (v3) mean r over the seeded 200 of each valid split >= the shipped default's 0.7946.
# Resumable. Log: runs/negation_sft/run.log.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/negation_sft
B=$R/sft/final/adapter
[ -f $R/mix.jsonl ] || .venv/bin/python docs/results/negation_sft/make_mix.py runs/distill/vader_lexicon/sft.jsonl $R/mix.jsonl
[ -f $B/adapter_config.json ] || $E sft --config docs/results/negation_sft/sft.yaml >> $R/sft.log 2>&1
echo "sft done $(date +%T)"
mkdir -p $R/valid
# A's answers to the whole tweets and products valid splits exist (runs/default_valid); movies not.
for d in tweets products; do
  [ -e $R/valid/shipped-$d-all ] || ln -s ../../default_valid/$d-all $R/valid/shipped-$d-all
done
run() {  # who adapter domain
  out=$R/valid/$1-$3-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --adapter $2 --out $out -d vader:$3 --split valid \
    > $out.log 2>&1
  echo "$1 $3 done $(date +%T)"
}
for d in tweets products movies; do run neg120 $B $d; done
run shipped src/emoreason/resources/default_adapter movies
for d in tweets products movies; do
  $E compare $R/valid/{shipped,neg120}-$d-all --out $R/valid/neg120-$d-all-vs-shipped.json
done
echo "all done $(date +%T)"
