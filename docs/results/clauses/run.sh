#!/bin/bash
# Three rules of grounded quoting (generation.quotes, this session), against the product's answers:
#
# 1. The rationalized sentence, second form. Where the chain's own numbers weigh to another side than its
#    polarity (chain_rationale), the sentence the rationalized lexicon teacher writes for it ("The lexicon
#    alone leans positive, but read as a whole (context, irony or cues the lexicon misses) the sentence is
#    negative.") is scripted right after the model's verdict ("Overall the sentiment is ... scale."), not
#    before it as the teacher writes it: the first form (rationale/run.sh) moved the verdicts and their
#    numbers and failed its rule. 67 / 67 / 283 of the product's valid answers conclude against their own
#    sums without a word on why.
# 2. A scripted text is written as the tokenizer writes it: of the tokens along the script, only the first
#    of the tokenizer's own encoding of what is left. Made to write the sentence, the shipped default chose
#    pieces of one to three letters (tweets/2887: 176 tokens, 130 re-encoded).
# 3. A modifier is the teacher's. Right after a list item's number and a comma, `strengthened by` may begin
#    only where the input has a VADER booster right before the item's word (metrics.valence.cue_boosters,
#    the lexicon teacher's rule for it), the quote after `strengthened by` leads to that booster, and a
#    modifier's closing quote is not followed by a number. The product's valid answers hold 378 modifier
#    clauses in 258 answers (`"embarrassment" (-1.9), strengthened by "complete" (+1.9)`, `"good" (+1.9),
#    strengthened by "too busy" (2.1)`); 5 name the booster the teacher would, 194 give the modifier a
#    number of the model's own (check.py). Grounded quotes, false claims.
#    Amended after the first run's tweets answers (read, then discarded, the run begun again): the rule
#    acted on `strengthened by` alone, and the model wrote `boosted by "good" (+1.9)` and `intensified by
#    "often"` instead (tweets: modifier clauses 34 -> 6, 4 of them with another verb, 3 with a number, where
#    a tenth of 15 was allowed). Now any `<word> by` clause but `negated by` is a modifier: its quote leads
#    to the item's booster and takes no number, and the verbs students began one with ("strengthened",
#    "boosted", "intensified" and a few like them) may not begin where the item has no booster.
#
# What runs: every sentence of the three valid splits answered again by the shipped default with the
# product's flags (192 tokens, confidence readout, --no-name-negations), against the product's answers
# (runs/chain_numbers). full_lists/check.py prints the list and number figures, check.py the modifier
# clauses', rationale/check.py the combined parts'. Then, after valid has decided, the test splits
# (SPLIT=test); test decides nothing.
#
# The rule, written before any answer with the second form or rules 2 and 3 existed (beyond make run's five
# and the tests): the three stay on iff, for every valid split, every answer keeps its polarity, the parse
# rate falls by no more than 0.01, answers ending at the token limit rise by no more than 0.01 of the split,
# the share of answers whose every citation is grounded falls by no more than 0.01, the r of the score the
# product shows (the shipped line) has no paired interval wholly below 0, at least 0.9 of the answers owing
# the sentence say it, verdict agreement falls by no more than 0.01, the modifier clauses not naming the
# teacher's booster fall by at least half, and those with a number fall to at most a tenth of what they
# were. Otherwise all three are taken out again.
#
# Verdict (valid.txt): the three fail their rule on tweets, shipped-line r -0.0083 [-0.0152, -0.0027]
# (products -0.0022 [-0.0054, +0.0002], movies +0.0001 [-0.0059, +0.0053]); every other criterion holds:
# every polarity kept, parse rate 0.998 -> 0.995, 0.997 -> 0.997, 0.995 -> 0.996, at the token limit 1 -> 2,
# 1 -> 1, 4 -> 5, grounding within 0.003, the sentence said by 0.985 / 1.000 / 1.000 of the answers owing
# it, verdict agreement 1.000 / 1.000 / 0.999, modifier clauses 34 -> 2, 35 -> 4, 309 -> 16 (the teacher's
# booster 2, 3, 13 of them), with a number 15 / 19 / 160 -> 0, and the answers saying the sentence 27 tokens
# longer than before it, not 62. The cause, read off the answers: after the sentence, neutral answers
# copied the lexicon's total into the score tag (`Overall the sentiment is neutral, about 0 on the -4..4
# scale. The lexicon alone leans negative, ... the sentence is neutral.` then `<score>-1.9</score>`):
# tweets answers saying the sentence, the shipped line's MAE +0.097 [+0.032, +0.175]. Taken out;
# score_tag/run.sh tries them with the score tag held to the verdict's number.
#
# RUNS names another check of the same shape (score_tag/run.sh sets it).
HERE="$(cd "$(dirname "$0")" && pwd)"
split=${SPLIT:-valid}
runs=${RUNS:-clauses}
RUNS=$runs OLD=runs/chain_numbers bash "$HERE/../full_lists/run.sh"
cd "${ROOT:-$HERE/../../..}"
out=docs/results/$runs/$split.txt
.venv/bin/python "$HERE/check.py" runs/chain_numbers runs/$runs "$split" | tee -a $out
.venv/bin/python "$HERE/../rationale/check.py" runs/chain_numbers runs/$runs "$split" | tee -a $out
