"""Which fp32 matmul kernels a CPU decoding loop uses: MKL's (PyTorch's default), oneDNN's, or
MKL's on weights packed once for the batch's row count.

PyTorch runs fp32 `nn.Linear` on CPU through MKL's sgemm. Which kernel is fastest at the row
counts a decoding step multiplies (one row per sequence) depends on the CPU, so the engine
measures, on the model's own shapes, and picks (`choose_linear_kernel`):

- On this project's AMD EPYC machine (AVX-512 and AVX512-BF16, no AMX), at the shapes
  SmolLM2-135M decodes with at batch 32, oneDNN's `brg_matmul:avx512_core` ran the MLP matmuls
  about 1.6x and the 49k-word output layer about 2.5x faster than MKL
  (`benchmarks/generation.py --ablation` shows the effect on a whole run). PyTorch routes fp32
  matmuls to oneDNN only when `torch.backends.mkldnn.matmul.fp32_precision` is `"bf16"`, which
  *allows* oneDNN to compute in bf16. Whether it does depends on the CPU: with AMX it does
  (PyTorch's documentation gives a 2e-3 relative error on Sapphire Rapids); on the EPYC oneDNN
  kept fp32 and only the kernel changed.
- On the AMX Xeon, where the oneDNN route is bf16 and so refused, MKL's packed sgemm
  (`torch.ops.mkl._mkl_linear` on a weight packed by `_mkl_reorder_linear_weight` for a given
  row count) took 39-63 ms for one decoding step's 211 products where `F.linear` took 67-99 ms
  (8 and 32 rows; a read of the weights is about 29 ms). On the EPYC it was the slowest.

So no kernel is assumed: `probe_linear_kernels` checks each one's mean error against a float64
reference (within 4x of MKL's; a bf16 product is orders of magnitude further off) and its time,
and `fastest_linear_kernel` takes the fastest accurate one over the whole model, if it beats MKL
by `SPEEDUP_NEEDED`. Neither route is bit-identical to `F.linear` (the packed one differed by up
to 5e-5 on the 49k-word products), so greedy answers can differ between machines in rare near-ties.

The oneDNN flag is process-wide and slows other kernels (PyTorch's CPU flash attention got 3x
slower under it), so `OneDnnLinears` turns it on only inside each `nn.Linear` call, with forward
hooks, and restores it after; or, where the engine owns the attention function (cascade
attention), keeps it on and lets the attention switch it off around its kernels. The pre-hook
also hands the layer a contiguous input: in the prompt pass the output layer gets a strided view
of the last position, which the oneDNN path otherwise expands into a batched matmul over copies
of the weight (0.7 s instead of 5 ms here). `PackedLinears` replaces the layers' forward for the
decoding loop only.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import torch

from emoreason.generation.single_row import linear_weight_bytes, median_seconds

ONEDNN = "bf16"  # the fp32_precision value that routes fp32 matmuls to oneDNN (see module docstring)
ACCURACY_MARGIN = 4.0  # a kernel's mean error may be at most this multiple of MKL's
SPEEDUP_NEEDED = 1.15  # and its time at most 1/1.15 of MKL's, or the switch is not worth it

# The kernels a CPU decoding loop can run its fp32 linear layers on (see module docstring).
MKL = "mkl"  # PyTorch's default: `F.linear`, MKL's sgemm
ONEDNN_KERNEL = "onednn"  # `F.linear` under the oneDNN flag
MKL_PACKED = "mkl_packed"  # MKL's sgemm on weights packed once for a row count (`PackedLinears`)
LINEAR_KERNELS = (MKL, ONEDNN_KERNEL, MKL_PACKED)
PACKED_MIN_ROWS = 3  # below this many rows the packed product was no faster than F.linear here


def mkl_packing_available() -> bool:
    ops = getattr(torch.ops, "mkl", None)
    return bool(
        torch.backends.mkl.is_available()
        and ops is not None
        and hasattr(ops, "_mkl_linear")
        and hasattr(ops, "_mkl_reorder_linear_weight")
    )


def _linear_under(precision: str, inputs: torch.Tensor, weight: torch.Tensor) -> Any:
    def run() -> torch.Tensor:
        flag = torch.backends.mkldnn.matmul
        before = flag.fp32_precision
        flag.fp32_precision = precision
        try:
            return torch.nn.functional.linear(inputs, weight)
        finally:
            flag.fp32_precision = before

    return run


class KernelProbe(NamedTuple):
    """The fp32 kernels on one product shape, on this CPU: each one's median time, and whether
    its mean error against float64 is within `ACCURACY_MARGIN` of MKL's."""

    seconds: dict[str, float]
    accurate: dict[str, bool]


