#!/bin/bash
# The rationalized teacher's sentence (generation.quotes, this session): where grounded quoting scripts the
# balance sentence of a chain's own numbers and the side they weigh to (metrics.valence.balance_lean) is
# not the polarity the chain opened with, the script goes on with the sentence the lexicon teacher writes
# for a gold polarity its lexicon disagrees with (metrics.valence.rationale_sentence): "The lexicon alone
# leans positive, but read as a whole (context, irony or cues the lexicon misses) the sentence is
# negative." With the list and number rules (chain_numbers), the product's answers to the VADER valid
# splits state every rated word with the lexicon's numbers and sum them rightly, and 67 / 67 / 283 of
# 420 / 371 / 1,060 (tweets / products / movies) then conclude against the side their sums weigh to
# without a word on why ("so the positive side weighs more. Overall the sentiment is clearly negative").
# The shipped default never writes the sentence itself: its SFT chains were the filtered ones (the
# teacher's own polarity agreed with the rating), which never carry it.
#
# With it, a mend found by the first minutes of this run (answers read before it discarded, the run begun
# again): since c6c2d3b the balance summed every number the text part states, the numbers students give a
# modifier's quote among them (`"embarrassment" (-1.9), strengthened by "complete" (+1.9)`), which turned
# `negative ones to -4.6` against +3.2 into a positive side of +5.1. A modifier's quote (after "<word> by")
# no longer counts. Answers with such a number in their text part: 12 / 17 / 111 of the valid answers of
# runs/chain_numbers (read before c6c2d3b, so its balances are without them). The comparison below is the
# product's answers before that mend against both.
#
# What runs: every sentence of the three valid splits answered again by the shipped default with the
# product's flags (192 tokens, confidence readout, --no-name-negations), against the product's answers
# today (runs/chain_numbers). full_lists/check.py prints the list and number figures, check.py the
# combined part's. Then, after valid has decided, the test splits (SPLIT=test); test decides nothing.
#
# The rule, written before any answer with the sentence existed (beyond make run's five and the tests):
# the sentence stays in the script iff, for every valid split, every answer keeps its polarity, the parse
# rate falls by no more than 0.01, answers ending at the token limit rise by no more than 0.01 of the
# split, the share of answers whose every citation is grounded falls by no more than 0.01, the r of the
# score the product shows (the shipped line, which reads the number written at the chain's end) has no
# paired interval wholly below 0, the share of combined parts whose verdict ("Overall the sentiment is
# ... X") is the polarity the chain opened with falls by no more than 0.01, and of the answers whose
# own numbers weigh against their polarity at least 0.9 say so. Otherwise it is taken out again.
#
# Verdict (valid.txt): the sentence fails its rule. Answers at the token limit 1 -> 4, 1 -> 4, 4 -> 67
# (movies: 10.6 allowed), parse rate 0.998 -> 0.990, 0.997 -> 0.989, 0.995 -> 0.944; shipped-line r -0.0136
# [-0.0281, -0.0027] (tweets) and -0.0154 [-0.0225, -0.0084] (movies), wholly below 0. Every polarity kept,
# 0.970 / 1.000 / 0.951 of the answers owing the sentence say it, verdict agreement 1.000 / 1.000 / 0.996.
# Two causes, read off the answers: the model wrote the sentence, which it was never trained on, in pieces
# of one to three letters (answers saying it +62 tokens, about 46 more than the tokenizer writes them in),
# and the verdict after it moved ("the sentence is neutral. Overall the sentiment is neutral, about 1.4",
# where it wrote "about 0" before): on the answers saying it the shipped line's MAE rose +0.14 [+0.03, +0.27]
# (tweets), +0.12 [+0.07, +0.18] (movies). Taken out; clauses/run.sh tries a second form.
HERE="$(cd "$(dirname "$0")" && pwd)"
split=${SPLIT:-valid}
RUNS=rationale OLD=runs/chain_numbers bash "$HERE/../full_lists/run.sh"
cd "${ROOT:-$HERE/../../..}"
.venv/bin/python "$HERE/check.py" runs/chain_numbers runs/rationale "$split" | tee -a "$HERE/$split.txt"
