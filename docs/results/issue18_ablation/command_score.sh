#!/bin/sh
# Ran at commit dff2213 (2026-11-30), against that day's configs/c2f_vader_smollm2.yaml and shipped adapter (the SFT
# one); both have changed since, so today it trains another run or fails validation. To rerun it, run it in a
# checkout of that commit: git worktree add ../at-dff2213 dff2213
# issue 18 (after issue18_ablation3.sh): Hint-GRPO at stable_a's settings and budget (40 steps x 6 prompts x G=4
# from the shipped SFT adapter), with one change: a sharper, heavier score term. The linear score reward
# (1 - |error| / 8) separates an answer 0.5 points off from one 1 point off by 0.06, against 1.0 for the polarity
# term, so under Dr. GRPO the update follows polarity and hardly the score; here a gaussian of sigma = 1 point
# (sigma 0.125 of the 8-point range) at weight 2: 0.55 between those two answers. best/ on the seeded 300 test
# sentences per domain, free quoting, paired against the SFT adapter (sft_free) and Hint-GRPO (rl). Resumable.
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

train score reward.score_kind=gaussian "reward.score_params={sigma: 0.125}" "reward.add={grounding: 0.5, score: 2}"
evaluate score=runs/grpo/score/best/adapter
echo "== done $(date)"
