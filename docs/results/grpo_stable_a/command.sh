#!/bin/sh
# Ran at commit c713783 (2026-11-30), against that day's configs/c2f_vader_smollm2.yaml and shipped adapter (the SFT
# one); both have changed since, so today it trains another run or fails validation. To rerun it, run it in a
# checkout of that commit: git worktree add ../at-c713783 c713783
# issue 18 candidate: balanced prompts, Dr. GRPO (no group-std scaling), KL 0.04 to the SFT adapter, lr 2e-5, T 0.8, grounding 0.5
cd /work/main
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 exec .venv/bin/emoreason grpo --config configs/c2f_vader_smollm2.yaml  model.adapter=/work/main/src/emoreason/resources/default_adapter run.output_dir=runs/grpo/stable_a run.max_steps=150 run.save_every=10 run.resume=true  data.balance=polarity rollout.prompts_per_step=6 rollout.group_size=4 rollout.temperature=0.8 rollout.dtype=bfloat16  optim.precision=bf16 optim.lr=2e-5 optim.minibatch_size=12 algorithm.advantage_scale=none algorithm.loss_type=dr_grpo  algorithm.beta=0.04 'reward.add={grounding: 0.5}' validation.every=10  'validation.datasets=[vader:movies, vader:tweets, vader:products]' validation.sample=50
