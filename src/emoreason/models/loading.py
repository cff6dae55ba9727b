"""Load a model for inference or training: local folder, hub id, GGUF file or `default`,
plus optional LoRA adapters."""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from emoreason.models.default import (
    DEFAULT_ALIASES,
    DEFAULT_NAME,
    convert_gguf,
    converted_gguf_dir,
    ensure_default_model,
)
from emoreason.models.families import ModelFamily, detect_family, get_family
from emoreason.models.notices import hide_notices_about_our_calls
from emoreason.models.shipped import (
    ADAPTER_CONFIG,
    SHIPPED_ADAPTERS,
    is_adapter_folder,
    resolve_shipped,
    shipped_adapter,
)

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    model: torch.nn.Module
    processor: Any
    family: ModelFamily
    name: str
    path: str
    device: torch.device
    dtype: torch.dtype
    adapters: list[str] = field(default_factory=list)

    @property
    def tokenizer(self) -> Any:
        return self.family.tokenizer(self.processor)

    @property
    def model_id(self) -> str:
        """What predictions and the server report as the model: base name + adapters applied."""
        # the sentiment adapter keeps the name records have always carried: emoreason-default-adapter
        shipped = {shipped_adapter(name): "default" if name == "sentiment" else name for name in SHIPPED_ADAPTERS}
        names = [f"emoreason-{shipped[Path(a)]}-adapter" if Path(a) in shipped else a for a in self.adapters]
        return self.name + (f"+{','.join(names)}" if names else "")


def pick_device(device: str = "auto") -> torch.device:
    if device != "auto":
        return torch.device(device)
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """fp32 on CPU, bf16 on GPUs that support it (else fp16), unless told otherwise."""
    if dtype != "auto":
        names = {
            "float32": torch.float32,
            "fp32": torch.float32,
            "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16,
            "float16": torch.float16,
            "fp16": torch.float16,
        }
        if dtype not in names:
            raise ValueError(f"unknown dtype {dtype!r}; use auto, {', '.join(names)}")
        return names[dtype]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def native_bf16(device: torch.device | str) -> bool:
    """Whether `device` multiplies bf16 matrices in hardware: a CUDA GPU that supports bf16, or a
    CPU with AVX512-BF16 or AMX. Elsewhere PyTorch converts and runs bf16 products several times
    slower than fp32 (on an AVX2-only EPYC: 17 against 82-143 GFLOP/s, and a bf16-autocast SFT step
    took 192 s against 9 s in fp32), so "auto" settings choose fp32 there."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    # private but stable helpers of torch.cpu; a build without them is treated as having neither
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(bool(check()) for check in checks if check is not None)


def bf16_where_native(setting: str, device: torch.device | str, *, bf16: str, fp32: str, name: str) -> str:
    """The value of a setting that takes `fp32`, `bf16` or "auto" (its names for the two dtypes,
    e.g. "float32"/"bfloat16"): "auto" is `bf16` where `device` has native bf16 matmuls
    (`native_bf16`), else `fp32`. An explicit `bf16` is kept, with a warning where it would be
    emulated. `name` is the setting's name, for messages."""
    if setting not in (fp32, bf16, "auto"):
        raise ValueError(f"unknown {name} {setting!r}; use {fp32}, {bf16} or auto")
    native = native_bf16(device)
    if setting == "auto":
        return bf16 if native else fp32
    if setting == bf16 and not native:
        kind = torch.device(device).type
        warnings.warn(
            f"{name} {bf16} on a {kind} without native bf16 matmuls runs many times slower than {fp32}; "
            f"set {name} to auto or {fp32}",
            stacklevel=3,
        )
    return setting


#: `owner/name`: an adapter (or model) that is not a local path may still be a hub repository
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def resolve_model_path(name_or_path: str) -> str:
    """`default` -> the converted embedded model; a .gguf file -> its converted copy; a folder or
    hub id as given."""
    if name_or_path in DEFAULT_ALIASES:
        return str(ensure_default_model())
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file not found: {path}")
        return str(convert_gguf(path, converted_gguf_dir(path)))
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} has no config.json: not a transformers model folder")
        return str(path)
    if HUB_ID.fullmatch(name_or_path):
        return name_or_path  # a hub id: transformers resolves it (needs network or a warm HF cache)
    raise FileNotFoundError(f"model {name_or_path!r} is neither `default`, a model folder, a .gguf file nor a hub id")


def model_family(name_or_path: str = "default", family: str = "auto", *, path: str | None = None) -> ModelFamily:
    """The family `load_model` would load `name_or_path` as, from its config alone (no weights):
    what a command checks its inputs against before it spends the load. `path` is the resolved
    model path where the caller has it."""
    from transformers import AutoConfig

    if family != "auto":
        return get_family(family)
    path = path or resolve_model_path(name_or_path)
    try:
        config = AutoConfig.from_pretrained(path)
    except OSError as err:
        raise FileNotFoundError(
            f"cannot load the config of {name_or_path!r}: {err}. Offline? Point --model at a local folder."
        ) from None
    return detect_family(config)


