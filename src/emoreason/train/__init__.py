"""The machinery both trainers (SFT and GRPO) use.

- `config`: the model, run and optimizer sections of their recipes, and `build_optimizer`;
- `policy`: the trained policy (LoRA or full weights) and the KL reference;
- `loop`: one run's state: step, metrics log, checkpoints, resume, cross-process mean;
- `checkpoint`: checkpoints that resume exactly.
"""
