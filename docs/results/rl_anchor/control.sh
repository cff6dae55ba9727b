#!/bin/bash
# C0: A1's anchor without the RL term (described, not a rule; written after A1's movies valid answers
# existed, whose margin r had fallen from the shipped default's 0.841 to 0.826, and before its rule was read).
#
# The polarity objective alone for A1's 60 optimizer steps, from the same start: lr 1.5e-4 constant, 16
# sentences a step from the three domains' train splits taking turns, rater_sd 0.5, seed 0, bf16 autocast
# where native. With seed 0 its batches are A1's own, sentence for sentence (`PolaritySentences.batch` is a
# function of the step and the seed; A1 took one optimizer step a step). What differs: no rewards, no KL
# term, and Adam's moments see the anchor's gradient alone. Then margins.py reads the polarity margin of
# every valid sentence for the shipped default, A1 and C0: whether A1's margin moved because of the RL
# term or because of the anchor's own steps.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
C=runs/rl_anchor/c0
mkdir -p runs/rl_anchor
[ -f $C/final/adapter/adapter_config.json ] ||
  .venv/bin/emoreason sft --config docs/results/polarity_sft/sft_p2.yaml run.output_dir=$C run.max_steps=60 \
    run.save_every=0 run.seed=0 model.adapter=src/emoreason/resources/default_adapter train.lr=1.5e-4 \
    train.scheduler=constant train.warmup_steps=0 "polarity.dataset=[vader:tweets,vader:products,vader:movies]" \
    polarity.balance=domain > $C.log 2>&1
echo "c0 done $(date +%T)"
[ -s docs/results/rl_anchor/margins.txt ] || .venv/bin/python docs/results/rl_anchor/margins.py \
  sv=src/emoreason/resources/default_adapter a1=runs/grpo/anchor_pg_lr15e5/checkpoint-60/adapter c0=$C/final/adapter \
  > docs/results/rl_anchor/margins.txt
cat docs/results/rl_anchor/margins.txt
# Added after margins.txt (A1's and C0's margins moved alike): C0's answers to movies valid, with the product's
# check flags, and A1 - C0 there, both read with the confidence readout (neither checkpoint carries a line): what
# the RL term did beside the anchor, on the split where A1 lost most.
V=runs/polarity_sft/valid
[ -f $V/c0-movies-all/metrics.json ] || .venv/bin/emoreason evaluate --max-new-tokens 192 --score-readout confidence \
  --no-name-negations --adapter $C/final/adapter --out $V/c0-movies-all -d vader:movies --split valid \
  > $V/c0-movies-all.log 2>&1
.venv/bin/emoreason compare $V/c0-movies-all $V/a1-movies-all > docs/results/rl_anchor/a1_vs_c0_movies.txt
cat docs/results/rl_anchor/a1_vs_c0_movies.txt
