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


__all__ = ["PACKAGES", "file_sha256", "software_versions"]
