#!/bin/bash
# run_pg.sh's rule, with one amendment written before any valid answer of PG existed: PG's answers are
# made with the text-opening rule of grounded quoting (docs/results/no_cue_claim, landed while PG trained), PF's
# saved ones without it. So that both are read with the same decoding code, PG is held against "pfn": PF's
# saved valid answers with those the text-opening rule re-answers put in (runs/no_cue_claim/pf-<d>-merged; the
# rule masks tokens only where the text part opens, so every other greedy answer is the saved one, which
# no_cue_claim's controls check). The rule itself is run_pg.sh's: PG replaces PF iff its mean valid r is
# above pfn's, no parse rate falls by more than 0.01 and no split's r falls with a 95% paired interval
# below 0. (If no_cue_claim's rule fails and the text-opening rule goes off by default, PG's re-answered
# sentences are answered again without it instead, and PG is held against pf.)
cd "$(dirname "$0")/../../.."
V=runs/polarity_sft/valid
for d in tweets products movies; do
  mkdir -p $V/pfn-$d-all
  cp $V/pf-$d-all/run.json $V/pfn-$d-all/
  cp runs/no_cue_claim/pf-$d-merged/predictions.jsonl $V/pfn-$d-all/
done
.venv/bin/python docs/results/polarity_sft/ship_p2.py valid pfn pg > docs/results/polarity_sft/ship_pg.txt
cat docs/results/polarity_sft/ship_pg.txt
