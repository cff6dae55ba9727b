"""The text side of grounded quoting (`generation.quotes`): what the chain rules read in the chain
written so far and in the input, as pure functions of text.

Where a quote may go on and close (`continuation_allowed`, `can_close_fresh`), how list items are counted
(`cue_key`, `occurrences`), where a cue list ends (`list_end`) and the next heading is written
(`heading_allowed`), the digits of an exclamation-mark count (`count_allowed`), a scripted text's progress
(`along`), the numbers the lexicon teacher writes (`item_number`, `negated_number`) and the sentences it
would write over a chain's own numbers (`chain_values`, `chain_balance`, `chain_rationale`,
`verdict_sign`). `GroundedQuotes` composes them step by step; the rules and why each exists are in its
module's doc.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache

from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.grounding import QUOTE_MARKS, joins_words
from emoreason.metrics.valence import (
    NEGATION_SCALAR,
    balance_lean,
    balance_sentence,
    capitalised_cues,
    cue_valence,
    lexicon_words,
    listed_cues,
    rationale_sentence,
    signed,
    vader_lexicon,
    vader_words,
)

FIRST_MARK = re.compile(f"[{QUOTE_MARKS}]")
# the chain is where an exclamation-mark count would go: after "Emphasis:", spaces and digits so far
COUNT_AT = re.compile(r"Emphasis:([ \t]*\d*)$")
_SPACES_DIGITS_REST = re.compile(r"([ \t]*)(\d*)(.*)", re.S)
# "Em" just written at a word start: SmolLM2 may go on to "Emphasis" with a token starting "phas"
JUST_EM = re.compile(r"(?<![A-Za-z])Em$")
# a quote mark that opens here heads an item of a cue list (`Positive cues: "`, `...; "`)
ITEM_AT = re.compile(r"(?:cues:|;)[ \t]*$")
# ... or right after a comma, inside a list being written: the teacher never quotes there (its commas go
# before `negated by` / `strengthened by`), a student that separates items with commas does
COMMA_ITEM_AT = re.compile(r",[ \t]*$")
# where the text part opens: a cue list, or the no-cue sentence ("No word in the sentence ...")
TEXT_AT = re.compile(r"(?<![A-Za-z])Text:[ \t]*$")
_EDGE_PUNCTUATION = re.compile(r"^\W+|\W+$")
# a list's heading just written, outside quotes: the list opens here
HEADING_END = re.compile(r"(?<![A-Za-z])(Positive|Negative) cues:$")
HEADINGS = {"positive": "Positive cues:", "negative": "Negative cues:"}
OTHER_LIST = {"positive": "negative", "negative": "positive"}
# a full stop right after a run of digits without a decimal point is one (the teacher writes "+1.7");
# anywhere else outside quotes it ends the sentence, and with it a cue list
_DECIMAL_AT = re.compile(r"(?<![\d.])\d+$")
_FRACTION_AT = re.compile(r"\.\d+$")
# where a negated item's number goes (`negated by "not" so it reads +1.8`), and the combined part's start
READS_AT = re.compile(r"(?<![A-Za-z])so it reads$")
COMBINED_AT = re.compile(r"(?<![A-Za-z])Combined:[ \t]*$")
# a quote that names a cue's modifier (`strengthened by "very"`, `negated by "not"`, a student's `boosted by`)
_ANY_BY = r"[A-Za-z]+ by[ \t]*"
_MODIFIER_AT = re.compile(r"(?<![A-Za-z])" + _ANY_BY + "$")
# a quote opening here names the modifier of the list item before it, the teacher's way (`"good" (+1.9),
# strengthened by "very"`) or a student's (`boosted by "too"`; `negated by` is the negation rules'); a
# modifier's quote just closed; the chain right after an item's number and a comma
_MODIFIER_BY = r"(?<![A-Za-z])(?!negated\b)" + _ANY_BY
MODIFIER_QUOTE_AT = re.compile(_MODIFIER_BY + "$")
MODIFIER_CLOSED = re.compile(f"{_MODIFIER_BY}[{QUOTE_MARKS}][^{QUOTE_MARKS}\\n]*[{QUOTE_MARKS}][ \\t]*$")
AFTER_ITEM_NUMBER = re.compile(r"[ \t]*\([+-]?\d+(?:\.\d+)?\),[ \t]*")
# the polarity a C2F chain opens with (the tag as the polarity readout writes it; absent where it is a hint
# in the prompt, as in Hint-GRPO's re-sampled groups)
STATED_POLARITY = re.compile(r"^\s*<polarity>(positive|negative|neutral)</polarity>")
# the combined part's verdict just ended (`Overall the sentiment is clearly negative, about -1.9 on the -4..4
# scale.`; without a scale, `... is neutral.`), a space or a line break after it or not
VERDICT_END = re.compile(r"(?<![A-Za-z])Overall the sentiment is [^\n]*?(?:scale|positive|negative|neutral)\.[ \t\n]*$")
# the number a verdict states (`... clearly negative, about -1.9 on the -4..4 scale.`), and the score tag just opened
VERDICT_NUMBER = re.compile(r"(?<![A-Za-z])Overall the sentiment is [^\n]*?about ([+-]?\d+(?:\.\d+)?) on the")
SCORE_AT = re.compile(r"<score>[ \t]*$")
# where a verdict's number begins (`Overall the sentiment is strongly negative, about`)
_VERDICT_NUMBER_AT = re.compile(r"(?<![A-Za-z])Overall the sentiment is (?:\w+ )?(positive|negative), about$")
MARK_ENDS = tuple(QUOTE_MARKS)


def has_emphasis(source: str) -> bool:
    """Whether the input has what the lexicon teacher's `Emphasis` sentence counts
    (`distill.lexicon`): a "!", or a cue in capitals (`metrics.valence.capitalised_cues`)."""
    return "!" in source or bool(capitalised_cues(vader_words(source), vader_lexicon()))


def has_rated_word(source: str) -> bool:
    """Whether the input has a word the lexicon rates: the teacher then opens its text part with a
    cue list, never with its no-cue sentence (`distill.lexicon.render_chain`)."""
    return bool(lexicon_words(source, vader_lexicon()))


def normalize(text: str) -> str:
    """Each whitespace run one space, padded with a space at both ends (so a quote may end with
    a space where the input has a word boundary); the case is kept."""
    return " " + " ".join(text.split()) + " "


def squash(text: str) -> str:
    """`text` lowercased, each whitespace run one space: how a token's text is looked for in an input."""
    return re.sub(r"\s+", " ", text.lower())


