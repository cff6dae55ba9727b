#!/bin/bash
# After sft600.sh: the shipped GRPO recipe (configs/c2f_vader_smollm2.yaml, 60 steps, about an hour)
# from the 600-step cold start on the mix-matched chains, then sft600.sh's ship check. Resumable:
# every stage skips what is done, and the GRPO run resumes from its newest checkpoint.
#
# The ship check (sft600.sh's rule; the readout settled here before any GRPO step ran): C = the GRPO
# run's best/ (chosen by its in-training validation, mean r on a seeded 100 of each valid split).
# C answers every sentence of the three valid splits with the confidence readout, the readout of
# the shipped default's answers in runs/calib/valid (A), so neither side reads scores off a line
# fitted on these same valid answers. all_domains/decide.py applies the rule: C's mean valid r above
# A's, its mean uar-3 above A's (`--uar`), no tweets or products r or acc-3 paired interval wholly below 0.
# If C ships, its own line is fitted on these tweets and products answers (fit-score) and goes with it.
#   docs/results/mix_matched_cold_start/grpo600.sh
#   .venv/bin/python docs/results/all_domains/decide.py runs/mixcold/valid600 C600 --uar \
#       > docs/results/mix_matched_cold_start/valid600.txt
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
R=runs/mixcold
E=.venv/bin/emoreason
[ -d $R/sft600_matched/final ] || { echo "run sft600.sh first"; exit 1; }
[ -d $R/grpo600_matched/checkpoint-60 ] || $E grpo --config configs/c2f_vader_smollm2.yaml \
  model.adapter=$R/sft600_matched/final/adapter run.output_dir=$R/grpo600_matched >> $R/grpo600_matched.log 2>&1
[ -d $R/grpo600_matched/checkpoint-60 ] || { echo "grpo did not finish"; exit 1; }
echo "grpo600 done $(date +%T)"
C=$R/C600
[ -f $C/adapter_config.json ] || { mkdir -p $C && cp $R/grpo600_matched/best/adapter/* $C/; }
mkdir -p $R/valid600
for d in ${DOMAINS:-tweets products movies}; do
  out=$R/valid600/C600-$d-all
  [ -f $out/metrics.json ] || $E evaluate -d vader:$d --split valid --max-new-tokens 192 --score-readout confidence \
    --adapter $C --out $out > $out.log 2>&1
  $E compare runs/calib/valid/shipped-$d-all $out --out $R/valid600/A-vs-C600-$d.json > $R/valid600/A-vs-C600-$d.txt
  echo "$d done $(date +%T)"
done
# Does RL beat its own start here? The cold start (S600) on a seeded 300 of each valid split, paired
# with C600's answers to the same sentences (reported, not part of the ship rule).
for d in tweets products movies; do
  out=$R/valid600/S600-$d-300
  [ -f $out/metrics.json ] || $E evaluate -d vader:$d --split valid --sample 300 --seed 0 --max-new-tokens 192 \
    --score-readout confidence --adapter $R/sft600_matched/final/adapter --out $out > $out.log 2>&1
  $E compare $out $R/valid600/C600-$d-all --out $R/valid600/S600-vs-C600-$d.json > $R/valid600/S600-vs-C600-$d.txt
  echo "S600 $d done $(date +%T)"
done
