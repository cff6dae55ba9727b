#!/bin/bash
# PH: PG (the shipped default) trained on for a fourth cycle of the same recipe: 600 more steps of the
# polarity objective (sft_p2.yaml: rater_sd 0.5, 16 sentences a step, lr 1e-4 cosine with 5 warmup
# steps), the three domains taking turns (`polarity.balance: domain`), seed 3 so the draws are none of
# PC's, PF's or PG's orders; nothing else changed. PG's fp32 adapter went with an earlier runs/ folder,
# so PH starts from the shipped fp16 form (ship_check_pg.txt: its polarity probabilities are the fp32
# adapter's within 0.0001), as P1 started from a shipped fp16 adapter.
#
# Why: each cycle so far raised movies test r (second +0.029, third +0.011, intervals above 0) and the
# third's loss still fell (means of 100 steps 0.528 -> 0.483). Whether a fourth still helps, or now only
# fits the train sentences (PC + PF + PG saw about 29,000 draws of the 14,810), is what valid says.
#
# The rule, written before PH existed: PG's answers to every valid sentence as shipped (runs/score_line/
# valid-<d>, docs/results/score_line/answers.sh: fab84f3's decoding code, the same flags) against PH's
# (192 tokens, confidence readout, --no-name-negations), each read off its own line with the shipped
# line's terms (confidence, margin, probit margin), fitted on its tweets + products valid answers
# (`TERMS=confidence,margin,probit_margin ship_p2.py valid pgl ph` -> ship_ph.txt). PH replaces PG iff
# its mean valid r over the three splits is above PG's, no parse rate falls by more than 0.01, and no
# split's valid r falls with a 95% paired interval below 0. Only then is test read, once (test_ph.sh),
# and test decides nothing.
cd "$(dirname "$0")/../../.."
V=runs/polarity_sft/valid
mkdir -p $V
for d in tweets products movies; do
  [ -e $V/pgl-$d-all ] || ln -s ../../score_line/valid-$d $V/pgl-$d-all
done
WHO=ph CONFIG=docs/results/polarity_sft/sft_p2.yaml \
  OVERRIDES="run.output_dir=runs/polarity_sft/ph run.max_steps=600 run.seed=3 model.adapter=src/emoreason/resources/default_adapter polarity.dataset=[vader:tweets,vader:products,vader:movies] polarity.balance=domain" \
  bash docs/results/polarity_sft/run_p2.sh
TERMS=confidence,margin,probit_margin .venv/bin/python docs/results/polarity_sft/ship_p2.py valid pgl ph \
  > docs/results/polarity_sft/ship_ph.txt
cat docs/results/polarity_sft/ship_ph.txt
