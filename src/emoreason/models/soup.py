"""Adapter soups: several LoRA adapters of one base model averaged into one adapter.

The checkpoints of one run (e.g. a GRPO run's `checkpoint-N/adapter` folders) sit close to each
other in weight space, and their average is often better than any one of them: the noise of
the individual steps cancels while what they share stays. What is averaged is each adapter's
weight change, `scaling * B @ A`, not its `A` and `B` factors separately (the mean of products is
not the product of means). With k adapters of rank r the exact average is itself a LoRA adapter
of rank k * r: `A` stacked, `B` side by side with each block times its weight and scaling. That
is peft's `add_weighted_adapter(combination_type="cat")`; with `rank` set, peft's `svd`
combination instead keeps the best rank-`rank` approximation of the averaged change (smaller
file, not exact).

Inference merges the adapter into the weights (`load_model`), so a soup of rank k * r decodes as
fast as one adapter of rank r.

A weight may be negative as long as the weights sum to more than 0: the result is then an
extrapolation, not an average. With weights -1, 2 on (a fine-tuning start, a run from it) the
change is `run + (run - start)`: the run's move from its start taken twice (model extrapolation,
as for an RL run over its SFT start).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

from emoreason.models.loading import check_adapter_folder, load_model
from emoreason.models.shipped import ADAPTER_CONFIG, FILE_KEYS, SETTINGS_FILE, AdapterSettings, resolve_shipped
from emoreason.provenance import file_sha256

WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")  # what peft writes, newest form first
SOUP_RECORD = "soup.json"  # beside the adapter: which adapters were averaged, with which weights


def soup_settings(folders: Sequence[Path]) -> tuple[dict[str, object], list[str]]:
    """The `emoreason.json` settings a soup of `folders` takes over, and notes on what it does not.

    What the parts were trained for (format, task, answer length, cue classifier and reference) carries
    over when every part says the same; a fitted score line never does: it was fitted to each part's own
    answers, and a soup answers otherwise, so its scores are read with the confidence readout until a
    line is fitted to its own valid answers (`emoreason fit-score`)."""
    parts = [AdapterSettings.read(folder) for folder in folders]
    notes: list[str] = []
    if any(part.score_fit is not None for part in parts):
        notes.append(
            "the parts carry fitted score lines and the soup does not: its scores are read with the confidence "
            "readout until you fit one to its own answers (`emoreason evaluate --adapter SOUP --split valid "
            "--score-readout confidence ...`, then `emoreason fit-score RUN... --out SOUP`)"
        )

    def compared(part: AdapterSettings) -> dict[str, object]:
        """A part's settings with each file setting by its contents (the parts lie in other folders)."""
        values = dataclasses.asdict(dataclasses.replace(part, score_fit=None))
        return {k: v.read_bytes() if isinstance(v, Path) else v for k, v in values.items()}

    if any(compared(part) != compared(parts[0]) for part in parts[1:]):
        notes.append("the parts were trained for different settings (emoreason.json), so the soup takes none of them")
        return {}, notes
    first = dataclasses.asdict(dataclasses.replace(parts[0], score_fit=None))
    return {k: v for k, v in first.items() if v is not None}, notes


def _adapter_config(folder: Path) -> dict:
    return json.loads((check_adapter_folder(folder) / ADAPTER_CONFIG).read_text())


def check_soup_inputs(adapters: Sequence[Path], weights: Sequence[float] | None) -> list[float]:
    """The weights to average with (equal by default, normalised to sum to 1; a negative weight
    extrapolates away from its adapter); raises ValueError or FileNotFoundError naming the adapter
    or weight that cannot be combined."""
    # folders first: a brace list that /bin/sh did not expand arrives as one folder that does not
    # exist, and the error should name it rather than count it
    configs = [_adapter_config(folder) for folder in adapters]
    if len(adapters) < 2:
        raise ValueError(f"averaging needs at least two adapters, got {len(adapters)}")
    for folder, config in zip(adapters, configs):
        plain = [name for name in ("use_rslora", "use_dora") if config.get(name)]
        if plain:  # peft's weighted sum keeps the first part's scaling rule: an rsLoRA soup comes out sqrt(r) too large
            raise ValueError(f"{folder} sets {' and '.join(plain)}: averaging takes plain LoRA adapters only")
    first = configs[0]
    for folder, config in zip(adapters[1:], configs[1:]):
        for key in ("peft_type", "target_modules", "task_type", "bias", "modules_to_save"):
            mine, theirs = first.get(key), config.get(key)
            if isinstance(mine, list) and isinstance(theirs, list):
                mine, theirs = sorted(mine), sorted(theirs)
            if mine != theirs:
                raise ValueError(
                    f"{folder} has {key} {theirs!r} but {adapters[0]} has {mine!r}: "
                    "only adapters of the same kind on the same modules can be averaged"
                )
    chosen = [1.0] * len(adapters) if weights is None else [float(w) for w in weights]
    if len(chosen) != len(adapters):
        raise ValueError(f"{len(chosen)} weights for {len(adapters)} adapters: give one weight per adapter")
    if not all(math.isfinite(w) for w in chosen):
        raise ValueError(f"weights must be finite numbers, got {chosen}")
    total = sum(chosen)
    if total <= 0:
        # normalising by a sum of 0 or below would flip or blow up every change
        raise ValueError(f"weights must sum to more than 0, got {chosen} (sum {total:g})")
    return [w / total for w in chosen]