@functools.cache
def probe_linear_kernels(rows: int, inner: int, outer: int, repeats: int = 15) -> KernelProbe:
    """Time a fp32 [rows x inner] @ [inner x outer] product on every kernel this build has
    (once per shape and process; a few tens of milliseconds)."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(rows, inner, generator=generator)
    weight = torch.randn(outer, inner, generator=generator)
    exact = inputs.double() @ weight.double().T
    runs = {MKL: _linear_under("ieee", inputs, weight)}
    if torch.backends.mkldnn.is_available():
        runs[ONEDNN_KERNEL] = _linear_under(ONEDNN, inputs, weight)
    if mkl_packing_available():
        packed = torch.ops.mkl._mkl_reorder_linear_weight(weight, rows)
        runs[MKL_PACKED] = functools.partial(torch.ops.mkl._mkl_linear, inputs, packed, weight, None, rows)
    seconds, errors = {}, {}
    with torch.inference_mode():
        for kernel, run in runs.items():
            errors[kernel] = (run().double() - exact).abs().mean().item()
            run()  # warm
            seconds[kernel] = median_seconds(run, repeats)
    accurate = {kernel: error <= ACCURACY_MARGIN * errors[MKL] for kernel, error in errors.items()}
    return KernelProbe(seconds, accurate)


def fastest_linear_kernel(
    rows: int, shapes: Mapping[tuple[int, int], int], kernels: Sequence[str] = LINEAR_KERNELS
) -> str:
    """The kernel among `kernels` that runs every (inner, outer) product of `shapes` as
    accurately as MKL and the whole set (each shape times its count) fastest, if that is
    `SPEEDUP_NEEDED` faster than MKL; else MKL. Summed over the model rather than judged on one
    shape: the gain is uneven (oneDNN at 8 rows on the AVX512-BF16 EPYC: about 2.3x on SmolLM2's
    49k-word output layer, 1.25x on its MLP, 0.65x on its 192-wide key/value projections), and
    one shape's probe is noisy on a busy CPU."""
    if not shapes:
        return MKL
    totals = {
        kernel: seconds
        for kernel, (seconds, accurate) in kernel_totals(rows, shapes).items()
        if kernel in kernels and accurate
    }
    best = min(totals, key=lambda kernel: totals[kernel])
    return best if totals[MKL] >= SPEEDUP_NEEDED * totals[best] else MKL


def kernel_totals(rows: int, shapes: Mapping[tuple[int, int], int]) -> dict[str, tuple[float, bool]]:
    """Each kernel this build has: its probe seconds summed over `shapes` (each shape times its
    count), and whether it was accurate on every shape."""
    probes = [(probe_linear_kernels(rows, *shape), count) for shape, count in shapes.items()]
    return {
        kernel: (
            sum(count * probe.seconds[kernel] for probe, count in probes),
            all(probe.accurate[kernel] for probe, _ in probes),
        )
        for kernel in LINEAR_KERNELS
        if all(kernel in probe.seconds for probe, _ in probes)
    }


def model_linear_shapes(model: torch.nn.Module) -> Counter[tuple[int, int]]:
    """(inner, outer) of the model's linear layers, with how many layers have each; a peft
    adapter's own small matrices (`lora_A`, `lora_B`) are left out."""
    return Counter((module.in_features, module.out_features) for module in _base_linears(model))


def _base_linears(model: torch.nn.Module) -> list[torch.nn.Linear]:
    return [
        module for name, module in model.named_modules() if isinstance(module, torch.nn.Linear) and ".lora_" not in name
    ]


def choose_linear_kernel(
    model: torch.nn.Module, device: torch.device, dtype: torch.dtype, rows: int, kernels: Sequence[str] = LINEAR_KERNELS
) -> str:
    """The engine's automatic choice: fp32 on CPU, and `fastest_linear_kernel` on the model's
    shapes; PyTorch's default (MKL) elsewhere. The packed kernel is left out where its packs (about
    the size of the linear weights) would take more than a quarter of the free memory."""
    if device.type != "cpu" or dtype != torch.float32:
        return MKL
    if MKL_PACKED in kernels and 4 * linear_weight_bytes(model) > free_memory_bytes():
        kernels = [kernel for kernel in kernels if kernel != MKL_PACKED]
    return fastest_linear_kernel(max(1, rows), model_linear_shapes(model), kernels)


