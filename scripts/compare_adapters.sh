#!/usr/bin/env bash
# Evaluate adapters on the same seeded test sentences of the three VADER domains and compare each
# with the first (paired bootstrap, `emoreason compare`). Resumable: rerun to go on.
#   scripts/compare_adapters.sh OUT SAMPLE NAME=ADAPTER [NAME=ADAPTER ...]
#   scripts/compare_adapters.sh runs/compare 300 sft=default rl=runs/grpo/stable_a/best/adapter
# ADAPTER "default" is the shipped default adapter; "none" the base model. EVAL_OPTIONS adds
# evaluate options to every run (e.g. EVAL_OPTIONS=--free-quotes to compare the models' own quoting);
# SPLIT=valid compares on the valid splits (to choose between adapters; the default is test).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1 sample=$2 split=${SPLIT:-test}
shift 2
mkdir -p "$(dirname "$out")"  # its logs go beside OUT before any evaluate makes a folder (runs/ is not in a clone)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
first=""
for pair in "$@"; do
  name=${pair%%=*} adapter=${pair#*=}
  adapter_option=()
  [ "$adapter" != "default" ] && adapter_option=(--adapter "$adapter")
  for domain in tweets products movies; do
    echo "== $name on vader:$domain $split (sample $sample)"
    .venv/bin/emoreason evaluate -d "vader:$domain" --split "$split" --sample "$sample" --seed 0 \
      "${adapter_option[@]}" ${EVAL_OPTIONS:-} --baselines none --out "$out/$name/$domain" >"$out.$name.$domain.log" 2>&1 \
      || { tail -5 "$out.$name.$domain.log"; exit 1; }
  done
  if [ -z "$first" ]; then first=$name; continue; fi
  for domain in tweets products movies; do
    echo "== $name - $first on vader:$domain $split"
    .venv/bin/emoreason compare "$out/$first/$domain" "$out/$name/$domain" --out "$out/${name}_vs_${first}_$domain.json"
  done
done