@lru_cache(maxsize=64)
def lowered(source: str) -> str:
    """`source` lowercased, once per input: the per-step check asks for it hundreds of times."""
    return source.lower()


def _word_char(text: str, index: int) -> bool:
    """Whether `text[index]` continues a word (`metrics.grounding.joins_words`: the rule grounding
    checks a quote by, so a decoded quote is always a grounded one)."""
    return 0 <= index < len(text) and joins_words(text[index])


def _quotable(phrase: str, source: str, closing: bool) -> bool:
    """`phrase` (raw text) occurs in `source` (`normalize`d) at a word start, as written or all
    lowercase, with single spaces only; with `closing`, also ending at a word end."""
    if not phrase or phrase[0].isspace() or re.search(r"\s\s|[^\S ]", phrase):
        return False
    return any(not (closing and _word_char(text, start + len(phrase))) for text, start in word_starts(phrase, source))


def word_starts(phrase: str, source: str) -> Iterator[tuple[str, int]]:
    """(the text searched, the index) of each occurrence of `phrase` at a word start of the
    `normalize`d `source`: as written, or in the lowercased input for an all-lowercase phrase."""
    text = source if phrase != phrase.lower() else lowered(source)
    start = text.find(phrase)
    while start != -1:
        if not _word_char(text, start - 1):
            yield text, start
        start = text.find(phrase, start + 1)


