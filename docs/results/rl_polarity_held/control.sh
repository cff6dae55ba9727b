#!/bin/bash
# The control of run.sh: the same run with the polarity word trained (algorithm.train_polarity_word
# left on), same recipe, seed 0, 60 steps, from P2. Candidate T1 = its step 60. Written after G1's
# training and before any valid answer of either existed.
#
# Why: if G1 is level with P2, that alone does not say whether holding the word out mattered; the
# recipe from earlier starts moved the polarity prior and left r level or lower, and P2's polarity
# probabilities are trained to be calibrated, which a polarity reward may undo.
#
# The rule: described, not a choice between the two runs (which differ in one setting, one seed each).
# T1 is held to run.sh's rule against P2 like G1 (`ship_p2.py valid p2 t1` -> control_valid.txt): it
# replaces P2 only by that rule, and then only if G1 does not; if both pass, the one with the higher
# mean valid r. `ship_p2.py valid t1 g1` -> g1_vs_t1_valid.txt describes what holding the word out did.
WHO=t1 exec bash "$(dirname "$0")/run.sh"
