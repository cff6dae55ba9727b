"""Valence consistency: do the numbers a chain states for its cues agree with its judgment, with
the lists it puts them in, (for the lexicon teacher's format) with the lexicon, and are the
negations it names really there?

A chain in the lexicon teacher's format states a valence per cue, `"bad" (-2.5)`, possibly
negated, `"bad" (-2.5), negated by "not" so it reads +1.8`, inside a `Positive cues:` or
`Negative cues:` list, and ends in a polarity (`metrics.evidence.cue_statements` reads them).
A citation can be grounded (the word is in the input) and still false: the shipped default
answers "The hotel was not bad at all." with `Positive cues: "bad" (+1.9)`, a valence the
lexicon gives as -2.5 and no negation to explain it. Six checks, each a rate:

- judgment agreement, per answer: among answers with at least one cue whose effective valence is
  stated (`CueStatement.effective`: after negation if stated, else as stated) and a positive or
  negative polarity, the share whose summed effective valences have the polarity's sign (a sum of
  0 disagrees). Neutral answers are not counted: the chain gives no sign to agree with. The
  teacher weighs the clause after a contrast word more (VADER's rule), so even its own chains can
  disagree here when a "but" turns the sentence; such a chain does say one thing and conclude another.
- list agreement, per cue: among cues that head an item of a Positive/Negative cues list and
  state a number, the share whose effective valence has the list's sign (0 disagrees).
  Beside it, `listed_rated`: the share of those cues the lexicon rates as cues (`cue_valence`).
  The teacher heads only such words; a word it does not rate with a number is the model's own
  reading (`unrated_cues` lists them per answer).
- lexicon agreement, per cue: among quoted single words that are lexicon entries (looked up as
  the teacher does: lower case, else as written) and state a number, the share whose stated
  number (before negation: the teacher writes the lexicon's value, then the negation) has the
  lexicon valence's sign (`sign_agreement`), the share equal to the lexicon valence rounded
  to one decimal, as the teacher writes it (`exact`), and, given the lexicon's rater spreads
  (`vader_rater_spread`), the share within the word's raters' standard deviation of it
  (`within_spread`, `outside_spread`): a slip a rater might have made, not a different rating.
- negation support, per named negation: among cues the chain says are `negated by "X"`, the share
  where X is a negation (VADER's list, or a word ending in n't) standing in the input at most
  `NEGATION_WINDOW` words before the cue (VADER's rule, which the teacher follows). Quoting
  alone cannot catch a false one: `"died" (-1.4), negated by "never"` for "The battery died ...
  and customer service never answered" quotes two words of the input, but "never" negates
  "answered", not "died". Needs the input; without it, nothing counts.
- negation recall, per negatable cue: among cues with a stated number that stand just after a
  negation in the input (by the same rule), the share whose negation the chain names. A chain that
  never names one scores 0 here however often the support above holds.
- cue recall, per input word: among the distinct words of the input the lexicon rates (looked up
  as the teacher does, over `vader_words`; exactly the words the teacher's chain states a number
  for), the share the chain states a number for. Needs the input and the lexicon. Grounding asks
  whether what a chain quotes is there; this asks how much of what is there it accounts for. The
  shipped default names one cue in most answers, where the teacher names them all (RESULTS,
  "How much of the input a chain accounts for").

Each rate is NaN when nothing qualifies; the count it is over is reported beside it.

For a reward, `negation_coverage` judges the named negations against the input itself: the words
of the input that VADER's rule negates and its lexicon rates are what a chain has to account for,
whether it states them as cues or not (negation recall above only sees the cues a chain states, so
a chain can raise it by stating fewer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from emoreason.data.schema import Polarity
from emoreason.metrics.evidence import CueStatement, cue_statements


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


POLARITY_SIGN = {"positive": 1, "negative": -1}
NEGATION_WINDOW = 3  # VADER reads a negation up to this many words before the word it negates


@dataclass(frozen=True, slots=True)
class ValenceCheck:
    """The checks of one answer: None where it has nothing to check, else counts (module doc)."""

    judgment_agrees: bool | None = None
    listed: int = 0  # cues that head a list item and state a number
    listed_agree: int = 0
    in_lexicon: int = 0  # single-word cues in the lexicon that state a number
    lexicon_sign_agree: int = 0
    lexicon_exact: int = 0
    negations: int = 0  # cues named as negated, counted only when the input is given
    negations_supported: int = 0
    negatable: int = 0  # cues with a stated number that stand just after a negation in the input
    negatable_named: int = 0  # ... whose negation the chain names
    cue_words: int = 0  # distinct words of the input the lexicon rates (input and lexicon given)
    cue_words_named: int = 0  # ... that the chain states a number for
    lexicon_within_spread: int | None = None  # of in_lexicon, numbers within the word's raters' spread
    #                                           (None: no spreads given, not checked)
    listed_rated: int = 0  # of listed, the cues the lexicon rates (`cue_valence`; 0 without a lexicon)


def lexicon_valence(word: str, lexicon: Mapping[str, float]) -> float | None:
    """The lexicon's valence of a single word, looked up as the teacher does; None for a phrase
    or a word the lexicon lacks."""
    word = word.strip()
    if not word or len(word.split()) != 1:
        return None
    value = lexicon.get(word.lower(), lexicon.get(word))
    return None if value is None else float(value)


def vader_words(text: str) -> list[str]:
    """Whitespace tokens with surrounding punctuation stripped (emoticons kept whole), as VADER
    reads them: the words its negation window counts."""
    tokens = []
    for raw in text.split():
        stripped = raw.strip(".,!?;:\"'()[]{}*")
        tokens.append(stripped if len(stripped) > 1 or stripped.isalnum() else raw)
    return [t for t in tokens if t]


@lru_cache(maxsize=1)
def vader_negations() -> frozenset[str]:
    """VADER's negation words (its NEGATE list), lower case."""
    from vaderSentiment.vaderSentiment import NEGATE

    return frozenset(w.lower() for w in NEGATE)


