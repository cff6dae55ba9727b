"""Generation throughput: emoreason's engine vs a plain `transformers` generate loop.

Same model, same prompts (C2F prompts for vader:movies test sentences), same max new tokens,
greedy decoding. Prints samples/s and generated tokens/s at each batch size and the ratio.

By default both loops run the model in the same dtype (`--dtype`, default float32), so the ratio
is the engine's alone. `--plain-dtype` sets the plain loop's dtype apart, e.g. to compare
emoreason's default on a CPU with native bf16 (`--dtype auto`, bf16 for inference there) with
the fp32 loop a user gets from `from_pretrained` on the fp32 checkpoint. `--ablation` adds, at
the largest batch, the engine with each of its optimisations turned off in turn, and the plain
loop given the engine's oneDNN linear layers (where the engine uses them), which separates what
the kernels bring from what the decoding loop brings.

By default neither loop stops early (equal work: every row makes max-new-tokens tokens, unless
EOS). `--format-stops` gives both loops the C2F format's stop string (`</score>`, what
`evaluate` stops on; `generate(stop_strings=...)` for the plain loop), the setting of an
evaluation run, where answers end at different lengths: run it with `--max-new-tokens 192`, the
recipe's evaluation budget.

    python benchmarks/generation.py [--model default] [--batch-sizes 1,8,32] [--max-new-tokens 48]
        [--dtype float32|bfloat16|auto] [--plain-dtype ...] [--ablation] [--format-stops]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from functools import partial

import torch

from emoreason.data import load_dataset
from emoreason.formats import build_conversation, get_format
from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.generation.matmul import OneDnnLinears, choose_linear_kernel
from emoreason.models import LoadedModel, load_model

ABLATIONS = {
    "no in-place KV cache": {"preallocate_cache": False},
    "no length-grouped prompt pass": {"group_prefill": False},
    "no cascade attention (prefix copied to every row)": {"cascade": False},
    "no faster linear kernel (MKL's F.linear)": {"linear_kernel": "mkl"},
    "no shared-prefix reuse": {"reuse_prefix": False},
}


def plain_loop(
    loaded: LoadedModel,
    conversations: list,
    batch_size: int,
    max_new_tokens: int,
    stop_strings: tuple[str, ...] = (),
    onednn: bool = False,
) -> tuple[float, int]:
    """What a user would write: encode a left-padded batch, call generate, repeat. `onednn`: with
    the engine's oneDNN linear layers (for the ablation that separates kernel and engine)."""
    stops = {"stop_strings": list(stop_strings), "tokenizer": loaded.tokenizer} if stop_strings else {}
    tokens = 0
    started = time.perf_counter()
    with OneDnnLinears(loaded.model) if onednn else contextlib.nullcontext():
        for start in range(0, len(conversations), batch_size):
            inputs = loaded.family.encode(loaded.processor, conversations[start : start + batch_size])
            with torch.inference_mode():
                out = loaded.model.generate(
                    **inputs,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=loaded.tokenizer.pad_token_id,
                    **stops,
                )
            new = out[:, inputs["input_ids"].shape[1] :]
            tokens += int((new != loaded.tokenizer.pad_token_id).sum())
    return time.perf_counter() - started, tokens


def ours(
    loaded: LoadedModel,
    conversations: list,
    batch_size: int,
    max_new_tokens: int,
    stop_strings: tuple[str, ...] = (),
    **engine_options: bool,
) -> tuple[float, int]:
    engine = TransformersEngine(loaded, batch_size=batch_size, **engine_options)
    params = SamplingParams(max_new_tokens=max_new_tokens, stop_strings=stop_strings)
    started = time.perf_counter()
    results = engine.generate(conversations, params)
    return time.perf_counter() - started, sum(c[0].num_tokens for c in results)


