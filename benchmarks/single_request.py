"""One request at a time: emoreason's engine (eager, and with the compiled one-row step) against
llama.cpp on the same weights and prompts.

The workload is `evaluate`'s: C2F prompts for vader:movies test sentences, greedy, at most
`--max-new-tokens` new tokens, stopping at the format's closing tag. Every request runs alone
(batch 1), its prompt pass included in its time, as a user of `analyze` or of the server would
see it. Printed per engine: samples/s, generated tokens/s, ms per generated token, and how many
answers equal the eager engine's token for token.

llama.cpp runs through `llama-cpp-python` (`pip install -e '.[bench]'`, built from source,
about 6 minutes here) on an f32 GGUF of the same merged weights (the default model with its
shipped adapter, merged), converted once with llama.cpp's own `convert_hf_to_gguf.py`. The
converter is not in the installed wheel; the script downloads the package's source once
(`pip download`) and takes it from there, or uses `--converter`. Without llama-cpp-python the llama.cpp row
is skipped with a note.

    python benchmarks/single_request.py [--requests 8] [--max-new-tokens 192] [--work runs/bench]

Run it on an idle CPU: two jobs on two cores slow each other.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import torch

from emoreason.data import load_dataset
from emoreason.formats import build_conversation, get_format
from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.models import LoadedModel, load_model
from emoreason.models.families.causal_lm import render_prompts

CONVERTER = "convert_hf_to_gguf.py"


def merged_checkpoint(loaded: LoadedModel, work: Path) -> Path:
    """The merged fp32 weights and tokenizer as a transformers folder (what the converter reads)."""
    folder = work / "merged"
    if not (folder / "config.json").exists():
        loaded.model.save_pretrained(folder, safe_serialization=True)
        loaded.tokenizer.save_pretrained(folder)
    return folder


def find_converter(work: Path, given: Path | None) -> Path:
    """llama.cpp's converter from the source of the installed llama-cpp-python (downloaded once)."""
    if given is not None:
        return given
    version = importlib.metadata.version("llama-cpp-python")
    source = work / f"llama_cpp_python-{version}"
    converter = source / "vendor" / "llama.cpp" / CONVERTER
    if converter.exists():
        return converter
    archive_path = work / f"llama_cpp_python-{version}.tar.gz"
    if not archive_path.exists():  # pip reads the package's metadata from it too (a few seconds)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
            + [f"llama-cpp-python=={version}", "-d", str(work)],
            check=True,
        )
    with tarfile.open(archive_path) as archive:
        members = [m for m in archive.getmembers() if "/vendor/llama.cpp/" in m.name and m.isfile()]
        # the converter, its `conversion` package and the gguf-py it is written against
        wanted = [m for m in members if m.name.endswith(".py") or "/gguf-py/" in m.name]
        archive.extractall(work, members=wanted, filter="data")
    return converter


def f32_gguf(loaded: LoadedModel, work: Path, converter: Path | None) -> Path:
    target = work / "merged-f32.gguf"
    if target.exists():
        return target
    script = find_converter(work, converter)
    environment = dict(os.environ, PYTHONPATH=str(script.parent / "gguf-py"))
    subprocess.run(
        [
            sys.executable,
            str(script),
            str(merged_checkpoint(loaded, work)),
            "--outtype",
            "f32",
            "--outfile",
            str(target),
        ],
        check=True,
        env=environment,
    )
    return target


def run_ours(loaded: LoadedModel, prompts: list, params: SamplingParams, single_row: bool) -> tuple[float, float, list]:
    """Wall time of the requests, of their prompt passes alone (one new token each), and the answers."""
    engine = TransformersEngine(loaded, batch_size=1, single_row=single_row)
    engine.generate(prompts[:1], SamplingParams(max_new_tokens=4))  # warm-up (and the compile)
    started = time.perf_counter()
    for prompt in prompts:
        engine.generate([prompt], SamplingParams(max_new_tokens=1))
    prompt_s = time.perf_counter() - started
    started = time.perf_counter()
    answers = [engine.generate([p], params)[0][0].token_ids for p in prompts]
    return time.perf_counter() - started, prompt_s, answers


