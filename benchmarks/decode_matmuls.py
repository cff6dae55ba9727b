"""Where single-request decoding's time goes: the matrix-vector products of one token.

At batch 1 a decoding step multiplies one vector by every weight matrix of the model once:
for SmolLM2-135M that is 211 products (30 layers x q, k, v, o, gate, up, down, then the
49k-word output layer) reading 538 MB of fp32 weights. This script times those products alone,
with random weights of the same shapes, in several ways:

- `linear`: `torch.nn.functional.linear` (what the model runs; MKL's sgemv);
- `linear, oneDNN flag`: the same under `torch.backends.mkldnn.matmul.fp32_precision = "bf16"`,
  the route `generation/matmul.py` takes where it is fp32-accurate;
- `x @ W^T (W^T contiguous)`: the weights stored transposed;
- `numpy (OpenBLAS)`: numpy's sgemv on the same arrays;
- `compiled mul-sum`: `(W * x).sum(-1)` through `torch.compile`, a bandwidth-bound reduction;
- `oneDNN prepacked`: `torch.utils.mkldnn.to_mkldnn` on each `nn.Linear` (weights reordered once);
- `MKL packed`: `torch.ops.mkl._mkl_linear` on weights packed once by `_mkl_reorder_linear_weight`;
- `compiled, frozen weights`: all 211 products in one module under `torch.compile` with
  inductor's `freezing` (constant weights, prepacked by inductor);
- `compiled, max-autotune (CPP GEMM)` (with `--max-autotune`): the same module with inductor's
  `max_autotune` choosing, per shape, between its own C++ GEMM template and ATen; then the same
  mode on `F.linear` with the weights as inputs instead of constants;
- `memory read`: `tensor.sum()` over 538 MB, the floor a decoder cannot beat in fp32.

`--rows N` multiplies N rows at once instead of one vector: a decoding step of N sequences (a GRPO
rollout batch of 2 prompts x G=4 decodes 8 rows; an evaluation batch 16-32).

    python benchmarks/decode_matmuls.py [--repeats 15] [--no-compile] [--rows 8] [--max-autotune]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

LAYER = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
SHAPES = LAYER * 30 + [(49152, 576)]


def median_ms(run: Callable[[], object], repeats: int) -> float:
    for _ in range(3):
        run()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def prepacked(
    weights: list[torch.Tensor],
    vectors: dict[int, torch.Tensor],
    repeats: int,
    compile_too: bool,
    rows: int,
    autotune: bool = False,
) -> dict[str, float]:
    """The library routes that reorder the weights once for repeated products."""
    from torch.utils import mkldnn

    out = {}
    layers = []
    for w in weights:
        layer = torch.nn.Linear(w.shape[1], w.shape[0], bias=False).eval()
        layer.weight.data.copy_(w)
        layers.append(layer)
    with torch.no_grad():
        onednn = [(mkldnn.to_mkldnn(layer), vectors[layer.in_features]) for layer in layers]
        out["oneDNN prepacked"] = median_ms(lambda: [m(x) for m, x in onednn], repeats)
        packed = [(torch.ops.mkl._mkl_reorder_linear_weight(w, rows), w, vectors[w.shape[1]]) for w in weights]
        out["MKL packed"] = median_ms(
            lambda: [torch.ops.mkl._mkl_linear(x, p, w, None, rows) for p, w, x in packed], repeats
        )
        if compile_too:
            import torch._inductor.config as inductor

            class Products(torch.nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.layers = torch.nn.ModuleList(layers)

                def forward(self, short: torch.Tensor, long: torch.Tensor) -> list[torch.Tensor]:
                    return [layer(short if layer.in_features == 576 else long) for layer in self.layers]

            inductor.freezing = True
            try:
                frozen = torch.compile(Products().eval())
                out["compiled, frozen weights"] = median_ms(lambda: frozen(vectors[576], vectors[1536]), repeats)
                if autotune:  # inductor's own C++ GEMM kernels, timed against ATen's per shape
                    torch._dynamo.reset()
                    inductor.max_autotune, inductor.max_autotune_gemm_backends = True, "CPP,ATEN"
                    tuned = torch.compile(Products().eval())
                    out["compiled, max-autotune (CPP GEMM)"] = median_ms(
                        lambda: tuned(vectors[576], vectors[1536]), repeats
                    )
                    # the same mode with the weights as inputs (not frozen): what a policy whose
                    # weights change between steps could compile once
                    product = torch.compile(torch.nn.functional.linear, dynamic=False)
                    out["max-autotune, weights as inputs"] = median_ms(
                        lambda: [product(vectors[w.shape[1]], w) for w in weights], repeats
                    )
            finally:
                inductor.freezing, inductor.max_autotune = False, False
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant")
    parser.add_argument("--rows", type=int, default=1, help="rows multiplied at once (decoding N sequences)")
    parser.add_argument(
        "--max-autotune", action="store_true", help="also inductor's max-autotune C++ GEMM kernels (compiles ~2 min)"
    )
    args = parser.parse_args()
    torch.manual_seed(0)
    weights = [torch.randn(rows, cols) for rows, cols in SHAPES]
    transposed = [w.t().contiguous() for w in weights]
    vectors = {n: torch.randn(args.rows, n) for n in (576, 1536)}
    megabytes = sum(w.numel() for w in weights) * 4 / 1e6

    def linear() -> None:
        for w in weights:
            torch.nn.functional.linear(vectors[w.shape[1]], w)

    def transposed_product() -> None:
        for w in transposed:
            vectors[w.shape[0]] @ w

    arrays = [w.numpy() for w in weights]
    np_vectors = {n: v.numpy() for n, v in vectors.items()}

    def numpy_product() -> None:
        for w in arrays:
            np_vectors[w.shape[1]] @ w.T

    results = {"linear": median_ms(linear, args.repeats)}
    previous = torch.backends.mkldnn.matmul.fp32_precision
    torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    try:
        results["linear, oneDNN flag"] = median_ms(linear, args.repeats)
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = previous
    results["x @ W^T (W^T contiguous)"] = median_ms(transposed_product, args.repeats)
    results["numpy (OpenBLAS)"] = median_ms(numpy_product, args.repeats)
    if not args.no_compile:
        product = torch.compile(lambda w, x: (w[None] * x[:, None]).sum(-1), dynamic=False)

        def compiled() -> None:
            for w in weights:
                product(w, vectors[w.shape[1]])

        results["compiled mul-sum"] = median_ms(compiled, args.repeats)
    compile_too = not args.no_compile
    results.update(prepacked(weights, vectors, args.repeats, compile_too, args.rows, args.max_autotune))
    flat = torch.cat([w.flatten() for w in weights])
    results["memory read (sum of 538 MB)"] = median_ms(flat.sum, args.repeats)
    print(f"one decoding step's products, {args.rows} row(s), {len(SHAPES)} matrices, {megabytes:.0f} MB fp32, "
          f"{torch.get_num_threads()} threads, median of {args.repeats}")  # fmt: skip
    for name, ms in results.items():
        print(f"  {name:<30} {ms:7.1f} ms  {megabytes / ms:5.1f} GB/s")


if __name__ == "__main__":
    main()
