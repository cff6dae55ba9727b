"""What `emoreason analyze` hands a model: samples from texts, a file or the built-in examples,
and cue text for the media that the model's family cannot take.

The rules live here rather than in the commands so they can be tested without typer: a media
file goes with a single text; an empty text (or only whitespace) is refused, since a model
asked about nothing still answers something; text follows `emoreason.data.text`'s policy
(UTF-8, no lone surrogates) wherever it comes from; a file needs id and text, not labels; an
unreadable media file stops the run, naming the file, as it would for a model that reads media
itself (`inputs_for_family` wraps `emoreason.cues.prompting.cue_inputs` with that rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from emoreason.cues.prompting import MEDIA
from emoreason.data.schema import Sample
from emoreason.data.text import NotUtf8Error, check_text, decode_utf8, is_blank


def samples_from_file(path: Path, warn: Callable[[str], None] | None = None) -> list[Sample]:
    """Every row of a JSONL or CSV file with the generic fields (id, text, audio, video, image);
    score and label are optional (`?targets=optional`): analyze needs no gold. Rows that cannot
    be read are skipped and reported through `warn` (file, line and why), as `data inspect` does."""
    from emoreason.data import load_dataset
    from emoreason.data.spec import DatasetSpec

    kind = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    # a DatasetSpec, not a spec string: a file name may hold `?` or `&`
    dataset = load_dataset(DatasetSpec(kind, str(path), {"targets": "optional"}))
    if warn is not None and dataset.report.bad_rows:
        warn(dataset.report.summary())
    return dataset.split("all")


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


def samples_from_texts(texts: Sequence[str], media: Mapping[str, Path | None]) -> list[Sample]:
    """One sample per text; `media` ({"audio": path, ...}) attaches files to a single text.
    Raises `ValueError` for media with several texts, a media file that does not exist, an empty
    text without media, and text that is not valid Unicode (naming the text by its position)."""
    given = {name: path for name, path in media.items() if path is not None}
    if given and len(texts) > 1:
        raise ValueError("--audio/--video/--image go with a single text; use --input FILE.jsonl for several")
    for name, path in given.items():
        if not path.is_file():
            raise ValueError(f"{name} file not found: {path}")
    for number, text in enumerate(texts, start=1):
        which = "the text" if len(texts) == 1 else f"text {number}"
        check_text(text, which)
        if is_blank(text) and not given:
            raise ValueError(
                f"{which} is empty or only whitespace: there is nothing to analyse; give the text in quotes, "
                "or media with --audio/--video/--image"
            )
    files = {name: str(path) for name, path in given.items()}
    return [Sample(id=f"input{i + 1}", text=t, **files) for i, t in enumerate(texts)]


def given_samples(
    texts: Sequence[str] | None,
    input_file: Path | None,
    examples: bool,
    media: Mapping[str, Path | None],
    stdin: Iterable[str] | None,
    warn: Callable[[str], None] | None = None,
) -> list[Sample]:
    """What `analyze` was asked about, first match wins: a file, the examples, the texts (`-` stands
    for stdin), else one text per non-blank line of `stdin` (None when it is a terminal: nothing
    to read). `warn` hears of rows of a file that had to be skipped."""
    if input_file is not None:
        if input_file.is_dir():
            raise ValueError(f"--input {input_file} is a directory; give a JSONL or CSV file")
        return samples_from_file(input_file, warn)
    if examples:
        return example_samples()
    given = [t for t in (texts or []) if t != "-"]
    if not given:
        if stdin is None:
            raise ValueError("give a text, --input FILE, --examples, or pipe text on stdin (see --help)")
        given = [line.strip() for line in stdin if line.strip()]
        if not given:
            raise ValueError("stdin held no text (only empty lines): nothing to analyse")
    return samples_from_texts(given, media)


def has_media(samples: Sequence[Sample]) -> bool:
    return any(getattr(s, m) for s in samples for m in MEDIA)


@dataclass(frozen=True)
class ModelInputs:
    samples: list[Sample]  # as the model takes them: media it cannot read detached
    cue_text: dict[str, str | None]  # by sample id
    warnings: list[str] = field(default_factory=list)  # clips measured without voice cues


def inputs_for_family(
    samples: Sequence[Sample],
    family: Any,
    mode: str,
    reference_file: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ModelInputs:
    """The samples with cue text for `family` (`analyze --cues auto|on|off`), measured against the
    references in `reference_file` when given. Raises `ValueError` for a bad mode or reference
    file, and for unreadable media, naming each file."""
    from emoreason.cues import load_references
    from emoreason.cues.prompting import cue_inputs

    references = load_references(reference_file) if reference_file is not None else None
    detached, texts, report = cue_inputs(samples, family.modalities, mode, references=references, progress=progress)
    if report is not None and report.unreadable:
        takes = ", ".join(sorted(family.modalities)) or "text only"
        raise ValueError(
            f"the {family.name} family takes {takes}, so media are measured and given as cue text "
            f"(--cues {mode}); " + "; ".join(report.unreadable)
        )
    warnings = [f"no voice cues from {problem}" for problem in (report.no_sound if report else [])]
    return ModelInputs(detached, texts, warnings)


__all__ = [
    "ModelInputs",
    "example_samples",
    "given_samples",
    "has_media",
    "inputs_for_family",
    "samples_from_file",
    "samples_from_texts",
    "stdin_lines",
]