def run_llama_cpp(gguf: Path, token_prompts: list[list[int]], params: SamplingParams) -> tuple[float, float, list, int]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=torch.get_num_threads(), verbose=False, seed=0)
    llm.create_completion(token_prompts[0], max_tokens=4, temperature=0.0, top_k=1)  # warm-up
    started = time.perf_counter()
    for prompt in token_prompts:
        llm.reset()
        llm.create_completion(prompt, max_tokens=1, temperature=0.0, top_k=1)
    prompt_s = time.perf_counter() - started
    answers, tokens = [], 0
    started = time.perf_counter()
    for prompt in token_prompts:
        llm.reset()
        out = llm.create_completion(
            prompt, max_tokens=params.max_new_tokens, temperature=0.0, top_k=1, stop=list(params.stop_strings)
        )
        answers.append(out["choices"][0]["text"])
        tokens += out["usage"]["completion_tokens"]
    return time.perf_counter() - started, prompt_s, answers, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--work", type=Path, default=Path("runs/bench"), help="merged weights and GGUF go here")
    parser.add_argument("--converter", type=Path, default=None, help="llama.cpp's convert_hf_to_gguf.py")
    parser.add_argument("--skip-llama-cpp", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    loaded = load_model("default", dtype="float32")
    fmt = get_format("c2f")
    dataset = load_dataset("vader:movies")
    prompts = [build_conversation(s, fmt, dataset.task) for s in dataset.split("test")[: args.requests]]
    params = SamplingParams(max_new_tokens=args.max_new_tokens, stop_strings=fmt.stop_strings)
    tokenizer = loaded.tokenizer
    print(
        f"{args.requests} requests one at a time, greedy, <= {args.max_new_tokens} new tokens, stop at "
        f"{list(fmt.stop_strings)}, {torch.get_num_threads()} threads, fp32 weights"
    )
    gguf = None
    if not args.skip_llama_cpp:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            print("llama.cpp: skipped (pip install -e '.[bench]' builds llama-cpp-python)")
        else:
            gguf = f32_gguf(loaded, args.work, args.converter)  # before any timing
    rows: dict[str, tuple[float, float, int, int]] = {}
    eager_s, eager_prompt_s, eager = run_ours(loaded, prompts, params, single_row=False)
    rows["emoreason, eager"] = (eager_s, eager_prompt_s, sum(map(len, eager)), len(eager))
    compiled_s, compiled_prompt_s, compiled = run_ours(loaded, prompts, params, single_row=True)
    same = sum(a == b for a, b in zip(compiled, eager))
    rows["emoreason, compiled one-row step"] = (compiled_s, compiled_prompt_s, sum(map(len, compiled)), same)
    if gguf is not None:
        token_prompts = [
            tokenizer(t, add_special_tokens=False)["input_ids"] for t in render_prompts(tokenizer, prompts)
        ]
        llama_s, llama_prompt_s, texts, llama_tokens = run_llama_cpp(gguf, token_prompts, params)
        ours_texts = [before_stop(tokenizer.decode(ids, skip_special_tokens=True), fmt.stop_strings) for ids in eager]
        same_text = sum(a.strip() == b.strip() for a, b in zip(texts, ours_texts))
        rows["llama.cpp f32"] = (llama_s, llama_prompt_s, llama_tokens, same_text)
    header = (
        f"{'engine':<34} {'samples/s':>9} {'tok/s':>7} {'ms/token':>8} {'prompt s':>8} "
        f"{'decode ms/token':>15} {'same answer as eager':>21}"
    )
    print(header)
    print("-" * len(header))
    decode_rate = {}
    for name, (seconds, prompt_s, tokens, same_count) in rows.items():
        # a request is its prompt pass (which also picks the first token), then tokens - 1 decoding steps
        decode_ms = 1000 * (seconds - prompt_s) / max(tokens - args.requests, 1)
        decode_rate[name] = decode_ms
        print(
            f"{name:<34} {args.requests / seconds:>9.2f} {tokens / seconds:>7.1f} "
            f"{1000 * seconds / max(tokens, 1):>8.1f} {prompt_s / args.requests:>8.3f} {decode_ms:>15.1f} "
            f"{same_count:>14} of {args.requests}"
        )
    print("tok/s and ms/token: whole requests, prompt pass included; prompt s: one request's prompt pass")
    if "llama.cpp f32" in rows:
        ours, theirs = rows["emoreason, compiled one-row step"], rows["llama.cpp f32"]
        whole = (theirs[2] / theirs[0]) / (ours[2] / ours[0])
        decode = decode_rate["emoreason, compiled one-row step"] / decode_rate["llama.cpp f32"]
        print(f"llama.cpp / ours (compiled): {whole:.2f}x whole requests, {decode:.2f}x decoding steps alone")
        print("same answer for llama.cpp: its text equals the eager engine's up to the stop string")


def before_stop(text: str, stops: tuple[str, ...]) -> str:
    """The answer up to (not including) its first stop string, as llama.cpp returns it."""
    for stop in stops:
        if stop in text:
            text = text[: text.index(stop)]
    return text


if __name__ == "__main__":
    main()
