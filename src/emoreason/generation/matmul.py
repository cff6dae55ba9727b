"""Which fp32 matmul kernels a CPU decoding loop uses: MKL's (PyTorch's default) or oneDNN's.

PyTorch runs fp32 `nn.Linear` on CPU through MKL's sgemm. On some CPUs oneDNN's own fp32
kernels are much faster: on this project's AMD EPYC machine (AVX-512, no AMX), measured at the
shapes SmolLM2-135M decodes with at batch 32, oneDNN's `brg_matmul:avx512_core` ran the MLP
matmuls about 1.6x and the 49k-word output layer about 2.5x faster than MKL
(`benchmarks/generation.py --ablation` shows the effect on a whole run).

PyTorch routes fp32 matmuls to oneDNN only when `torch.backends.mkldnn.matmul.fp32_precision`
is `"bf16"`, which *allows* oneDNN to compute in bf16. Whether it does depends on the CPU: with
AMX it does (PyTorch's documentation gives a 2e-3 relative error on Sapphire Rapids); here
oneDNN kept fp32 and only the kernel changed. So the switch is never assumed:
`onednn_linears_pay` checks, on the model's own shapes, that the oneDNN result is as accurate
as MKL's against a float64 reference (mean error within 4x of MKL's; a bf16 product is orders
of magnitude further off) and faster; only then does the engine use it.

The flag is process-wide and slows other kernels (PyTorch's CPU flash attention got 3x slower
under it), so `OneDnnLinears` turns it on only inside each `nn.Linear` call, with forward hooks,
and restores it after; or, where the engine owns the attention function (cascade attention),
keeps it on and lets the attention switch it off around its kernels. The pre-hook also hands
the layer a contiguous input: in the prompt pass the output layer gets a strided view of the
last position, which the oneDNN path otherwise expands into a batched matmul over copies of
the weight (0.7 s instead of 5 ms here).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import torch

ONEDNN = "bf16"  # the fp32_precision value that routes fp32 matmuls to oneDNN (see module docstring)
ACCURACY_MARGIN = 4.0  # oneDNN's mean error may be at most this multiple of MKL's
SPEEDUP_NEEDED = 1.15  # and its time at most 1/1.15 of MKL's, or the switch is not worth it


def _matmul_error_and_time(
    precision: str, inputs: torch.Tensor, weight: torch.Tensor, exact: torch.Tensor, repeats: int
) -> tuple[float, float]:
    flag = torch.backends.mkldnn.matmul
    before = flag.fp32_precision
    try:
        flag.fp32_precision = precision
        with torch.inference_mode():
            out = torch.nn.functional.linear(inputs, weight)
            error = (out.double() - exact).abs().mean().item()
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                torch.nn.functional.linear(inputs, weight)
                times.append(time.perf_counter() - started)
    finally:
        flag.fp32_precision = before
    return error, sorted(times)[len(times) // 2]


class OneDnnProbe(NamedTuple):
    """oneDNN's fp32 matmul against MKL's on one shape, on this CPU."""

    accurate: bool  # mean error against float64 within ACCURACY_MARGIN of MKL's
    mkl_seconds: float  # median time of one product
    onednn_seconds: float

    @property
    def speedup(self) -> float:
        return self.mkl_seconds / max(self.onednn_seconds, 1e-9)


@functools.cache
def probe_onednn_linear(rows: int, inner: int, outer: int, repeats: int = 15) -> OneDnnProbe:
    """Measure a fp32 [rows x inner] @ [inner x outer] matmul both ways (once per shape and
    process; a few tens of milliseconds)."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(rows, inner, generator=generator)
    weight = torch.randn(outer, inner, generator=generator)
    exact = inputs.double() @ weight.double().T
    mkl_error, mkl_time = _matmul_error_and_time("ieee", inputs, weight, exact, repeats)
    onednn_error, onednn_time = _matmul_error_and_time(ONEDNN, inputs, weight, exact, repeats)
    return OneDnnProbe(onednn_error <= ACCURACY_MARGIN * mkl_error, mkl_time, onednn_time)


