"""Grounded quoting: inside a quote, only the input's words; outside, nothing changes."""

from __future__ import annotations

import pytest
import torch

from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.generation import engine as engine_module
from emoreason.generation import quotes as quotes_module
from emoreason.generation.chain_text import (
    along,
    can_close_fresh,
    chain_balance,
    chain_rationale,
    continuation_allowed,
    count_allowed,
    cue_key,
    has_emphasis,
    has_rated_word,
    heading_allowed,
    item_number,
    list_end,
    negated_number,
    normalize,
    occurrences,
)
from emoreason.generation.chain_vocab import byte_spellings
from emoreason.generation.quotes import GroundedQuotes
from emoreason.metrics.grounding import QUOTE, citation_grounding
from emoreason.metrics.valence import balance_lean, rationale_sentence
from emoreason.models import Conversation, LoadedModel, load_model
from emoreason.testing.fixtures import make_tiny_causal_lm

SOURCE = normalize("The hotel was not bad at all.")


def test_normalize_and_word_boundaries() -> None:
    assert normalize("  Not\tBAD \n at all ") == " Not BAD at all "
    # a quote closes only on whole words of the input, wherever its whitespace runs were
    assert continuation_allowed("not bad", '"', normalize("The hotel was not \n  bad at all.")) is True
    assert continuation_allowed("hotel", '"', SOURCE) is True
    assert not any(continuation_allowed(piece, '"', SOURCE) for piece in ("ba", "otel", " "))


def test_a_script_without_spaces_may_be_quoted_from_any_character() -> None:
    """Chinese writes no spaces between words: any piece of the input opens and closes a quote there,
    as grounding counts it (`metrics.grounding.joins_words`); before, no quote could open inside "很好吃"."""
    chinese = normalize("这家店很好吃。")
    assert continuation_allowed("", "好", chinese) and continuation_allowed("好", '吃"', chinese)
    assert not continuation_allowed("", "难", chinese)
    assert not continuation_allowed("", "now", normalize("I know"))  # a Latin word is still whole


@pytest.mark.parametrize(
    ("quote", "token", "allowed"),
    [
        ("", "not", True),  # a piece of the input
        ("not", " bad", True),
        ("", "amazing", False),  # a word the input does not have
        ("not", " good", False),
        ("not bad", '"', True),  # closes on whole words
        ("ba", '"', False),  # "ba" is not a word of the input
        ("bad", '" (', True),  # the token's text after the mark opens nothing
        ("bad", '" "', False),  # ... a second mark would open a new quote
        ("not", "\n", False),  # quotes never span lines (metrics.grounding does not read them)
        ("all", ".\u201d", True),  # curly marks close too
        ("", "The", True),  # as written ...
        ("", "the", True),  # ... or all lowercase
        ("", "tHe", False),  # never in another case
        ("", "HOTEL", False),
        ("", " ", False),  # a quote starts with a word, not a space
        ("", "otel", False),  # ... and at a word start (such a quote could never close)
        ("not", "  bad", False),  # one space at a time
        ("not ", " bad", False),
        ("all. ", " ", False),  # after the input's last word, a second space is a dead end
        ("all. ", '"', True),  # ... and the quote closes
    ],
)
def test_continuation_allowed(quote: str, token: str, allowed: bool) -> None:
    assert continuation_allowed(quote, token, SOURCE) is allowed


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return load_model(str(make_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "causal")))


def token_id(loaded: LoadedModel, text: str) -> int:
    ids = loaded.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == 1, f"{text!r} is {len(ids)} tokens for this tokenizer"
    return ids[0]


def test_state_follows_the_marks_and_masks_inside_only(tiny: LoadedModel) -> None:
    quotes = GroundedQuotes(tiny.tokenizer, ["not bad", None])
    mark = token_id(tiny, '"')
    assert quotes.allowed(0) is None  # outside a quote: free
    quotes.advance(0, mark)
    quotes.advance(1, mark)  # a row without evidence never is constrained
    allowed = quotes.allowed(0)
    assert allowed and mark not in allowed  # an empty quote cannot close
    assert all(continuation_allowed("", quotes.texts[i], normalize("not bad")) for i in allowed)
    assert quotes.allowed(1) is None
    logits = torch.zeros(2, len(quotes.texts))
    masked = quotes.mask(logits, [0, 1])
    assert torch.isinf(masked[0]).sum() == len(quotes.texts) - len(allowed) and not torch.isinf(masked[1]).any()
    assert not torch.isinf(logits).any()  # the caller's tensor is left as it was


def test_a_quote_cannot_outgrow_the_input(tiny: LoadedModel) -> None:
    """Whatever the model prefers inside a quote (here: whitespace first, the loop that used to
    run to the token limit), the quote follows the input and is forced to close by its end."""
    source = "Not bad at all, though the sequel felt a little rushed."
    quotes = GroundedQuotes(tiny.tokenizer, [source])
    quotes.advance(0, token_id(tiny, '"'))
    closing = set(quotes.closing)
    for _ in range(2 * len(source)):
        allowed = quotes.allowed(0)
        assert allowed
        growing = [i for i in allowed if i not in closing]
        if not growing:
            break
        quotes.advance(0, next((i for i in growing if quotes.texts[i].isspace()), growing[0]))
    else:
        pytest.fail(f"the quote never had to close: {quotes.quote[0]!r}")
    assert len(quotes.quote[0]) <= len(source) + 1 and "  " not in quotes.quote[0]


def biased_choice(favoured: list[int], bias: float = 12.0):
    """choose_tokens with a strong pull towards `favoured` tokens (a quote mark and text the
    input lacks), so a tiny random model quotes often, and would quote the wrong word."""
    real = engine_module.choose_tokens

    def choose(logits, *args, **kwargs):
        logits = logits.clone()
        logits[:, favoured] += bias  # a masked token stays at -inf
        return real(logits, *args, **kwargs)

    return choose


@pytest.mark.parametrize("ground", [True, False])
def test_engine_quotes_only_the_evidence(tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch, ground: bool) -> None:
    evidence = "the food was good"
    favoured = [token_id(tiny, '"'), token_id(tiny, "er")]  # "er": one token here, not in the evidence
    monkeypatch.setattr(engine_module, "choose_tokens", biased_choice(favoured))
    conversation = Conversation(messages=[{"role": "user", "content": evidence}], evidence=evidence)
    params = SamplingParams(n=6, max_new_tokens=24, temperature=1.0, seed=0, ground_quotes=ground)
    texts = [c.text for c in TransformersEngine(tiny).generate([conversation], params)[0]]
    quoted = [m.group(1) for t in texts for m in QUOTE.finditer(t)]
    assert quoted, texts
    grounded = [citation_grounding(t, evidence) for t in texts]
    if ground:
        assert all(g.grounded == g.cited for g in grounded), texts
    else:  # the same pull without the mask quotes a word the input lacks: the test can fail
        assert any("er" in q for q in quoted), texts


