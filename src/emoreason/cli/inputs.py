"""What `emoreason analyze` hands a model: samples from texts, a file or the built-in examples,
and cue text for the media that the model's family cannot take.

The rules live here rather than in the commands so they can be tested without typer: a media
file goes with a single text; an empty text (or only whitespace) is refused, since a model
asked about nothing still answers something; text follows `emoreason.data.text`'s policy
(UTF-8, no lone surrogates) wherever it comes from; a file needs id and text, not labels; an
unreadable media file stops the run, naming the file, as it would for a model that reads media
itself (`inputs_for_family` wraps `emoreason.cues.prompting.cue_inputs` with that rule).

The rules that are not about the shell (`samples_from_texts`, `inputs_for_family`) live in
`emoreason.api`, which `Explainer` shares; they are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from emoreason.api import samples_from_texts
from emoreason.data.adapters._rows import TABLE_DELIMITERS
from emoreason.data.schema import Sample, TaskInfo
from emoreason.data.text import NotUtf8Error, decode_utf8, is_blank


@dataclass(frozen=True, slots=True)
class Given:
    """What `analyze` was asked about: the samples, and the task its `--input` names (None: the
    adapter's task, or no file)."""

    samples: list[Sample]
    task: TaskInfo | None = None


#: a file with one of these suffixes holds plain text, one input per line (`read_text_lines`)
TEXT_SUFFIXES = (".txt", ".text")


def read_text_lines(path: Path) -> Given:
    """One sample per non-blank line of a plain text file, as the lines piped to stdin are read (text with
    surrounding whitespace stripped), each named by its line number (`line3`) so that an answer leads back
    to its line. Raises `ValueError` naming the file for bytes that are not UTF-8 (with the line and column,
    `decode_utf8`; a strict decode leaves no lone surrogate to check) and for a file with no text at all."""
    try:
        text = decode_utf8(path.read_bytes())
    except NotUtf8Error as err:
        raise ValueError(f"{path}: {err}") from None
    samples = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not is_blank(line):
            samples.append(Sample(id=f"line{number}", text=line.strip()))
    if not samples:
        raise ValueError(f"{path} holds no text (only empty lines): nothing to analyse")
    return Given(samples)


def read_input(path: Path, warn: Callable[[str], None] | None = None) -> Given:
    """Every row of a JSONL or CSV file with the generic fields (id, text, audio, video, image), read
    once; score and label are optional (`?targets=optional`): analyze needs no gold. Rows that cannot be
    read are skipped and reported through `warn` (file, line and why), as `data inspect` does. A `.tsv`
    file is read as CSV with tabs, a `.txt` file as one text per line (`read_text_lines`).

    A `path` that is no file but a dataset spec (`jsonl:FILE?text=sentence`, `vader:tweets`) is read as
    one, so a file whose fields have other names needs no rewriting (scores stay optional). The task
    is the spec's when it names one: a named dataset's own (`vader:tweets`), or a file's with `?scale=`
    or `?labels=` (`jsonl:F?scale=1,7`, which analyze once answered on the adapter's -4..4); None for a
    plain file (the adapter's task stands)."""
    from emoreason.data import ADAPTERS, load_dataset
    from emoreason.data import adapters as _registered  # noqa: F401  (fills ADAPTERS)
    from emoreason.data.spec import DatasetSpec, parse_spec

    if path.suffix.lower() in TEXT_SUFFIXES and path.is_file():
        return read_text_lines(path)
    delimiter = TABLE_DELIMITERS.get(path.suffix.lower())
    kind = "jsonl" if delimiter is None else "csv"
    # a DatasetSpec, not a spec string: a file name may hold `?` or `&`
    spec = DatasetSpec(kind, str(path), {"targets": "optional"} | ({"delimiter": delimiter} if delimiter else {}))
    names_task = False
    if not path.exists() and ":" in str(path) and str(path).split(":", 1)[0] in ADAPTERS:
        given = parse_spec(str(path))
        optional = {"targets": "optional"} if "targets" in ADAPTERS[given.kind].options else {}
        spec = DatasetSpec(given.kind, given.target, optional | given.options)
        names_task = given.kind not in ("jsonl", "csv") or bool({"scale", "labels"} & set(given.options))
    dataset = load_dataset(spec)
    # named as given: the `?targets=optional` added above is this command's, not the user's
    dataset.report.source = str(path)
    if warn is not None and (dataset.report.bad_rows or dataset.report.values_dropped):
        warn(dataset.report.summary())
    return Given(dataset.split("all"), dataset.task if names_task else None)


def read_as_hint(path: Path) -> str:
    """For an error about a file no row of which could be read: that `read_input` took it for JSONL for want of a
    suffix naming another kind, and the suffixes it knows; empty for a known suffix, or a path that is no file."""
    if path.suffix.lower() in (".jsonl", ".json", *TABLE_DELIMITERS, *TEXT_SUFFIXES) or not path.is_file():
        return ""
    return (
        f"; it was read as JSONL (its suffix {path.suffix or '(none)'!r} names no other kind): --input "
        "takes .jsonl, .csv, .tsv, or .txt (one text per line), or a spec such as csv:FILE?delimiter=;"
    )


def stdin_lines(stream: TextIO) -> Iterator[str]:
    """The lines of `stream` (stdin), decoded by the one text policy (`decode_utf8`); read only
    when iterated, so a command that does not need stdin never waits on it."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # already text (a StringIO in a test)
        yield from stream.read().split("\n")
        return
    try:
        text = decode_utf8(buffer.read())
    except NotUtf8Error as err:
        raise ValueError(f"stdin, {err}") from None
    yield from text.split("\n")


def example_samples() -> list[Sample]:
    from emoreason.inference import EXAMPLE_SENTENCES

    return [Sample(id=f"example{i + 1}", text=t) for i, t in enumerate(EXAMPLE_SENTENCES)]


def given_input(
    texts: Sequence[str] | None,
    input_file: Path | None,
    examples: bool,
    media: Mapping[str, Path | None],
    stdin: Iterable[str] | None,
    warn: Callable[[str], None] | None = None,
) -> Given:
    """What `analyze` was asked about: a file, the examples, or the texts (`-` stands for the lines of
    stdin), media alone (one sample without text), else one text per non-blank line of `stdin` (None when
    it is a terminal: nothing to read). A file or the examples with anything else is refused (one of them
    was silently dropped). `warn` hears of rows of a file that had to be skipped; a file's task is the one
    its spec names (`read_input`)."""
    texts = list(texts or [])
    has_media = any(media.values())
    others = [name for name, on in (("TEXT", bool(texts)), ("--audio/--video/--image", has_media)) if on]
    if input_file is not None:
        if examples or others:
            also = ["--examples"] * examples + others
            raise ValueError(
                f"--input {input_file} gives the samples (their media in its rows); leave out {' and '.join(also)}"
            )
        if input_file.is_dir():
            raise ValueError(f"--input {input_file} is a directory; give a JSONL, CSV or .txt file")
        return read_input(input_file, warn)
    if examples:
        if others:
            raise ValueError(f"--examples analyses the built-in sentences; leave out {' and '.join(others)}")
        return Given(example_samples())
    if texts.count("-") > 1:
        raise ValueError("'-' reads stdin once; give it once")
    if "-" in texts or not texts and not has_media:
        if stdin is None:
            said = "'-' reads stdin, and nothing is piped to it" if "-" in texts else "give a text"
            raise ValueError(f"{said}, --input FILE, --examples, or pipe text on stdin (see --help)")
        piped = [line.strip() for line in stdin if line.strip()]
        if not piped:
            raise ValueError("stdin held no text (only empty lines): nothing to analyse")
        texts = [line for t in texts for line in (piped if t == "-" else [t])] if texts else piped
    # no text: a clip alone, its words unknown, its cues measured
    return Given(samples_from_texts(texts or [""], media))


__all__ = [
    "TEXT_SUFFIXES",
    "Given",
    "example_samples",
    "given_input",
    "read_as_hint",
    "read_input",
    "read_text_lines",
    "stdin_lines",
]
