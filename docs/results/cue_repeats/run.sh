#!/bin/bash
# Grounded quoting's cue-list count rule (generation.quotes, this session): a quote heading an item of a
# `Positive cues:` / `Negative cues:` list may not close on, or grow into, a word the list has already
# headed as often as the input has it. PD (docs/results/joint_sft) repeated a list cue in 37 / 10 / 60
# of its tweets / products / movies valid answers ("best" (+3.1); "day" (+1.9); "best" (+3.1)), PC with
# the shipped code (pce) in a few; the rule is meant to end that without costing the answer.
#
# What runs: for PC (pce) and PD, every valid sentence whose saved answer repeats a list cue, plus 20
# seeded controls per domain that do not, answered again with the rule (each adapter, PC's flags:
# 192 tokens, confidence readout, --no-name-negations); check.py compare puts the new answers into the
# whole split (the rule masks only tokens that would repeat a spent cue, so greedy answers that never
# reach one are unchanged: the controls must come back word for word).
#
# The rule, written before any answer with it existed: the count rule stays on in grounded quoting iff,
# for both adapters and every split, the controls come back word for word, no answer repeats a list cue
# beyond its input's count, no parse rate falls by more than 0.01 and no r paired interval lies below 0.
# Otherwise it becomes an option, off by default.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
P=docs/results/cue_repeats
declare -A ADAPTER=([pce]=runs/polarity_sft/pc/final/adapter [pd]=runs/joint/pd/final/adapter)
for who in ${WHOS:-pce pd}; do
  .venv/bin/python $P/check.py select $who
  for d in tweets products movies; do
    out=runs/cue_repeats/$who-$d
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
      --adapter ${ADAPTER[$who]} --out $out -d "jsonl:runs/cue_repeats/$who-$d.jsonl?scale=-4,4&neutral=0.5" \
      --split all > $out.log 2>&1
    echo "$who $d done $(date +%T)"
  done
  .venv/bin/python $P/check.py compare $who | tee $P/compare_$who.txt
done
