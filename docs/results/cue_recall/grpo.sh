#!/bin/bash
# Not run: its start (runs/mixcold/sft600_matched) was lost with runs/; continue.sh asks the same of the
# shipped default (RESULTS, "The `cue_coverage` reward as a continuation of the shipped default").
# Does a reward for naming the input's lexicon words (`cue_coverage`) make the chains complete
# without costing the score? Run after mix_matched_cold_start/grpo600.sh (A: its GRPO run, C600).
# B: the same run (configs/c2f_vader_smollm2.yaml from runs/mixcold/sft600_matched, same seed and
# prompts) with `cue_coverage` added at weight 0.5 beside grounding's 0.5; its best/ is chosen as A's
# was, by the in-training validation's mean r. B answers every sentence of the three valid splits as
# A's best/ did (greedy, <= 192 new tokens, grounded quotes, confidence readout).
#
# Rule, written before the run: `cue_coverage` joins the recipe's reward (configs/c2f_vader_smollm2.yaml)
# if B's cue recall is higher than A's on all three valid splits with each paired interval above 0
# (measure.py --paired), no split's Pearson r paired interval lies wholly below 0, and B's mean valid
# r is at most 0.005 below A's. Test is not looked at before the rule is applied.
#   docs/results/cue_recall/grpo.sh       (resumable: every stage skips what is done)
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
R=runs/mixcold
E=.venv/bin/emoreason
[ -d $R/valid600 ] || { echo "run mix_matched_cold_start/grpo600.sh first"; exit 1; }
[ -d $R/grpo600_cues/checkpoint-60 ] || $E grpo --config configs/c2f_vader_smollm2.yaml \
  model.adapter=$R/sft600_matched/final/adapter run.output_dir=$R/grpo600_cues \
  "reward.add={grounding: 0.5, cue_coverage: 0.5}" >> $R/grpo600_cues.log 2>&1
[ -d $R/grpo600_cues/checkpoint-60 ] || { echo "grpo did not finish"; exit 1; }
echo "grpo600_cues done $(date +%T)"
for d in tweets products movies; do
  out=$R/valid600/B600-$d-all
  [ -f $out/metrics.json ] || $E evaluate -d vader:$d --split valid --max-new-tokens 192 --score-readout confidence \
    --adapter $R/grpo600_cues/best/adapter --out $out > $out.log 2>&1
  $E compare $R/valid600/C600-$d-all $out --out $R/valid600/C600-vs-B600-$d.json > $R/valid600/C600-vs-B600-$d.txt
  .venv/bin/python docs/results/cue_recall/measure.py --paired $R/valid600/C600-$d-all $out \
    > $R/valid600/C600-vs-B600-$d-cues.txt 2>/dev/null
  echo "$d done $(date +%T)"
done
