"""Can decoding make the shipped chain name the negation its input has, and does that change the
answer? A probe, not a feature: a `GroundedQuotes` that, once the chain has written a quoted cue and its
number (`"bad" (-2.5`) for a word VADER's rule negates in the input, forces `), negated by "<the input's
negator>" so it reads` (mode `name`), or that and the opposite sign (mode `flip`), then lets the model
go on. Runs `emoreason analyze --examples` (the `make run` examples) with the shipped default.

    .venv/bin/python docs/results/negation_forcing/probe.py off|name|flip
"""

import re
import sys

from emoreason.generation import engine
from emoreason.generation.quotes import GroundedQuotes
from emoreason.metrics.valence import is_negation, negation_before, vader_lexicon, vader_words

TRIGGER = re.compile(r'["\u201c\u201d]([^"\u201c\u201d\n]+)["\u201c\u201d] \(([+-]?\d+\.\d)$')
MODE = sys.argv[1]


def negated(text):
    """{negated lexicon word (lower case): its negator as the input writes it}"""
    lexicon, words = vader_lexicon(), vader_words(text)
    lowered = [w.lower() for w in words]
    found = {}
    for i, w in enumerate(lowered):
        at = None if is_negation(w) or w not in lexicon else negation_before(lowered, i)
        if at is not None:
            found.setdefault(w, words[at])
    return found


class Forcing(GroundedQuotes):
    def __init__(self, tokenizer, sources):
        super().__init__(tokenizer, sources)
        self.tokenizer = tokenizer
        self.negated = [negated(s) if s else {} for s in sources]
        self.text = [""] * len(sources)
        self.queue = [[] for _ in sources]
        self.done = [set() for _ in sources]

    def mask(self, logits, rows):
        logits = super().mask(logits, rows)
        for slot, row in enumerate(rows):
            if self.queue[row]:
                logits = logits.clone()
                logits[slot] = float("-inf")
                logits[slot, self.queue[row][0]] = 0.0
        return logits

    def advance(self, row, token):
        super().advance(row, token)
        if self.queue[row] and self.queue[row][0] == token:
            self.queue[row].pop(0)
        self.text[row] += self.texts[token] if token < len(self.texts) else ""
        found = TRIGGER.search(self.text[row])
        if found and not self.queue[row]:
            cue = found.group(1).lower()
            if cue in self.negated[row] and cue not in self.done[row]:
                self.done[row].add(cue)
                forced = f'), negated by "{self.negated[row][cue]}" so it reads'
                if MODE == "flip":
                    forced += " +" if float(found.group(2)) < 0 else " -"
                self.queue[row] = self.tokenizer(forced, add_special_tokens=False)["input_ids"]


if MODE != "off":
    engine.GroundedQuotes = Forcing
from emoreason.cli.main import app  # noqa: E402

app(["analyze", "--examples"])
