#!/bin/bash
# best/ of a run of this family (argument as valid.sh's) on the seeded 300 of each test split (the
# sentences and settings of docs/results/longer_sft/test.sh), paired against the shipped default's
# fp32 original (sft600), best/ of the balanced-stream run (docs/results/rl_from_sft600) and, for
# an ablation, unbalanced's best/, all A.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
run=${1:-unbalanced}
out_dir=runs/rl_$run/test
mkdir -p $out_dir
for d in movies tweets products; do
  out=$out_dir/best-$d
  [ -f $out/metrics.json ] && continue
  .venv/bin/emoreason evaluate -d vader:$d --split test --sample 300 --seed 0 --max-new-tokens 192 \
    --adapter runs/grpo/$run/best/adapter --out $out > $out.log 2>&1
  echo "best test $d done $(date +%T)"
done
declare -A A=([sft600]=runs/longer_sft/test/sft600 [balanced]=runs/rl_from_sft600/test/best
  [unbalanced]=runs/rl_unbalanced/test/best)
for a in sft600 balanced unbalanced; do
  [ $a = $run ] && continue
  for d in tweets products movies; do
    echo "== test $d: best - $a"
    .venv/bin/emoreason compare ${A[$a]}-$d $out_dir/best-$d --out $out_dir/best-$d-vs-$a.json
  done
done
