#!/bin/sh
# the ship decision for trained_hint best/ (step 10): a seeded 200 of each valid split, free quoting, paired
# against the shipped adapter (runs/valid/sft, already evaluated)
set -eu
cd /work/main
while [ -n "${WAIT_PID:-}" ] && kill -0 "$WAIT_PID" 2>/dev/null; do sleep 10; done
SPLIT=valid EVAL_OPTIONS=--free-quotes scripts/compare_adapters.sh runs/valid 200 sft=default trained_hint=runs/grpo/trained_hint/best/adapter
echo "== done $(date)"
