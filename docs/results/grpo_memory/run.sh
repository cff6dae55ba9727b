#!/bin/bash
# A GRPO run's resident memory over 30 steps, with the loop's heap trim (train.heap, the default) and without
# it (--keep-heap): the shipped default, the 600-step held-word recipe (docs/results/rl_agreement/grpo.yaml),
# seed 0, so both arms run the same steps. One arm after the other, nothing else heavy beside them.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
mkdir -p runs/memory
P=.venv/bin/python
A="model.adapter=src/emoreason/resources/default_adapter algorithm.train_polarity_word=false run.seed=0"
$P benchmarks/grpo_memory.py --steps 30 --tensors --json runs/memory/trim.json $A > runs/memory/trim.log 2>&1
echo "trim done $(date +%T)" >> runs/memory/status
$P benchmarks/grpo_memory.py --steps 30 --tensors --keep-heap --json runs/memory/keep.json $A > runs/memory/keep.log 2>&1
echo "keep done $(date +%T)" >> runs/memory/status
