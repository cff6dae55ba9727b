#!/bin/bash
# The shipped default's greedy answers, as shipped (the fp16 adapter in resources/default_adapter and the
# decoding code of this commit), to every sentence of the three VADER valid and test splits, with the
# polarity runs' flags (192 tokens, confidence readout so the line can be refitted, --no-name-negations).
# Valid answers: what the score lines of `lines.py` are fitted on and chosen by. Test answers: read once
# by `lines.py test`, and PG's test figures with the shipped form of the text-opening rule (PG's test
# answers of the forty-first session were made with an earlier form).
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/score_line
mkdir -p $R
for split in ${SPLITS:-valid test}; do
  for d in tweets products movies; do
    out=$R/$split-$d
    [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
      --adapter src/emoreason/resources/default_adapter --out $out -d vader:$d --split $split > $out.log 2>&1
    echo "$split $d done $(date +%T)"
  done
done