def continuation_allowed(quote: str, token: str, source: str) -> bool:
    """Whether `token` (its text) may follow the open quote `quote` (its text so far) for the
    `normalize`d input `source` (see the module doc)."""
    mark = FIRST_MARK.search(token)
    if mark is None:
        return _quotable(quote + token, source, closing=False)
    if FIRST_MARK.search(token[mark.end() :]):
        return False
    return _quotable((quote + token[: mark.start()]).rstrip(" "), source, closing=True)


@lru_cache(maxsize=4096)
def cue_key(phrase: str) -> str:
    """How a list item's quote is counted: lowercased, whitespace-squashed, without the
    punctuation around it ("Best." and "best" are one cue; an emoticon is kept whole). Cached: the
    rated-first rule asks it of each candidate token's phrase and each owed word at every step."""
    squashed = squash(phrase).strip()
    return _EDGE_PUNCTUATION.sub("", squashed) or squashed


@lru_cache(maxsize=4096)
def occurrences(key: str, source: str) -> int:
    """How often `key` (a `cue_key`) occurs in the `normalize`d `source` as whole words, any case."""
    if not key:
        return 0
    return len(re.findall(rf"(?<!\w){re.escape(key)}(?!\w)", lowered(source)))


def can_close_fresh(phrase: str, source: str, spent: frozenset[str]) -> bool:
    """Whether the open quote `phrase` (its text so far, a piece of the `normalize`d `source`) can
    close on a cue not in `spent` at the end of the word it is in: at some occurrence of it at a
    word start in the input, the words up to the first word end from there do not make a spent
    cue (a quote is not pushed on into a longer phrase to get round the rule). Occurrences are found
    as `continuation_allowed` finds them: as written, or all lowercase for a lowercase phrase ("J"
    may go on only to the input's capital-J words)."""
    for text, start in word_starts(phrase, source):
        end = start + len(phrase)
        while _word_char(text, end):
            end += 1
        if cue_key(text[start:end]) not in spent:
            return True
    return False


def count_allowed(bangs: int, written: str, token: str) -> bool:
    """Whether `token` may follow `Emphasis:` + `written` (spaces and digits so far) for an input
    with `bangs` exclamation marks: the digits must be those of `bangs` (none when it is 0)."""
    match = _SPACES_DIGITS_REST.fullmatch(written + token)
    assert match is not None  # the pattern matches any text
    digits, rest = match.group(2), match.group(3)
    if not digits:
        return "\n" not in rest  # the sentence goes on: no empty "Emphasis:" heading
    if bangs == 0:
        return False
    return digits == str(bangs) or (not rest and str(bangs).startswith(digits))


@lru_cache(maxsize=256)
def count_tokens(texts: tuple[str, ...], bangs: int, written: str) -> list[int]:
    """The token ids `count_allowed` lets follow `Emphasis:` + `written` (once per state)."""
    return [i for i, text in enumerate(texts) if count_allowed(bangs, written, text)]


def list_end(written: str, token: str, inside: bool) -> str | None:
    """Where `token`, written after `written` (the chain so far; `inside`: within an open quote), ends
    the sentence a cue list is in: the token's text after a full stop outside quotes that is no decimal
    point, or from a line break on (so a line break leaves more than spaces). None: it does not."""
    text = written[-8:]
    for at, char in enumerate(token):
        if char in QUOTE_MARKS:
            inside = not inside
        elif not inside and char == "\n":
            return token[at:]
        elif not inside and char == "." and not _DECIMAL_AT.search(text):
            return token[at + 1 :]
        text += char
    return None


def tail_class(written: str) -> str:
    """A stand-in for the end of `written` that `list_end` reads alike: digits awaiting a decimal point
    ("1"), digits after one (".1"), anything else ("x")."""
    if _DECIMAL_AT.search(written):
        return "1"
    return ".1" if _FRACTION_AT.search(written) else "x"


