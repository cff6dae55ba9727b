"""Errors and bad-row accounting shared by every dataset adapter.

A bad row is never dropped silently: it is recorded with its file, line and field, counted,
and (with `strict`) raised as a `DataError` at the first occurrence. Reading JSONL files
(strictly, tolerantly, appending) lives in `emoreason.data.jsonl`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


class DataError(ValueError):
    """A problem with user data, phrased so that the user can find and fix it."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        self.file, self.line, self.field = file, line, field
        where = ""
        if file is not None:
            where = f"{file}"
            if line is not None:
                where += f":{line}"
            if field is not None:
                where += f" (field {field!r})"
            where += ": "
        super().__init__(where + message)
        self.reason = message


@dataclass(frozen=True, slots=True)
class BadRow:
    file: str
    line: int | None
    field: str | None
    reason: str  # a short category: "missing text", "unparsable score", ...
    detail: str = ""

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        what = f" field {self.field!r}" if self.field else ""
        extra = f" ({self.detail})" if self.detail else ""
        return f"{where}:{what} {self.reason}{extra}"


@dataclass
class LoadReport:
    """What happened while loading: rows read, kept, and every bad row."""

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    missing_media: list[str] = field(default_factory=list)  # ids whose media file is absent
    missing_media_kinds: Counter[str] = field(default_factory=Counter)  # how many of them per kind (audio, ...)
    warnings: list[str] = field(default_factory=list)
    # rows kept without a value that could not be read (an unparsable score where targets are optional)
    values_dropped: list[BadRow] = field(default_factory=list)

    def bad(self, row: BadRow, strict: bool) -> None:
        if strict:
            raise DataError(
                f"{row.reason}{' (' + row.detail + ')' if row.detail else ''}; "
                "fix the row or load without strict to skip and count bad rows",
                file=row.file,
                line=row.line,
                field=row.field,
            )
        self.bad_rows.append(row)

    @property
    def bad_by_reason(self) -> dict[str, int]:
        return dict(Counter(r.reason for r in self.bad_rows))

    def notices(self) -> list[str]:
        """What a run on this data should say it was measured on: the load's warnings (an inferred scale,
        scores outside the scale, ...) and, where rows were skipped or values dropped, `summary`'s count."""
        return [*self.warnings, *([self.summary()] if self.bad_rows or self.values_dropped else [])]

    def summary(self, max_examples: int = 3) -> str:
        parts = [f"{self.source}: {self.rows_kept} of {self.rows_read} rows kept"]
        if self.bad_rows:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.bad_by_reason.items()))
            parts.append(
                f"skipped {len(self.bad_rows)} bad rows ({reasons}); first: "
                + "; ".join(str(r) for r in self.bad_rows[:max_examples])
            )
        if self.values_dropped:
            parts.append(
                f"{len(self.values_dropped)} rows kept without a value that could not be read; first: "
                + "; ".join(str(r) for r in self.values_dropped[:max_examples])
            )
        if self.missing_media:
            parts.append(
                f"{len(self.missing_media)} samples with missing media, first ids: "
                + ", ".join(self.missing_media[:max_examples])
            )
        return ". ".join(parts)
