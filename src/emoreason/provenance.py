"""What a run was made with, for the records it leaves (run.json, metrics.json, provenance.json): a
figure is reproducible only with the software versions and the data bytes that made it."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: the packages whose versions change answers or training: emoreason itself and the model stack
PACKAGES = ("emoreason", "torch", "transformers", "peft", "accelerate")


def software_versions() -> dict[str, str | None]:
    """{package: installed version, or None where it is not installed}."""
    found: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read a block at a time; OSError when it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def adapter_fingerprint(adapter: str) -> str:
    """`sha256:...` over the names, sizes and bytes of an adapter folder's `adapter_*` files (its
    config and weights, what peft loads); `name:ADAPTER` for one that is not a local folder (a hub
    id, fetched by peft), whose bytes cannot be read here."""
    folder = Path(adapter).expanduser()
    files = sorted(p for p in folder.glob("adapter_*") if p.is_file()) if folder.is_dir() else []
    if not files:
        return f"name:{adapter}"
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.name}\0{file.stat().st_size}\0".encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return f"sha256:{digest.hexdigest()}"


#: bytes read from each end of a model folder's files for its fingerprint: a retrained model differs there
_SAMPLED_BYTES = 1 << 20
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def model_fingerprint(folder: str | Path) -> str:
    """`sampled-sha256:...` over the names and sizes of a model folder's weight files and config.json and
    the first and last MiB of each: training rewrites every weight, so a model retrained in place differs,
    and a 15 GB model is not read whole before every evaluate (an adapter, small, is hashed whole:
    `adapter_fingerprint`)."""
    digest = hashlib.sha256()
    weights = [
        p for p in Path(folder).iterdir() if p.is_file() and (p.suffix in WEIGHT_SUFFIXES or p.name == "config.json")
    ]
    for file in sorted(weights):
        size = file.stat().st_size
        digest.update(f"{file.name}\0{size}\0".encode())
        with file.open("rb") as handle:
            digest.update(handle.read(_SAMPLED_BYTES))
            if size > _SAMPLED_BYTES:
                handle.seek(max(_SAMPLED_BYTES, size - _SAMPLED_BYTES))
                digest.update(handle.read())
    return f"sampled-sha256:{digest.hexdigest()}"


__all__ = [
    "PACKAGES",
    "WEIGHT_SUFFIXES",
    "adapter_fingerprint",
    "file_sha256",
    "model_fingerprint",
    "software_versions",
]