@lru_cache(maxsize=1)
def vader_boosters() -> frozenset[str]:
    """VADER's boosters and dampeners (its BOOSTER_DICT: "very", "barely", ...), lower case."""
    from vaderSentiment.vaderSentiment import BOOSTER_DICT

    return frozenset(w.lower() for w in BOOSTER_DICT)


def cue_valence(word: str, lexicon: Mapping[str, float]) -> float | None:
    """The valence the lexicon teacher (`distill.lexicon`) gives `word` as a cue of its own: the
    lexicon's (`lexicon_valence`); None for a word it lacks and for VADER's boosters and negations,
    which only modify the word after them."""
    low = word.strip().lower()
    if low in vader_boosters() or low in vader_negations():
        return None
    return lexicon_valence(word, lexicon)


def capitalised_cues(words: Sequence[str], lexicon: Mapping[str, float]) -> list[str]:
    """The cues among `words` (`vader_words`) written in capitals, in order: what the teacher's
    `Emphasis` sentence names after an input's "!" count (VADER's capitals rule)."""
    return [w for w in words if len(w) > 1 and w.isupper() and cue_valence(w, lexicon) is not None]


def is_negation(word: str) -> bool:
    """Whether VADER reads the lower-case `word` as a negation: its NEGATE list, or any n't word."""
    return word in vader_negations() or word.endswith("n't")


def negation_before(lowered: Sequence[str], i: int, window: int = NEGATION_WINDOW) -> int | None:
    """The index of the first of the `window` words before `lowered[i]` that is a negation
    (`is_negation`), or None. `lowered`: `vader_words`, lower case. The lexicon teacher negates a
    cue by this rule."""
    start = max(0, i - window)
    return next((start + j for j, w in enumerate(lowered[start:i]) if is_negation(w)), None)


#: VADER scales a negated word's valence by this (its N_SCALAR); the teacher's `negated by` reading
NEGATION_SCALAR = -0.74


def signed(value: float) -> str:
    """A valence as the lexicon teacher writes it: signed, one decimal ("+1.9", "-0.7")."""
    return f"{value:+.1f}"


