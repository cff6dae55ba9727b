"""JSON Lines files: one reader, one appender and one rewriter for every JSONL file we touch.

Two kinds of JSONL file, two ways of reading them:

- files a *user* gives us (datasets, SFT files, prediction files) are read strictly: the first
  bad line raises a `DataError` naming file, line and field, so the user can fix it
  (`read_jsonl_strict`), or, for dataset adapters that count bad rows, line by line with the
  problem attached (`iter_jsonl_lines`);
- files *we* append to as work finishes (reply caches, predictions, trainer metrics) are read
  tolerantly: a writer killed mid-record leaves a torn last line, which is skipped and counted
  so the caller can warn, never fatal (`read_jsonl_keyed`).

`AppendOnlyJsonl` appends records one flush at a time, and first repairs a torn tail so that a
new record is never glued onto half of an old one (which would lose both). `rewrite_jsonl` keeps
the records a predicate accepts and `write_jsonl` writes a whole file, both atomically.

Lines are split on b"\\n" and decoded one at a time rather than with `str.splitlines`, which also
splits on U+2028, U+0085 and other characters that `json.dumps(..., ensure_ascii=False)` leaves
raw inside strings, and rather than decoding the whole file, which fails on a torn multi-byte
character at the end.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emoreason.data.errors import DataError
from emoreason.data.text import InvalidTextError, NotUtf8Error, check_text, decode_utf8

log = logging.getLogger(__name__)

Record = dict[str, Any]
KeyFunction = Callable[[Record], str]

INVALID_JSON = "invalid JSON"
NOT_AN_OBJECT = "not a JSON object"
NOT_UTF8 = "not UTF-8"
INVALID_TEXT = "invalid text"

_TAIL_BLOCK = 1 << 16


@dataclass(frozen=True, slots=True)
class JsonlLine:
    """One non-blank line: its 1-based number and either the record or why there is none."""

    number: int
    record: Record | None
    problem: str = ""  # INVALID_JSON, NOT_AN_OBJECT, NOT_UTF8 or INVALID_TEXT when `record` is None
    detail: str = ""  # the parser's words, e.g. "Expecting ',' delimiter at column 12"
    field: str | None = None  # the field at fault, when one is (INVALID_TEXT)


def parse_jsonl_line(raw: bytes, number: int) -> JsonlLine | None:
    """The record on one raw line, or the problem with it; None for a blank line.

    Text follows `emoreason.data.text`'s policy: UTF-8 (a byte-order mark accepted on line 1),
    and no lone surrogate in any string (a JSON `\\ud800` escape decodes to one)."""
    try:
        text = decode_utf8(raw, number)
    except NotUtf8Error as err:
        return JsonlLine(number, None, NOT_UTF8, err.detail)
    if not text.strip():
        return None
    try:
        value = json.loads(text.rstrip("\r\n"))  # with its newline, an unclosed object fails at "line 2 column 1"
    except json.JSONDecodeError as err:
        # json's own words may end in "at" ("Invalid control character at"): one "at" before the column
        return JsonlLine(number, None, INVALID_JSON, f"{err.msg.removesuffix(' at')} at column {err.colno}")
    if not isinstance(value, dict):
        return JsonlLine(number, None, NOT_AN_OBJECT, f"got {type(value).__name__}")
    try:
        check_text(value)
    except InvalidTextError as err:
        return JsonlLine(number, None, INVALID_TEXT, err.reason, err.field)
    return JsonlLine(number, value)


def iter_jsonl_lines(path: str | Path) -> Iterator[JsonlLine]:
    """Every non-blank line of a JSONL file, read or not, so the caller decides what a bad line
    costs (raise, count as a bad row, or skip)."""
    with Path(path).open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = parse_jsonl_line(raw, number)
            if line is not None:
                yield line


def read_jsonl_strict(path: str | Path, required: Sequence[str] = (), hint: str = "") -> Iterator[tuple[int, Record]]:
    """(line number, record) for each non-blank line of a JSONL file a user gave us.

    The first line that is not UTF-8, not JSON, not an object, or lacks a `required` key raises
    a `DataError` naming the file, the line and the field; `hint` says what a good line looks like."""
    suffix = f"; {hint}" if hint else ""
    for line in iter_jsonl_lines(path):
        if line.record is None:
            message = "not valid JSON" if line.problem == INVALID_JSON else line.problem
            raise DataError(f"{message} ({line.detail}){suffix}", file=str(path), line=line.number, field=line.field)
        for key in required:
            if key not in line.record:
                raise DataError(f"missing required field {key!r}{suffix}", file=str(path), line=line.number, field=key)
        yield line.number, line.record


@dataclass(frozen=True, slots=True)
class KeyedRecords:
    """What `read_jsonl_keyed` could read, and the line numbers it had to skip."""

    records: dict[str, Record] = field(default_factory=dict)
    skipped_lines: tuple[int, ...] = ()

    @property
    def skipped(self) -> int:
        return len(self.skipped_lines)

    def skipped_summary(self) -> str:
        """`skipped 2 unreadable line(s) (7, 9)`, the first five line numbers, for a warning."""
        return f"skipped {self.skipped} unreadable line(s) ({', '.join(map(str, self.skipped_lines[:5]))})"


def _key_function(key: str | KeyFunction) -> KeyFunction:
    if callable(key):
        return key
    return lambda record: str(record[key])


def read_jsonl_keyed(path: str | Path, key: str | KeyFunction) -> KeyedRecords:
    """Records of a file we append to, keyed by the field `key` (as a string) or by `key(record)`.

    A missing file is empty. Lines that cannot be read, or have no key, are skipped and counted:
    in an append-only file they are records torn by a killed writer, and losing one costs a redo,
    whereas failing would cost the whole resume. A repeated key keeps its last record, the newest."""
    file = Path(path)
    if not file.is_file():
        return KeyedRecords()
    key_of = _key_function(key)
    records: dict[str, Record] = {}
    skipped: list[int] = []
    for line in iter_jsonl_lines(file):
        if line.record is None:
            skipped.append(line.number)
            continue
        try:
            records[key_of(line.record)] = line.record
        except (KeyError, TypeError, ValueError):
            skipped.append(line.number)
    return KeyedRecords(records, tuple(skipped))


def _last_line_start(handle: Any, size: int) -> int:
    """Offset just past the last b"\\n" before the end of the file (0 when there is none),
    found by reading backwards a block at a time, so a large log is not read whole."""
    end = size
    while end > 0:
        start = max(0, end - _TAIL_BLOCK)
        handle.seek(start)
        newline = handle.read(end - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


def repair_torn_tail(path: str | Path) -> int:
    """Make a file end with a complete line, so that an append starts on a line of its own.

    An unterminated last line is a writer killed mid-record (or mid-newline). If it holds a
    complete JSON object only the newline was lost, so it is kept and terminated. Otherwise it is
    half a record: it is dropped, because it cannot be completed, the tolerant reader would skip
    it anyway, and newline-terminating it would leave garbage that every later reader has to
    skip again. Returns the number of bytes dropped (0 when nothing was)."""
    file = Path(path)
    if not file.is_file():
        return 0
    with file.open("r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        cut = _last_line_start(handle, size)
        handle.seek(cut)
        line = parse_jsonl_line(handle.read(size - cut), 1 if cut == 0 else 2)  # a BOM only counts on line 1
        if line is None or line.record is not None or line.problem == INVALID_TEXT:  # complete, keep it
            handle.seek(size)
            handle.write(b"\n")
            return 0
        handle.truncate(cut)
    log.warning(
        "%s: dropped a torn last line (%d bytes, %s) left by an interrupted write", file, size - cut, line.problem
    )
    return size - cut


def _dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


class AppendOnlyJsonl:
    """A JSONL file that records are appended to as they are produced, e.g. replies, predictions,
    metrics. Each `append`/`extend` opens the file, writes whole lines and closes it, so a crash
    loses at most the records in flight and no handle outlives the call. Before the first write,
    a torn tail from an earlier crash is repaired (`repair_torn_tail`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._repaired = False

    def append(self, record: Mapping[str, Any]) -> None:
        self.extend([record])

    def extend(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append several records with one open and one write (a batch of predictions)."""
        lines = [_dumps(record) for record in records]
        if not lines:
            return
        if not self._repaired:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            repair_torn_tail(self.path)
            self._repaired = True
        with self.path.open("a", encoding="utf-8", newline="") as handle:  # closing flushes to the OS
            handle.write("".join(lines))


def _replace_atomically(path: Path, lines: Iterable[bytes]) -> None:
    """Write `lines` to a temporary file next to `path`, then rename it over `path`: a reader or a
    crash sees the old file or the new one, never a half-written one. An existing file keeps its
    mode; a new one gets the usual mode under the umask, as `open(path, "w")` would give it.
    Raises `OSError` with a message that names `path` when it cannot be written."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name, e.g. {path / 'data.jsonl'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) as the whole of `path`, atomically: a crash leaves the old file or the new one."""
    _replace_atomically(Path(path), [text.encode("utf-8")])


def write_jsonl(path: str | Path, records: Iterable[Mapping[str, Any]]) -> int:
    """Write `records` as a whole new JSONL file, atomically; returns how many were written."""
    lines = [_dumps(record).encode("utf-8") for record in records]
    _replace_atomically(Path(path), lines)
    return len(lines)


def rewrite_jsonl(path: str | Path, keep: Callable[[Record], bool]) -> int:
    """Keep only the records for which `keep(record)` is true, e.g. the metrics of steps up to
    the checkpoint a trainer resumes from; returns how many lines were dropped.

    Lines that cannot be read are dropped too: `keep` cannot judge them, and in a file we wrote
    they are torn records. Kept lines are copied byte for byte (no re-serialising), and the file
    is replaced atomically, so a crash during the rewrite leaves the old file. A missing file is
    left missing."""
    file = Path(path)
    if not file.is_file():
        return 0
    kept: list[bytes] = []
    dropped = 0
    with file.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = parse_jsonl_line(raw, number)
            if line is None:
                continue
            if line.record is not None and keep(line.record):
                kept.append(raw if raw.endswith(b"\n") else raw + b"\n")
            else:
                dropped += 1
    _replace_atomically(file, kept)
    return dropped


__all__ = [
    "INVALID_JSON",
    "INVALID_TEXT",
    "NOT_AN_OBJECT",
    "NOT_UTF8",
    "AppendOnlyJsonl",
    "JsonlLine",
    "KeyedRecords",
    "iter_jsonl_lines",
    "parse_jsonl_line",
    "read_jsonl_keyed",
    "read_jsonl_strict",
    "repair_torn_tail",
    "rewrite_jsonl",
    "write_jsonl",
    "write_text_atomically",
]
