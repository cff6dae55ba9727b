#!/bin/bash
# Hint-GRPO from the 600-step cold start (configs/c2f_vader_smollm2.yaml, model.adapter =
# runs/sft600/final/adapter, run.output_dir = runs/grpo/from_sft600): waits for the run, averages
# its checkpoints 10-60 (the recipe's soup, rank 16 as shipped), and evaluates the soup and the
# run's best/ on the seeded 200 of each valid split, the sentences and settings of
# docs/results/longer_sft/valid.sh (whose sft600 folders are the reference A).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
while pgrep -f "run.output_dir=runs/grpo/from_sft600" > /dev/null; do sleep 30; done
run=runs/grpo/from_sft600
ckpts=$(for s in 10 20 30 40 50 60; do [ -d $run/checkpoint-$s/adapter ] && echo $run/checkpoint-$s/adapter; done)
[ -f runs/rl_from_sft600/soup/adapter_config.json ] ||
  .venv/bin/emoreason average $ckpts --rank 16 --out runs/rl_from_sft600/soup
declare -A ADAPTER=([soup]=runs/rl_from_sft600/soup [best]=$run/best/adapter)
for who in soup best; do
  for d in movies tweets products; do
    out=runs/rl_from_sft600/valid/$who-$d
    mkdir -p runs/rl_from_sft600/valid
    [ -f $out/metrics.json ] && continue
    .venv/bin/emoreason evaluate -d vader:$d --split valid --sample 200 --max-new-tokens 192 \
      --adapter ${ADAPTER[$who]} --out $out > $out.log 2>&1
    echo "$who valid $d done $(date +%T)"
  done
done
for who in soup best; do
  for d in tweets products movies; do
    echo "== valid $d: $who - sft600"
    .venv/bin/emoreason compare runs/longer_sft/valid/sft600-$d runs/rl_from_sft600/valid/$who-$d \
      --out runs/rl_from_sft600/valid/$who-$d-vs-sft600.json
  done
done
