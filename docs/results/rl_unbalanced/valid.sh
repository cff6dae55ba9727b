#!/bin/bash
# Waits for a run of this family (argument: unbalanced, the default, or unbalanced_nohints; its
# config is docs/results/rl_<run>/grpo.yaml, its folder runs/grpo/<run>), then evaluates its best/
# on the seeded 200 of each valid split (the sentences and settings of
# docs/results/longer_sft/valid.sh, whose sft600 folders, the shipped default's fp32 original,
# are A) and prints the paired differences; an ablation is also paired against unbalanced's best/.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
run=${1:-unbalanced}
while pgrep -f "rl_$run/grpo.yaml" > /dev/null; do sleep 30; done
out_dir=runs/rl_$run/valid
mkdir -p $out_dir
for d in movies tweets products; do
  out=$out_dir/best-$d
  [ -f $out/metrics.json ] && continue
  .venv/bin/emoreason evaluate -d vader:$d --split valid --sample 200 --max-new-tokens 192 \
    --adapter runs/grpo/$run/best/adapter --out $out > $out.log 2>&1
  echo "best valid $d done $(date +%T)"
done
declare -A A=([sft600]=runs/longer_sft/valid/sft600 [unbalanced]=runs/rl_unbalanced/valid/best)
for a in sft600 unbalanced; do
  [ $a = $run ] && continue
  for d in tweets products movies; do
    echo "== valid $d: best - $a"
    .venv/bin/emoreason compare ${A[$a]}-$d $out_dir/best-$d --out $out_dir/best-$d-vs-$a.json
  done
done
