#!/bin/bash
# Only after a rule (run.sh for PD, run_pe.sh for PE) has let the candidate WHO replace PC: the test
# answers of PC with the emphasis constraint (pce: PC's fp32 adapter, the flags of its valid answers)
# and of WHO, every test sentence, then the same two comparisons as on valid. Test decides nothing: the
# candidate ships whatever it says.
cd "$(dirname "$0")/../../.."
WHO=${WHO:?set WHO to the candidate (pd or pe)}
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft/test
D=docs/results/joint_sft
mkdir -p $R
for d in movies tweets products; do
  for who in pce $WHO; do
    out=$R/$who-$d-all
    adapter=$([ $who = pce ] && echo runs/polarity_sft/pc/final/adapter || echo runs/joint/$who/final/adapter)
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
      --adapter $adapter --out $out -d vader:$d --split test > $out.log 2>&1
    echo "$who $d done $(date +%T)"
  done
done
.venv/bin/python docs/results/polarity_sft/ship_p2.py test pce $WHO > $D/test_r_$WHO.txt
.venv/bin/python $D/decide.py test pce $WHO > $D/test_decide_$WHO.txt
cat $D/test_r_$WHO.txt $D/test_decide_$WHO.txt
