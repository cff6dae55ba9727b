"""Evaluation: scoring predictions against datasets, and (later) running models on them."""
