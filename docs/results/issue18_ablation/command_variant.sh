#!/bin/sh
# Ran at commit ad8ab80 (2026-11-30), against that day's configs/c2f_vader_smollm2.yaml and shipped adapter (the SFT
# one); both have changed since, so today it trains another run or fails validation. To rerun it, run it in a
# checkout of that commit: git worktree add ../at-ad8ab80 ad8ab80
# issue 18: one Hint-GRPO variant at stable_a's settings and budget (40 steps x 6 prompts x G=4 from the
# shipped SFT adapter), then best/ on the seeded 300 test sentences per domain, free quoting, paired against
# SFT (sft_free) and Hint-GRPO (rl). Resumable: rerun to go on.
#   sh runs/issue18_variant.sh NAME [KEY=VALUE ...]
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
while [ -n "${WAIT_PID:-}" ] && kill -0 "$WAIT_PID" 2>/dev/null; do sleep 10; done
name=$1
shift
if [ ! -d runs/grpo/$name/checkpoint-40 ]; then
  echo "== grpo $name $* $(date)"
  .venv/bin/emoreason grpo --config configs/c2f_vader_smollm2.yaml \
    model.adapter=/work/main/src/emoreason/resources/default_adapter run.max_steps=40 run.save_every=10 \
    run.resume=true run.output_dir=runs/grpo/$name "$@"
fi
echo "== evaluate $name $(date)"
EVAL_OPTIONS=--free-quotes scripts/compare_adapters.sh runs/compare 300 \
  sft_free=default rl=runs/grpo/stable_a/best/adapter $name=runs/grpo/$name/best/adapter
for d in tweets products movies; do
  .venv/bin/emoreason compare runs/compare/rl/$d runs/compare/$name/$d --out runs/compare/${name}_vs_rl_$d.json
done
echo "== done $(date)"