def test_logits_processor_follows_what_generate_chose(tiny: LoadedModel) -> None:
    from emoreason.generation.quotes import QuoteLogitsProcessor

    processor = QuoteLogitsProcessor(GroundedQuotes(tiny.tokenizer, ["not bad"]), prompt_width=3)
    mark, scores = token_id(tiny, '"'), torch.zeros(1, len(tiny.tokenizer))
    assert not torch.isinf(processor(torch.tensor([[1, 2, 3]]), scores)).any()  # the first step: nothing chosen yet
    assert torch.isinf(processor(torch.tensor([[1, 2, 3, mark]]), scores)).any()  # a quote opened: masked


def test_candidates_are_the_quote_marks_and_the_pieces_of_the_input(tiny: LoadedModel) -> None:
    """The per-input candidate list, read off the vocabulary squashed once per tokenizer, is the
    rule written out token by token: a quote mark anywhere, or one line whose lowercased,
    whitespace-squashed text occurs in the lowercased input."""
    import re

    sources = ["Not bad at all, though the sequel felt a little rushed.", "I LOVED it"]
    quotes = GroundedQuotes(tiny.tokenizer, sources)
    for row, source in enumerate(sources):
        lowered = normalize(source).lower()
        expected = [
            i
            for i, text in enumerate(quotes.texts)
            if re.search('["\u201c\u201d]', text) or ("\n" not in text and re.sub(r"\s+", " ", text.lower()) in lowered)
        ]
        assert quotes.candidates(row) == expected
        assert len(expected) < len(quotes.texts) // 2  # the rule leaves most of the vocabulary out
    # a dead end may close only on a bare closer: a quote mark first and no second one
    assert quotes.closing == [
        i
        for i, text in enumerate(quotes.texts)
        if re.match('["\u201c\u201d]', text) and not re.search('["\u201c\u201d]', text[1:])
    ]
    assert quotes.closing and not {i for i, text in enumerate(quotes.texts) if re.match('[^"]+"', text)} & set(
        quotes.closing
    )


@pytest.mark.parametrize(
    ("bangs", "written", "token", "allowed"),
    [
        (0, "", " 1", False),  # "Emphasis: 1 exclamation mark" for an input without "!"
        (0, " ", "capitals", True),  # no count at all is always allowed
        (0, "", " ", True),
        (2, " ", "2", True),
        (2, " ", "1", False),
        (2, " 2", " exclamation", True),
        (12, " 1", "2", True),  # a count grows digit by digit
        (12, " 1", " exclamation", False),  # ... and may not stop short of the input's
        (1, " 1", "0", False),
    ],
)
def test_count_allowed(bangs: int, written: str, token: str, allowed: bool) -> None:
    assert count_allowed(bangs, written, token) is allowed


def test_an_exclamation_count_follows_the_input(tiny: LoadedModel) -> None:
    """After "Emphasis:" only the input's "!" count may be written; elsewhere nothing changes."""
    quotes = GroundedQuotes(tiny.tokenizer, ["Best. Day. Ever.", "Wow!! Great"])
    for row in (0, 1):
        for token in tiny.tokenizer("Text: fine. Emphasis:", add_special_tokens=False)["input_ids"]:
            assert quotes.allowed(row) is None
            quotes.advance(row, token)
    digits = {str(d): [i for i, t in enumerate(quotes.texts) if t.strip() == str(d)] for d in range(10)}
    no_bang, two_bangs = set(quotes.allowed(0) or []), set(quotes.allowed(1) or [])
    assert no_bang and not any(i in no_bang for ids in digits.values() for i in ids)
    assert set(digits["2"]) <= two_bangs and not set(digits["1"]) & two_bangs
    quotes.advance(1, digits["2"][0])
    quotes.advance(1, tiny.tokenizer(" exclamation", add_special_tokens=False)["input_ids"][0])
    assert quotes.allowed(1) is None  # the count is written: free again


class WordTokenizer:
    """A tokenizer of a few whole-word tokens, SmolLM2's way of starting "Emphasis" among them."""

    vocabulary = ['"', " Emphasis", "Em", "phas", "is", ":", " ", "1", "2", " exclamation", " mark", "."]
    vocabulary += ["Text", " No", "No", " Not", " word", " Positive", "Negative", " Pos"]  # 12-19

    def __len__(self) -> int:
        return len(self.vocabulary)

    def decode(self, ids: list[int]) -> str:
        return "".join(self.vocabulary[i] for i in ids)


def test_nothing_to_emphasise_bans_the_emphasis_sentence() -> None:
    assert has_emphasis("Wow!! Great") and has_emphasis("It was GREAT fun.")
    assert not has_emphasis("Ugh, stuck at the airport AGAIN. Best. Day. Ever.")  # "AGAIN" is no sentiment word
    quotes = GroundedQuotes(WordTokenizer(), ["Best. Day. Ever.", "Wow!! Great", None])
    assert quotes.banned(0) == [1] and quotes.banned(1) == [] and quotes.banned(2) == []
    masked = quotes.mask(torch.zeros(3, len(quotes.texts)), [0, 1, 2])
    assert torch.isinf(masked[0]).tolist() == [i == 1 for i in range(len(quotes.texts))]
    assert not torch.isinf(masked[1:]).any()
    quotes.advance(0, 2)  # "Em" alone may begin another word ("Emotion"), not "Em" + "phas"
    assert quotes.banned(0) == [3]
    for token in (1, 5, 6):  # " Emphasis: " written anyway (an input with "!"): only its count may follow
        quotes.advance(1, token)
    allowed = quotes.allowed(1)
    assert allowed is not None and 8 in allowed and 7 not in allowed


