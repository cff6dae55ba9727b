"""Shared text helpers for the reasoning formats: tag scanning, numbers, polarity words, and
the few prompt sentences every format words the same way.

Model output is adversarial by accident: truncated, repeated, upper-cased, or 100 kB of
garbage from a diverging rollout. Everything here therefore runs in linear time (one
`finditer` pass with possessive quantifiers, then a walk over the tag tokens) and nothing here
raises on text; malformed parts become `ParseError` entries.

Tag rules (all formats, documented once here):

* Tags match case-insensitively and may carry whitespace inside the brackets
  (`<POLARITY>`, `< /score >`). Content is stripped of surrounding whitespace.
* An element runs from its opening tag to the next closing tag of the same name; tags of
  other names inside it are plain content (the outer element wins), so a model quoting
  `<score>` inside its `<think>` does not create a score.
* An opening tag of the same name inside an open element is recorded as an error
  ("nested"); the element still ends at the first closing tag.
* The same element appearing again at top level is recorded as an error ("repeated") and
  the first occurrence is used. Repeats fail `ok`: a completion that says two polarities
  has not followed the format, even though the first one is still reported for metrics.
* An element that is never closed is accepted without error only when it is the last tag
  in the text (the model ended without closing it); a partially written closing tag at the very
  end (`</sco`) is dropped from its content. With `cut` (the generation stopped at its token
  limit, not at its end) such an element is not accepted: its content may be cut mid-way
  (`<score>1.` for 1.9), so it counts as missing, with the error "cut off at the token limit"; content
  followed by whitespace or by a partly written closing tag (`<score>-1.4</score`) ended, and stands.
  An unclosed element followed by another tag ends at that tag and is recorded as "missing </name>".
* Stray closing tags and text outside the elements are ignored.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypeVar

from emoreason.data.schema import POLARITIES, Polarity, Sample, TaskInfo, normalize_label
from emoreason.formats.base import CUT_OFF, ParseError, ParseResult

# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------

# Minus and plus signs models actually emit: ASCII, U+2212 (typographic minus), and the
# full-width / small forms common in Chinese output (CH-SIMS is Chinese).
_MINUS_SIGNS = "-\u2212\uff0d\ufe63"
_PLUS_SIGNS = "+\uff0b"
_NUMBER_RE = re.compile(rf"([{re.escape(_MINUS_SIGNS + _PLUS_SIGNS)}]?)([0-9]++(?:\.[0-9]*+)?|\.[0-9]++)")


def parse_number(text: str) -> float | None:
    """Read one plain decimal number, or return None.

    Accepted: an optional sign (`+`, `-`, U+2212 and full-width forms), digits with an
    optional decimal point (`1`, `-0.50`, `1.`, `.5`), surrounded by whitespace.
    Rejected on purpose: fractions (`3/3` is ambiguous: one on a 0..1 scale or three on
    -3..3?), exponents, thousands separators, decimal commas, `inf`/`nan` (also a digit string
    too long for a float), and any other text (`-1.4 (slightly negative)`). A score the
    model did not write as a plain number is a format failure, not something to guess at.

    Exponents (`-1e0`) are refused in every format alike, since no format's grammar has them:
    the targets a model is trained on are written by `format_number`, which never writes one,
    so `-1e0` in an answer means the model left the format. (Scores in data and prediction
    files are JSON or CSV numbers, not answers; `-1e0` there is -1.0.)
    """
    if not isinstance(text, str):
        return None
    match = _NUMBER_RE.fullmatch(text.strip())
    if match is None:
        return None
    sign, digits = match.groups()
    value = float(digits)
    if value == float("inf"):  # hundreds of digits: not a score anyone meant
        return None
    return -value if sign and sign in _MINUS_SIGNS else value


def format_number(value: float, decimals: int = 2) -> str:
    """A compact decimal for gold targets: `-1.4`, `0.25`, `2`, never `-0` or `1e-05`.

    Gold scores are rounded to `decimals` places: the model only has to learn a short number,
    and 0.005 is far below any MAE a sentiment model reaches.
    """
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"cannot format non-finite score {value!r}")
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --------------------------------------------------------------------------------------
# Polarity words and labels
# --------------------------------------------------------------------------------------

_POLARITY_WORDS: dict[str, Polarity] = {
    "positive": "positive",
    "pos": "positive",
    "+": "positive",
    "积极": "positive",
    "正面": "positive",
    "正向": "positive",
    "negative": "negative",
    "neg": "negative",
    "-": "negative",
    "消极": "negative",
    "负面": "negative",
    "负向": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "neut": "neutral",
    "中性": "neutral",
}
# Decoration models put around a single word: quotes, markdown emphasis, end punctuation.
_DECORATION = " \t\r\n.,;:!?*_\"'`()[]。，；：！？“”‘’「」"


def parse_polarity(text: str) -> Polarity | None:
    """Map a polarity tag's content to a polarity: `Positive.`, `NEG`, `**neutral**`, 积极.

    The whole content must be one polarity word (after dropping decoration); hedges such as
    `weakly negative` or `mixed` are not guessed at.
    """
    return _POLARITY_WORDS.get(text.strip(_DECORATION).lower())


_LATEX_WRAPPER_RE = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|emph)\s*+\{(.*)\}", re.DOTALL)


def clean_label(text: str) -> str:
    r"""A label as the product compares labels: `\text{Fear}.` -> `fear`.

    Drops one LaTeX text wrapper and surrounding quotes, emphasis and end punctuation, then
    applies `normalize_label` (case and whitespace).
    """
    text = text.strip(_DECORATION)
    wrapped = _LATEX_WRAPPER_RE.fullmatch(text)
    if wrapped is not None:
        text = wrapped.group(1).strip(_DECORATION)
    return normalize_label(text)


_POLARITY_MENTION_RE = re.compile(r"\b(positive|negative|neutral)\b", re.IGNORECASE)


def polarity_mentioned(text: str) -> Polarity | None:
    """The single polarity word a free-text passage names, or None when it names none or
    several ("not negative but positive" is ambiguous; we do not parse negation)."""
    found = {m.group(1).lower() for m in _POLARITY_MENTION_RE.finditer(text)}
    if len(found) != 1:
        return None
    return _POLARITY_WORDS.get(found.pop())


def label_set(task: TaskInfo | None) -> frozenset[str]:
    """The task's labels in normalized form (empty when the task has none)."""
    if task is None:
        return frozenset()
    return frozenset(normalize_label(label) for label in task.labels)


