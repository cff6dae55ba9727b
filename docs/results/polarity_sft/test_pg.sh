#!/bin/bash
# Test, read once, only if ship_pg.sh's rule puts PG above PF on valid (ship_pg.txt): both adapters'
# greedy answers to every sentence of the three test splits with the shipped decoding code (grounded
# quoting with the emphasis, cue-list count and text-opening rules; "pfn" is PF answering so, since PF's
# saved test answers predate the text-opening rule), PF's flags (192 tokens, confidence readout,
# --no-name-negations); then `ship_p2.py test pfn pg` -> test_pg.txt. Test decides nothing.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
mkdir -p $R
for d in ${DOMAINS:-tweets products movies}; do
  for who in pfn pg; do
    out=$R/$who-$d-all
    adapter=runs/polarity_sft/$([ $who = pfn ] && echo pf || echo $who)/final/adapter
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
      --adapter $adapter --out $out -d vader:$d --split test > $out.log 2>&1
    echo "$who $d done $(date +%T)"
  done
done
.venv/bin/python docs/results/polarity_sft/ship_p2.py test pfn pg > docs/results/polarity_sft/test_pg.txt
cat docs/results/polarity_sft/test_pg.txt