def test_an_input_with_a_rated_word_opens_its_text_part_with_a_cue_list() -> None:
    """The teacher writes `No word in the sentence carries sentiment ...` only where the lexicon rates
    no word of the input; the shipped default wrote `No word "bad" ...` for "Not bad at all"."""
    assert has_rated_word("Not bad at all.") and not has_rated_word("The meeting is at noon.")
    quotes = GroundedQuotes(WordTokenizer(), ["Not bad at all!", "The meeting is at noon!", None])
    size = len(quotes.texts)  # 20 tokens: logits 0 but one at `lean` give that one p = e^lean / (19 + e^lean)
    leaning_no, leaning_list, leaning_elsewhere, unsure = (torch.zeros(size) for _ in range(4))
    leaning_no[13] = leaning_list[17] = leaning_elsewhere[16] = 4.0  # " No" (p 0.74), " Positive", " word"
    unsure[13] = 2.0  # " No", p 7.4 / 26.4 = 0.28; with "No", " Not", " Positive", "Negative": 0.43
    assert not quotes.opens_with_cues(0, leaning_no)  # nothing written yet
    for row in (0, 1, 2):
        for token in (12, 5):  # "Text:"
            quotes.advance(row, token)
    assert quotes.allowed(0) is None  # the rule reads the model's leaning, so it lives in `mask`
    assert quotes.opens_with_cues(0, leaning_no) and quotes.opens_with_cues(0, leaning_list)
    assert not quotes.opens_with_cues(0, leaning_elsewhere)  # a model that opens otherwise: left alone
    assert not quotes.opens_with_cues(0, unsure)  # the teacher's openings hold under half
    assert not quotes.opens_with_cues(1, leaning_no)  # no rated word: the no-cue sentence is true
    assert not quotes.opens_with_cues(2, leaning_no)  # a free row
    masked = quotes.mask(torch.stack([leaning_no, leaning_elsewhere, leaning_no]), [0, 0, 1])
    # "bad" is negated: the teacher lists it as positive and opens with that list
    assert (~torch.isinf(masked[0])).nonzero().flatten().tolist() == [17]  # " Positive"
    assert GroundedQuotes(WordTokenizer(), ["Bad!"]).first_list(0) == "negative"
    assert GroundedQuotes(WordTokenizer(), ["Not good!"]).first_list(0) == "negative"
    assert GroundedQuotes(WordTokenizer(), ["Bad, but good!"]).first_list(0) == "positive"
    assert not torch.isinf(masked[1:]).any()
    quotes.advance(0, 17)  # the list has opened: free again
    assert not quotes.opens_with_cues(0, leaning_no)
    quotes.advance(1, 13)
    quotes.advance(1, 16)  # the no-cue sentence, for an input the lexicon has no word of
    assert quotes.chain[1] == "Text: No word"


def test_a_cue_is_spent_when_the_list_has_headed_it_as_often_as_the_input_has_it() -> None:
    assert cue_key("Best.") == cue_key(" best ") == "best" and cue_key(":-)") == ":-)"
    assert occurrences("best", normalize("Best. Day. Ever. BEST!")) == 2
    assert occurrences("best", normalize("The bestest day")) == 0  # whole words only
    source = normalize("Best. Day. Ever.")
    spent = frozenset({"best"})
    assert not can_close_fresh("be", source, spent)  # every way to close it is "best"
    assert not can_close_fresh("Best.", source, spent)
    assert can_close_fresh("Da", source, spent) and can_close_fresh("be", source, frozenset())
    assert can_close_fresh("be", normalize("Best. Day. Ever. best friend"), frozenset({"best friend"}))
    # as written or all lowercase, as a quote grows: capital "J" can only become the spent "Jon"
    judge = normalize("Why is Lil Jon a judge")
    assert not can_close_fresh("J", judge, frozenset({"jon"})) and can_close_fresh("j", judge, frozenset({"jon"}))


class CueTokenizer(WordTokenizer):
    """Whole-word tokens for a lexicon-teacher cue list."""

    vocabulary = ['"', "Positive cues: ", "best", "Best.", "be", "Day", "Ever", " (+3.1); ", ". Capitals on "]


def test_a_cue_list_heads_an_item_no_more_often_than_the_input_has_the_word() -> None:
    ids = {text: i for i, text in enumerate(CueTokenizer.vocabulary)}
    quotes = GroundedQuotes(CueTokenizer(), ["Best. Day. Ever.", "Best. Day. Ever. BEST", "best"])
    for row in (0, 1, 2):
        for text in ("Positive cues: ", '"', "best", '"', " (+3.1); ", '"'):
            quotes.advance(row, ids[text])
    best_like = {ids["best"], ids["Best."], ids["be"]}
    assert not best_like & set(quotes.allowed(0) or []) and {ids["Day"], ids["Ever"]} <= set(quotes.allowed(0) or [])
    assert best_like <= set(quotes.allowed(1) or [])  # the input has a second "best"
    assert quotes.allowed(2) == quotes.closing  # nothing fresh is left: the dead end closes, as before
    for text in ("Day", '"', ". Capitals on ", '"'):  # a quote that heads no list item is free to repeat
        quotes.advance(0, ids[text])
    assert best_like <= set(quotes.allowed(0) or [])


class ListTokenizer(WordTokenizer):
    """Whole-word tokens for the lexicon teacher's two cue lists."""

    vocabulary = ['"', "Positive cues: ", "Negative cues: ", "how", "badly", "crisis", "bad", "ly", " (-2.1); "]
    vocabulary += ['badly"', '"badly"', " (-1.7). ", "hard", "so", "G", "g"]


