"""Generation: batched sampling with log-probs, and log-probs of given completions."""

from emoreason.generation.engine import GenerationBackend, TransformersEngine
from emoreason.generation.params import Completion, SamplingParams

__all__ = ["Completion", "GenerationBackend", "SamplingParams", "TransformersEngine"]
