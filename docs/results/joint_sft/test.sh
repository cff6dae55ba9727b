#!/bin/bash
# Only after run.sh's rule has let PD replace PC (decide.txt): the test answers of PC with the emphasis
# constraint (pce: PC's fp32 adapter, the flags of its valid answers) and of PD, every test sentence,
# then the same two comparisons as on valid. Test decides nothing: PD ships whatever it says.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
D=docs/results/joint_sft
mkdir -p $R
for d in movies tweets products; do
  for who in pce pd; do
    out=$R/$who-$d-all
    adapter=$([ $who = pd ] && echo runs/joint/pd/final/adapter || echo runs/polarity_sft/pc/final/adapter)
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
      --adapter $adapter --out $out -d vader:$d --split test > $out.log 2>&1
    echo "$who $d done $(date +%T)"
  done
done
.venv/bin/python docs/results/polarity_sft/ship_p2.py test pce pd > $D/test_r.txt
.venv/bin/python $D/decide.py test pce pd > $D/test_decide.txt
cat $D/test_r.txt $D/test_decide.txt
