#!/bin/sh
# Ran at commit 59dbdef (2026-11-30), against that day's configs/c2f_vader_smollm2.yaml and shipped adapter (the SFT
# one); both have changed since, so today it trains another run or fails validation. To rerun it, run it in a
# checkout of that commit: git worktree add ../at-59dbdef 59dbdef
# issue 18, at stable_a's settings and budget (40 steps x 6 prompts x G=4 from the shipped SFT adapter;
# stable_a = Hint-GRPO, best/ = step 40): no hints; neutral prompts at a fifth instead of a third
# (data.balance_weights, "natural"); hard groups dropped. Each best/ on the seeded 300 test sentences per domain,
# free quoting, paired against the SFT adapter (sft_free) and Hint-GRPO (rl). Resumable: rerun to go on.
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
train nohints hints.enabled=false
evaluate nohints=runs/grpo/nohints/best/adapter
train natural "data.balance_weights={negative: 2, positive: 2}"
evaluate natural=runs/grpo/natural/best/adapter
train drop hints.drop_hard=true
evaluate drop=runs/grpo/drop/best/adapter
echo "== done $(date)"
