#!/bin/bash
# Grounded quoting's text-opening rule (generation.quotes, forty-first session): for an input with a word
# the lexicon rates, the chain's text part opens with a cue list (`Positive cues:` / `Negative cues:`), as
# the teacher's always does, so it cannot claim `No word in the sentence carries sentiment in the lexicon`
# (the teacher writes that sentence only for inputs without a rated word). PF, the shipped default, made
# the claim in 57 of its 1,851 valid answers for inputs with a rated word ("Not bad at all" among make
# run's examples); with "No" merely banned there it wrote `Without a word the sentiment is neutral`.
#
# What runs: for PF, every valid sentence with a rated word whose saved answer (runs/polarity_sft/valid/
# pf-*-all, the shipped decoding code before this rule) opens its text part otherwise, plus 20 seeded
# controls per domain, answered again with the rule (192 tokens, confidence readout, --no-name-negations as the saved
# answers); cue_repeats/check.py's compare puts the new answers into the whole split.
#
# The rule, written before any answer with it existed (beyond make run's one example): the text-opening
# rule stays on in grounded quoting iff, for every split, the controls come back word for word, no answer
# with a rated word opens its text part without a cue list, no parse rate falls by more than 0.01 and no
# r paired interval lies below 0. Otherwise it becomes an option, off by default.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
P=docs/results/no_cue_claim
who=pf
.venv/bin/python $P/check.py select $who
for d in tweets products movies; do
  out=runs/no_cue_claim/$who-$d
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
    --adapter runs/polarity_sft/pf/final/adapter --out $out -d "jsonl:runs/no_cue_claim/$who-$d.jsonl?scale=-4,4&neutral=0.5" \
    --split all > $out.log 2>&1
  echo "$who $d done $(date +%T)"
done
.venv/bin/python $P/check.py compare $who | tee $P/compare_$who.txt