def round_robin(variants: dict[str, Callable[[], tuple[float, int]]], repeats: int) -> dict[str, tuple[float, int]]:
    """Each variant's run with the median time of `repeats`, the variants taking turns: this
    machine's speed drifts by 10-20% over minutes, and interleaving spreads the drift evenly
    instead of giving it to whichever loop ran last."""
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in variants}
    for _ in range(max(1, repeats)):
        for name, run in variants.items():
            runs[name].append(run())
    return {name: sorted(times)[len(times) // 2] for name, times in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--batch-sizes", default="1,8,32")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--samples", type=int, default=0, help="prompts per setting (default: 2 x batch size, min 4)")
    parser.add_argument(
        "--dtype",
        default="float32",
        help="float32, bfloat16 or auto (emoreason's choice), for the engine (and the plain loop unless --plain-dtype)",
    )
    parser.add_argument("--plain-dtype", default=None, help="the plain loop's dtype, if not --dtype")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs per loop and setting, taking turns; the median is shown"
    )
    parser.add_argument("--ablation", action="store_true", help="also time the engine without each optimisation")
    parser.add_argument(
        "--format-stops",
        action="store_true",
        help="both loops stop at the C2F closing tag, as evaluate does (default: no early stop)",
    )
    args = parser.parse_args()
    torch.manual_seed(0)
    loaded = load_model(args.model, dtype=args.dtype)
    plain_model = loaded if args.plain_dtype in (None, args.dtype) else load_model(args.model, dtype=args.plain_dtype)
    fmt = get_format("c2f")
    stops = fmt.stop_strings if args.format_stops else ()
    dataset = load_dataset("vader:movies")
    test = dataset.split("test")
    print(
        f"model {loaded.name} ({loaded.device}), engine {loaded.dtype}, plain loop {plain_model.dtype}, "
        f"threads {torch.get_num_threads()}, max_new_tokens {args.max_new_tokens}, greedy, "
        f"stop strings {list(stops) or 'none'}"
    )
    header = (
        f"{'batch':>5} {'samples':>7} | {'plain s/s':>9} {'plain tok/s':>11} | "
        f"{'ours s/s':>8} {'ours tok/s':>10} | {'ratio':>5}"
    )
    print(header)
    print("-" * len(header))
    batches = [int(b) for b in args.batch_sizes.split(",")]
    for batch in batches:
        count = args.samples or max(4, 2 * batch) if batch < 32 else (args.samples or batch)
        conversations = [build_conversation(s, fmt, dataset.task) for s in test[:count]]
        # warm-up, both loops, at the full batch: the first pass over a new shape pays for memory
        # that later passes reuse (about 8 s for the plain loop at batch 32 here)
        plain_loop(plain_model, conversations[:batch], batch, 2)
        ours(loaded, conversations[:batch], batch, 2)
        variants = {
            "plain": partial(plain_loop, plain_model, conversations, batch, args.max_new_tokens, stops),
            "ours": partial(ours, loaded, conversations, batch, args.max_new_tokens, stops),
        }
        ablate = args.ablation and batch == max(batches)
        if ablate:
            for name, options in ABLATIONS.items():
                variants[name] = partial(ours, loaded, conversations, batch, args.max_new_tokens, stops, **options)
            if choose_linear_kernel(loaded.model, loaded.device, loaded.dtype, batch) == "onednn":
                variants["plain+onednn"] = partial(
                    plain_loop, plain_model, conversations, batch, args.max_new_tokens, stops, onednn=True
                )
        timed = round_robin(variants, args.repeats)
        (plain_s, plain_tokens), (our_s, our_tokens) = timed["plain"], timed["ours"]
        print(
            f"{batch:>5} {count:>7} | {count / plain_s:>9.2f} {plain_tokens / plain_s:>11.1f} | "
            f"{count / our_s:>8.2f} {our_tokens / our_s:>10.1f} | {plain_s / our_s:>5.2f}x",
            flush=True,
        )
        if ablate:
            for name in ABLATIONS:
                off_s = timed[name][0]
                print(f"      engine, {name}: {count / off_s:.2f} samples/s ({plain_s / off_s:.2f}x the plain loop)")
            if "plain+onednn" in timed:
                kernel_s = timed["plain+onednn"][0]
                print(
                    f"      plain loop with the engine's oneDNN linear layers: {count / kernel_s:.2f} samples/s "
                    f"(the engine is {kernel_s / our_s:.2f}x that)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
