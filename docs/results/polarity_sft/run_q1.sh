#!/bin/bash
# Q1: P2's recipe (sft_p2.yaml) with polarity.dataset = tweets train alone, 200 steps, from the same
# start. Nothing else changed. It is a measurement, not a candidate: Q1 never replaces the default.
#
# Why: PB (P2 + the movie reviews) replaced P2 on valid, where movies is in its training; the default is
# judged on human-rated sentences of a fourth domain, and no split here can say whether one more train
# domain helps such a domain. Leaving a domain out can, once: movies is outside the start (its chains
# were tweets + products), outside P2 and outside Q1, so P2 - Q1 on movies valid is what adding a second
# domain (products) to the polarity objective does for a domain neither trained on. (Products is no
# such domain for Q1: the start's chains include it.) One pair, one seed: it describes, it decides
# nothing, and PB's shipping stands on its own rule.
#
# Written before Q1 existed, what lodo.py prints (-> lodo_q1.txt): on every movies valid sentence, P2
# against Q1 paired (1,000 resamples), (a) each read off its own line fitted on the valid answers of its
# own train domains (P2: tweets + products; Q1: tweets), r / MAE / acc-3; (b) line-free, r of the margin
# P(positive) - P(negative) at the polarity word. Read as "adding a domain helped the unseen one" iff
# both r differences are above 0 with intervals above 0; "hurt" iff both below with intervals below 0;
# otherwise "no difference this pair can show".
cd "$(dirname "$0")/../../.."
WHO=q1 CONFIG=docs/results/polarity_sft/sft_p2.yaml DOMAINS="tweets movies" \
  OVERRIDES="run.output_dir=runs/polarity_sft/q1 polarity.dataset=[vader:tweets]" \
  bash docs/results/polarity_sft/run_p2.sh
.venv/bin/python docs/results/polarity_sft/lodo.py > docs/results/polarity_sft/lodo_q1.txt
cat docs/results/polarity_sft/lodo_q1.txt
