"""The machinery both trainers (SFT and GRPO) use.

- `config`: the model, run and optimizer sections of their recipes, and `build_optimizer`;
- `policy`: the trained policy (LoRA or full weights) and the KL reference;
- `loop`: one run's state: step, metrics log, checkpoints, resume, cross-process mean;
- `checkpoint`: checkpoints that resume exactly: listing, reading (checked, with fallback), saving;
- `weights`: the model weights in a checkpoint (LoRA adapter or full model), checked to fit;
- `rng`: the RNG states in a checkpoint, saved as plain data;
- `checkpoint_errors`: `CheckpointError`, what a checkpoint that cannot be resumed reports.
"""
