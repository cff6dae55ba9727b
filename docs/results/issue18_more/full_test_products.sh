#!/bin/sh
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
for pair in sft=runs/sft_adapter slow_traj=runs/soup/slow_traj; do
  n=${pair%%=*} a=${pair#*=}
  echo "== $n on vader:products test (all) $(date)"
  .venv/bin/emoreason evaluate -d vader:products --split test --sample 5000 --seed 0 --adapter "$a" \
    --free-quotes --baselines none --out "runs/full_test/$n/products" > "runs/full_test.$n.products.log" 2>&1
done
.venv/bin/emoreason compare runs/full_test/sft/products runs/full_test/slow_traj/products --out runs/full_test/slow_traj_vs_sft_products.json
echo "== done $(date)"
