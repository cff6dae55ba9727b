"""Uploaded media: checked by size, extension and content, stored privately, deleted after use.

Clients never name a path. Every file the server reads is one it wrote itself, under a private
folder (mode 0700, created per server) with a random name and the extension of the type its
bytes were recognised as; each request's files are deleted as soon as its generation is over.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

from emoreason.serve.errors import APIError

MEDIA_KINDS = ("audio", "video", "image")

#: the file extensions accepted per kind (as a client names its file)
EXTENSIONS: dict[str, frozenset[str]] = {
    "image": frozenset({"png", "jpg", "jpeg", "gif", "webp"}),
    "audio": frozenset({"wav", "flac", "ogg", "oga", "mp3", "m4a"}),
    "video": frozenset({"mp4", "m4v", "mov", "webm", "mkv", "avi"}),
}

#: media types accepted in data: URIs, with the kind they must sniff as
MIME_TYPES: dict[str, str] = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/webp": "image",
    "audio/wav": "audio",
    "audio/x-wav": "audio",
    "audio/wave": "audio",
    "audio/flac": "audio",
    "audio/ogg": "audio",
    "audio/mpeg": "audio",
    "audio/mp3": "audio",
    "audio/mp4": "audio",
    "audio/x-m4a": "audio",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/webm": "video",
    "video/x-matroska": "video",
    "video/x-msvideo": "video",
}


def sniff(head: bytes) -> tuple[str, str] | None:
    """(kind, extension) of a file from its first bytes, or None when it is no format we take."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video", "avi"
    if head.startswith(b"fLaC"):
        return "audio", "flac"
    if head.startswith(b"OggS"):
        return "audio", "ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 in (0xE2, 0xE4, 0xE6)):
        return "audio", "mp3"  # an ID3 tag, or an MPEG audio frame header (sync bits + layer I-III)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio", "m4a"
        return "video", "mov" if brand == b"qt  " else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "webm" if b"webm" in head[:64] else "mkv"
    return None


def _describe(kind: str) -> str:
    return ", ".join(sorted(EXTENSIONS[kind]))


class UploadSet:
    """The files of one request; `delete()` removes them (idempotent)."""

    def __init__(self, store: UploadStore):
        self.store = store
        self.files: dict[Path, str] = {}  # path -> what it was ("uploaded image")
        self.fields: dict[Path, str] = {}  # path -> the request field it came in (an error about it names it)
        self._lock = threading.Lock()

    def save(
        self, kind: str, data: bytes, *, filename: str | None = None, mime: str | None = None, param: str | None = None
    ) -> str:
        """Check `data` as an upload of `kind` and write it; returns the private path."""
        param = param or kind
        if kind not in MEDIA_KINDS:
            raise APIError(400, f"unknown media kind {kind!r}; use {', '.join(MEDIA_KINDS)}", param=param)
        if len(data) > self.store.max_bytes:
            raise APIError(
                413,
                # in bytes: one decimal of MiB would print 20.0 over a limit of 20.0 for a file just above it
                f"the {kind} upload is {len(data):,} bytes ({len(data) / 2**20:.2f} MiB); the limit is "
                f"{self.store.max_bytes:,} bytes ({self.store.max_bytes / 2**20:g} MiB, --max-upload-mb)",
                param=param,
                code="upload_too_large",
            )
        if not data:
            raise APIError(400, f"the {kind} upload is empty", param=param, code="invalid_media")
        if filename:
            suffix = Path(filename).suffix.lower().lstrip(".")
            if suffix not in EXTENSIONS[kind]:
                raise APIError(
                    415,
                    f"{kind} files must end in one of: {_describe(kind)} (got {filename!r})",
                    param=param,
                    code="unsupported_media_type",
                )
        if mime is not None and MIME_TYPES.get(mime.lower()) != kind:
            accepted = ", ".join(m for m, k in MIME_TYPES.items() if k == kind)
            raise APIError(
                415, f"{kind} data must be one of {accepted} (got {mime!r})", param=param, code="unsupported_media_type"
            )
        sniffed = sniff(data[:64])
        if sniffed is None or sniffed[0] != kind:
            seen = f"it looks like {sniffed[0]} ({sniffed[1]})" if sniffed else "its content is no known media format"
            raise APIError(
                415,
                f"the {kind} upload is not {'an' if kind[0] in 'aeiou' else 'a'} {kind} file we can read "
                f"({_describe(kind)}): {seen}",
                param=param,
                code="unsupported_media_type",
            )
        path = self.store.root / f"{secrets.token_hex(12)}.{sniffed[1]}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with self._lock:
            self.files[path] = f"the uploaded {kind}"
            self.fields[path] = param or kind
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return str(path)

    def save_data_uri(self, kind: str, uri: str, param: str) -> str:
        """A `data:<mime>;base64,<payload>` URI; no other URL scheme is fetched or read."""
        match = re.match(r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[\w.-]+)*);base64,", uri)
        if match is None:
            raise APIError(
                400,
                f"{kind} must be given as a data: URI with base64 content "
                "(data:<type>;base64,...); URLs and file paths are not fetched",
                param=param,
                code="invalid_media",
            )
        payload = uri[match.end() :]
        data = self._decode(kind, payload, param)
        return self.save(kind, data, mime=match.group(1) or None, param=param)

    def _decode(self, kind: str, payload: str, param: str) -> bytes:
        """Base64 to bytes, refusing an oversized payload before decoding it."""
        if len(payload) * 3 // 4 > self.store.max_bytes + 3:
            raise APIError(
                413,
                f"the {kind} data is larger than the {self.store.max_bytes / 2**20:.1f} MiB limit",
                param=param,
                code="upload_too_large",
            )
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise APIError(400, f"the {kind} data is not valid base64", param=param, code="invalid_media") from None

    def save_base64(self, kind: str, payload: str, extension: str, param: str) -> str:
        """Base64 content with a named format (OpenAI's `input_audio`: {"data", "format"})."""
        if extension.lower() not in EXTENSIONS[kind]:
            raise APIError(
                415,
                f"{kind} format must be one of {_describe(kind)} (got {extension!r})",
                param=param,
                code="unsupported_media_type",
            )
        data = self._decode(kind, payload, param)
        return self.save(kind, data, filename=f"upload.{extension}", param=param)

    def redact(self, message: str) -> str:
        """An error message with this request's private paths replaced by what they were."""
        for path, what in self.files.items():
            message = message.replace(str(path), what)
        return message.replace(str(self.store.root), "<uploads>")

    def field_named_in(self, message: str) -> str | None:
        """The request field of the upload whose private path `message` names (None: none of them)."""
        return next((field for path, field in self.fields.items() if str(path) in message), None)

    def delete(self) -> None:
        with self._lock:
            files = list(self.files)
        for path in files:
            path.unlink(missing_ok=True)


class UploadStore:
    """A private folder for one server's uploads (mode 0700; removed by `close`)."""

    def __init__(self, max_bytes: int, parent: str | Path | None = None):
        self.max_bytes = max_bytes
        self.root = Path(tempfile.mkdtemp(prefix="emoreason-uploads-", dir=parent))
        os.chmod(self.root, 0o700)

    def new_set(self) -> UploadSet:
        return UploadSet(self)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
