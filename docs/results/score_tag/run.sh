#!/bin/bash
# The rules of clauses/run.sh (the rationalized sentence after the verdict, scripts as the tokenizer writes
# them, modifiers the teacher's) and one more (generation.quotes, this session): the score tag holds the
# number the verdict states (`Overall the sentiment is clearly negative, about -1.9 on the -4..4 scale.`
# then `<score>-1.9</score>`), as the lexicon teacher's chains always do. The three failed their rule on
# tweets (clauses/valid.txt) because neutral answers copied the lexicon's total into the score tag after
# the sentence; the product's answers already differ from their verdict's number in 24 / 4 / 29 of the
# valid answers (tweets / products / movies, of 414 / 369 / 1,053 with both).
#
# What runs: as clauses/run.sh, to runs/score_tag and docs/results/score_tag, against the product's answers
# (runs/chain_numbers). Then, after valid has decided, the test splits (SPLIT=test); test decides nothing.
#
# The rule, written before any answer with the score-tag rule existed (beyond the tests): the four stay on
# iff, for every valid split, every answer keeps its polarity, the parse rate falls by no more than 0.01,
# answers ending at the token limit rise by no more than 0.01 of the split, the share of answers whose
# every citation is grounded falls by no more than 0.01, the r of the score the product shows (the shipped
# line) has no paired interval wholly below 0, at least 0.9 of the answers owing the sentence say it,
# verdict agreement falls by no more than 0.01, the modifier clauses not naming the teacher's booster fall
# by at least half, and those with a number fall to at most a tenth of what they were. Otherwise all four
# are taken out again.
#
# Verdict: stopped after tweets (runs/score_tag/valid-tweets; no valid.txt), shipped-line r -0.248
# [-0.343, -0.160]. The shipped default drops the minus of a negative verdict's number (`strongly negative,
# about 2.5`) in 24 / 4 / 29 of its valid answers and writes -2.5 in the score tag all the same; held to the
# verdict as written, 44 tweets score tags changed, those turning positive. signed_verdict/run.sh adds the
# sign rule.
HERE="$(cd "$(dirname "$0")" && pwd)"
RUNS=score_tag exec bash "$HERE/../clauses/run.sh"
