"""Reinforcement learning (GRPO) for reasoning formats; `core` holds the pure tensor functions."""
