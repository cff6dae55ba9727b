#!/bin/bash
# Test, read once, only if run_ph.sh's rule puts PH above PG on valid (ship_ph.txt): PH's greedy answers to
# every test sentence with the shipped decoding code and the same flags, against PG's as shipped
# (runs/score_line/test-<d>, answers.sh), each off its own line with the shipped terms fitted on its tweets
# + products valid answers (`TERMS=confidence,margin,probit_margin ship_p2.py test pgl ph` -> test_ph.txt).
# Test decides nothing.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
mkdir -p $R
for d in tweets products movies; do
  [ -e $R/pgl-$d-all ] || ln -s ../../score_line/test-$d $R/pgl-$d-all
  out=$R/ph-$d-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
    --adapter runs/polarity_sft/ph/final/adapter --out $out -d vader:$d --split test > $out.log 2>&1
  echo "ph $d done $(date +%T)"
done
TERMS=confidence,margin,probit_margin .venv/bin/python docs/results/polarity_sft/ship_p2.py test pgl ph \
  > docs/results/polarity_sft/test_ph.txt
cat docs/results/polarity_sft/test_ph.txt
