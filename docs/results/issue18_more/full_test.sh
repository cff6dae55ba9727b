#!/bin/sh
# issue 18: the final measurement, fixed before it ran: every sentence of the three VADER test splits
# (1,061 movies, 420 tweets, 371 products; --sample above the split size takes all of it), free quoting,
# greedy, the SFT adapter (A) against the candidate chosen on valid (B). Movies first. Resumable.
#   runs/full_test.sh NAME ADAPTER
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
name=$1 adapter=$2
for domain in movies tweets products; do
  for pair in sft=runs/sft_adapter "$name=$adapter"; do
    n=${pair%%=*} a=${pair#*=}
    echo "== $n on vader:$domain test (all) $(date)"
    .venv/bin/emoreason evaluate -d "vader:$domain" --split test --sample 5000 --seed 0 --adapter "$a" \
      --free-quotes --baselines none --out "runs/full_test/$n/$domain" > "runs/full_test.$n.$domain.log" 2>&1
  done
  .venv/bin/emoreason compare "runs/full_test/sft/$domain" "runs/full_test/$name/$domain" \
    --out "runs/full_test/${name}_vs_sft_$domain.json"
done
echo "== done $(date)"