def label_polarity(task: TaskInfo | None, label: str) -> Polarity | None:
    """A normalized label's polarity from the task's map (keys compared normalized too)."""
    if task is None or not task.label_polarity:
        return None
    for key, polarity in task.label_polarity.items():
        if normalize_label(key) == label:
            return polarity
    return None


# --------------------------------------------------------------------------------------
# Tag scanning
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Element:
    """One tagged part of a completion. Offsets index the scanned text."""

    name: str
    content: str  # stripped of surrounding whitespace
    start: int  # the opening tag's "<"
    content_start: int
    end: int  # just past the closing tag, or where an unclosed element stops
    closed: bool


@dataclass(frozen=True, slots=True)
class Scan:
    elements: dict[str, Element]
    errors: tuple[ParseError, ...]


@functools.lru_cache(maxsize=32)
def tag_regex(names: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for the opening and closing tags of `names`.

    Possessive quantifiers (`\\s*+`) cannot backtrack, so a `<` followed by 100 kB of spaces
    costs one linear pass, not a quadratic one. ASCII mode keeps Unicode case folding from
    turning look-alike letters into tag names.
    """
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"<\s*+(/\s*+)?({alternatives})\s*+>", re.IGNORECASE | re.ASCII)


def contains_tag(text: str, names: tuple[str, ...]) -> bool:
    """Whether `text` holds any opening or closing tag of `names` (gold text must not)."""
    return tag_regex(names).search(text) is not None


def _strip_partial_close(content: str, name: str) -> str:
    """Drop a closing tag cut off by truncation (`... -1.4</sco`) from the end of content."""
    cut = content.rfind("<")
    if cut < 0:
        return content
    tail = "".join(content[cut:].split()).lower()
    return content[:cut] if f"</{name}>".startswith(tail) else content


def _next_after(indices: list[int], i: int) -> int | None:
    """The first token index in the sorted list that comes after token i."""
    pos = bisect_right(indices, i)
    return indices[pos] if pos < len(indices) else None


def scan_tags(text: str, names: tuple[str, ...], cut: bool = False) -> Scan:
    """Find the elements named `names` in `text` following the module's tag rules; `cut`: the text
    stopped at the token limit, so an element left open at its end is cut, not accepted."""
    tokens = [(m.start(), m.end(), m.group(1) is not None, m.group(2).lower()) for m in tag_regex(names).finditer(text)]
    opens_all: list[int] = []
    opens: dict[str, list[int]] = {n: [] for n in names}
    closes: dict[str, list[int]] = {n: [] for n in names}
    for idx, (_, _, is_close, name) in enumerate(tokens):
        (closes if is_close else opens)[name].append(idx)
        if not is_close:
            opens_all.append(idx)

    elements: dict[str, Element] = {}
    errors: list[ParseError] = []
    reported: set[tuple[str, str]] = set()

    def report(part: str, message: str) -> None:
        # One entry per kind of problem and part: 5,000 repeats are one error, not 5,000.
        if (part, message) not in reported:
            reported.add((part, message))
            errors.append(ParseError(part, message))

    i = 0
    while i < len(tokens):
        start, tag_end, is_close, name = tokens[i]
        if is_close:
            i += 1
            continue
        close = _next_after(closes[name], i)
        if close is not None:
            inner_open = _next_after(opens[name], i)
            if inner_open is not None and inner_open < close:
                report(name, f"nested <{name}> inside <{name}>")
            raw, end, closed, next_i = text[tag_end : tokens[close][0]], tokens[close][1], True, close + 1
        else:
            following = _next_after(opens_all, i)
            rest = text[tag_end:] if following is None else ""
            if following is None and cut and _strip_partial_close(rest, name) == rest == rest.rstrip():
                # the token limit stopped inside the content itself (no space, no `</sco` after it): it may be
                # cut short, `<score>1.` for 1.9
                report(name, CUT_OFF)
                i = len(tokens)
                continue
            if following is None:  # the model ended without closing it, or began to: accepted as is
                raw, end, closed, next_i = _strip_partial_close(rest, name), len(text), False, len(tokens)
            else:
                report(name, f"missing </{name}>")
                raw, end, closed = text[tag_end : tokens[following][0]], tokens[following][0], False
                next_i = following
        if name in elements:
            report(name, "repeated; the first occurrence is used")
        else:
            elements[name] = Element(name, raw.strip(), start, tag_end, end, closed)
        i = next_i
    return Scan(elements, tuple(errors))


def order_error(elements: Mapping[str, Element], order: Sequence[str]) -> ParseError | None:
    """A structure error when the present parts are not in the format's order."""
    starts = [elements[name].start for name in order if name in elements]
    if any(a > b for a, b in pairwise(starts)):
        return ParseError("structure", f"parts out of order; expected {', '.join(order)}")
    return None


def snippet(text: str, limit: int = 40) -> str:
    """A short quote of offending content for an error message (never 100 kB of it)."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def score_errors(score: float, task: TaskInfo | None, part: str) -> list[ParseError]:
    """The out-of-scale error for a parsed score (empty when in scale or no scale known)."""
    if task is None or task.scale is None or task.in_scale(score):
        return []
    low, high = task.scale
    return [ParseError(part, f"score {score:g} outside the scale [{low:g}, {high:g}]")]


# --------------------------------------------------------------------------------------
# Rendering gold reasoning
# --------------------------------------------------------------------------------------

_PART_HEADINGS = {
    "text": "Text",
    "audio": "Audio",
    "video": "Video",
    "image": "Image",
    "cues": "Cues",
    "combined": "Combined",
}


def render_parts(reasoning: Mapping[str, str] | str) -> str:
    """Reasoning as one block: a str as is, named parts as `Heading: text` paragraphs in the
    order given (e.g. text, audio, video, combined), so one think block reads per modality."""
    if isinstance(reasoning, str):
        return reasoning.strip()
    paragraphs = []
    for key, value in reasoning.items():
        heading = _PART_HEADINGS.get(key, key.replace("_", " ").capitalize())
        paragraphs.append(f"{heading}: {value.strip()}")
    return "\n\n".join(paragraphs)


def check_gold_text(text: str, names: tuple[str, ...], what: str) -> str:
    """Gold reasoning must be non-empty and free of the format's tags, or the rendered target
    would not parse back to itself; a bad teacher chain should fail loudly here."""
    text = text.strip()
    if not text:
        raise ValueError(f"{what} is empty")
    if contains_tag(text, names):
        raise ValueError(f"{what} contains one of the format's tags ({', '.join(names)})")
    return text


# --------------------------------------------------------------------------------------
# Prompt pieces shared by the formats
# --------------------------------------------------------------------------------------


def check_hint(hint: Polarity | None) -> None:
    if hint is not None and hint not in POLARITIES:
        raise ValueError(f"hint must be one of {', '.join(POLARITIES)}, got {hint!r}")


def hint_sentence(hint: Polarity) -> str:
    """Hint mode `prompt`: the gold polarity, said plainly (METHOD.md §1, step 3)."""
    return f"Hint: the overall polarity is {hint}."


def media_sentence(sample: Sample) -> str | None:
    """Which media come with the message (the model wrappers attach the files themselves)."""
    media = [m for m in sample.modalities if m != "text"]
    if not media:
        return None
    listed = media[0] if len(media) == 1 else ", ".join(media[:-1]) + " and " + media[-1]
    return f"Attached: the {listed}."


def cues_block(cues: str | None) -> str | None:
    """Measured cues given as text, for models that cannot take the media themselves."""
    if cues is None or not cues.strip():
        return None
    return "Measured cues (given as text):\n" + cues.strip()


def text_block(sample: Sample) -> str | None:
    return f"Text: {sample.text.strip()}" if sample.text and sample.text.strip() else None


def join_blocks(blocks: Iterable[str | None]) -> str:
    return "\n\n".join(b for b in blocks if b)


def scale_sentence(task: TaskInfo) -> str:
    """The task's scale and neutral band, as the prompt states them."""
    if task.scale is None:
        raise ValueError(f"task {task.name!r} has no score scale")
    low, high = task.scale
    band = task.neutral
    if band.low == band.high:
        neutral = f"only a score of exactly {band.low:g} counts as neutral"
    else:
        neutral = f"scores in {band.describe()} count as neutral"
    return (
        f"one number from {low:g} (most negative) to {high:g} (most positive); {neutral}, "
        "higher scores are positive and lower ones negative"
    )


# --------------------------------------------------------------------------------------
# The never-raise guarantee
# --------------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., ParseResult])


def never_raises(format_name: str) -> Callable[[F], F]:
    """Wrap a parse method so that a bug in it costs one failed parse, not a training run.

    The tests assert this safety net is never hit ("parser failure" never appears)."""

    def wrap(parse: F) -> F:
        @functools.wraps(parse)
        def safe(self: Any, text: Any, task: TaskInfo | None = None, cut: bool = False) -> ParseResult:
            if not isinstance(text, str):
                return ParseResult(format_name, False, errors=(ParseError("structure", "input is not a string"),))
            try:
                return parse(self, text, task, cut)
            except Exception as exc:  # the contract is "never raises"
                message = f"parser failure: {type(exc).__name__}: {exc}"
                return ParseResult(format_name, False, errors=(ParseError("structure", message),))

        return safe  # type: ignore[return-value]

    return wrap
