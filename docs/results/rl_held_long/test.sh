#!/bin/bash
# Test, read once, only if valid_l1.txt's verdict is that L1 replaces the shipped default (run.sh's rule,
# with its third condition read off the same file: no split's valid r difference with an interval below 0).
# Written before any valid answer of L1 existed. Both adapters' greedy answers to every sentence of the
# three test splits with the flags of the valid answers (192 tokens, confidence readout,
# --no-name-negations), each read off its own line fitted on its tweets + products valid answers; then
# `ship_p2.py test sv l1` -> test_l1.txt. The issue's goal is met iff L1 - sv on movies test r has a 95%
# paired interval above 0 and neither in-domain (tweets, products) test r difference an interval below 0.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
D=docs/results/rl_held_long
grep -q "verdict: L1 replaces SV" $D/valid_l1.txt || { echo "valid_l1.txt does not say L1 replaces SV: test stays unread"; exit 1; }
# the third condition: on no split does the r difference's interval lie wholly below 0 ("pearson_r a -> b, +d [lo, hi]")
python3 - $D/valid_l1.txt <<'PY' || exit 1
import re, sys
highs = [float(m) for m in re.findall(r"pearson_r [^;]*\[[-+.0-9]+, ([-+.0-9]+)\]", open(sys.argv[1]).read())]
if len(highs) != 3 or min(highs) < 0:
    sys.exit(f"valid r difference intervals' upper ends {highs}: one lies below 0 (or a split is missing); test stays unread")
PY
mkdir -p $R
for d in movies tweets products; do
  for who in sv l1; do
    out=$R/$who-$d-all
    adapter=$([ $who = l1 ] && echo "--adapter runs/grpo/held_sv_600/checkpoint-600/adapter")
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations $adapter \
      --out $out -d vader:$d --split test > $out.log 2>&1
    echo "$who $d test done $(date +%T)"
  done
done
TERMS=confidence,margin,probit_margin .venv/bin/python docs/results/polarity_sft/ship_p2.py test sv l1 > $D/test_l1.txt
cat $D/test_l1.txt
