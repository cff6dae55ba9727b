"""Text as it enters emoreason: one policy for every entry point, in one place.

Files, command-line texts, stdin and HTTP bodies all pass through the two functions here before
any of their text reaches a tokenizer, a cache key or a JSONL writer:

- `decode_utf8`: bytes to text. UTF-8 only, a byte-order mark accepted at the start of a file; a
  byte that is not UTF-8 raises `NotUtf8Error` naming its line and column.
- `check_text`: a decoded value (a string, or a JSON record of them) must be valid Unicode: a
  lone UTF-16 surrogate raises `InvalidTextError` naming the field and the character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotUtf8Error(ValueError):
    """Bytes that are not UTF-8; `line` (1-based) and `detail` say where, for a `DataError`."""

    def __init__(self, line: int, detail: str):
        self.line, self.detail = line, detail
        super().__init__(f"line {line}: not UTF-8 ({detail})")


class InvalidTextError(ValueError):
    """A string that is not valid Unicode; `field` names where it was found (`text`,
    `messages.0.content`), `reason` says what is wrong and how to fix it."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}" if field else reason)


def decode_utf8(data: bytes, first_line: int = 1) -> str:
    """`data` decoded as UTF-8; `first_line` is the line number `data` starts on (1: the start
    of a file, where a byte-order mark is dropped, as some editors and Excel write one).

    Why UTF-8 only: every file we write is UTF-8, and a byte that is not UTF-8 has no single
    right reading (Latin-1 and cp1252 disagree), so guessing could silently change the text a
    model judges. The error names the line and the column of the first bad byte, counted in
    the whole of `data`, so that the user can find it in an editor."""
    body = data[len(_BOM) :] if first_line == 1 and data.startswith(_BOM) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        line_start = body.rfind(b"\n", 0, err.start) + 1
        line = first_line + body.count(b"\n", 0, err.start)
        column = len(body[line_start : err.start].decode("utf-8")) + 1  # in characters, as an editor counts
        byte = body[err.start : err.start + 1].hex()
        raise NotUtf8Error(line, f"byte 0x{byte} at column {column}: {err.reason}; save the file as UTF-8") from None


def check_text(value: Any, field: str = "") -> None:
    """Raise `InvalidTextError` if `value` holds a lone UTF-16 surrogate (U+D800..U+DFFF) in
    any string, searched through dicts (keys too) and lists; `field` names `value` in the error
    and nested fields are named by their path (`messages.0.content`).

    The policy, for every entry point: text with a lone surrogate is refused where it enters,
    naming the field (a dataset row becomes a bad row with its file and line, the command line
    stops with the text's position, the server answers 400 naming the body field), never
    replaced by U+FFFD. Such a character is half of a character, an emoji cut in two when text
    was truncated as UTF-16 (a JSON `\\ud83d` escape) or a byte that was not UTF-8 on the command
    line; it cannot be written as UTF-8, so JSONL writers, cache keys, tokenizers and JSON
    responses would each fail on it later. Replacing it would change, unseen, the text the model
    judges and the quotes its explanation is checked against, and the audit record would not
    show the user's text; refusing it once at the boundary costs one fix to the data and leaves
    nothing downstream to guard."""
    if isinstance(value, str):
        if value.isascii():  # the common case costs one C-level scan
            return
        found = _SURROGATE.search(value)
        if found is not None:
            raise InvalidTextError(field, _surrogate_reason(value, found.start()))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{field}.{key}" if field else str(key)
            check_text(key, name)
            check_text(item, name)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_text(item, f"{field}.{index}" if field else str(index))


def _surrogate_reason(text: str, position: int) -> str:
    code = ord(text[position])
    before = text[max(0, position - 20) : position]
    return (
        f"character {position + 1} (after {before!r}) is U+{code:04X}, a lone UTF-16 surrogate: half of a "
        "character (an emoji cut in two, or a byte that is not UTF-8), not valid Unicode; remove it or save the "
        "text as UTF-8"
    )


def is_blank(text: str | None) -> bool:
    """No text at all, or only whitespace and invisible format characters (zero-width spaces and joiners, a
    byte-order mark): nothing for a model to judge."""
    return text is None or all(char.isspace() or unicodedata.category(char) == "Cf" for char in text)


__all__ = ["InvalidTextError", "NotUtf8Error", "check_text", "decode_utf8", "is_blank"]