def heading_allowed(written: str, token: str, heading: str) -> bool:
    """Whether `token` may follow `written` (the chain since the list before it ended) on the way to
    `heading` ("Negative cues:"): one space at most, then the heading's text; the token may go on past
    the heading's end, not over a line break."""
    text = written + token
    body = text.lstrip(" ")
    if not token or "\n" in text or len(text) - len(body) > 1:
        return False
    return heading.startswith(body) or body.startswith(heading)


def along(written: str, token: str, target: str) -> bool:
    """Whether `token`, written after `written` (the chain since a scripted text began), keeps the chain
    on `target`: still a prefix of it, or past its end with no digit right after it (a number "+1.9" may
    be followed by ")" or ".", not by "5")."""
    text = written + token
    if not token or len(text) <= len(target):
        return bool(token) and target.startswith(text)
    return text.startswith(target) and not text[len(target)].isdigit()


def item_number(quote: str) -> str | None:
    """What follows a list item that quotes a word the lexicon rates, as the teacher writes it: its
    valence, ` (+1.9)`; None for a word the lexicon does not rate (the model's own reading)."""
    valence = cue_valence(quote, vader_lexicon())
    return None if valence is None else f" ({signed(valence)})"


def negated_number(quote: str) -> str | None:
    """What follows `so it reads` in the clause of an item quoting a word the lexicon rates: its valence
    negated as VADER negates it (`metrics.valence.NEGATION_SCALAR`), ` -1.4` for "good"."""
    valence = cue_valence(quote, vader_lexicon())
    return None if valence is None else f" {signed(NEGATION_SCALAR * valence)}"


def chain_values(text_part: str) -> tuple[list[float], list[float]]:
    """The positive and the negative numbers a chain's text part gives its cues (after negation where it
    states one). Every quote with a number counts, not only those `metrics.evidence` reads as list items
    (after `cues:` or `;`): a student's item after a comma (`"tears" (-0.9), "cry" (-2.1)`) is one too, as
    grounded quoting treats it. A modifier's quote is not a cue: the number a student gives it
    (`"embarrassment" (-1.9), strengthened by "complete" (+1.9)`) is left out."""
    values = [
        s.effective for s in cue_statements(text_part) if s.effective and not _MODIFIER_AT.search(text_part, 0, s.start)
    ]
    return [v for v in values if v > 0], [v for v in values if v < 0]


def verdict_sign(chain: str) -> str | None:
    """ "positive" / "negative" where `chain` ends where its verdict's number begins (`Overall the sentiment
    is strongly negative, about`), else None. Asked at every step: the regex runs only after "about"."""
    if not chain.endswith("about"):
        return None
    verdict = _VERDICT_NUMBER_AT.search(chain)
    return None if verdict is None else verdict.group(1)


def chain_balance(text_part: str) -> str:
    """The teacher's balance sentence (`metrics.valence.balance_sentence`) over the numbers a chain's text
    part gives its cues (`chain_values`)."""
    return balance_sentence(*chain_values(text_part))


def chain_rationale(text_part: str, polarity: str) -> str | None:
    """The rationalized teacher's sentence (`metrics.valence.rationale_sentence`) for a chain whose numbers
    (`chain_values`) weigh to another side (`metrics.valence.balance_lean`) than its `polarity`; None
    where they weigh to it."""
    lean = balance_lean(*chain_values(text_part))
    return None if lean == polarity else rationale_sentence(lean, polarity)


@lru_cache(maxsize=256)
def vader_listed_cues(source: str) -> dict[str, Counter[str]]:
    """`metrics.valence.listed_cues` of a `normalize`d input with VADER's lexicon, once per input (the G
    rollouts of one prompt share it; do not change what it returns)."""
    return listed_cues(source, vader_lexicon())


__all__ = [
    "QUOTE_MARKS",
    "along",
    "can_close_fresh",
    "chain_balance",
    "chain_rationale",
    "continuation_allowed",
    "count_allowed",
    "count_tokens",
    "cue_key",
    "has_emphasis",
    "has_rated_word",
    "heading_allowed",
    "item_number",
    "list_end",
    "negated_number",
    "normalize",
    "occurrences",
    "verdict_sign",
]
