"""Cue records cached per media file, keyed by the file's content, so epochs never recompute them.

    cache = CueCache()                 # $EMOREASON_CUES_CACHE, else $EMOREASON_HOME/cues (~/.cache/emoreason/cues)
    cues = cache.audio("clip.mp4")     # computed once, then read back
    cache.hits, cache.misses

The key is the SHA-256 of the file's bytes plus the cue kind and its extractor version: a
moved or renamed file is still a hit, an edited file or a new extractor version is a miss.
Entries are small JSON files written atomically (a killed run leaves no half entry).
Failures are not cached: an unreadable file is retried next time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from emoreason.cues.audio import AudioCues, extract_audio_cues
from emoreason.cues.base import CueError, CueRecord
from emoreason.cues.face import FaceCues, extract_face_cues
from emoreason.models.default import emoreason_home
from emoreason.provenance import file_sha256

R = TypeVar("R", bound=CueRecord)


def default_cache_dir() -> Path:
    if os.environ.get("EMOREASON_CUES_CACHE"):
        return Path(os.environ["EMOREASON_CUES_CACHE"]).expanduser()
    return emoreason_home() / "cues"


def file_digest(path: str | Path) -> str:
    try:
        return file_sha256(path)
    except OSError as err:
        raise CueError(f"cannot read {path}: {err.strerror or err}") from None


class CueCache:
    """Get-or-compute cue records of media files; `root=None` uses `default_cache_dir()`."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0

    def audio(self, path: str | Path) -> AudioCues:
        return self.get_or_compute(path, AudioCues, extract_audio_cues)

    def face(self, path: str | Path) -> FaceCues:
        return self.get_or_compute(path, FaceCues, extract_face_cues)

    def entry(self, path: str | Path, kind: type[CueRecord]) -> Path:
        digest = file_digest(path)
        return self.root / kind.KIND / f"v{kind.VERSION}" / digest[:2] / f"{digest}.json"

    def get_or_compute(self, path: str | Path, kind: type[R], extract: Callable[[str | Path], R]) -> R:
        if not Path(path).is_file():
            raise CueError(f"media file not found: {path}")
        entry = self.entry(path, kind)
        if entry.is_file():
            try:
                record = kind.from_dict(json.loads(entry.read_text()))
                self.hits += 1
                # the same bytes may sit under another name: report the name asked for
                return (
                    record
                    if record.path == str(path)
                    else type(record).from_dict({**record.to_dict(), "path": str(path)})
                )
            except (ValueError, TypeError, KeyError):
                entry.unlink(missing_ok=True)  # a damaged entry is recomputed
        record = extract(path)
        self.misses += 1
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.part")
        tmp.write_text(json.dumps(record.to_dict()))
        tmp.replace(entry)
        return record

    def contains(self, path: str | Path, kind: type[CueRecord]) -> bool:
        return self.entry(path, kind).is_file()
