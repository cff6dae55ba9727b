#!/bin/bash
# PG: PF (the shipped default) trained on for a third cycle of the same recipe: 600 more steps of the
# polarity objective (sft_p2.yaml: rater_sd 0.5, 16 sentences a step, lr 1e-4 cosine with 5 warmup
# steps), the three domains taking turns (`polarity.balance: domain`), from PF's fp32 adapter, seed 2 so
# the draws are neither PC's nor PF's order; nothing else changed.
#
# Why: the second cycle (PF) raised valid and test r on products and movies with paired intervals
# above 0, and its loss was still falling at its end (means of 100 steps 0.562 -> 0.499). Whether a
# third cycle still helps, or now only fits the train sentences (PC + PF saw about 19,000 draws of the
# 14,810), is what valid says.
#
# The rule, written before PG existed: PF's answers to every valid sentence (runs/polarity_sft/valid/
# pf-*-all, made with the shipped decoding code) against PG's (192 tokens, confidence readout,
# --no-name-negations as PF's), each read off its own line fitted on its tweets + products valid
# answers (`ship_p2.py valid pf pg` -> ship_pg.txt). PG replaces PF iff its mean valid r over the three
# splits is above PF's (0.8350), no parse rate falls by more than 0.01, and no split's valid r falls
# with a 95% paired interval below 0. Only then is test read, once, and test decides nothing.
cd "$(dirname "$0")/../../.."
WHO=pg CONFIG=docs/results/polarity_sft/sft_p2.yaml \
  OVERRIDES="run.output_dir=runs/polarity_sft/pg run.max_steps=600 run.seed=2 model.adapter=runs/polarity_sft/pf/final/adapter polarity.dataset=[vader:tweets,vader:products,vader:movies] polarity.balance=domain" \
  bash docs/results/polarity_sft/run_p2.sh
.venv/bin/python docs/results/polarity_sft/ship_p2.py valid pf pg > docs/results/polarity_sft/ship_pg.txt
cat docs/results/polarity_sft/ship_pg.txt
