#!/bin/bash
# Test, read once, for a candidate B that replaced the incumbent A on valid: both adapters' greedy answers
# to every sentence of the three test splits with the shipped decoding code, the polarity runs' flags (192
# tokens, confidence readout, --no-name-negations); then `ship_p2.py test A B` -> OUT. Test decides nothing.
# A names the incumbent's answers, ADAPTER_A its run ("pce" is PC's run answering with later decoding code).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
mkdir -p $R
for d in ${DOMAINS:-tweets products movies}; do
  for who in $A $B; do
    out=$R/$who-$d-all
    adapter=runs/polarity_sft/$([ $who = $A ] && echo $ADAPTER_A || echo $who)/final/adapter
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
      --adapter $adapter --out $out -d vader:$d --split test > $out.log 2>&1
    echo "$who $d done $(date +%T)"
  done
done
.venv/bin/python docs/results/polarity_sft/ship_p2.py test $A $B > $OUT
cat $OUT
