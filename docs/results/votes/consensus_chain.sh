#!/usr/bin/env bash
# after the valid probe of the shipped default: the same probe on a seeded 200 of each test split
cd /work/main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
while pgrep -f "consensus_probe.py shipped default 5 0.7$" >/dev/null; do sleep 10; done
.venv/bin/python runs/consensus_probe.py shipped default 5 0.7 test 200 >> runs/consensus_shipped_test.log 2>&1
