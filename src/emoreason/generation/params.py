"""What to generate and what comes back."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingParams:
    """`temperature == 0` means greedy decoding."""

    n: int = 1
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    stop_strings: tuple[str, ...] = ()
    seed: int | None = None
    #: quotes may only cite the conversation's `evidence` (`generation.quotes`; text models)
    ground_quotes: bool = False
    #: with `ground_quotes` (alone it does nothing): a cue listed against its stated number's sign,
    #: which the input negates, gets its negation named (`generation.negations`; text models)
    name_negations: bool = False
    #: token ids of a closed choice the answer makes once (a C2F answer's polarity word,
    #: `formats.readout.polarity_choice`): at the first step where a row picks one of them, the
    #: row keeps the probabilities of all of them (`Completion.choice_probs`)
    choice_tokens: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not 0 <= self.temperature < math.inf:  # NaN too; at infinity sampling divides logits into NaN
            raise ValueError(f"temperature must be >= 0 and finite, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def for_batch(self, keys: Sequence[str]) -> SamplingParams:
        """These settings for one batch of a sampled run, whose seed is a function of the run's seed and of
        `keys` (the batch's sample ids): each batch draws its own numbers, and a batch asked again (a resumed
        run) draws the ones it drew before, whichever batches came first. Unchanged without a seed."""
        if self.seed is None:
            return self
        digest = hashlib.sha256("\0".join([str(self.seed), *keys]).encode()).digest()
        return dataclasses.replace(self, seed=int.from_bytes(digest[:8], "big") % 2**63)


@dataclass
class Completion:
    """One generated continuation.

    `logprobs[i]` is the log-probability of `token_ids[i]` under the model's next-token
    distribution at the sampling temperature (temperature 1 for greedy), before top-p/top-k
    truncation: the quantity a policy-gradient update recomputes.
    """

    text: str
    token_ids: list[int]
    logprobs: list[float]
    finish_reason: str  # "stop" (stop string), "eos", or "length"
    prompt_index: int = 0
    prompt_tokens: int = 0
    #: with `SamplingParams.choice_tokens`: at the first step that picked one of them, each one's
    #: probability under the untempered next-token distribution, renormalised over the choice
    #: (so they sum to 1); None when no step picked one
    choice_probs: dict[int, float] | None = None

    @property
    def num_tokens(self) -> int:
        return len(self.token_ids)
