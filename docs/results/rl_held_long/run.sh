#!/bin/bash
# Hint-GRPO from the shipped default for 600 steps with the polarity word held out of the policy term
# (issue 18, fiftieth session; resumable, runs across sessions: rerun this script to go on).
#
# Why. RESULTS, "What the chain adds to the score": out of domain nothing the answer writes after its
# polarity word adds to r, so a run that holds the word can add at most what the chain adds. Every run
# with the word held so far was 60 steps (G1 at lr 3e-5 moved nothing, KL 0.002 to its start; G2/G3 at
# lr 1.5e-4 moved the word's probabilities through the shared LoRA weights and cost r). The one variant
# that measurement does not rule out is the gentle lr for ten times as long: 600 steps x 6 prompts x 4 =
# 3,600 prompts, the issue's "hundreds of prompts per variant, resumable across sessions". The prediction,
# written now: level with its start (movies valid r within +-0.01), unless the written part's partial r
# on movies rises from 0.11 to about 0.3.
#
# The run (L1): docs/results/rl_agreement/grpo.yaml (format + polarity + score + agreement 1.0 + grounding
# 0.5, hints trained on, two-way centring, KL 0.04 to the start, 6 prompts x 4 from tweets + products
# train, 160 tokens, lr 3e-5 constant), 600 steps, seed 0, validation off, from the shipped default, the
# polarity word held out of the policy term (G1's setting). Checkpoints every 30 steps. Candidate L1 =
# step 600, fixed now; nothing else is chosen.
#
# The rule, written before the run (A1's): L1's greedy answers to every sentence of the three valid
# splits (the product's check flags: 192 tokens, confidence readout, --no-name-negations), each adapter
# read off its own line with the shipped line's terms fitted on its tweets + products valid answers,
# against the shipped default's answers ("sv"): `TERMS=confidence,margin,probit_margin ship_p2.py valid
# sv l1` -> valid_l1.txt. L1 replaces the shipped default iff its mean valid r over the three splits is
# above sv's, no parse rate falls by more than 0.01 and no split's valid r falls with a 95% paired
# interval below 0. Only then is test read, once, and the issue's goal judged: L1 - sv on movies test r
# with a paired interval above 0 and neither in-domain test r difference with an interval below 0.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
V=runs/polarity_sft/valid
D=docs/results/rl_held_long
G=runs/grpo/held_sv_600
WHO=l1
mkdir -p $V runs/grpo runs/signed_verdict
for d in tweets products movies; do
  [ -L $V/sv-$d-all ] || ln -s ../../signed_verdict/valid-$d $V/sv-$d-all
done
[ -f $G/checkpoint-600/adapter/adapter_config.json ] ||
  $E grpo --config docs/results/rl_agreement/grpo.yaml validation.every=0 run.max_steps=600 run.seed=0 \
    run.save_every=30 run.keep_checkpoints=2 run.output_dir=$G \
    model.adapter=src/emoreason/resources/default_adapter algorithm.train_polarity_word=false >> $G.log 2>&1
[ -f $G/checkpoint-600/adapter/adapter_config.json ] || { echo "grpo stopped before step 600; rerun to resume"; exit 1; }
echo "grpo done $(date +%T)"
for d in movies tweets products; do
  out=$V/$WHO-$d-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
    --adapter $G/checkpoint-600/adapter --out $out -d vader:$d --split valid > $out.log 2>&1
  echo "$d valid done $(date +%T)"
done
# sv's answers (the shipped default's, with the same flags) are made again where this checkout lacks them: a new
# checkout of the fifty-second session had no runs/ (L1's first 238 steps were lost with it), and sv's answers of
# the forty-fifth session were decoded before the grounded-quoting fix of the fifty-first.
for d in movies tweets products; do
  out=runs/signed_verdict/valid-$d
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
    --out $out -d vader:$d --split valid > $out.log 2>&1
  echo "sv $d valid done $(date +%T)"
done
TERMS=confidence,margin,probit_margin .venv/bin/python docs/results/polarity_sft/ship_p2.py valid sv $WHO \
  > $D/valid_$WHO.txt
cat $D/valid_$WHO.txt