def test_a_cue_list_names_the_inputs_rated_words_before_any_other() -> None:
    """`Negative cues: "how" (-1.7)` for a sentence whose rated words are "hard", "badly" and "crisis":
    while the list's sign has rated words left to name, an item may only grow toward one of them."""
    ids = {text: i for i, text in enumerate(ListTokenizer.vocabulary)}
    source = "It is hard to overstate how badly they mishandled this crisis."
    free = "It is not so bad, how"  # "bad" is negated: the teacher lists it as positive
    quotes = GroundedQuotes(ListTokenizer(), [source, free, source])
    for row in (0, 1):
        for text in ("Negative cues: ", '"'):
            quotes.advance(row, ids[text])
    assert quotes.owed(0) == {"hard", "badly", "crisis"} and quotes.owed(1) == frozenset()
    allowed = set(quotes.allowed(0) or [])
    assert {ids["badly"], ids["crisis"], ids["bad"], ids["hard"], ids['badly"']} <= allowed  # "bad" -> "badly"
    assert ids["how"] not in allowed  # in the input, not rated
    assert {ids["how"], ids["bad"], ids["so"]} <= set(quotes.allowed(1) or [])  # nothing owed: free as before
    quotes.advance(0, ids["bad"])
    assert ids["ly"] in (quotes.allowed(0) or []) and ids['"'] not in (quotes.allowed(0) or [])  # "bad" is no cue here
    for text in ("ly", '"', " (-2.1); ", '"'):
        quotes.advance(0, ids[text])
    assert quotes.owed(0) == {"hard", "crisis"}
    assert ids["badly"] not in (quotes.allowed(0) or []) and ids["crisis"] in (quotes.allowed(0) or [])
    for text in ("crisis", '"', " (-2.1); ", '"', "hard", '"', " (-1.7). "):
        quotes.advance(0, ids[text])
    assert quotes.owed(0) == frozenset() and quotes.chain[0].endswith('"hard" (-1.7). ')
    quotes.advance(0, ids['"'])  # a quote outside any list (`negated by "..."`) is free
    assert ids["how"] in (quotes.allowed(0) or [])
    for text in ("Positive cues: ", '"'):  # a list whose sign the input has no rated word of: free
        quotes.advance(2, ids[text])
    assert quotes.owed(2) == frozenset() and ids["how"] in (quotes.allowed(2) or [])


class EmoticonTokenizer(WordTokenizer):
    """An emoticon in two tokens, neither a word character: a quote of it has no word end to close at."""

    vocabulary = ['"', "Positive cues: ", "great", " (+3.1); ", ":", ')"', "trip", '"', "=", 'P"']


def test_an_owed_emoticon_can_be_quoted() -> None:
    ids = {text: i for i, text in enumerate(EmoticonTokenizer.vocabulary)}
    quotes = GroundedQuotes(EmoticonTokenizer(), ["Great trip :)"])
    for text in ("Positive cues: ", '"', "great", '"', " (+3.1); ", '"'):
        quotes.advance(0, ids[text])
    assert quotes.owed(0) == {":)"}
    assert quotes.allowed(0) == [ids[":"]]  # not "trip", not an empty quote
    quotes.advance(0, ids[":"])
    assert quotes.allowed(0) == [ids[')"']]
    quotes.advance(0, ids[')"'])
    assert quotes.chain[0].endswith('; ":)"') and quotes.owed(0) == frozenset()
    # "=P": VADER rates "=p", a list item is counted as "p" (`cue_key` drops the edge "="); both name it
    quotes = GroundedQuotes(EmoticonTokenizer(), ["great trip =P"])
    for text in ("Positive cues: ", '"', "great", '"', " (+3.1); ", '"', "="):
        quotes.advance(0, ids[text])
    assert quotes.allowed(0) == [ids['P"']]
    quotes.advance(0, ids['P"'])
    assert quotes.owed(0) == frozenset() and quotes.headed[0]["p"] == 1
    # a quote that cannot reach an owed word as the input writes it may not start: "G" of "GAYZ" for "giving"
    quotes = GroundedQuotes(ListTokenizer(), ["TEH GAYZ without giving hits"])
    for text in ("Negative cues: ", '"'):
        quotes.advance(0, ListTokenizer.vocabulary.index(text))
    assert quotes.owed(0) == {"giving"}
    allowed = {ListTokenizer.vocabulary[i] for i in quotes.allowed(0) or []}
    assert "g" in allowed and "G" not in allowed


class ByteTokenizer(WordTokenizer):
    """A vocabulary that spells an emoji in byte pieces, each decoding alone to U+FFFD, as SmolLM2's
    does ("\U0001f621" is three tokens), beside closers with and without text before their quote mark.
    It spells "\U0001f621" alone; any other character it cannot spell."""

    vocabulary = ['"', '+"', '".', "\ufffd", "Positive cues: ", "angry", '"+"', "\ufffd", "\ufffd", " "]

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [3, 7, 8] if text == "\U0001f621" else []


def test_a_dead_end_closes_the_quote_as_it_stands() -> None:
    """Nothing of an input the tokenizer cannot spell can be quoted: the dead end may close only on a
    bare closer, never on a token that carries text into the quote ('+"') or opens another."""
    ids = {text: i for i, text in enumerate(ByteTokenizer.vocabulary)}
    quotes = GroundedQuotes(ByteTokenizer(), ["\U0001f60d\U0001f60d\U0001f60d"])
    for text in ("Positive cues: ", '"'):
        quotes.advance(0, ids[text])
    assert sorted(quotes.allowed(0) or []) == [ids['"'], ids['".']]
    quotes.advance(0, ids['"'])
    assert citation_grounding(quotes.chain[0], quotes.sources[0] or "").cited == 0  # an empty quote cites nothing


def test_a_character_spelled_in_byte_pieces_is_quoted_piece_by_piece() -> None:
    angry = "\U0001f621"
    assert byte_spellings(ByteTokenizer(), f"so {angry}{angry} today") == {angry: (3, 7, 8)}
    assert byte_spellings(ByteTokenizer(), "all ascii") == {}
    quotes = GroundedQuotes(ByteTokenizer(), [f"so {angry}{angry} today"])
    for token in (4, 0):  # `Positive cues: "`
        quotes.advance(0, token)
    assert 3 in (quotes.allowed(0) or []) and not {7, 8} & set(quotes.allowed(0) or [])
    quotes.advance(0, 3)
    assert quotes.allowed(0) == [7]  # inside the character only its next piece, no closer
    quotes.advance(0, 7)
    assert quotes.allowed(0) == [8] and quotes.quote[0] == ""
    quotes.advance(0, 8)
    assert quotes.quote[0] == angry
    assert {0, 3} <= set(quotes.allowed(0) or [])  # close, or a second one (the input has two)
    quotes.advance(0, 0)
    assert quotes.chain[0] == f'Positive cues: "{angry}"'
    assert citation_grounding(quotes.chain[0], f"so {angry}{angry} today") == citation_grounding(f'"{angry}"', angry)
    assert citation_grounding(quotes.chain[0], f"so {angry}{angry} today").grounded == 1


