#!/bin/bash
# The test stage of run.sh's rule: `test.sh shipped` (A's answers, which any candidate needs), then
# `test.sh neg120` only if (v1)-(v3) held on valid. Written before either ran.
# B replaces the shipped default iff (v1)-(v3) held and
#   (t1) on each whole test split (tweets, products, movies) neither B - A's r nor its acc-3 has a
#        paired 95% interval entirely below 0, and
#   (t2) on the test sentences where the lexicon teacher finds a negated cue, B's acc-3 > A's
#        (negation.py test shipped neg120).
# Resumable. Log: runs/negation_sft/test.log.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/negation_sft
who=${1:?give shipped or neg120}
case $who in
  shipped) adapter=src/emoreason/resources/default_adapter ;;
  neg120) adapter=$R/sft/final/adapter ;;
  *) echo "unknown candidate $who" >&2; exit 2 ;;
esac
mkdir -p $R/test
for d in tweets products movies; do
  out=$R/test/$who-$d-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --adapter $adapter --out $out -d vader:$d --split test \
    > $out.log 2>&1
  echo "$who $d done $(date +%T)"
  [ $who = shipped ] || $E compare $R/test/{shipped,neg120}-$d-all --out $R/test/neg120-$d-all-vs-shipped.json
done
echo "all done $(date +%T)"
