#!/bin/bash
# Test, read once, only if ship_pg.sh's rule puts PG above PF on valid (ship_pg.txt): both adapters'
# greedy answers to every sentence of the three test splits with the shipped decoding code (grounded
# quoting with the emphasis, cue-list count and text-opening rules; "pfn" is PF answering so, since PF's
# saved test answers predate the text-opening rule), PF's flags (192 tokens, confidence readout,
# --no-name-negations); then `ship_p2.py test pfn pg` -> test_pg.txt. Test decides nothing.
cd "$(dirname "$0")"
A=pfn ADAPTER_A=pf B=pg OUT=docs/results/polarity_sft/test_pg.txt bash test_pair.sh
