"""The tokens the chain rules of grounded quoting (`generation.quotes`) name, found once per tokenizer:
each is a pass over the whole vocabulary (49k texts for SmolLM2), so each is cached by tokenizer."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import torch

from emoreason.generation.chain_text import FIRST_MARK, HEADINGS, QUOTE_MARKS, heading_allowed, list_end, squash

# how SmolLM2's tokens begin the word: " Emphasis", " Emphas", or "Em" + "phas" at a line start ("Em"
# alone also begins "Emotion", so it is banned only as the start of "phas")
_EMPHASIS_STARTS = ("Emphas", "Emphasis")
# the verbs a student's modifier clause began with in the shipped default's answers, and a few like them
_MODIFIER_VERBS = ("strengthened", "boosted", "intensified", "amplified", "heightened", "enhanced", "reinforced")
_MODIFIER_VERBS += ("supported", "softened", "weakened", "tempered", "dampened")
_BALANCE_OPENINGS = ("Positive", "All", "Without")  # how the teacher's balance sentence begins


class ChainTokens(NamedTuple):
    """The tokens the chain rules name, found once per tokenizer."""

    emphasis_starts: list[int]  # begin the word "Emphasis" (with or without a leading space)
    after_em: list[int]  # go on from "Em" to it (starting "phas")
    list_openers: dict[str, list[int]]  # begin "Positive" / "Negative": the openings of the teacher's cue lists
    text_openers: torch.Tensor  # those and the ones beginning "No": the teacher's three text openings
    quote_openers: list[int]  # a quote mark that opens a list item, a space before it or not
    space: list[int]  # a lone space (before a quote mark of a tokenizer that writes it apart)
    heading_pieces: list[int]  # may be part of a list heading: a space, or text along "Positive cues:" / ...
    # by (`tail_class`, inside a quote): the tokens that end a list there (`list_end`), and those of them
    # that leave more than spaces after the end
    list_enders: dict[tuple[str, bool], tuple[frozenset[int], frozenset[int]]]
    by_text: dict[str, list[int]]  # every token by its text: the pieces of a scripted text
    endings: list[int]  # short tokens without letters (");", "4."): a scripted text's last piece and more
    digit_starts: list[int]  # begin with a digit: what may not follow a scripted number
    balance_openers: torch.Tensor  # begin "Positive", "All" or "Without": the teacher's balance sentences
    modifier_starts: list[int]  # begin a modifier clause's verb ("strengthened", "boosted": 3 letters or more)
    paren_starts: list[int]  # begin with "(", a space before it or not: a number's opening
    minus_starts: list[int]  # begin with "-", a space before it or not: a negative number's opening
    # written outside a quote, text after a quote mark is already quoted (' "+' opens a quote of "+"): each such
    # token by that text, which the input must allow as a quote's beginning (`GroundedQuotes.opening_bans`)
    opening_tails: dict[int, str]


def _heading_piece(text: str) -> bool:
    """Whether `text` can be written at some point on the way to a list heading (`heading_allowed`)."""
    body = text.lstrip(" ")
    if not body:
        return text == " "
    return any(
        heading_allowed(heading[:at], text, heading)
        for heading in HEADINGS.values()
        for at in range(len(heading))
        if (text if at else body)[0] == heading[at]
    )


@lru_cache(maxsize=4)
def chain_tokens(tokenizer: object) -> ChainTokens:
    """`ChainTokens` of `tokenizer` (once per tokenizer: each is a pass over the whole vocabulary)."""
    texts = token_texts(tokenizer)
    stripped = [text.strip() for text in texts]
    lists = [i for i, word in enumerate(stripped) if word.startswith(("Positive", "Negative"))]
    no = [i for i, word in enumerate(stripped) if word.startswith("No")]
    stops = [i for i, text in enumerate(texts) if "." in text or "\n" in text]
    by_text: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        by_text.setdefault(text, []).append(i)
    enders = {}
    for tail in ("1", ".1", "x"):
        for inside in (False, True):
            ends = {i: rest for i in stops if (rest := list_end(tail, texts[i], inside)) is not None}
            enders[tail, inside] = (frozenset(ends), frozenset(i for i, rest in ends.items() if rest.strip(" ")))
    return ChainTokens(
        emphasis_starts=[i for i, word in enumerate(stripped) if word in _EMPHASIS_STARTS],
        after_em=[i for i, text in enumerate(texts) if text.startswith("phas")],
        list_openers={sign: [i for i in lists if stripped[i].startswith(h[:8])] for sign, h in HEADINGS.items()},
        text_openers=torch.tensor(sorted(lists + no), dtype=torch.long),
        quote_openers=[i for i, text in enumerate(texts) if re.fullmatch(f" ?[{QUOTE_MARKS}]", text)],
        space=[i for i, text in enumerate(texts) if text == " "],
        heading_pieces=[i for i, text in enumerate(texts) if _heading_piece(text)],
        list_enders=enders,
        by_text=by_text,
        digit_starts=[i for i, text in enumerate(texts) if text[:1].isdigit()],
        endings=[i for i, text in enumerate(texts) if 1 < len(text) <= 4 and not re.search("[A-Za-z\n]", text)],
        balance_openers=torch.tensor(
            [i for i, word in enumerate(stripped) if word and word.startswith(_BALANCE_OPENINGS)], dtype=torch.long
        ),
        modifier_starts=[
            i for i, word in enumerate(stripped) if len(word) >= 3 and any(v.startswith(word) for v in _MODIFIER_VERBS)
        ],
        paren_starts=[i for i, text in enumerate(texts) if text.lstrip(" ").startswith("(")],
        minus_starts=[i for i, text in enumerate(texts) if text.lstrip(" ").startswith("-")],
        opening_tails={
            i: tail
            for i, text in enumerate(texts)
            if (mark := FIRST_MARK.search(text)) is not None and (tail := text[mark.end() :])
        },
    )


@lru_cache(maxsize=4)
def token_texts(tokenizer: object) -> tuple[str, ...]:
    """Every token's text decoded alone (once per tokenizer)."""
    size = len(tokenizer)  # type: ignore[arg-type]
    return tuple(tokenizer.decode([i]) for i in range(size))  # type: ignore[attr-defined]


