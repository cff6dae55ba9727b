"""The polarity words' log-probabilities of a batch of prompts: one row a prompt (`choice_logprobs`, the K
words read off the one distribution at the word) against one row a prompt and word (three continuations
scored apart, as the SFT polarity objective did before), forward and forward + backward.

    python benchmarks/choice_logprobs.py [--model default] [--sentences 16] [--repeats 5]

Prints min / median / max seconds of each over `--repeats` runs after one warm-up, and the largest
difference between the two results. The sentences are the first of the VADER tweets train split; the
model is the shipped default, LoRA weights trainable as in `emoreason sft`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from emoreason.data import load_dataset
from emoreason.data.schema import POLARITIES
from emoreason.formats import get_format
from emoreason.formats.readout import polarity_position
from emoreason.generation.logprobs import choice_logprobs, continuation_logprobs, encode_with_continuations
from emoreason.inference import conversations_for
from emoreason.models import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--sentences", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    loaded = load_model(args.model, trainable=True)  # the adapter's LoRA weights train, as in `emoreason sft`
    loaded.model.train()
    dataset = load_dataset("vader:tweets")
    samples = dataset.split("train")[: args.sentences]
    fmt = get_format("c2f")
    position = polarity_position(loaded.tokenizer, fmt)
    assert position is not None
    prefix, starts = position
    words = [starts[p] for p in POLARITIES]
    conversations = conversations_for(samples, fmt, dataset.task)

    def one_row() -> torch.Tensor:
        return choice_logprobs(loaded.model, loaded, conversations, prefix, words)

    def three_rows() -> torch.Tensor:
        rows = [c for c in conversations for _ in words]
        continuations = [[*prefix, w] for _ in conversations for w in words]
        logp, _ = continuation_logprobs(loaded.model, encode_with_continuations(loaded, rows, continuations))
        return logp[:, len(prefix)].reshape(len(conversations), len(words))

    with torch.no_grad():
        gap = float((one_row() - three_rows()).abs().max())
    print(f"{args.sentences} prompts, model {args.model}; largest |difference| of the log-probabilities: {gap:.2e}")
    for label, run in (("one row a prompt", one_row), ("one row a prompt and word", three_rows)):
        for mode in ("forward", "forward + backward"):
            print(f"{label:28s} {mode:20s} {timed(run, mode == 'forward', args.repeats)}")


def timed(run: Callable[[], torch.Tensor], forward_only: bool, repeats: int) -> str:
    """min / median / max seconds of `run` (and a backward through its sum) over `repeats` runs after one."""
    seconds = []
    for attempt in range(repeats + 1):
        began = time.perf_counter()
        if forward_only:
            with torch.no_grad():
                run()
        else:
            run().sum().backward()
        if attempt:
            seconds.append(time.perf_counter() - began)
    return f"{min(seconds):.3f} / {statistics.median(seconds):.3f} / {max(seconds):.3f} s"


if __name__ == "__main__":
    main()
