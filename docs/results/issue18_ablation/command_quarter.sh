#!/bin/sh
# Ran at commit 7632963 (2026-11-30), against that day's configs/c2f_vader_smollm2.yaml and shipped adapter (the SFT
# one); both have changed since, so today it trains another run or fails validation. To rerun it, run it in a
# checkout of that commit: git worktree add ../at-7632963 7632963
# issue 18 (after issue18_ablation4.sh): Hint-GRPO at stable_a's settings and budget (40 steps x 6 prompts x G=4
# from the shipped SFT adapter) with neutral prompts at a quarter of the stream (data.balance_weights 3/3/2), between
# the balanced third (Hint-GRPO: neutral answers tripled) and the fifth of "natural" (neutral answers vanished).
# best/ on the seeded 300 test sentences per domain, free quoting, paired against SFT (sft_free) and Hint-GRPO (rl).
# Resumable: rerun to go on.
set -eu
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
while [ -n "${WAIT_PID:-}" ] && kill -0 "$WAIT_PID" 2>/dev/null; do sleep 10; done
common="--config configs/c2f_vader_smollm2.yaml model.adapter=/work/main/src/emoreason/resources/default_adapter run.max_steps=40 run.save_every=10 run.resume=true"
train() {
  name=$1
  shift
  if [ ! -d runs/grpo/$name/checkpoint-40 ]; then
    echo "== grpo $name $(date)"
    .venv/bin/emoreason grpo $common run.output_dir=runs/grpo/$name "$@"
  fi
}
evaluate() {
  echo "== evaluate $* $(date)"
  set -- sft_free=default rl=runs/grpo/stable_a/best/adapter "$@"
  EVAL_OPTIONS=--free-quotes scripts/compare_adapters.sh runs/compare 300 "$@"
}

train quarter "data.balance_weights={negative: 3, positive: 3, neutral: 2}"
evaluate quarter=runs/grpo/quarter/best/adapter
echo "== done $(date)"
