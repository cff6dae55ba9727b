#!/bin/bash
# P2: P1's recipe with polarity.rater_sd 0.5 instead of 1.0, from the same start (the default shipped
# before P1), nothing else changed (sft_p2.yaml). Why: P1 answers "neutral" much less than its start
# (products test neutral recall 0.446 -> 0.203), because with rater_sd 1.0 the target makes "neutral"
# the likeliest word only for gold scores within about 0.2 of 0, where the band is 0.5; at 0.5 the
# crossing is near 0.4. The price may be a coarser margin (targets saturate sooner).
#
# The rule, written before P2 existed: its greedy answers to every valid sentence (192 tokens,
# confidence readout), read off its own line fitted on its tweets + products valid answers, against
# P1's (runs/polarity_sft/valid). P2 replaces P1 as the shipped default iff its mean valid r over the
# three splits is above P1's and no parse rate falls by more than 0.01; then test is read once (both,
# every sentence) before it is copied. Described beside it: each split's neutral recall and answers'
# mix. `ship_p2.py` prints both.
# With WHO=p3 (run_p3.sh) the same steps train and answer for sft_p3.yaml.
cd "$(dirname "$0")/../../.."
WHO=${WHO:-p2}
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
bash docs/results/polarity_sft/start.sh
R=runs/polarity_sft
# CONFIG and OVERRIDES (run_p4.sh): another candidate as a recipe plus KEY=VALUE overrides
CONFIG=${CONFIG:-docs/results/polarity_sft/sft_$WHO.yaml}
[ -f $R/$WHO/final/adapter/adapter_config.json ] || $E sft --config $CONFIG $OVERRIDES >> $R/$WHO.log 2>&1
echo "$WHO trained $(date +%T)"
# --no-name-negations: the answers compared here were all made before that option became the default
# (docs/results/negation_naming); it changes no polarity and r by less than 0.001 there.
for d in ${DOMAINS:-products tweets movies}; do
  out=$R/valid/$WHO-$d-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
    --adapter $R/$WHO/final/adapter --out $out -d vader:$d --split valid > $out.log 2>&1
  echo "$d done $(date +%T)"
done
