#!/bin/bash
# Test, read once, because run_pf.sh's rule put PF above PC on valid (ship_pf.txt): both adapters' greedy
# answers to every sentence of the three test splits with the shipped decoding code (grounded quoting with
# the emphasis and cue-list count rules; "pce" is PC answering so), PC's flags (192 tokens, confidence
# readout, --no-name-negations); then `ship_p2.py test pce pf` -> test_pf.txt. Test decides nothing.
cd "$(dirname "$0")"
A=pce ADAPTER_A=pc B=pf OUT=docs/results/polarity_sft/test_pf.txt bash test_pair.sh