@pytest.mark.parametrize(
    ("written", "token", "inside", "rest"),
    [
        ('"bad" (-2', ".", False, None),  # a decimal point
        ('"bad" (-2.5)', ".", False, ""),
        ('"bad" (-2.5)', ". Negative", False, " Negative"),
        ('"bad" (-2.5)', ").\n", False, "\n"),
        ('"bad" (-2.5)', ";", False, None),
        ("so it reads +1.9", ".", False, ""),  # after the fraction: the sentence ends
        ("(", "-1.5).", False, ""),  # a decimal point, then the end, in one token
        ('negated by "not', '".', True, ""),  # the quote closes, then the sentence ends
        ('"Best', '."', True, None),  # a full stop inside a quote
        ('"good" (+1.9)', "\n\nCombined", False, "\n\nCombined"),
    ],
)
def test_list_end(written: str, token: str, inside: bool, rest: str | None) -> None:
    assert list_end(written, token, inside) == rest


def test_heading_allowed() -> None:
    heading = "Negative cues:"
    assert heading_allowed("", " Negative", heading) and heading_allowed("", "Neg", heading)
    assert heading_allowed(" Negative", " cues:", heading) and heading_allowed("", " Negative cues: ", heading)
    assert not heading_allowed("", " The", heading) and not heading_allowed("", "  Negative", heading)
    assert not heading_allowed("", " Positive", heading) and not heading_allowed("", ".\nNegative", heading)
    assert heading_allowed("", " ", heading) and not heading_allowed(" ", " ", heading)


class FullListTokenizer(WordTokenizer):
    """Whole-word tokens for two cue lists, their ends, and what may follow them."""

    vocabulary = ['"', "Negative cues:", " ", "hard", "badly", "crisis", "good", "how", " (-2", ".", "5)", ";"]
    vocabulary += [". Capitals on ", ".\n", " Positive", " cues", ":", " The", ' "', "cast", '".', "h", ", "]


FULL = "It is hard to overstate how badly they mishandled this crisis, but the cast is good."


def _write(quotes: GroundedQuotes, row: int, *texts: str) -> None:
    for text in texts:
        quotes.advance(row, FullListTokenizer.vocabulary.index(text))


def _allowed(quotes: GroundedQuotes, row: int) -> set[str] | None:
    allowed = quotes.allowed(row)
    return None if allowed is None else {FullListTokenizer.vocabulary[i] for i in allowed}


def _banned(quotes: GroundedQuotes, row: int) -> set[str]:
    return {FullListTokenizer.vocabulary[i] for i in quotes.banned(row)}


def test_a_cue_list_goes_on_while_it_owes_and_the_other_list_follows() -> None:
    """`Negative cues: "hard" (-2.5).` for a sentence with "badly" and "crisis" too, and a positive
    "good": the list may not end before it names them, and the positive list must follow it."""
    quotes = GroundedQuotes(FullListTokenizer(), [FULL])
    _write(quotes, 0, "Negative cues:")
    assert quotes.open_list[0] == "negative" and quotes.keeps_open(0)
    assert _allowed(quotes, 0) == {'"', ' "', " "}  # an item opens with a quote
    _write(quotes, 0, " ")
    assert _allowed(quotes, 0) == {'"', ' "'}  # one space at most
    _write(quotes, 0, '"', "hard", '"', " (-2")
    assert "." not in _banned(quotes, 0)  # a decimal point
    _write(quotes, 0, ".", "5)")
    assert {".", ". Capitals on ", ".\n"} <= _banned(quotes, 0) and ";" not in _banned(quotes, 0)
    _write(quotes, 0, ";")
    assert _allowed(quotes, 0) == {'"', ' "', " "}
    _write(quotes, 0, ' "', "badly")
    assert '".' not in (_allowed(quotes, 0) or set())  # a closer that would end the list too
    _write(quotes, 0, '"', " (-2", ".", "5)", ";", ' "', "crisis", '"', " (-2", ".", "5)")
    assert not quotes.keeps_open(0) and quotes.other_due(0)
    assert _banned(quotes, 0) >= {". Capitals on ", ".\n"} and "." not in _banned(quotes, 0)  # a plain end
    _write(quotes, 0, ".")
    assert quotes.open_list[0] is None and quotes.heading_due[0] == "positive"
    assert _allowed(quotes, 0) == {" ", " Positive"}
    _write(quotes, 0, " Positive")
    assert _allowed(quotes, 0) == {" cues", " "}  # the space inside the heading
    _write(quotes, 0, " cues", ":")
    assert quotes.open_list[0] == "positive" and quotes.heading_due[0] is None and quotes.owed_in(0, "positive")
    _write(quotes, 0, ' "', "good", '"', " (-2", ".", "5)")
    # nothing owed: free, but for `".`, which would open a quote of "." (`opening_bans`)
    assert _banned(quotes, 0) == {'".'} and _allowed(quotes, 0) is None
    _write(quotes, 0, ".\n")
    assert quotes.open_list[0] is None and quotes.heading_due[0] is None
    negative = 'Negative cues: "hard" (-2.5); "badly" (-2.5); "crisis" (-2.5).'
    assert quotes.chain[0].startswith(negative + ' Positive cues: "good"')


def test_a_list_that_owes_nothing_or_was_given_up_may_end(monkeypatch: pytest.MonkeyPatch) -> None:
    quotes = GroundedQuotes(FullListTokenizer(), [FULL, "It is hard.", FULL])
    _write(quotes, 1, "Negative cues:", ' "', "hard", '"', " (-2", ".", "5)")
    assert not quotes.keeps_open(1) and not quotes.other_due(1) and _banned(quotes, 1) == {'".'}
    _write(quotes, 1, ". Capitals on ")
    assert quotes.heading_due[1] is None and quotes.allowed(1) is None
    # a dead end: the item closes on no owed word ("h" is no word of the input) and the list is released
    _write(quotes, 0, "Negative cues:", ' "', "h", '"')
    assert quotes.released[0] == {"negative"} and not quotes.keeps_open(0) and quotes.owed(0) == frozenset()
    # at most MAX_FORCED_ITEMS items are forced into a list
    monkeypatch.setattr(quotes_module, "MAX_FORCED_ITEMS", 1)
    _write(quotes, 2, "Negative cues:", ' "', "hard", '"', " (-2", ".", "5)")
    assert quotes.owed_in(2, "negative") == {"badly", "crisis"} and not quotes.keeps_open(2)
    # nor past MAX_ITEM_RUN characters after the last item's quote
    monkeypatch.setattr(quotes_module, "MAX_FORCED_ITEMS", 8)
    quotes = GroundedQuotes(FullListTokenizer(), [FULL])
    _write(quotes, 0, "Negative cues:", ' "', "hard", '"', " (-2", ".", "5)")
    for _ in range(18):  # " (-2.5)" and 72 characters more: 79 after the quote
        _write(quotes, 0, " The")
    assert quotes.keeps_open(0)
    _write(quotes, 0, " The")
    assert not quotes.keeps_open(0) and "." not in _banned(quotes, 0)  # it may end (for the positive list)