def balance_lean(positive: Sequence[float], negative: Sequence[float]) -> Polarity:
    """The side the balance sentence (`balance_sentence`) finds weighing more: that of the sum of the
    positive and negative cues' effective valences, to the one decimal the sentence writes (negative for a
    sum of 0 over both lists, as the sentence has it), neutral without cues."""
    if not positive and not negative:
        return "neutral"
    return "positive" if round(sum(positive) + sum(negative), 1) > 0 else "negative"


def balance_sentence(positive: Sequence[float], negative: Sequence[float]) -> str:
    """The lexicon teacher's sentence weighing its cues (`distill.lexicon.render_chain`): the effective
    valences of its positive and of its negative cues, summed. Grounded quoting writes it from a chain's
    own list items (`generation.quotes`)."""
    pos_total, neg_total = sum(positive), sum(negative)
    if positive and negative:
        return (
            f"Positive cues add up to {signed(pos_total)} and negative ones to {signed(neg_total)}, "
            f"so the {balance_lean(positive, negative)} side weighs more."
        )
    if positive or negative:
        return f"All sentiment cues point the same way (total {signed(pos_total + neg_total)})."
    return "Without sentiment cues the sentence reads as neutral."


def rationale_sentence(lean: str, polarity: str) -> str:
    """The lexicon teacher's sentence for a chain that concludes against its lexicon reading
    (`distill.lexicon.render_chain` with `rationalized`): `lean` what the lexicon says, `polarity` the
    conclusion. Grounded quoting writes it where the side a chain's own numbers weigh to (`balance_lean`)
    is not its polarity."""
    return (
        f"The lexicon alone leans {lean}, but read as a whole (context, irony or cues the lexicon misses) "
        f"the sentence is {polarity}."
    )


def listed_cues(source: str, lexicon: Mapping[str, float]) -> dict[str, Counter[str]]:
    """The words of `source` the lexicon teacher (`distill.lexicon.render_chain`) lists as cues, by the
    list it puts each in: "positive" / "negative" by the sign of its valence after negation (a word
    `negation_before` negates counts as NEGATION_SCALAR x its valence), each counted once per
    occurrence, lower case. "Not bad at all, but a sad ending" -> positive {bad: 1}, negative {sad: 1}."""
    words = vader_words(source)
    lowered = [w.lower() for w in words]
    lists: dict[str, Counter[str]] = {"positive": Counter(), "negative": Counter()}
    for i, word in enumerate(words):
        valence = cue_valence(word, lexicon)
        if not valence:
            continue
        if negation_before(lowered, i) is not None:
            valence *= NEGATION_SCALAR
        lists["positive" if valence > 0 else "negative"][lowered[i]] += 1
    return lists


def cue_boosters(source: str) -> dict[str, frozenset[str]]:
    """The modifiers the lexicon teacher names for the words of `source` (`strengthened by "very"`): a
    booster or dampener of VADER's (`vader_boosters`) standing right before a word, by the word, both
    lower case. "A very good day, really very good" -> {"good": {"very"}, "very": {"really"}}."""
    lowered = [w.lower() for w in vader_words(source)]
    boosters = vader_boosters()
    found: dict[str, set[str]] = {}
    for before, word in zip(lowered, lowered[1:]):
        if before in boosters:
            found.setdefault(word, set()).add(before)
    return {word: frozenset(named) for word, named in found.items()}


def _negated(lowered: Sequence[str]) -> frozenset[str]:
    negations = vader_negations()
    return frozenset(w for i, w in enumerate(lowered) if w not in negations and negation_before(lowered, i) is not None)


def negated_words(source: str) -> frozenset[str]:
    """The words of `source` (lower case) that stand, somewhere in it, just after a negation; the
    negations themselves left out, as the teacher never takes one for a cue."""
    return _negated(vader_words(source.lower()))