def load_model(
    name_or_path: str = "default",
    adapters: list[str] | str | None = None,
    *,
    family: str = "auto",
    dtype: str = "auto",
    device: str = "auto",
    trainable: bool = False,
) -> LoadedModel:
    """Load model + processor and apply LoRA adapters.

    With one adapter and `trainable=True` the adapter stays a separate, trainable peft module;
    otherwise adapters are merged into the weights one after another (fastest for inference).
    """
    hide_notices_about_our_calls()
    adapter_list = resolve_adapters(name_or_path, adapters, trainable=trainable)
    check_adapters(adapter_list)  # before the base model's weights load
    path = resolve_model_path(name_or_path)
    fam = model_family(name_or_path, family, path=path)
    torch_device = pick_device(device)
    torch_dtype = pick_dtype(dtype, torch_device)
    model, processor = fam.load(path, torch_dtype, torch_device)
    model = apply_adapters(model, adapter_list, trainable=trainable)
    name = DEFAULT_NAME if name_or_path in DEFAULT_ALIASES else name_or_path
    return LoadedModel(
        model=model,
        processor=processor,
        family=fam,
        name=name,
        path=path,
        device=torch_device,
        dtype=torch_dtype,
        adapters=adapter_list,
    )


def check_adapter_folder(folder: str | Path) -> Path:
    """`folder` as a Path; raises FileNotFoundError when it is not a peft LoRA adapter folder."""
    if not is_adapter_folder(folder):
        raise FileNotFoundError(f"{folder} has no {ADAPTER_CONFIG}: not a peft LoRA adapter folder")
    return Path(folder)


def check_adapters(adapters: list[str]) -> None:
    """Raise FileNotFoundError, saying which and why, for an adapter that is no LoRA adapter folder:
    a folder without its config, a file, or a path that does not exist and cannot be a hub repository
    (`HUB_ID`; those are left to peft). Checked before the base model loads (`load_model`), and by the
    command line before anything else does."""
    for name in adapters:
        folder = Path(name).expanduser()
        if is_adapter_folder(folder):
            continue
        if folder.is_dir():
            raise FileNotFoundError(
                f"adapter {name} has no {ADAPTER_CONFIG}: not a LoRA adapter folder (sft writes one in final/)"
            )
        if folder.exists():
            raise FileNotFoundError(f"adapter {name} is a file, not a LoRA adapter folder")
        if not HUB_ID.fullmatch(name):  # "/tmp/x" or "runs/a/b" is a path: peft's "Can't find" hides that
            raise FileNotFoundError(
                f"adapter folder {name} does not exist; check the path (sft writes one in run.output_dir/final/adapter)"
            )


def apply_adapters(model: torch.nn.Module, adapters: list[str], trainable: bool = False) -> torch.nn.Module:
    if not adapters:
        return model
    from peft import PeftModel

    check_adapters(adapters)
    if trainable:
        if len(adapters) > 1:
            raise ValueError("training continues one adapter at a time; merge the others first")
        return _adapter_on(model, adapters[0], PeftModel, is_trainable=True)
    for adapter in adapters:
        model = _adapter_on(model, adapter, PeftModel).merge_and_unload()
    return model.eval()


def _adapter_on(model: torch.nn.Module, adapter: str, peft_model: Any, **options: Any) -> Any:
    """peft's model of `adapter` on `model`. An adapter made for another base is a ValueError naming the
    adapter and the base it records: one of other widths (peft's size-mismatch error names neither), and
    one of other module names (peft only warned that it found none of the adapter's weights a place, and
    the base model answered as if adapted)."""

    def refused(what: str) -> ValueError:
        recorded = _recorded_base(adapter)
        loaded = getattr(getattr(model, "config", None), "_name_or_path", "") or "the model loaded"
        return ValueError(
            f"adapter {adapter} does not fit {loaded}: its weights have {what} (it was trained on "
            f"{recorded or 'another base model'}); load the base it was trained on (--model / model.name)"
        )

    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always")
        try:
            adapted = peft_model.from_pretrained(model, adapter, **options)
        except RuntimeError as err:
            if "size mismatch" not in str(err):
                raise
            raise refused("other shapes") from None
    for warning in heard:
        if "missing adapter keys" in str(warning.message):
            raise refused("module names this model does not have")
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return adapted


def _recorded_base(adapter: str) -> str | None:
    """The base model an adapter folder's config names, if it can be read."""
    try:
        config = json.loads((Path(adapter).expanduser() / ADAPTER_CONFIG).read_text())
    except (OSError, ValueError):
        return None
    return config.get("base_model_name_or_path") if isinstance(config, dict) else None


NO_ADAPTER = "none"


def resolve_adapters(name_or_path: str, adapters: list[str] | str | None, *, trainable: bool = False) -> list[str]:
    """The adapter folders to apply.

    `none` asks for the bare base model; a shipped adapter's name (`speech-emotion`,
    `emoreason.models.shipped`) its folder inside the package. With no adapter named, inference on the default model
    gets the adapter shipped with the package (the model `make run` explains with); training
    never does, so a recipe run from `default` starts from the pretrained weights.
    """
    given = [adapters] if isinstance(adapters, (str, os.PathLike)) else list(adapters or [])
    names = [resolve_shipped(os.fspath(n)) for n in given]  # a Path is a folder, as its string is
    if NO_ADAPTER in names:
        if len(names) > 1:
            raise ValueError(f"adapter {NO_ADAPTER!r} (the bare base model) cannot be combined with others: {names}")
        return []
    if not names and not trainable and name_or_path in DEFAULT_ALIASES:
        shipped = shipped_default_adapter()
        if shipped is not None:
            return [str(shipped)]
    return names


def shipped_default_adapter() -> Path | None:
    """The LoRA adapter shipped inside the package for the default model (`sentiment`), if any."""
    return shipped_adapter("sentiment")