def test_an_item_after_a_comma_in_a_list_is_an_item() -> None:
    """`Negative cues: "tears" (-1.9), "happy" (+1.9), "happy" ...` to the token limit: a student that
    separates items with commas escaped the count and rated-first rules, which read `;` only."""
    quotes = GroundedQuotes(FullListTokenizer(), [FULL])
    _write(quotes, 0, "Negative cues:", ' "', "hard", '"', " (-2", ".", "5)", ", ", '"')
    assert quotes.heads_item[0] and quotes.item_list[0] == "negative"
    allowed = _allowed(quotes, 0) or set()
    assert {"badly", "crisis"} <= allowed and not {"how", "hard", "h"} & allowed
    _write(quotes, 0, "badly", '"', " (-2", ".", "5)", ";", ' "', "crisis", '"', " (-2", ".", "5)", ".", " Positive")
    _write(quotes, 0, " cues", ":", ' "', "good", '"', " (-2", ".", "5)", ". Capitals on ", '"', "cast", '"', ", ", '"')
    assert quotes.open_list[0] is None and not quotes.heads_item[0]  # a comma outside any list: free
    assert "hard" in (_allowed(quotes, 0) or set())


def test_along() -> None:
    assert along("", " (", " (+1.9)") and along(" (+1", ".", " (+1.9)") and along(" (+1.", "9);", " (+1.9)")
    assert not along(" (+1.", "8", " (+1.9)") and not along(" (+1", ".95", " (+1.9)")
    assert along(" -1.", "4.", " -1.4") and not along(" -1.", "45", " -1.4") and not along("", "", " -1.4")


def test_the_numbers_a_chain_states_are_the_lexicons() -> None:
    """The teacher writes each rated word's lexicon valence, the negated one scaled as VADER scales it,
    and sums them in its balance sentence; a student wrote `"thanks" (+1.9); ":)" (+1.9)` after
    `"good" (+1.9)` and `Positive cues add up to +4.9` over +2.7, +2.3 and +1.4."""
    assert item_number("good") == " (+1.9)" and item_number("KILL") == item_number("kill") == " (-3.7)"
    assert item_number("plays") == " (+1.0)" and item_number("run") is None  # not rated: the model's own
    assert negated_number("bad") == " +1.9" and negated_number("run") is None  # -0.74 x -2.5, rounded
    text = 'Text: Positive cues: "loved" (+2.7); "bad" (-2.5), negated by "Not" so it reads +1.8. '
    text += 'Negative cues: "cry" (-2.1).'  # the chain's own numbers are summed
    balance = "Positive cues add up to +4.5 and negative ones to -2.1, so the positive side weighs more."
    assert chain_balance(text) == balance
    commas = 'Text: Positive cues: "loved" (+2.9). Negative cues: "tears" (-0.9), "cry" (-2.1).'
    assert chain_balance(commas).startswith("Positive cues add up to +2.9 and negative ones to -3.0")
    modified = 'Text: Positive cues: "love" (+3.2). Negative cues: "shame" (-1.9), strengthened by "complete" (+1.9).'
    assert chain_balance(modified).startswith("Positive cues add up to +3.2 and negative ones to -1.9")
    assert chain_balance('Text: Negative cues: "cry" (-2.1); "sad" (-2.1).') == (
        "All sentiment cues point the same way (total -4.2)."
    )
    assert chain_balance("Text: No word in the sentence carries sentiment in the lexicon.") == (
        "Without sentiment cues the sentence reads as neutral."
    )


def test_a_chain_that_concludes_against_its_own_numbers_says_why() -> None:
    """The lexicon teacher, rationalizing a gold polarity its lexicon disagrees with, says so after its
    balance sentence; the shipped default wrote `so the positive side weighs more. Overall the sentiment
    is clearly negative` for "Not bad at all, though the sequel felt a little rushed." and stopped there."""
    assert balance_lean([1.9], [-1.7]) == "positive" and balance_lean([1.7], [-1.9]) == "negative"
    assert balance_lean([0.1, 0.2], [-0.3]) == "negative"  # +0.0 as written: the sentence's "negative side"
    assert balance_lean([], [-0.2]) == "negative" and balance_lean([0.2], []) == "positive"
    assert balance_lean([], []) == "neutral"
    text = 'Text: Positive cues: "bad" (-2.5), negated by "Not" so it reads +1.9. Negative cues: "rushed" (-1.7).'
    balance = "Positive cues add up to +1.9 and negative ones to -1.7, so the positive side weighs more."
    assert chain_balance(text) == balance and chain_rationale(text, "positive") is None
    assert chain_rationale(text, "negative") == (
        "The lexicon alone leans positive, but read as a whole (context, irony or cues the lexicon misses) the "
        "sentence is negative."
    )
    assert chain_rationale(text, "neutral") == rationale_sentence("positive", "neutral")
    none = "Text: No word in the sentence carries sentiment in the lexicon."
    assert chain_balance(none) == "Without sentiment cues the sentence reads as neutral."
    assert chain_rationale(none, "neutral") is None
    assert chain_rationale(none, "positive") == rationale_sentence("neutral", "positive")


class NumberTokenizer(WordTokenizer):
    """Whole-word tokens for list items with their numbers, and a combined part."""

    vocabulary = ['"', "Positive cues:", " ", ' "', "good", "run", " (+", " (-", "1", "2", "5", "8", "9", ".", ")"]
    vocabulary += [");", ").", ", negated by", "not", " so it reads", " +", " -", "\n\nCombined:", " All"]
    vocabulary += [" Positive", " sentiment", " cues", " point", " the", " same", " way", " (total", "x", "4"]
    vocabulary += [
        "<polarity>negative</polarity>",
        " Overall the sentiment is clearly negative, about -1.9 on the -4..4 scale.",
        "\n</think>\n<score>",
        "-",
        " Overall the sentiment is strongly negative, about",
        " Overall the sentiment is clearly positive, about",
    ]


