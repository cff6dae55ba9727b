"""Reinforcement learning: GRPO with Hint-GRPO (C2F) and the EMO-R3 reflective reward.

- `core`: advantages, clipped surrogate, k3 KL, loss aggregation, entropy (pure tensor functions);
- `hints`: hard-group detection and the hint policy;
- `reflection`: the coherence / consistency questions and their answers;
- `config`: the typed recipe (`emoreason grpo --config ...`);
- `trainer`: `GRPOTrainer`, the loop on accelerate; `checkpoint`: exact resume.
"""
