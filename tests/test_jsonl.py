"""`emoreason.data.jsonl`: the strict reader's messages, the tolerant keyed reader, the append-only
log's repair of a torn tail, and the atomic rewrite."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from emoreason.data.errors import DataError
from emoreason.data.jsonl import (
    AppendOnlyJsonl,
    iter_jsonl_lines,
    read_jsonl_keyed,
    read_jsonl_strict,
    repair_torn_tail,
    rewrite_jsonl,
    write_jsonl,
)


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


# -- strict reader ------------------------------------------------------------------------------


def test_strict_reader_yields_line_numbers_and_skips_blank_lines(tmp_path: Path) -> None:
    file = tmp_path / "d.jsonl"
    file.write_text('{"id": 1}\n\n   \n{"id": 2}\r\n{"id": 3}', encoding="utf-8")  # CRLF and no final newline
    assert list(read_jsonl_strict(file, required=("id",))) == [(1, {"id": 1}), (4, {"id": 2}), (5, {"id": 3})]


@pytest.mark.parametrize(
    ("line", "message", "field"),
    [
        ("{not json", "not valid JSON", None),  # the whole line is at fault: no field named
        ('["a", "list"]', "not a JSON object (got list)", None),
        ('{"text": "no id"}', "missing required field 'id'", "id"),
    ],
)
def test_strict_reader_names_file_line_and_field(tmp_path: Path, line: str, message: str, field: str | None) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_text('{"id": 1}\n' + line + "\n" + '{"id": 3}\n', encoding="utf-8")
    with pytest.raises(DataError) as err:
        list(read_jsonl_strict(file, required=("id",), hint="write one object with an `id` per line"))
    named = f" (field {field!r})" if field else ""
    assert str(err.value).startswith(f"{file}:2{named}: {message}")
    assert err.value.line == 2 and err.value.field == field and err.value.file == str(file)
    assert "write one object with an `id` per line" in str(err.value)


def test_strict_reader_reports_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "latin1.jsonl"
    file.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r"latin1.jsonl:2: not UTF-8 \(byte 0xe9 at column 14"):
        list(read_jsonl_strict(file))


def test_lines_split_only_on_newline_not_on_unicode_separators(tmp_path: Path) -> None:
    # json.dumps(ensure_ascii=False) leaves U+2028 and U+0085 raw; str.splitlines would cut the record there
    record = {"text": "one\u2028two\x85three"}
    file = tmp_path / "u.jsonl"
    file.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [line.record for line in iter_jsonl_lines(file)] == [record]


# -- tolerant keyed reader ----------------------------------------------------------------------


def test_keyed_reader_skips_and_counts_unreadable_lines(tmp_path: Path) -> None:
    file = tmp_path / "log.jsonl"
    file.write_bytes(
        b'{"id": 1, "v": "a"}\n'
        b'{"id": 2, "v"\n'  # line 2: torn mid-record
        b'{"v": "no id"}\n'  # line 3: no key
        b'{"id": 1, "v": "newer"}\n'  # line 4: the same key again: the newest wins
        b"7\n"  # line 5: not an object
        b'{"id": 3, "v": "caf\xc3'
    )  # line 6: torn inside a multi-byte character
    read = read_jsonl_keyed(file, "id")
    assert read.records == {"1": {"id": 1, "v": "newer"}}
    assert read.skipped_lines == (2, 3, 5, 6) and read.skipped == 4


def test_keyed_reader_accepts_a_key_function_and_a_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "k.jsonl"
    write_jsonl(file, [{"a": 1, "b": 2}, {"a": 1, "b": 3}])
    read = read_jsonl_keyed(file, lambda record: f"{record['a']}/{record['b']}")
    assert set(read.records) == {"1/2", "1/3"} and read.skipped == 0
    missing = read_jsonl_keyed(tmp_path / "nothing.jsonl", "a")
    assert missing.records == {} and missing.skipped == 0


# -- append-only log ----------------------------------------------------------------------------


def test_append_only_log_drops_a_torn_tail_before_appending(tmp_path: Path) -> None:
    file = tmp_path / "cache.jsonl"
    file.write_text('{"key": "a"}\n{"key": "b", "te', encoding="utf-8")  # killed mid-write of "b"
    log = AppendOnlyJsonl(file)
    log.append({"key": "c"})
    log.extend([{"key": "d"}, {"key": "e"}])
    assert lines_of(file) == ['{"key": "a"}', '{"key": "c"}', '{"key": "d"}', '{"key": "e"}', ""]
    read = read_jsonl_keyed(file, "key")
    assert sorted(read.records) == ["a", "c", "d", "e"] and read.skipped == 0


def test_append_only_log_keeps_a_complete_record_that_lost_only_its_newline(tmp_path: Path) -> None:
    file = tmp_path / "metrics.jsonl"
    file.write_text('{"step": 1}\n{"step": 2}', encoding="utf-8")
    AppendOnlyJsonl(file).append({"step": 3})
    assert lines_of(file) == ['{"step": 1}', '{"step": 2}', '{"step": 3}', ""]


def test_append_only_log_repairs_a_torn_first_line_and_creates_missing_files(tmp_path: Path) -> None:
    torn = tmp_path / "torn.jsonl"
    torn.write_text('{"id": "x", "completion": "half', encoding="utf-8")
    AppendOnlyJsonl(torn).append({"id": "y"})
    assert lines_of(torn) == ['{"id": "y"}', ""]
    fresh = tmp_path / "new" / "dir" / "log.jsonl"
    AppendOnlyJsonl(fresh).append({"id": "z"})
    assert lines_of(fresh) == ['{"id": "z"}', ""]


def test_repair_finds_the_last_line_of_a_file_longer_than_one_read_block(tmp_path: Path) -> None:
    file = tmp_path / "big.jsonl"
    long_record = json.dumps({"text": "x" * 200_000})
    file.write_text(long_record + "\n" + '{"text": "' + "y" * 150_000, encoding="utf-8")
    dropped = repair_torn_tail(file)
    assert dropped == len('{"text": "') + 150_000
    assert file.read_text(encoding="utf-8") == long_record + "\n"
    assert repair_torn_tail(file) == 0 and file.read_text(encoding="utf-8") == long_record + "\n"


# -- atomic rewrite ---------------------------------------------------------------------------


def test_rewrite_keeps_records_the_predicate_accepts_and_drops_torn_lines(tmp_path: Path) -> None:
    file = tmp_path / "metrics.jsonl"
    file.write_text(
        '{"step": 1, "loss": 0.50}\n{"step": 2, "loss": 0.4}\n{"step": 3, "loss": 0.3}\n{"step": 4, "lo',
        encoding="utf-8",
    )
    os.chmod(file, 0o640)
    dropped = rewrite_jsonl(file, lambda record: record["step"] <= 2)
    assert dropped == 2  # step 3, and the torn step-4 line
    assert lines_of(file) == ['{"step": 1, "loss": 0.50}', '{"step": 2, "loss": 0.4}', ""]  # bytes kept as written
    assert file.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.jsonl"]  # no temporary file left behind


def test_rewrite_leaves_the_old_file_when_the_predicate_fails(tmp_path: Path) -> None:
    file = tmp_path / "metrics.jsonl"
    file.write_text('{"step": 1}\n{"loss": 0.3}\n', encoding="utf-8")
    before = file.read_bytes()
    with pytest.raises(KeyError):
        rewrite_jsonl(file, lambda record: record["step"] <= 1)
    assert file.read_bytes() == before
    assert rewrite_jsonl(tmp_path / "missing.jsonl", lambda record: True) == 0
    assert not (tmp_path / "missing.jsonl").exists()


def test_write_jsonl_replaces_the_whole_file(tmp_path: Path) -> None:
    file = tmp_path / "sft.jsonl"
    file.write_text("old content that is not JSON\n" * 3, encoding="utf-8")
    assert write_jsonl(file, [{"id": "é"}, {"id": 2}]) == 2
    assert lines_of(file) == ['{"id": "é"}', '{"id": 2}', ""]
    assert list(read_jsonl_strict(file)) == [(1, {"id": "é"}), (2, {"id": 2})]