def onednn_linears_pay(rows: int, shapes: Mapping[tuple[int, int], int]) -> bool:
    """Whether oneDNN runs every (inner, outer) matmul of `shapes` as accurately as MKL, and the
    whole set (each shape times its count) `SPEEDUP_NEEDED` faster. Summed over the model rather
    than judged on one shape: the gain is uneven (at 8 rows here, about 2.3x on SmolLM2's 49k-word
    output layer, 1.25x on its MLP, 0.65x on its 192-wide key/value projections), and one shape's
    probe is noisy on a busy CPU."""
    if not shapes or not torch.backends.mkldnn.is_available():
        return False
    probes = {shape: probe_onednn_linear(rows, *shape) for shape in shapes}
    if not all(probe.accurate for probe in probes.values()):
        return False
    mkl = sum(count * probes[shape].mkl_seconds for shape, count in shapes.items())
    onednn = sum(count * probes[shape].onednn_seconds for shape, count in shapes.items())
    return mkl >= SPEEDUP_NEEDED * onednn


def model_linear_shapes(model: torch.nn.Module) -> Counter[tuple[int, int]]:
    """(inner, outer) of the model's linear layers, with how many layers have each; a peft
    adapter's own small matrices (`lora_A`, `lora_B`) are left out."""
    return Counter(
        (module.in_features, module.out_features)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and ".lora_" not in name
    )


def use_onednn_linears(model: torch.nn.Module, device: torch.device, dtype: torch.dtype, rows: int) -> bool:
    """The engine's automatic choice: fp32 on CPU, and `onednn_linears_pay` on the model's shapes."""
    if device.type != "cpu" or dtype != torch.float32:
        return False
    return onednn_linears_pay(max(1, rows), model_linear_shapes(model))


_outside_precision = "none"  # the flag's value outside an `OneDnnLinears(everywhere=True)` context


class OneDnnLinears:
    """Context manager: inside it, the fp32 matmuls of `model`'s `nn.Linear` layers run on oneDNN
    (see module docstring).

    By default forward hooks switch the flag on around each linear layer only, so everything
    else keeps PyTorch's default kernels. With `everywhere`, the flag is simply on for the whole
    context (the 422 hook calls of SmolLM2 added 6.6 ms to a 51 ms one-token forward here); the caller's
    attention must then run its kernels inside `default_matmul_kernels()`, as
    `cascade.cascade_attention` does.
    """

    def __init__(self, model: torch.nn.Module, everywhere: bool = False):
        self.model = model
        self.everywhere = everywhere
        self._handles: list[Any] = []
        self._outside = "none"

    def _enter_linear(self, module: torch.nn.Module, args: tuple) -> tuple | None:
        torch.backends.mkldnn.matmul.fp32_precision = ONEDNN
        return _contiguous_input(module, args)

    def _leave_linear(self, module: torch.nn.Module, args: tuple, output: Any) -> None:
        torch.backends.mkldnn.matmul.fp32_precision = self._outside

    def __enter__(self) -> OneDnnLinears:
        global _outside_precision
        self._outside = torch.backends.mkldnn.matmul.fp32_precision
        if self.everywhere:
            _outside_precision = self._outside
            torch.backends.mkldnn.matmul.fp32_precision = ONEDNN
            # the output layer gets a strided view of the last position (see module docstring)
            output = self.model.get_output_embeddings() if hasattr(self.model, "get_output_embeddings") else None
            for module in [output] if isinstance(output, torch.nn.Linear) else self._linears():
                self._handles.append(module.register_forward_pre_hook(_contiguous_input))
            return self
        for module in self._linears():
            self._handles.append(module.register_forward_pre_hook(self._enter_linear))
            self._handles.append(module.register_forward_hook(self._leave_linear))
        return self

    def _linears(self) -> list[torch.nn.Module]:
        return [module for module in self.model.modules() if isinstance(module, torch.nn.Linear)]

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        torch.backends.mkldnn.matmul.fp32_precision = self._outside  # also after an error inside a layer


def _contiguous_input(module: torch.nn.Module, args: tuple) -> tuple | None:
    if args and torch.is_tensor(args[0]) and not args[0].is_contiguous():
        return (args[0].contiguous(), *args[1:])
    return None


@contextlib.contextmanager
def default_matmul_kernels() -> Iterator[None]:
    """PyTorch's default matmul kernels for the block (a no-op unless an `everywhere` context is
    active): attention kernels got 3x slower on the oneDNN route."""
    flag = torch.backends.mkldnn.matmul
    inside = flag.fp32_precision
    if inside != ONEDNN:
        yield
        return
    flag.fp32_precision = _outside_precision
    try:
        yield
    finally:
        flag.fp32_precision = inside


__all__ = [
    "OneDnnLinears",
    "OneDnnProbe",
    "default_matmul_kernels",
    "model_linear_shapes",
    "onednn_linears_pay",
    "probe_onednn_linear",
    "use_onednn_linears",
]