def negation_supported(cue: str, negator: str, words: Sequence[str], window: int = NEGATION_WINDOW) -> bool:
    """Whether `negator` is a negation (`is_negation`) and stands among the `window` words before
    some occurrence of the one-word `cue` in `words` (`vader_words` of the input, lower case). A
    phrase cue or negator is never supported: the teacher negates single words by single words."""
    cue_words, negator_words = vader_words(cue.lower()), vader_words(negator.lower())
    if len(cue_words) != 1 or len(negator_words) != 1:
        return False
    if not is_negation(negator_words[0]):
        return False  # `negated by "was"`: a word that negates nothing
    return any(
        word == cue_words[0] and negator_words[0] in words[max(0, i - window) : i] for i, word in enumerate(words)
    )


def check_valences(
    statements: Sequence[CueStatement],
    polarity: str | None,
    lexicon: Mapping[str, float] | None = None,
    source: str | None = None,
    spread: Mapping[str, float] | None = None,
) -> ValenceCheck:
    """The valence checks of one answer's cue statements and final `polarity`; the negation check
    only when `source` (the input the chain read) is given, the spread check (`outside_spread`)
    only when the lexicon's rater `spread` is (module doc)."""
    effective = [s.effective for s in statements if s.effective is not None]
    judgment = None
    if effective and polarity in POLARITY_SIGN:
        judgment = _sign(sum(effective)) == POLARITY_SIGN[polarity]
    listed = [s for s in statements if s.listed is not None and s.effective is not None]
    listed_agree = sum(_sign(s.effective) == s.listed for s in listed if s.effective is not None)
    in_lexicon = sign_agree = exact = within = 0
    for statement in statements:
        valence = lexicon_valence(statement.quote, lexicon) if lexicon is not None else None
        if valence is None or statement.stated is None:
            continue
        in_lexicon += 1
        sign_agree += _sign(statement.stated) == _sign(valence)
        exact += abs(statement.stated - round(valence, 1)) < 1e-9
        if spread is not None:
            within += not outside_spread(statement.stated, valence, spread.get(statement.quote.strip().lower()))
    negated: list[CueStatement] = []
    negatable: list[CueStatement] = []
    supported = 0
    if source is not None:  # the input is read once, for both negation checks
        words = vader_words(source.lower())
        negated = [s for s in statements if s.negated_by is not None]
        supported = sum(negation_supported(s.quote, s.negated_by or "", words) for s in negated)
        in_input = _negated(words)
        negatable = [s for s in statements if _negatable(s, in_input)]
    named = sum(s.negated_by is not None for s in negatable)
    cues = cue_words_named(statements, source, lexicon) if source is not None and lexicon is not None else []
    counts = (len(listed), listed_agree, in_lexicon, sign_agree, exact, len(negated), supported, len(negatable), named)
    named_cues = sum(named for _, named in cues)
    rated = sum(cue_valence(s.quote, lexicon) is not None for s in listed) if lexicon is not None else 0
    return ValenceCheck(
        judgment, *counts, len(cues), named_cues, within if spread is not None else None, listed_rated=rated
    )


def _weighs_words(statements: Sequence[CueStatement]) -> bool:
    """The chain states a number for some word: only such a chain can be said to leave one out."""
    return any(s.stated is not None for s in statements)


def cue_words_named(
    statements: Sequence[CueStatement], source: str, lexicon: Mapping[str, float]
) -> list[tuple[str, bool]]:
    """Each word of `source` the lexicon rates (`lexicon_words`, input order), and whether the chain
    states a number for it: what cue recall, the `cue_coverage` reward and `unnamed_cues` all read."""
    stated = {s.quote.strip().lower() for s in statements if s.stated is not None}
    return [(word, word in stated) for word in lexicon_words(source, lexicon)]


def lexicon_words(source: str, lexicon: Mapping[str, float]) -> list[str]:
    """The distinct words of `source` (lower case, in input order) that `lexicon` rates, looked up
    as the teacher does (`lexicon_valence` over `vader_words`): the cues a lexicon reader has to
    account for."""
    rated = (word.lower() for word in vader_words(source) if lexicon_valence(word, lexicon) is not None)
    return list(dict.fromkeys(rated))


