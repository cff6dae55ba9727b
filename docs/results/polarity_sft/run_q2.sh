#!/bin/bash
# Q2: Q1 (run_q1.sh: P2's recipe on tweets train alone, 200 steps) with the movie-review train sentences
# added to its pool and run for 400 steps, as PB is P2 with them added and run for 400 steps. Like Q1 a
# measurement, never a candidate.
#
# Why: PB ships for a fourth domain on the strength of adding the movie reviews. Q1 -> P2 on movies
# valid (lodo_q1.txt) asks whether adding a domain to the polarity objective helps a domain it never
# saw; Q1 -> Q2 on products valid asks it of the very step PB took (adding movies, doubling the steps).
# Products is not fully unseen here (the start's chains include it), but neither Q1's nor Q2's
# polarity objective reads a products sentence. One pair, one seed: it describes, it decides nothing.
#
# Written before Q2 existed, what `lodo.py q1 q2 products` prints (-> lodo_q2.txt): on every products
# valid sentence, Q2 against Q1 paired (1,000 resamples), (a) each read off its own line fitted on its
# tweets valid answers (for Q2, as for PB, not on the domain it adds); (b) line-free, r of the margin.
# The same reading as run_q1.sh: "helped" iff both r differences have intervals above 0, "hurt" iff
# both below, otherwise "no difference this pair can show".
cd "$(dirname "$0")/../../.."
WHO=q2 CONFIG=docs/results/polarity_sft/sft_p2.yaml DOMAINS="tweets products" \
  OVERRIDES="run.output_dir=runs/polarity_sft/q2 run.max_steps=400 polarity.dataset=[vader:tweets,vader:movies]" \
  bash docs/results/polarity_sft/run_p2.sh
# Q1's products valid answers (run_q1.sh answered tweets and movies only; Q1 is trained, so this only answers)
WHO=q1 DOMAINS=products bash docs/results/polarity_sft/run_p2.sh
.venv/bin/python docs/results/polarity_sft/lodo.py q1 q2 products > docs/results/polarity_sft/lodo_q2.txt
cat docs/results/polarity_sft/lodo_q2.txt
