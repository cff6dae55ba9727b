#!/usr/bin/env bash
# The VADER C2F recipe end to end (distill -> SFT -> Hint-GRPO and ablations -> evaluation).
# Installs the project first if needed; resumable: rerun the same command after an interruption.
#   scripts/reproduce_vader.sh                 # full budget (about six and a half hours on a 2-core CPU; resumable)
#   scripts/reproduce_vader.sh --toy --model DIR
set -euo pipefail
cd "$(dirname "$0")/.."
make install
HF_HUB_OFFLINE=1 exec .venv/bin/python scripts/reproduce_vader.py "$@"
