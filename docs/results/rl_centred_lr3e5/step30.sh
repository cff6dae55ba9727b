#!/bin/bash
# The run's last checkpoint (step 30), where the probe (probe.txt, valid sentences) shows the shared
# shift gone and the movies AUC still +0.011 above the start (auc_bootstrap.txt): the seeded 200 of
# each valid split, then the seeded 300 of each test split (reported only), each paired against
# SFT 600 on the same sentences (the folders of docs/results/longer_sft). Resumable.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
adapter=runs/grpo/centred_lr3e5/checkpoint-30/adapter
for split in valid test; do
  n=$([ $split = valid ] && echo 200 || echo 300)
  out_dir=runs/rl_centred_lr3e5/$split
  for d in movies tweets products; do
    out=$out_dir/step30-$d
    [ -f $out/metrics.json ] || .venv/bin/emoreason evaluate -d vader:$d --split $split --sample $n --seed 0 \
      --max-new-tokens 192 --adapter $adapter --out $out > $out.log 2>&1
  done
  for d in tweets products movies; do
    echo "== $split $d: step 30 - SFT 600"
    .venv/bin/emoreason compare runs/longer_sft/$split/sft600-$d $out_dir/step30-$d --out $out_dir/step30-$d-vs-sft600.json
  done
done
