#!/bin/bash
# best/ of train.sh's run on the seeded 300 of each test split (the sentences and settings of
# docs/results/longer_sft/test.sh), paired against the shipped default's fp32 original (sft600)
# and against best/ of the balanced-stream run (docs/results/rl_from_sft600), both A.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/rl_unbalanced/test
for d in movies tweets products; do
  out=runs/rl_unbalanced/test/best-$d
  [ -f $out/metrics.json ] && continue
  .venv/bin/emoreason evaluate -d vader:$d --split test --sample 300 --seed 0 --max-new-tokens 192 \
    --adapter runs/grpo/unbalanced/best/adapter --out $out > $out.log 2>&1
  echo "best test $d done $(date +%T)"
done
declare -A A=([sft600]=runs/longer_sft/test/sft600 [balanced]=runs/rl_from_sft600/test/best)
for a in sft600 balanced; do
  for d in tweets products movies; do
    echo "== test $d: best - $a"
    .venv/bin/emoreason compare ${A[$a]}-$d runs/rl_unbalanced/test/best-$d \
      --out runs/rl_unbalanced/test/best-$d-vs-$a.json
  done
done
