#!/bin/sh
# issue 18: an adapter soup on the seeded 300 per test split, free quoting, paired against SFT (sft_free)
# and against trained_hint best/
set -eu
cd /work/main
for pair in "$@"; do
  name=${pair%%=*}
  EVAL_OPTIONS=--free-quotes scripts/compare_adapters.sh runs/compare 300 sft_free=default "$pair"
  for d in tweets products movies; do
    .venv/bin/emoreason compare runs/compare/trained_hint/$d runs/compare/$name/$d --out runs/compare/${name}_vs_trained_hint_$d.json
  done
done
echo "== done $(date)"
