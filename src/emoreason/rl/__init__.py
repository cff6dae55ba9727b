"""Reinforcement learning: GRPO with Hint-GRPO (C2F) and the EMO-R3 reflective reward.

- `core`: advantages, clipped surrogate, k3 KL, loss aggregation, entropy (pure tensor functions);
- `hints`: hard-group detection, the hint policy and its config section;
- `reflection`: the coherence / consistency questions, their answers and config section;
- `rollouts`: a rollout, its sampling seed, the statistics a step logs about rollouts;
- `config`: the typed recipe (`emoreason grpo --config ...`);
- `trainer`: `GRPOTrainer`, the recipe read top to bottom; the machinery it shares with SFT
  (policy, optimizer, run state, checkpoints) is `emoreason.train`.
"""