def unnamed_cues(
    statements: Sequence[CueStatement], source: str, lexicon: Mapping[str, float] | None = None
) -> list[dict[str, Any]]:
    """For a reader of one answer: the words of `source` the lexicon rates (`lexicon_words`; by
    default VADER's) that the chain (its `cue_statements`) states no number for, in input order, each with the lexicon's
    valence as the teacher writes it (one decimal). The per-answer view of cue recall: the shipped
    default answers "It's super violent, super serious and super stupid." with `"super" (+2.7)`
    alone, and leaves "violent", "serious" and "stupid" here. Empty for a chain that states no
    number at all: it does not weigh words one by one, so there is nothing to set these beside."""
    lexicon = vader_lexicon() if lexicon is None else lexicon
    if not _weighs_words(statements):
        return []
    return [
        {"word": word, "valence": round(lexicon_valence(word, lexicon) or 0.0, 1)}
        for word, named in cue_words_named(statements, source, lexicon)
        if not named
    ]


#: the tolerance for a word the lexicon rates without a spread: one decimal, as valences are written
NO_SPREAD = 0.05


def outside_spread(stated: float, valence: float, spread: float | None) -> bool:
    """Whether a chain's number for a word lies further from the lexicon's valence than the word's
    raters spread (`NO_SPREAD` for a word without one); a number on the edge is inside."""
    return abs(stated - valence) > (NO_SPREAD if spread is None else spread) + 1e-9


