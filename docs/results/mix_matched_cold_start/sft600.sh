#!/bin/bash
# The next step, started at the end of the twenty-fifth session and resumable: the shipped default's
# 600-step cold start (configs/sft_c2f_vader_smollm2.yaml, max_steps 600) on the mix-matched chains
# (runs/mixcold/distill_matched, 1,605 for training: 3 epochs), then the shipped GRPO recipe
# (configs/c2f_vader_smollm2.yaml) from it. This script runs the SFT (about 80-100 minutes); the
# GRPO stage and the check below are for a later session.
#
# Rule, written before the runs: the GRPO run's best/ (or, if GRPO has not run, the SFT adapter)
# gets a score line fitted on its tweets and products valid answers, as the shipped default's was,
# and answers every sentence of the three valid splits (all_domains/valid.sh's settings). It
# replaces the shipped default if (v1) its mean valid r is higher, (v2) its mean uar-3 is higher,
# and (v3) no tweets or products r or acc-3 paired interval lies wholly below 0.
#   docs/results/mix_matched_cold_start/sft600.sh
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
R=runs/mixcold
[ -d $R/sft600_matched/final ] || .venv/bin/emoreason sft --config configs/sft_c2f_vader_smollm2.yaml \
  run.output_dir=$R/sft600_matched data.train_file=$R/distill_matched/sft.jsonl >> $R/sft600_matched.log 2>&1
echo "sft600 done $(date +%T)"
