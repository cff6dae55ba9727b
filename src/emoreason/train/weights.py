"""The model weights in a checkpoint: with LoRA only the adapter (`adapter/`, a regular peft
folder that `--adapter` loads), with full fine-tuning the whole model as safetensors
(`model/`).

`read_weights` reads them and checks their names and shapes against the live model before
`put_weights` loads anything into it, so weights that do not read (damaged) or do not fit
(written for another model or config) leave the model as it was; either is a `CheckpointError`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from emoreason.data.schema import TaskInfo
from emoreason.models.shipped import SETTINGS_FILE
from emoreason.train.checkpoint_errors import damaged_checkpoint, first_line, unfit_checkpoint

ADAPTER_FILE = "adapter_model.safetensors"


def is_peft(model: torch.nn.Module) -> bool:
    return hasattr(model, "peft_config")


def trained_for(format_name: str | None, task: TaskInfo | None) -> dict[str, Any]:
    """What an adapter trained on `format_name` answers for `task`, as its `emoreason.json` says it
    (`models.shipped.AdapterSettings`), so that analyze, evaluate and serve default to them: the format,
    and the task by its name where the name reads back as the same task (vader:tweets, mosi, ravdess...),
    else written whole (a file's own 1..7 scale or label set: without it the adapter answered on -4..4)."""
    settings: dict[str, Any] = {"format": format_name} if format_name else {}
    if task is not None:  # by its name where the name reads back as it (a pool's "vader" is vader:text)
        settings["task"] = task.name if task.reads_back else task.to_dict()
    return settings


def steady_adapter_config(path: Path) -> None:
    """Rewrite a saved adapter config with its lists of module names sorted: peft writes a set, in an order
    that changes from process to process, so the same weights saved twice hashed apart
    (`provenance.adapter_fingerprint`), and a resume or an evaluate reading the copy took it for another."""
    config = json.loads(path.read_text())
    for key in ("target_modules", "modules_to_save", "layers_to_transform"):
        if isinstance(config.get(key), list) and all(isinstance(item, str) for item in config[key]):
            config[key] = sorted(config[key])
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def save_weights(
    model: torch.nn.Module, folder: Path, processor: Any = None, settings: Mapping[str, Any] | None = None
) -> None:
    """The trainable weights under `folder`: adapter/ (a peft folder, with `settings` as its
    `emoreason.json` when given: `trained_for`) or model/ (full weights, and the processor)."""
    if is_peft(model):
        # only the trained adapter: a frozen reference copy (policy.REFERENCE_ADAPTER) stays out
        with warnings.catch_warnings():
            # peft looks for the base model's config to see whether the vocabulary was resized; the
            # default model's base name is a label, not a folder, and its vocabulary never changes
            warnings.filterwarnings("ignore", message="Could not find a config file", category=UserWarning)
            model.save_pretrained(folder / "adapter", selected_adapters=["default"])
        steady_adapter_config(folder / "adapter" / "adapter_config.json")
        if settings:
            (folder / "adapter" / SETTINGS_FILE).write_text(json.dumps(dict(settings), indent=2) + "\n")
    else:
        # the names the live model has: by default transformers writes a checkpoint-era layout (Qwen2.5-VL's
        # `model.embed_tokens` for `model.language_model.embed_tokens`), which from_pretrained maps back but a
        # resume, comparing names with the live model's, would take for another model's weights
        model.save_pretrained(folder / "model", safe_serialization=True, save_original_format=False)
        if processor is not None:
            processor.save_pretrained(folder / "model")


def _read_safetensors(folder: Path, file: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(str(file))
    except Exception as err:  # safetensors reports a cut-off file as SafetensorError
        name = file.relative_to(folder)
        raise damaged_checkpoint(folder, f"{name} is truncated or garbled ({first_line(err)})") from None


def _expected_weights(model: torch.nn.Module) -> dict[str, torch.Size]:
    """The names and shapes a checkpoint of this model holds (as `save_weights` writes them)."""
    if is_peft(model):
        from peft import get_peft_model_state_dict

        return {k: v.shape for k, v in get_peft_model_state_dict(model, adapter_name="default").items()}
    return {k: v.shape for k, v in model.state_dict().items()}


def _weight_mismatch(saved: dict[str, torch.Tensor], expected: dict[str, torch.Size]) -> str | None:
    """What differs between saved weights and this model's, with an example of each; None when
    they fit. Tied embeddings are saved once, so a missing lm_head is fine."""
    resized = [k for k in saved if k in expected and saved[k].shape != expected[k]]
    unknown = [k for k in saved if k not in expected]
    missing = [k for k in expected if k not in saved and "lm_head" not in k]
    problems = []
    if resized:
        key = resized[0]
        problems.append(
            f"{len(resized)} tensors have other shapes (e.g. {key}: {list(saved[key].shape)} in the checkpoint, "
            f"{list(expected[key])} here)"
        )
    if unknown:
        problems.append(f"{len(unknown)} tensors are unknown to this model (e.g. {unknown[0]})")
    if missing:
        problems.append(f"{len(missing)} of this model's tensors are missing (e.g. {missing[0]})")
    return "; ".join(problems) or None


def _check_shards_present(folder: Path) -> None:
    """Every shard that model/'s index lists is there: a lost shard is damage, which the
    name-by-name comparison alone would blame on a model that does not fit."""
    index = folder / "model" / "model.safetensors.index.json"
    if not index.is_file():
        return
    try:
        shards = set(json.loads(index.read_text())["weight_map"].values())
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise damaged_checkpoint(folder, f"model/{index.name} is truncated or garbled ({first_line(err)})") from None
    lost = sorted(shard for shard in shards if not (index.parent / shard).is_file())
    if lost:
        raise damaged_checkpoint(folder, f"model/{lost[0]} is missing ({len(lost)} of {len(shards)} weight shards)")


def read_weights(folder: Path, model: torch.nn.Module, state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The checkpoint's weights, read and checked to fit `model` (names and shapes)."""
    if is_peft(model):
        file = folder / "adapter" / ADAPTER_FILE
        if not file.is_file():
            if (folder / "model").is_dir():
                raise unfit_checkpoint(folder, "it holds full model weights, not a LoRA adapter", state)
            raise damaged_checkpoint(folder, f"adapter/{ADAPTER_FILE} is missing")
        weights = _read_safetensors(folder, file)
    else:
        files = sorted((folder / "model").glob("*.safetensors"))
        if not files:
            if (folder / "adapter").is_dir():
                raise unfit_checkpoint(folder, "it holds a LoRA adapter, not full model weights", state)
            raise damaged_checkpoint(folder, "model/ holds no safetensors weights")
        _check_shards_present(folder)
        weights = {}
        for file in files:
            weights.update(_read_safetensors(folder, file))
    mismatch = _weight_mismatch(weights, _expected_weights(model))
    if mismatch:
        raise unfit_checkpoint(folder, mismatch, state)
    return weights


def put_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    if is_peft(model):
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, weights)
    else:
        model.load_state_dict(weights, strict=False)


__all__ = ["ADAPTER_FILE", "is_peft", "put_weights", "read_weights", "save_weights", "trained_for"]