@lru_cache(maxsize=4)
def quote_vocabulary(tokenizer: object) -> tuple[tuple[int, ...], tuple[tuple[int, str], ...], tuple[int, ...]]:
    """The tokens with a quote mark, every other token without a line break with its text
    lowercased and whitespace-squashed (once per tokenizer: squashing the 49k texts of SmolLM2's
    vocabulary took 0.3 s, and was done once per input before), and the bare closers: the tokens
    that start with a quote mark and have no second one (all the marks where none does)."""
    texts = token_texts(tokenizer)
    marks, plain = [], []
    for i, text in enumerate(texts):
        if FIRST_MARK.search(text):
            marks.append(i)
        elif "\n" not in text:
            plain.append((i, squash(text)))
    bare = [i for i in marks if FIRST_MARK.match(texts[i]) and not FIRST_MARK.search(texts[i][1:])]
    return tuple(marks), tuple(plain), tuple(bare or marks)


@lru_cache(maxsize=4)
def _byte_pieces(tokenizer: object) -> frozenset[int]:
    """The tokens that decode alone to U+FFFD: pieces of a character spelled in bytes (once per tokenizer)."""
    return frozenset(i for i, text in enumerate(token_texts(tokenizer)) if "\ufffd" in text)


@lru_cache(maxsize=256)
def byte_spellings(tokenizer: object, source: str) -> dict[str, tuple[int, ...]]:
    """Each character of `source` that `tokenizer` spells only in byte pieces (`_byte_pieces`), with
    the token ids that spell it alone: what a quote of it must write. Empty for an ASCII input.
    Cached: the G rollouts of one prompt share their input (do not change the dict returned)."""
    if source.isascii():
        return {}
    pieces = _byte_pieces(tokenizer)
    spelled = {}
    for char in sorted({c for c in source if not c.isascii()}):
        ids = tuple(tokenizer.encode(char, add_special_tokens=False))  # type: ignore[attr-defined]
        if ids and all(i in pieces for i in ids):
            spelled[char] = ids
    return spelled


@lru_cache(maxsize=4096)
def encode_cached(encode: object, text: str) -> tuple[int, ...]:
    """`encode(text)` without special tokens, once per text (a script is asked for its rest every step)."""
    return tuple(encode(text, add_special_tokens=False))  # type: ignore[operator]


__all__ = ["ChainTokens", "byte_spellings", "chain_tokens", "encode_cached", "quote_vocabulary", "token_texts"]