def misrated_cues(
    statements: Sequence[CueStatement],
    lexicon: Mapping[str, float] | None = None,
    spread: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """For a reader of one answer: the words the chain (its `cue_statements`) states a number for that lies further from
    the lexicon's valence (by default VADER's) than the word's raters disagree among themselves
    (`spread`, the standard deviation of its ten human ratings, `vader_rater_spread`), in the
    chain's order, once each: {"word", "stated", "valence" (one decimal), "spread"}. The lexicon
    teacher states each word's valence as the lexicon has it, so a chain's number reads as the
    lexicon's; the shipped default writes `"okay" (+1.9)` where VADER has +0.9 (raters' sd 0.54),
    and `"died" (-1.2)` for -2.6 (sd 1.28). A stated number is the one before any negation the
    chain applies (`"bad" (-2.5), negated by "not" so it reads +1.9`). A word the lexicon rates
    without a spread (none in VADER's) is held to one decimal."""
    lexicon = vader_lexicon() if lexicon is None else lexicon
    spread = vader_rater_spread() if spread is None else spread
    found: dict[str, dict[str, Any]] = {}
    for statement in statements:
        valence = lexicon_valence(statement.quote, lexicon)
        word = statement.quote.strip().lower()
        if valence is None or statement.stated is None or word in found:
            continue
        allowed = spread.get(word, NO_SPREAD)
        if outside_spread(statement.stated, valence, allowed):
            rated = {"valence": round(valence, 1), "spread": round(allowed, 2)}
            found[word] = {"word": word, "stated": statement.stated, **rated}
    return list(found.values())


def unrated_cues(
    statements: Sequence[CueStatement], lexicon: Mapping[str, float] | None = None
) -> list[dict[str, Any]]:
    """For a reader of one answer: the quotes the chain (its `cue_statements`) states a number for that
    the lexicon (by default VADER's) does not rate, in the chain's order, once each: {"word",
    "stated"}. The lexicon teacher states numbers only for the words the lexicon rates, so a number in
    a chain reads as the lexicon's; for these it is the model's own (`Negative cues: "how" (-1.7)`, or
    `"witty" (+1.7)` for a word VADER lacks). A phrase is no rated word; a negation or booster is none
    either (`"not" (-1.2)`: VADER reads "not" as a negation, `cue_valence`)."""
    lexicon = vader_lexicon() if lexicon is None else lexicon
    found: dict[str, dict[str, Any]] = {}
    for statement in statements:
        word = " ".join(statement.quote.split()).lower()
        if statement.stated is None or not word or word in found or cue_valence(word, lexicon) is not None:
            continue
        found[word] = {"word": word, "stated": statement.stated}
    return list(found.values())


@dataclass(frozen=True, slots=True)
class CueOmission:
    """One lexicon-rated word over a set of answers: in how many inputs it stood (of the answers
    that state a number for some word) and how many of those chains gave it none."""

    word: str
    valence: float  # the lexicon's, one decimal, as the teacher writes it
    left_out: int
    seen: int

    @property
    def share(self) -> float:
        return self.left_out / self.seen


def cue_omissions(
    completions: Sequence[str], sources: Sequence[str], lexicon: Mapping[str, float] | None = None
) -> list[CueOmission]:
    """Over many answers, the rated words their chains leave out (`unnamed_cues`, counted), most
    often left out first (ties: the larger share, then the word). Only answers that state a number
    for some word count, as in `unnamed_cues`; words never left out are not listed. For a report:
    which cues a model habitually overlooks."""
    lexicon = vader_lexicon() if lexicon is None else lexicon
    seen: Counter[str] = Counter()
    left_out: Counter[str] = Counter()
    for completion, source in zip(completions, sources, strict=True):
        statements = cue_statements(completion)
        if not _weighs_words(statements):
            continue
        for word, named in cue_words_named(statements, source, lexicon):
            seen[word] += 1
            left_out[word] += not named
    rows = [
        CueOmission(word, round(lexicon_valence(word, lexicon) or 0.0, 1), count, seen[word])
        for word, count in left_out.items()
        if count
    ]
    return sorted(rows, key=lambda row: (-row.left_out, -row.share, row.word))


@dataclass(frozen=True, slots=True)
class NegationNote:
    """One negation an answer has to account for, for a reader of that answer: one its chain names
    (`"bad" (-2.5), negated by "not"`), or one the input has just before a cue the chain states
    without naming it. The per-answer view of the negation support and recall above."""

    cue: str
    negator: str  # the negation the chain names; else the one standing before the cue in the input
    named: bool  # the chain names this negation
    in_input: bool  # `negator` is a negation standing just before `cue` in the input

    def to_dict(self) -> dict[str, Any]:
        return {"cue": self.cue, "negator": self.negator, "named": self.named, "in_input": self.in_input}


def _negatable(statement: CueStatement, negated_in_input: frozenset[str]) -> bool:
    """A cue the chain states a number for, which the input negates (`_negated` of its words)."""
    return statement.stated is not None and statement.quote.lower() in negated_in_input


def negation_notes(statements: Sequence[CueStatement], source: str) -> list[NegationNote]:
    """The negations of one answer's chain (its `cue_statements`) as `NegationNote`s, in its order:
    every named one, checked against `source` (`negation_supported`), and every stated cue the input
    negates (by VADER's rule) whose negation the chain does not name."""
    words = vader_words(source.lower())
    in_input = _negated(words)
    notes = []
    for statement in statements:
        if statement.negated_by is not None:
            supported = negation_supported(statement.quote, statement.negated_by, words)
            notes.append(NegationNote(statement.quote, statement.negated_by, True, supported))
        elif _negatable(statement, in_input):
            cue = statement.quote.lower()
            negator = next(
                words[j] for i, w in enumerate(words) if w == cue and (j := negation_before(words, i)) is not None
            )
            notes.append(NegationNote(statement.quote, negator, False, True))
    return notes


@dataclass(frozen=True, slots=True)
class NegationCoverage:
    """What one chain does with the negations its input applies to sentiment words (the counts of
    `negation_coverage`): a chain is judged against the input, not only against what it chose to
    say, so leaving a negation out is not the same as getting it right."""

    expected: int  # distinct words the chain has to account for: lexicon words the input negates, plus
    #                any other word the chain truly names as negated
    named_true: int  # distinct words of `expected` whose negation the chain names (`negation_supported`)
    named_false: int  # negations the chain names that the input does not have, each time it names one


def negation_coverage(
    statements: Sequence[CueStatement], source: str, lexicon: Mapping[str, float]
) -> NegationCoverage:
    """The chain's named negations (`CueStatement.negated_by`) against the words of `source` that
    VADER's rule negates (`negated_words`) and `lexicon` rates: the words a lexicon reader has to
    read as negated. A chain that names none of them leaves them all uncovered; one it names that
    does not stand just before its cue counts against it."""
    words = vader_words(source.lower())
    expected = {w for w in _negated(words) if lexicon_valence(w, lexicon) is not None}
    named_true: set[str] = set()
    named_false = 0
    for statement in statements:
        if statement.negated_by is None:
            continue
        if negation_supported(statement.quote, statement.negated_by, words):
            named_true.add(statement.quote.lower())
        else:
            named_false += 1
    return NegationCoverage(len(expected | named_true), len(named_true), named_false)


def valence_check(
    completion: str,
    polarity: str | None,
    lexicon: Mapping[str, float] | None = None,
    source: str | None = None,
    spread: Mapping[str, float] | None = None,
) -> ValenceCheck:
    """`check_valences` of a completion's cue statements (`metrics.evidence.cue_statements`)."""
    return check_valences(cue_statements(completion), polarity, lexicon, source, spread)


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def valence_summary(checks: Sequence[ValenceCheck]) -> dict[str, Any]:
    """The rates over answers (module doc), each with the count it is over."""
    judged = [c.judgment_agrees for c in checks if c.judgment_agrees is not None]
    cue_words = sum(c.cue_words for c in checks)
    listed = sum(c.listed for c in checks)
    in_lexicon = sum(c.in_lexicon for c in checks)
    negations = sum(c.negations for c in checks)
    negatable = sum(c.negatable for c in checks)
    spread_checked = [c for c in checks if c.lexicon_within_spread is not None]
    return {
        "valence_judgment_agreement": _rate(sum(judged), len(judged)),
        "n_valence_judgments": len(judged),
        "valence_list_agreement": _rate(sum(c.listed_agree for c in checks), listed),
        "n_valence_listed": listed,
        "valence_listed_rated": _rate(sum(c.listed_rated for c in checks), listed),
        "valence_lexicon_sign_agreement": _rate(sum(c.lexicon_sign_agree for c in checks), in_lexicon),
        "valence_lexicon_exact": _rate(sum(c.lexicon_exact for c in checks), in_lexicon),
        "n_valence_lexicon": in_lexicon,
        "valence_lexicon_within_spread": _rate(
            sum(c.lexicon_within_spread for c in spread_checked), sum(c.in_lexicon for c in spread_checked)
        ),
        "valence_negation_support": _rate(sum(c.negations_supported for c in checks), negations),
        "n_valence_negations": negations,
        "valence_negation_recall": _rate(sum(c.negatable_named for c in checks), negatable),
        "n_valence_negatable": negatable,
        "valence_cue_recall": _rate(sum(c.cue_words_named for c in checks), cue_words),
        "n_valence_cue_words": cue_words,
    }


@lru_cache(maxsize=1)
def vader_rater_spread() -> Mapping[str, float]:
    """Each VADER lexicon word's standard deviation over its ten raters (the lexicon file's third
    column; the valence is their mean): how far a number can be from the valence and still be
    one a rater gave."""
    from importlib import resources

    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line.strip())
    return {row[0]: float(row[2]) for row in rows if len(row) >= 3}


@lru_cache(maxsize=1)
def vader_lexicon() -> Mapping[str, float]:
    """The VADER lexicon (Hutto & Gilbert 2014, valences -4..+4), the lexicon teacher's."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return {word: float(value) for word, value in SentimentIntensityAnalyzer().lexicon.items()}


__all__ = [
    "NEGATION_SCALAR",
    "NEGATION_WINDOW",
    "CueOmission",
    "NegationCoverage",
    "NegationNote",
    "ValenceCheck",
    "capitalised_cues",
    "check_valences",
    "cue_omissions",
    "cue_valence",
    "cue_words_named",
    "is_negation",
    "lexicon_valence",
    "lexicon_words",
    "listed_cues",
    "misrated_cues",
    "negated_words",
    "negation_before",
    "negation_coverage",
    "negation_notes",
    "negation_supported",
    "outside_spread",
    "unnamed_cues",
    "unrated_cues",
    "valence_check",
    "valence_summary",
    "vader_lexicon",
    "vader_negations",
    "vader_rater_spread",
    "vader_words",
]