def free_memory_bytes() -> int:
    """Free memory now (`SC_AVPHYS_PAGES`: it leaves the page cache out, so it errs low); 4 GiB
    where the system does not say."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 << 30


class PackedLinears:
    """Context manager: inside it, the fp32 products of `model`'s linear layers (not a peft
    adapter's own matrices) run on MKL's sgemm with weights packed once for `rows` rows
    (`torch.ops.mkl._mkl_linear`), where that took 0.5-0.65x of `F.linear`'s time on the AMX
    Xeon (module docstring).

    A packed weight serves exactly its row count; a layer called with fewer rows (a decoding
    batch after some rows finished, a small prompt group's last position) pads its input up to
    it, which costs about the same, as the product reads the weights either way; a row's result
    does not depend on the padding. Padding 16 rows up to 32 still beat `F.linear` on the 16, and
    4 padded to 16 tied it, while repacking the model took about 0.2 s (as long as five decoding
    steps), so the packs are never retaken: below a quarter of the packed rows, or
    `PACKED_MIN_ROWS`, the layers run `F.linear` (`follow` then frees the packs). Anything else
    (the prompt pass's many positions, gradients) runs `F.linear` on the layer's own weight. The
    packs are taken on entry, so weights changed in place before (a merged LoRA) are the ones
    used; they must not change inside the context. The packs take about the weights' size in
    memory.
    """

    def __init__(self, model: torch.nn.Module, rows: int):
        self.model = model
        self.rows = rows
        self._layers: list[torch.nn.Linear] = []
        self._packs: dict[int, torch.Tensor] = {}

    def __enter__(self) -> PackedLinears:
        # a layer whose forward is already set on the instance (accelerate's hooks) keeps it, unpacked
        self._layers = [layer for layer in _base_linears(self.model) if "forward" not in vars(layer)]
        self._pack(self.rows)
        for layer in self._layers:
            layer.forward = functools.partial(self._forward, layer)  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        for layer in self._layers:
            del layer.forward  # back to the class's own
        self._layers, self._packs = [], {}

    def follow(self, rows: int) -> None:
        """The decoding batch now has `rows` rows: free the packs once the layers would no
        longer use them (see the class docstring)."""
        if not self._serves(rows):
            self._packs, self.rows = {}, 0

    def _serves(self, rows: int) -> bool:
        return bool(self._packs) and rows >= PACKED_MIN_ROWS and self.rows // 4 < rows <= self.rows

    def _pack(self, rows: int) -> None:
        self.rows = rows
        if rows >= PACKED_MIN_ROWS:
            self._packs = {
                id(layer): torch.ops.mkl._mkl_reorder_linear_weight(layer.weight.detach(), rows)
                for layer in self._layers
            }

    def _forward(self, layer: torch.nn.Linear, inputs: torch.Tensor) -> torch.Tensor:
        packed = self._packs.get(id(layer))
        rows = inputs.numel() // max(1, inputs.shape[-1])
        if (
            packed is None
            or not self._serves(rows)
            or inputs.dtype != torch.float32
            or (torch.is_grad_enabled() and (inputs.requires_grad or layer.weight.requires_grad))
        ):
            return torch.nn.functional.linear(inputs, layer.weight, layer.bias)
        if rows == self.rows:
            return torch.ops.mkl._mkl_linear(inputs.contiguous(), packed, layer.weight, layer.bias, self.rows)
        flat = inputs.reshape(rows, inputs.shape[-1])
        padded = torch.nn.functional.pad(flat, (0, 0, 0, self.rows - rows))
        out = torch.ops.mkl._mkl_linear(padded, packed, layer.weight, layer.bias, self.rows)
        return out[:rows].reshape(*inputs.shape[:-1], out.shape[-1])


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
    "LINEAR_KERNELS",
    "MKL",
    "MKL_PACKED",
    "ONEDNN_KERNEL",
    "KernelProbe",
    "OneDnnLinears",
    "PackedLinears",
    "choose_linear_kernel",
    "default_matmul_kernels",
    "fastest_linear_kernel",
    "kernel_totals",
    "free_memory_bytes",
    "mkl_packing_available",
    "model_linear_shapes",
    "probe_linear_kernels",
]