def test_an_items_number_and_the_balance_are_scripted() -> None:
    ids = {text: i for i, text in enumerate(NumberTokenizer.vocabulary)}
    quotes = GroundedQuotes(NumberTokenizer(), ["not good, run", "good run"])

    def write(row: int, *texts: str) -> None:
        for text in texts:
            quotes.advance(row, ids[text])

    def allowed(row: int) -> set[str]:
        return {NumberTokenizer.vocabulary[i] for i in quotes.allowed(row) or []}

    write(1, "Positive cues:", ' "', "good", '"')
    assert allowed(1) == {" ", " (+"}  # " (+1.9)" for "good", piece by piece
    write(1, " (+", "1", ".")
    assert allowed(1) == {"9"}
    write(1, "9")
    assert allowed(1) == {")", ");", ")."}
    write(1, ");", ' "', "run", '"')
    assert quotes.allowed(1) is None  # "run" is not rated: its number is the model's
    # a negated item: the lexicon's number, then the negated one
    write(0, "Positive cues:", ' "', "good", '"', " (+", "1", ".", "9", ")", ", negated by", ' "', "not", '"')
    assert quotes.allowed(0) is None
    write(0, " so it reads")
    assert allowed(0) == {" ", " -"}
    write(0, " -", "1", ".")
    assert allowed(0) == {"4"}  # -0.74 x 1.9
    write(0, "4")
    assert quotes.allowed(0) is None and {ids[d] for d in "12589"} <= set(quotes.banned(0))  # not "-1.45"
    write(0, ".")
    assert not {ids[d] for d in "12589"} & set(quotes.banned(0))
    # the balance sentence, scripted from the chain's own items when the model opens it the teacher's way
    quotes = GroundedQuotes(NumberTokenizer(), ["good run"])
    write(0, "Positive cues:", ' "', "good", '"', " (+", "1", ".", "9", ")", ".", "\n\nCombined:")
    leaning = torch.zeros(len(NumberTokenizer.vocabulary))
    leaning[ids[" All"]] = 5.0
    masked = quotes.mask(leaning.unsqueeze(0), [0])
    assert (~torch.isinf(masked[0])).nonzero().flatten().tolist() == [ids[" "], ids[" All"]]
    total = " All sentiment cues point the same way (total +1.9)."
    assert quotes.script[0] is not None and quotes.script[0][1] == total
    write(0, " All", " sentiment", " cues", " point", " the", " same", " way", " (total", " +", "1", ".", "9")
    assert allowed(0) == {")", ")."}
    write(0, ").")
    assert quotes.allowed(0) is None and quotes.banned(0) == []  # written; it ends in ".", so digits may follow
    write(0, "x")
    assert quotes.allowed(0) is None and quotes.script[0] is None
    # a chain that opened with another polarity than its numbers weigh to: the script says why
    said = GroundedQuotes(NumberTokenizer(), ["good run"])
    for text in ("<polarity>negative</polarity>", "Positive cues:", ' "', "good", '"', " (+", "1", ".", "9", ")"):
        said.advance(0, ids[text])
    said.advance(0, ids["."])
    said.advance(0, ids["\n\nCombined:"])
    said.mask(leaning.unsqueeze(0), [0])
    assert said.script[0] is not None and said.script[0][1] == total  # the verdict comes first, as the model writes it
    for text in (" All", " sentiment", " cues", " point", " the", " same", " way", " (total", " +", "1", ".", "9"):
        said.advance(0, ids[text])
    said.advance(0, ids[")."])
    assert said.allowed(0) is None  # the model's own verdict
    said.advance(0, ids[" Overall the sentiment is clearly negative, about -1.9 on the -4..4 scale."])
    free = torch.zeros(len(NumberTokenizer.vocabulary))
    said.mask(free.unsqueeze(0), [0])
    assert said.script[0] is not None and said.script[0][1] == " " + rationale_sentence("positive", "negative")
    for text in rationale_sentence("positive", "negative").split(" "):  # (whole words: the test vocabulary's own)
        said.chain[0] += " " + text
    said.script[0] = None
    said.advance(0, ids["\n</think>\n<score>"])
    assert said.script[0] is not None and said.script[0][1] == "-1.9"  # the verdict's number, not the total
    assert {NumberTokenizer.vocabulary[i] for i in said.allowed(0) or []} == {"-"}
    # a verdict's number has its polarity's sign: the model wrote "strongly negative, about 2.5"
    verdicts = GroundedQuotes(NumberTokenizer(), ["good run", "good run"])
    verdicts.advance(0, ids[" Overall the sentiment is strongly negative, about"])
    assert {NumberTokenizer.vocabulary[i] for i in verdicts.allowed(0) or []} == {" -"}
    verdicts.advance(1, ids[" Overall the sentiment is clearly positive, about"])
    assert verdicts.allowed(1) is None and {ids[" -"], ids["-"]} <= set(verdicts.banned(1))
    hinted = GroundedQuotes(NumberTokenizer(), ["good run"])  # the polarity a hint in the prompt: not in the chain
    for text in ("Positive cues:", ' "', "good", '"', " (+", "1", ".", "9", ")", ".", "\n\nCombined:"):
        hinted.advance(0, ids[text])
    hinted.mask(leaning.unsqueeze(0), [0])
    assert hinted.script[0] is not None and hinted.script[0][1] == total
    other = GroundedQuotes(NumberTokenizer(), ["good run"])  # a model that opens the part otherwise
    for text in ("Positive cues:", ' "', "good", '"', " (+", "1", ".", "9", ")", ".", "\n\nCombined:"):
        other.advance(0, ids[text])
    leaning = torch.zeros(len(NumberTokenizer.vocabulary))
    leaning[ids["x"]] = 5.0
    assert not torch.isinf(other.mask(leaning.unsqueeze(0), [0])).any() and other.script[0] is None


class BoosterTokenizer(WordTokenizer):
    """Whole-word tokens for a list item and a `strengthened by` clause."""

    vocabulary = ['"', "Positive cues:", " ", ' "', "good", "very", "day", " (+", "1", ".", "9", "),", ")."]
    vocabulary += [" strengthened", " streng", " by", " (", "2", ");", " negated", ";", " boosted", " super"]


