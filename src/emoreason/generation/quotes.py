"""Grounded quoting: while a completion is inside double quotes, only tokens that keep the quote
a piece of the input may follow, and the quote may close only on whole words of the input.

A chain is auditable when what it quotes can be found in what the model was given
(`metrics.grounding`); a small model often quotes a word that is not there ("amazing" for "I
absolutely loved this film"). With `SamplingParams(ground_quotes=True)` the engine masks, at every
step inside a quote, the tokens that would leave the input: the model still chooses what to quote
and whether to quote at all, from the words that are really there. Outside quotes nothing changes.

The rules, on the input with its whitespace runs collapsed to one space:
- a quote opens and closes at `"`, `\u201c` or `\u201d` (the quote marks `metrics.grounding` reads);
- inside, a token without a quote mark may follow when quote + token occurs in the input starting
  at a word start, either as written or all lowercase (so "Best" and "best" for "Best", never
  "bEST"), with no leading whitespace, no run of two whitespace characters and no line break;
- a token with a quote mark closes the quote: allowed when quote + the token's text before the
  mark is non-empty and occurs so, ending at a word end, and the rest of the token opens no new
  quote;
- outside a quote, a token with text after its quote mark (' "+') opens a quote already holding that
  text: it may be chosen only when the text may begin a quote of the input (`opening_bans`);
- a character the tokenizer spells only in byte pieces, each decoding alone to U+FFFD (SmolLM2
  writes an emoji as three), is quoted piece by piece: the pieces that spell it alone
  (`byte_spellings`) may follow where the character may, and once one has begun only its next
  piece may; its text joins the quote when the last piece is written;
- if no token qualifies (a dead end), a bare closing token is allowed (a quote mark first, no second
  one), so decoding never stalls and the quote ends as it stands. Letting any token with a quote
  mark close a dead end (as before byte spellings, at every emoji) let `+"` put a quote of "+" into
  the chain.

The other citation `metrics.grounding` checks in a text chain is a count: the lexicon teacher's
`Emphasis: 2 exclamation marks ...`, which the students write for inputs without any "!" as well.
Right after `Emphasis:` (and its spaces), the digits that may follow are those of the input's "!"
count, and none when it has no "!": the model may still write no count (`capitals on ...`). An input
with nothing to emphasise (no "!" and no sentiment word in capitals) cannot start an `Emphasis` sentence at
all: banning only the digits there made the model fill the sentence with another false claim.

The text part's first sentence is a claim too. The teacher opens it with a cue list (`Positive
cues:` / `Negative cues:`) for every input with a word the lexicon rates
(`metrics.valence.lexicon_words`), and with `No word in the sentence carries sentiment in the
lexicon` only for inputs without one (all 18,445 chains it wrote for the three VADER train splits).
For an input with a rated word, where the model speaks the teacher's chain at that point (more
than half its next-token probability right after `Text:` and its spaces is on tokens beginning
"Positive", "Negative" or "No", the teacher's three openings), the token must begin "Positive" or
"Negative": the shipped default opened 57 of its 1,851 answers to the VADER valid splits with the
no-cue sentence where the input had a rated word (`No word "bad" in the sentence carries sentiment`
for "Not bad at all"); with only "No" banned there, it answered that example `Without a word the
sentiment is neutral`, so the rule names what may open the part. A model trained on other chains,
whose text part opens otherwise ("Text: The speaker ..."), puts little probability there and is left
alone. Like the `Emphasis` and cue-list rules, it reads the lexicon teacher's sentences. Which list
opens the part is the teacher's order too: `Positive` where the input has a word the teacher lists as
positive (`metrics.valence.listed_cues`, negation applied), else `Negative` (with both lists due, the
shipped default opened "Not bad at all, though the sequel felt a little rushed." with `Negative cues:
"not" (-1.2)` and lost its way in the part after it).

A cue list counts too. A quote that heads an item of a `Positive cues:` / `Negative cues:` list (it
opens right after `cues:` or `;`, or after a comma inside a list) may not close on a word the list has
already headed as often as the input has it (compared without case or the punctuation around it: "Best."
is "best"), and it may not grow into such a word (a quote is not pushed on into a longer phrase
instead). The lexicon teacher's chains never head an item with a word more often than their input has it
(none of the 18,445 it wrote for the three VADER train splits, 3,746 filtered and 14,699 rationalized);
students trained longer on them loop through their list (`"best" (+3.1); "day" (+1.9); "best" (+3.1)`
for "Best. Day. Ever."). Quotes elsewhere (`negated by "not"`, `capitals on "WELL"`, the contrast
sentence's clause) repeat list words by design and are left alone.

And a cue list names the input's rated words first. While the input has a word the lexicon teacher
would list under the list's heading (`metrics.valence.listed_cues`: a word the lexicon rates, in the
`Positive` or `Negative` list by the sign of its valence after negation) that the row's lists have not
yet headed as often as the input has it, an item's quote may close only on such a word. The teacher
heads no other word; the shipped default headed a word the lexicon does not rate in a quarter to a half
of its list items on the VADER valid splits (`Negative cues: "how" (-1.7)` for "It is hard to overstate
how badly the administration has mishandled this crisis."), and in 463 of its 1,851 answers an item
named another word while a rated word of that list's sign was unnamed (docs/results/rated_cues). Once
those words are named the list is free again (the model may add a word of its own, "witty", or end the
list), and a list whose sign the input has no rated word of is free throughout: nothing is forced into
a list that would contradict its heading.

And a cue list goes on while it owes. While the open list's sign has such a word left to name, the
list may not end (no full stop outside quotes that is no decimal point, no line break), and each of its
items opens with a quote (after `cues:` or `;`, only a quote mark, one space before it or not), which the
rule above then leads to an owed word. When a list ends and the input has rated words of the other sign
but no list of it yet, the next sentence is that list's heading (`Negative cues:` after a positive list,
and the other way round; the first list ends with a plain full stop for it). The rated-first rule orders
a list; the shipped default still named one word where the input had several of its sign, and left the
other sign's list out: with the rated-first rule, its answers to the VADER valid splits left 264 / 91 /
652 rated words unnamed in a list they had opened and 122 / 110 / 751 in a list they never opened
(tweets / products / movies; docs/results/full_lists). A list whose item closed on another word (the
dead end below) owes nothing more, and the rule forces at most `MAX_FORCED_ITEMS` items into a list, so
that an answer to a long input keeps within the default token budget; beyond them the model may go on.
Nor does it hold a list open more than `MAX_ITEM_RUN` characters past its last item's quote: kept from
ending, the shipped default once wrote on about "the -4.0 scale" to the token limit.

And a chain's numbers are the lexicon's. A list item that quotes a word the lexicon rates
(`metrics.valence.cue_valence`) goes on with its valence as the teacher writes it, ` (+1.9)` for "good";
after `so it reads` in such an item's negation clause comes the valence negated as VADER negates it
(` -1.4`); and where the model opens its combined part with the teacher's balance sentence (more than half
its next-token probability right after `Combined:` on tokens beginning "Positive", "All" or "Without"),
the whole sentence is the one the chain's own list items make (`metrics.valence.balance_sentence` over
their numbers, after negation). A scripted number may not run on into a digit ("+1.98"). With the lists
complete, the shipped default gave every item of a list its first item's number (`"good" (+1.9);
"thanks" (+1.9); ":)" (+1.9)`), summed them wrongly (`Positive cues add up to +4.9` over +2.7, +2.3 and
+1.4) and wrote `All sentiment cues point the same way` over two lists of opposite signs: on the VADER
valid splits 0.51 / 0.68 / 0.42 of its combined parts opened with the sentence its own items make, and
19% / 24% / 15% of its rated items had the lexicon's number; with these rules 0.99 / 0.99 / 1.00 and all
(docs/results/full_lists, chain_numbers). A word the lexicon does not rate keeps the model's own number
(the audit names it: `unrated_cues`). A verdict's number has its polarity's sign, and the score tag
holds it (`Overall the sentiment is clearly negative, about -1.9 on the -4..4 scale.` then
`<score>-1.9</score>`), as the teacher's always do: the shipped default wrote `strongly negative, about 2.5`
in 24 / 4 / 29 of its valid answers (its score tag then held -2.5, in every one), and after the
rationalized sentence (below) it copied the lexicon's total into the score tag (`about 0 ...` then
`<score>-1.9</score>`, docs/results/clauses; held to the verdict as written, the tag took the sign-dropped
number: docs/results/score_tag). A scripted text is written as the tokenizer writes it: of the tokens
along it, only the first of the tokenizer's own encoding of what is left (a tokenizer without `encode`
may take any). Made to write a sentence it was never trained on, the shipped default chose pieces of one to
three letters, 46 tokens more an answer, and went on less like itself after them.

And a chain says why it concludes against its own numbers. Where the balance sentence is scripted and the
side its numbers weigh to (`metrics.valence.balance_lean`) is not the polarity the chain opened with, the
sentence the rationalized lexicon teacher writes for a polarity its lexicon disagrees with
(`chain_rationale`, `metrics.valence.rationale_sentence`) is scripted right after the model's verdict
(`Overall the sentiment is ... scale.`): `The lexicon alone leans positive, but read as a whole (context,
irony or cues the lexicon misses) the sentence is negative.` With the list and number rules the chain is
the lexicon's reading of the whole input, and 67 / 67 / 283 of the shipped default's valid answers then
concluded against it without a word on why. The teacher writes the sentence before its verdict; scripted
there, it moved the model's verdicts and their numbers (valid r -0.014 / -0.003 / -0.015, 67 movie answers
of 1,060 at the token limit: docs/results/rationale), so it follows the verdict. A modifier's quote is no
cue: a number a student gives it is left out of the balance. Where the polarity is not in the chain (a
hint in the prompt) nothing is added.

And a modifier is the teacher's. Right after a list item's number and a comma, a modifier clause may begin
only where the input has a VADER booster right before the item's word (`metrics.valence.cue_boosters`, the
teacher's rule for `strengthened by`: the verbs students began one with, "strengthened", "boosted",
"intensified" and a few like them, are banned there otherwise); the quote after `<word> by` (any but
`negated by`) then leads to that booster, and a modifier's closing quote is not followed by a number. Of
the 378 modifier clauses in the shipped default's valid answers, 5 named the booster the teacher would and
194 gave the modifier a number of the model's own (`"embarrassment" (-1.9), strengthened by "complete"
(+1.9)`: grounded, and false; docs/results/clauses).

Why so strict about case and spaces (`metrics.grounding` compares lowercased, whitespace
collapsed): a rule as loose as the metric let a model that wanted to quote a word the input
lacks spell its way through the input in odd-cased pieces with doubled spaces (`"hough  tHe
sEQUEl  fElT`), starting mid-word so that it could never close, until the token limit. Now a
quote can only grow along the input, one space at a time, so it ends within the input's length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch

from emoreason.generation.chain_text import (
    AFTER_ITEM_NUMBER,
    COMBINED_AT,
    COMMA_ITEM_AT,
    COUNT_AT,
    FIRST_MARK,
    HEADING_END,
    HEADINGS,
    ITEM_AT,
    JUST_EM,
    MARK_ENDS,
    MODIFIER_CLOSED,
    MODIFIER_QUOTE_AT,
    OTHER_LIST,
    QUOTE_MARKS,
    READS_AT,
    SCORE_AT,
    STATED_POLARITY,
    TEXT_AT,
    VERDICT_END,
    VERDICT_NUMBER,
    along,
    can_close_fresh,
    chain_balance,
    chain_rationale,
    continuation_allowed,
    count_tokens,
    cue_key,
    has_emphasis,
    has_rated_word,
    heading_allowed,
    item_number,
    list_end,
    lowered,
    negated_number,
    normalize,
    occurrences,
    tail_class,
    vader_listed_cues,
    verdict_sign,
    word_starts,
)
from emoreason.generation.chain_vocab import byte_spellings, chain_tokens, encode_cached, quote_vocabulary, token_texts
from emoreason.metrics.valence import cue_boosters

# how far the "goes on" rule forces a list (module doc): 8 items of about 9 tokens each, and no further than
# this many characters past the last item's quote (the teacher's longest, `"x" (-2.5), strengthened by
# "very", negated by "not" so it reads +1.9; `, is about 60)
MAX_FORCED_ITEMS = 8
MAX_ITEM_RUN = 80


class GroundedQuotes:
    """The quote state of each row of a batch and the mask it puts on the next token's logits.

    `sources[row]` is the input text row's citations must quote (None: that row is free); `texts[row]`
    its own words without the cue text (`Conversation.input_text`; None: all of `sources`), which the
    lexicon teacher's rules read: the rated words a list owes, the "!" count, emphasis, boosters."""

    def __init__(self, tokenizer: object, sources: Sequence[str | None], texts: Sequence[str | None] | None = None):
        self.texts = token_texts(tokenizer)
        self._encode = getattr(tokenizer, "encode", None)  # how the tokenizer writes a scripted text
        self.sources = [normalize(s) if s else None for s in sources]
        if texts is not None and len(texts) != len(sources):
            raise ValueError(f"{len(texts)} input texts for {len(sources)} sources")
        #: each row's own words, as `normalize` writes them: the lexicon rules' input ("" for a row whose
        #: text is "", an audio clip alone; its whole source where its text is None, not known apart)
        given = texts if texts is not None else [None] * len(sources)
        self.words = [(normalize(t) if t else "") if t is not None else (s or "") for t, s in zip(given, self.sources)]
        self.inside = [False] * len(sources)
        self.quote = [""] * len(sources)
        self._candidates: dict[str, list[int]] = {}  # by source: the n rows of one prompt share theirs
        self._opening_bans: dict[str, list[int]] = {}  # likewise (`opening_bans`)
        self._marks, self._plain, bare = quote_vocabulary(tokenizer)
        self.closing = list(bare)  # what a dead end may choose (module doc)
        # characters spelled in byte pieces, per row (empty for an ASCII input: nothing below runs),
        # and the pieces of one written so far inside the open quote
        self.spellings = [byte_spellings(tokenizer, s) if s else {} for s in self.sources]
        self.pending: list[tuple[int, ...]] = [() for _ in sources]
        self.bangs = [w.count("!") for w in self.words]
        self.emphatic = [bool(w.strip()) and has_emphasis(w) for w in self.words]
        self.rated = [bool(w.strip()) and has_rated_word(w) for w in self.words]
        self._tokens = chain_tokens(tokenizer)
        self.chain = [""] * len(sources)  # each row's completion so far (constrained rows only)
        self.heads_item = [False] * len(sources)  # the open quote heads an item of a cue list
        self.item_list: list[str | None] = [None] * len(sources)  # ... of that list ("positive"/"negative")
        self.listed = [vader_listed_cues(w) if w.strip() else {} for w in self.words]
        self.headed: list[Counter[str]] = [Counter() for _ in sources]  # each row's list items, by cue_key
        # the cue list being written (its sign; None outside any), the lists opened, each list's items,
        # the lists that stopped owing (an item closed on another word), the heading the next sentence
        # must be and where the chain stood when it fell due (the "goes on" rules of the module doc)
        self.open_list: list[str | None] = [None] * len(sources)
        self.opened: list[set[str]] = [set() for _ in sources]
        self.items: list[Counter[str]] = [Counter() for _ in sources]
        self.released: list[set[str]] = [set() for _ in sources]
        self.list_quotes = [0] * len(sources)  # quotes closed in the list being written, items or not
        self.item_end = [0] * len(sources)  # where in the chain the list's last item quote (or heading) ended
        self.heading_due: list[str | None] = [None] * len(sources)
        self.due_from = [0] * len(sources)
        # text the chain must write next and where in the chain it began (an item's number, a negated
        # item's, the balance sentence); the last list item's quote; whether the balance is written
        self.script: list[tuple[int, str] | None] = [None] * len(sources)
        self.last_item = [""] * len(sources)
        self.balanced = [False] * len(sources)
        self.rationale: list[str | None] = [None] * len(sources)  # the sentence due after the verdict
        # the boosters before each word of the input (the teacher's `strengthened by`), and whether the open
        # quote names the last list item's modifier
        self.boosters = [cue_boosters(w) if w.strip() else {} for w in self.words]
        self.modifies = [False] * len(sources)

    def spent(self, row: int) -> frozenset[str]:
        """The cues this row's lists have headed as often as its input has them."""
        words = self.words[row]
        return frozenset(key for key, n in self.headed[row].items() if n >= occurrences(key, words))

    def owed(self, row: int) -> frozenset[str]:
        """The rated words the open item's list must name before any other: those the teacher lists
        under its heading (lower case, as VADER reads them: "=p") that this row's lists have headed
        (counted by `cue_key`: "p") fewer times than the input has them."""
        return self.owed_in(row, self.item_list[row])

    def owed_in(self, row: int, sign: str | None) -> frozenset[str]:
        """`owed` of the list of `sign` ("positive" / "negative"); nothing once it is released."""
        if sign is None or sign in self.released[row]:
            return frozenset()
        listed = self.listed[row].get(sign, {})
        return frozenset(key for key, n in listed.items() if self.headed[row][cue_key(key)] < n)

    def item_boosters(self, row: int) -> frozenset[str]:
        """The boosters the input has right before the last list item's word (lower case): what its
        `strengthened by` may name."""
        return self.boosters[row].get(cue_key(self.last_item[row]), frozenset())

    def first_list(self, row: int) -> str:
        """The list a text part opens with: the positive one where the input has a word the teacher
        lists there, as the teacher writes its lists (positive, then negative), else the negative one."""
        return "positive" if self.listed[row].get("positive") else "negative"

    def keeps_open(self, row: int) -> bool:
        """Whether the list being written must go on: it owes a word, has had fewer than
        `MAX_FORCED_ITEMS` items (and fewer than twice as many quotes) and has not run on more than
        `MAX_ITEM_RUN` characters past its last item's quote."""
        sign = self.open_list[row]
        if sign is None or self.items[row][sign] >= MAX_FORCED_ITEMS or self.list_quotes[row] >= 2 * MAX_FORCED_ITEMS:
            return False  # (quotes: a list that loops through clauses other than items is let go too)
        if len(self.chain[row]) - self.item_end[row] > MAX_ITEM_RUN:
            return False  # an item that runs on without ending ("which adds a negative factor of about ...")
        return bool(self.owed_in(row, sign))

    def other_due(self, row: int) -> bool:
        """Whether the list of the other sign than the one being written must follow it: the input has
        rated words of that sign and the chain no list of it yet."""
        sign = self.open_list[row]
        other = OTHER_LIST[sign] if sign else None
        return other is not None and other not in self.opened[row] and bool(self.owed_in(row, other))

    def list_bans(self, row: int) -> frozenset[int]:
        """The tokens that may not end the list being written: every ender while it must go on, and
        those leaving more than spaces after the full stop while the other list must follow."""
        if self.open_list[row] is None:
            return frozenset()
        every, wordy = self._tokens.list_enders[tail_class(self.chain[row]), self.inside[row]]
        if self.keeps_open(row):
            return every
        return wordy if self.other_due(row) else frozenset()

    def candidates(self, row: int) -> list[int]:
        """Tokens that can appear in a quote of this row's input at all (a quote mark, or text
        found in the input): the few hundred the per-step check looks at."""
        source = self.sources[row] or ""
        if source not in self._candidates:
            text = lowered(source)
            found = [i for i, squashed in self._plain if squashed in text]
            self._candidates[source] = sorted([*self._marks, *found])
        return self._candidates[source]

    def allowed(self, row: int) -> list[int] | None:
        """The token ids allowed next for `row`; None when it is not constrained now."""
        source = self.sources[row]
        if source is None:
            return None
        if not self.inside[row]:
            scripted = self.scripted(row)
            if scripted:
                bans = self.list_bans(row)
                return [i for i in scripted if i not in bans] or scripted
            if verdict_sign(self.chain[row]) == "negative":  # the model wrote "strongly negative, about 2.5"
                return self._tokens.by_text.get(" -") or None
            at = COUNT_AT.search(self.chain[row])
            if at is not None:
                return count_tokens(self.texts, self.bangs[row], at.group(1))
            due = self.heading_due[row]
            if due is not None:  # the other list's heading, piece by piece
                written = self.chain[row][self.due_from[row] :]
                pieces = self._tokens.heading_pieces
                return [i for i in pieces if heading_allowed(written, self.texts[i], HEADINGS[due])] or None
            if self.keeps_open(row) and ITEM_AT.search(self.chain[row]):  # an item of a list that owes
                space = [] if self.chain[row].endswith(" ") else self._tokens.space
                return self._tokens.quote_openers + space if self._tokens.quote_openers else None
            return None
        quote = self.quote[row]
        spent, owed = (self.spent(row), self.owed(row)) if self.heads_item[row] else (frozenset(), frozenset())
        if self.modifies[row]:  # the item's booster, where the input has one (else the clause is free)
            owed = self.item_boosters(row)
        spelled = self._next_pieces(row, spent, owed) if self.spellings[row] else []
        if self.pending[row]:
            return spelled or self.closing  # inside a character: only its next piece
        ok = [i for i in self.candidates(row) if continuation_allowed(quote, self.texts[i], source)]
        if spent or owed:
            ok = [i for i in ok if self._item_ok(quote, self.texts[i], source, spent, owed)]
        bans = self.list_bans(row)
        if bans:  # a closer that ends the sentence too (`".`): never the only way out
            ok = [i for i in ok if i not in bans] or ok
        return ok + spelled or self.closing

    def _next_pieces(self, row: int, spent: frozenset[str], owed: frozenset[str]) -> list[int]:
        """The byte pieces that go on spelling a character the open quote may take next."""
        quote, source, pending = self.quote[row], self.sources[row] or "", self.pending[row]
        at = len(pending)
        return sorted(
            {
                ids[at]
                for char, ids in self.spellings[row].items()
                if len(ids) > at
                and ids[:at] == pending
                and continuation_allowed(quote, char, source)
                and (not (spent or owed) or self._item_ok(quote, char, source, spent, owed))
            }
        )

    @staticmethod
    def _item_ok(quote: str, token: str, source: str, spent: frozenset[str], owed: frozenset[str]) -> bool:
        """Whether an allowed `token` keeps a list item's quote on the way to one of the `owed` cues
        while there are any (they are never spent), else off the `spent` ones."""
        mark = FIRST_MARK.search(token)
        if mark is None:  # the quote goes on: toward an owed word (an emoticon too), else off the spent ones
            phrase = quote + token
            if owed:  # one with punctuation after it ("Best."), or where the input has the quote as written,
                # the start of one there ("gre", ":" of ":)", "=" of "=P"; not "G" of "GAYZ" for "giving")
                if cue_key(phrase) in {cue_key(key) for key in owed}:
                    return True
                return any(
                    text[start : start + len(key)].lower() == key
                    for text, start in word_starts(phrase, source)
                    for key in owed
                    if len(key) >= len(phrase)
                )
            return can_close_fresh(phrase, source, spent)
        key = cue_key(quote + token[: mark.start()])
        return key in {cue_key(k) for k in owed} if owed else key not in spent

    def scripted(self, row: int) -> list[int]:
        """The tokens that go on writing `row`'s scripted text (`along`); none once it is written, or
        where the chain has left it (then it is dropped)."""
        script = self.script[row]
        if script is None:
            return []
        start, target = script
        written = self.chain[row][start:]
        if len(written) >= len(target) or not target.startswith(written):
            if written != target:  # kept while just written: a digit may not follow it (`banned`)
                self.script[row] = None
            return []
        rest = target[len(written) :]
        first = self._first_token(rest)
        if first is not None:  # as the tokenizer writes it (the model's own sentences, not letter by letter)
            pieces = [first]
        else:
            pieces = [i for end in range(1, len(rest) + 1) for i in self._tokens.by_text.get(rest[:end], ())]
        if len(rest) < 4:  # a token going past the end (");" after "+1.9"): the endings are 2 to 4 long
            endings = self._tokens.endings
            pieces += [i for i in endings if len(self.texts[i]) > len(rest) and along(written, self.texts[i], target)]
        return pieces

    def _first_token(self, text: str) -> int | None:
        """The first token of the tokenizer's own encoding of `text`, where its text begins `text`; None
        for a tokenizer without `encode`. Any token along the text would do for the mask; SmolLM2, made to
        write a sentence it was never trained on (`rationale_sentence`), chose pieces of one to three
        letters, 176 tokens for an answer the tokenizer writes in 130."""
        if self._encode is None:
            return None
        ids = encode_cached(self._encode, text)
        return ids[0] if ids and ids[0] < len(self.texts) and text.startswith(self.texts[ids[0]] or "\0") else None

    def opens_balance(self, row: int, logits: torch.Tensor) -> bool:
        """Whether `row`'s combined part opens here with the teacher's balance sentence: the part opens
        now and the model puts more than half its probability on the sentence's three openings. Then
        the sentence is scripted from the chain's own list items (`chain_balance`), and the rationalized
        sentence falls due where they weigh against the polarity the chain opened with (`opens_rationale`)."""
        chain = self.chain[row]
        if self.inside[row] or self.balanced[row] or self.script[row] or not COMBINED_AT.search(chain):
            return False
        openers = self._tokens.balance_openers
        openers = openers[openers < logits.shape[-1]].to(logits.device)
        if float(torch.softmax(logits.float(), dim=-1)[openers].sum()) <= 0.5:
            return False
        self.balanced[row] = True
        text_part = chain[: COMBINED_AT.search(chain).start()]  # type: ignore[union-attr]
        self.script[row] = (len(chain), ("" if chain.endswith((" ", "\t")) else " ") + chain_balance(text_part))
        stated = STATED_POLARITY.search(chain)
        self.rationale[row] = chain_rationale(text_part, stated.group(1)) if stated else None
        return True

    def opens_rationale(self, row: int) -> bool:
        """Whether `row`'s verdict (`Overall the sentiment is ... scale.`) has just ended on a chain whose
        numbers weigh against its polarity (`opens_balance` found it so): then the rationalized teacher's
        sentence is scripted. The teacher writes it before the verdict; written after it, the verdict and
        the number in it are the model's as they were (written before it, they moved: valid r fell by
        0.014 / 0.003 / 0.015, docs/results/rationale)."""
        chain = self.chain[row]
        if self.inside[row] or self.rationale[row] is None or self.script[row] or not VERDICT_END.search(chain):
            return False
        self.script[row] = (len(chain), ("" if chain.endswith((" ", "\t", "\n")) else " ") + self.rationale[row])
        self.rationale[row] = None
        return True

    def opens_with_cues(self, row: int, logits: torch.Tensor) -> bool:
        """Whether `row`'s text part must open with a cue list here: its input has a rated word, the
        part opens now, and the model (`logits`: this row's next-token scores) puts more than half
        its probability on the teacher's three openings."""
        if not (self.rated[row] and not self.inside[row] and TEXT_AT.search(self.chain[row])):
            return False
        openers = self._tokens.text_openers
        openers = openers[openers < logits.shape[-1]].to(logits.device)
        return float(torch.softmax(logits.float(), dim=-1)[openers].sum()) > 0.5

    def banned(self, row: int) -> list[int]:
        """Tokens banned for `row` where `allowed` leaves it free: the start of an `Emphasis`
        sentence, for an input with nothing to emphasise; the ends of a list that must go on; a digit after
        a scripted number; a modifier clause's verb after an item without a booster, and a number after a
        modifier's quote; a minus at a positive verdict's number."""
        if self.sources[row] is None or self.inside[row]:
            return []
        banned = sorted(self.list_bans(row))
        chain = self.chain[row]
        script = self.script[row]
        if script is not None and script[1][-1].isdigit() and chain[script[0] :] == script[1]:
            banned += self._tokens.digit_starts  # "+1.9" scripted: not "+1.98"
        if self.last_item[row] and AFTER_ITEM_NUMBER.fullmatch(chain, self.item_end[row]):
            if not self.item_boosters(row):  # no booster stands before the item's word: no `strengthened by`
                banned += self._tokens.modifier_starts
        elif chain.rstrip(" \t").endswith(MARK_ENDS) and MODIFIER_CLOSED.search(chain):
            banned += self._tokens.paren_starts  # the teacher gives a modifier no number
        if verdict_sign(chain) == "positive":
            banned += self._tokens.minus_starts  # a positive verdict's number is not negative
        banned += self.opening_bans(row)
        if self.emphatic[row]:
            return banned
        return banned + (self._tokens.after_em if JUST_EM.search(self.chain[row]) else self._tokens.emphasis_starts)

    def opening_bans(self, row: int) -> list[int]:
        """The tokens that would open a quote already holding text the input does not allow there (' "+'
        opened a quote of "+", then only closing was allowed: an ungrounded quote decoded as written)."""
        source = self.sources[row] or ""
        if source not in self._opening_bans:
            tails = self._tokens.opening_tails.items()
            self._opening_bans[source] = [i for i, tail in tails if not continuation_allowed("", tail, source)]
        return self._opening_bans[source]

    def mask(self, logits: torch.Tensor, rows: Sequence[int]) -> torch.Tensor:
        """`logits` [len(rows), vocab] with the disallowed tokens of each constrained row at -inf."""
        masked = None
        for slot, row in enumerate(rows):
            allowed = self.allowed(row)
            if allowed is None and self.opens_with_cues(row, logits[slot]):
                allowed = self._tokens.list_openers[self.first_list(row)]
            if allowed is None and self.opens_balance(row, logits[slot]):
                allowed = self.scripted(row) or None
            if allowed is None and self.opens_rationale(row):
                allowed = self.scripted(row) or None
            if allowed is None:
                banned = [i for i in self.banned(row) if i < logits.shape[-1]]
                if banned:
                    masked = logits.clone() if masked is None else masked
                    masked[slot, banned] = float("-inf")
                continue
            if masked is None:
                masked = logits.clone()
            keep = torch.zeros(logits.shape[-1], dtype=torch.bool, device=logits.device)
            keep[torch.tensor([i for i in allowed if i < logits.shape[-1]], dtype=torch.long)] = True
            masked[slot].masked_fill_(~keep, float("-inf"))
        return logits if masked is None else masked

    def advance(self, row: int, token: int) -> None:
        """Follow the chain and its quote marks with the token chosen for `row`."""
        if self.sources[row] is None:
            return
        spelling = self.pending[row] + (token,) if self.inside[row] and self.spellings[row] else ()
        if spelling and any(ids[: len(spelling)] == spelling for ids in self.spellings[row].values()):
            self.pending[row] = spelling
            done = next((c for c, ids in self.spellings[row].items() if ids == spelling), None)
            if done is not None:  # the character is written: its text joins the quote
                self.quote[row] += done
                self.chain[row] += done
                self.pending[row] = ()
            return
        text = self.texts[token] if token < len(self.texts) else ""
        for char in text:
            if char in QUOTE_MARKS:
                if self.inside[row] and self.heads_item[row]:
                    self._item_closed(row)
                if self.inside[row] and self.open_list[row] is not None:
                    self.list_quotes[row] += 1
                self.heads_item[row] = not self.inside[row] and (
                    bool(ITEM_AT.search(self.chain[row]))
                    or (self.open_list[row] is not None and bool(COMMA_ITEM_AT.search(self.chain[row])))
                )
                self.item_list[row] = self.open_list[row] if self.heads_item[row] else None
                self.modifies[row] = not self.inside[row] and bool(MODIFIER_QUOTE_AT.search(self.chain[row]))
                self.inside[row] = not self.inside[row]
                self.quote[row] = ""
                self.pending[row] = ()
            elif self.inside[row]:
                self.quote[row] += char
            elif self.open_list[row] is not None and list_end(self.chain[row], char, inside=False) is not None:
                self._list_ended(row, char)
            elif char == "\n":
                self.heading_due[row] = None
            self.chain[row] += char
            if self.inside[row] or self.sources[row] is None:
                continue
            if char == ">" and SCORE_AT.search(self.chain[row]):  # the score is the verdict's number
                stated = VERDICT_NUMBER.findall(self.chain[row])
                self.script[row] = (len(self.chain[row]), stated[-1]) if stated else None
            if char == "s" and self.open_list[row] is not None and READS_AT.search(self.chain[row]):
                number = negated_number(self.last_item[row])
                self.script[row] = None if number is None else (len(self.chain[row]), number)
            if char == ":":
                opened = HEADING_END.search(self.chain[row])
                if opened is not None:
                    self.open_list[row] = opened.group(1).lower()
                    self.list_quotes[row] = 0
                    self.item_end[row] = len(self.chain[row])
                    self.opened[row].add(self.open_list[row])
                    self.heading_due[row] = None

    def _item_closed(self, row: int) -> None:
        """Count the list item whose quote closes; a list whose item named another word than it owed
        (a dead end) is released from the "goes on" rules."""
        sign, key = self.item_list[row], cue_key(self.quote[row])
        owed = self.owed_in(row, sign)
        self.last_item[row] = self.quote[row]
        self.item_end[row] = len(self.chain[row]) + 1
        number = item_number(self.quote[row])  # it begins after the closing mark, not yet in the chain
        self.script[row] = None if number is None else (len(self.chain[row]) + 1, number)
        if sign is not None:
            self.items[row][sign] += 1
            if owed and key not in {cue_key(word) for word in owed}:
                self.released[row].add(sign)
        self.headed[row][key] += 1

    def _list_ended(self, row: int, char: str) -> None:
        """The list being written ends at `char`: the other list falls due after a full stop."""
        due = char == "." and self.other_due(row)
        self.heading_due[row] = OTHER_LIST[self.open_list[row] or ""] if due else None
        self.due_from[row] = len(self.chain[row]) + 1
        self.open_list[row] = None


class QuoteLogitsProcessor:
    """`GroundedQuotes` as a transformers logits processor, for `model.generate` (the multimodal
    families): each call first follows the token chosen at the previous step, then masks."""

    def __init__(self, quotes: GroundedQuotes, prompt_width: int):
        self.quotes, self.prompt_width = quotes, prompt_width

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        rows = range(input_ids.shape[0])
        if input_ids.shape[1] > self.prompt_width:
            for row in rows:
                self.quotes.advance(row, int(input_ids[row, -1]))
        return self.quotes.mask(scores, rows)


__all__ = ["GroundedQuotes", "QuoteLogitsProcessor", "MAX_FORCED_ITEMS", "MAX_ITEM_RUN"]