def average_adapters(
    adapters: Sequence[str | Path],
    out: str | Path,
    *,
    weights: Sequence[float] | None = None,
    rank: int | None = None,
    model: str | Path = "default",
) -> Path:
    """Write the weighted average of `adapters` (LoRA folders of `model`) to the folder `out`, a
    regular adapter folder (`--adapter out`), with `soup.json` recording what went in and `emoreason.json`
    the settings the parts share (`soup_settings`: never their fitted score lines). A shipped adapter's
    name ("sentiment") stands for its folder.

    `weights` default to equal and are normalised to sum to 1; a negative one extrapolates (module
    docstring). `rank` None: the exact average (rank
    = the sum of the adapters' ranks); an int: its best approximation of that rank."""
    folders = [Path(resolve_shipped(str(a))) for a in adapters]
    model = str(model)  # recorded in soup.json: a Path failed there, after the adapter files were written
    normalised = check_soup_inputs(folders, weights)
    if rank is not None and rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank}")
    target = Path(out)
    if any(target.resolve() == folder.resolve() for folder in folders):
        raise ValueError(f"out {target} is one of the adapters averaged; write the soup to a folder of its own")
    if target.is_dir() and any(target.iterdir()) and not (target / SOUP_RECORD).is_file():
        # an earlier soup is replaced; any other folder's files (an adapter, its fitted line) would be lost
        raise ValueError(f"out {target} holds files and no earlier soup; give a new or empty folder")
    digests = [part_digest(f) for f in folders]  # before anything is written
    from peft import PeftModel

    base = load_model(model, adapters="none", dtype="float32", device="cpu").model
    names = [f"part{i}" for i in range(len(folders))]
    peft_model = PeftModel.from_pretrained(base, str(folders[0]), adapter_name=names[0])
    for name, folder in zip(names[1:], folders[1:]):
        peft_model.load_adapter(str(folder), adapter_name=name)
    combination = {"combination_type": "cat"} if rank is None else {"combination_type": "svd", "svd_rank": rank}
    peft_model.add_weighted_adapter(names, normalised, "soup", **combination)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch, warnings.catch_warnings():
        # peft looks for the base model's config to see whether the vocabulary was resized; the
        # default model's base name is a label, not a folder, and a soup never resizes it
        warnings.filterwarnings("ignore", message="Could not find a config file", category=UserWarning)
        peft_model.save_pretrained(scratch, selected_adapters=["soup"])
        for file in (Path(scratch) / "soup").iterdir():
            file.replace(target / file.name)
    # peft writes the soup's config as a copy of the first part's (base model name included)
    record = {
        "adapters": [str(f) for f in folders],  # as given; the digests name the parts wherever they move
        "adapter_sha256": digests,
        "weights": normalised,
        "combination": "exact (peft cat)" if rank is None else f"svd, rank {rank}",
        "rank": peft_model.peft_config["soup"].r,
        "model": model,
    }
    settings, notes = soup_settings(folders)
    bases = dict.fromkeys(str(_adapter_config(f).get("base_model_name_or_path")) for f in folders)
    if len(bases) > 1:  # one base under two names (a path, a label) is common; two bases of one shape average silently
        notes.append(f"the parts record different base models ({', '.join(bases)}): check they share one")
    # an earlier soup's settings in this folder (a fitted score line among them) are not this soup's
    (target / SETTINGS_FILE).unlink(missing_ok=True)
    if settings:
        for key in FILE_KEYS:  # the files a setting names travel with it, under their own names
            if isinstance(settings.get(key), Path):
                shutil.copyfile(settings[key], target / settings[key].name)
                settings[key] = settings[key].name
        (target / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n")
    record["notes"] = notes
    (target / SOUP_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return target


def part_digest(folder: Path) -> str | None:
    """The SHA-256 of an adapter folder's weights file (None when it has none we know)."""
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return file_sha256(folder / name)
    return None


__all__ = ["SOUP_RECORD", "average_adapters", "check_soup_inputs", "soup_settings"]