def test_a_modifier_is_the_booster_before_the_items_word_and_has_no_number() -> None:
    """The teacher writes `strengthened by "very"` only where a VADER booster stands right before the
    word, and no number for it; the shipped default wrote `"embarrassment" (-1.9), strengthened by
    "complete" (+1.9)`, 372 such clauses in its valid answers, 24 of them naming a VADER booster."""
    vocab = BoosterTokenizer.vocabulary
    ids = {text: i for i, text in enumerate(vocab)}
    quotes = GroundedQuotes(BoosterTokenizer(), ["a very good day", "a good day"])

    def write(row: int, *texts: str) -> None:
        for text in texts:
            quotes.advance(row, ids[text])

    item = ("Positive cues:", ' "', "good", '"', " (+", "1", ".", "9", "),")
    write(0, *item)
    write(1, *item)
    strengthen = {ids[" strengthened"], ids[" streng"], ids[" boosted"]}  # a student's verb too
    assert not strengthen & set(quotes.banned(0))  # "very" stands before "good"
    assert strengthen <= set(quotes.banned(1))  # nothing does
    assert ids[" negated"] not in quotes.banned(1) and ids[" super"] not in quotes.banned(1)
    write(0, " strengthened", " by", ' "')
    allowed = {vocab[i] for i in quotes.allowed(0) or []}
    assert "very" in allowed and "good" not in allowed and "day" not in allowed  # the booster, no other word
    write(0, "very", '"')
    assert {ids[" ("], ids[" (+"]} <= set(quotes.banned(0))  # no number for the modifier
    write(0, ";")
    assert ids[" ("] not in quotes.banned(0)
    write(0, ' "', "good", '"', " (+", "1", ".", "9", "),", " boosted", " by", ' "')  # a student's verb
    assert {vocab[i] for i in quotes.allowed(0) or []} >= {"very"} and "day" not in {
        vocab[i] for i in quotes.allowed(0) or []
    }
    write(0, "very", '"')
    assert ids[" (+"] in quotes.banned(0)
    # an item of a list that is no item's number and comma: nothing banned
    other = GroundedQuotes(BoosterTokenizer(), ["a good day"])
    for text in ("Positive cues:", ' "', "good", '"', " (+", "1", ".", "9", ");", " "):
        other.advance(0, ids[text])
    assert not strengthen & set(other.banned(0))


class EncodingTokenizer(NumberTokenizer):
    """`NumberTokenizer` with short pieces beside its words, and an `encode` that takes the longest token
    at each point (as a BPE tokenizer writes these words)."""

    vocabulary = NumberTokenizer.vocabulary + [" A", "l", "ll", " s", "ent"]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ids = []
        while text:
            piece = max((t for t in self.vocabulary if text.startswith(t)), key=len)
            ids.append(self.vocabulary.index(piece))
            text = text[len(piece) :]
        return ids


def test_a_scripted_text_is_written_as_the_tokenizer_writes_it() -> None:
    """Any token along a script would keep the chain on it; SmolLM2, made to write a sentence it was
    never trained on, chose pieces of one to three letters (176 tokens for an answer of 130)."""
    vocab = EncodingTokenizer.vocabulary
    ids = {text: i for i, text in enumerate(vocab)}
    for tokenizer, expected in ((EncodingTokenizer(), {" All"}), (NumberTokenizer(), {" ", " All"})):
        quotes = GroundedQuotes(tokenizer, ["good run"])
        for text in ("Positive cues:", ' "', "good", '"', " (+", "1", ".", "9", ")", ".", "\n\nCombined:"):
            quotes.advance(0, ids[text])
        leaning = torch.zeros(len(tokenizer.vocabulary))
        leaning[ids[" All"]] = 5.0
        masked = quotes.mask(leaning.unsqueeze(0), [0])
        assert {vocab[i] for i in (~torch.isinf(masked[0])).nonzero().flatten().tolist()} == expected
    quotes.advance(0, ids[" All"])  # NumberTokenizer (no encode): any piece along the script
    assert {vocab[i] for i in quotes.scripted(0)} == {" ", " sentiment"}


def test_the_lexicon_rules_read_the_input_text_not_its_cue_text() -> None:
    """With audio, the cue text's labels ("raw values, no reference", "voice clarity") were read as rated
    words of the input: the chain listed `Positive cues: "values" (+1.7), "clarity" (+1.7)` for "Kids are
    talking by the door". They may still be quoted (grounding reads both), but no list owes them."""
    text = "Kids are talking by the door."
    cues = "Voice (raw values, no reference): voice clarity clear (+1.0 sd); loudness loud!"
    source = f"{text}\n{cues}"
    assert has_rated_word(source) and not has_rated_word(text)
    read = GroundedQuotes(WordTokenizer(), [source, source], texts=[text, None])
    assert read.rated == [False, True] and not any(read.listed[0].values()) and any(read.listed[1].values())
    assert read.bangs == [0, 1] and read.emphatic == [False, True]  # the "!" of the cue text is no emphasis
    assert read.sources[0] == read.sources[1]  # what may be quoted is the same
    with pytest.raises(ValueError, match="1 input texts for 2 sources"):
        GroundedQuotes(WordTokenizer(), [source, source], texts=[text])
    from emoreason.data import Sample, vader_task
    from emoreason.formats import get_format
    from emoreason.formats.conversation import build_conversation
    from emoreason.rewards.composite import Gold

    sample = Sample(id="k", text=text, cues=cues, score=0.0)
    conversation = build_conversation(sample, get_format("c2f"), vader_task("t"), cues=cues)
    assert conversation.input_text == text and conversation.evidence == source
    gold = Gold.from_sample(sample, vader_task("t"), with_cues=True)
    assert (gold.source, gold.words) == (source, text)  # the cue_coverage and negation rewards read `words`


def test_a_token_that_opens_a_quote_with_text_after_the_mark_is_held_to_the_input(tiny: LoadedModel) -> None:
    """Outside a quote every token was free, and ' "+' (one SmolLM2 token; 118 like it) opened a quote already
    holding "+": the next step could only close it, and an ungrounded "+" was decoded as written. (The tiny
    tokenizer has no such token: two stand in for them.)"""
    quotes = GroundedQuotes(tiny.tokenizer, ["I loved this film", "I loved this film"])
    plus, start = 5, 6
    quotes._tokens = quotes._tokens._replace(opening_tails={plus: "+", start: "lov"})
    assert plus in quotes.banned(0) and start not in quotes.banned(0)  # a quote may still open on the input's words
    masked = quotes.mask(torch.zeros(1, len(quotes.texts)), [0])
    assert torch.isinf(masked[0, plus]) and not torch.isinf(masked[0, start])
    quotes.advance(1, token_id(tiny, '"'))
    assert plus not in quotes.banned(1)  # inside a quote the quote's own rules apply
    assert quotes._tokens.opening_tails == {plus: "+", start: "lov"}
