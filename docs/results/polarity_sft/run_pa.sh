#!/bin/bash
# PA: P2's recipe (sft_p2.yaml: the polarity objective, rater_sd 0.5, 200 steps of 16 sentences, from the
# same start) with the movie-review train sentences added to its pool: polarity.dataset = tweets +
# products + movies (3,360 + 2,966 + 8,484 train sentences, drawn by pool share, so about 57% of each
# step's sentences are movies). Nothing else changed; no chain is trained.
#
# Why: the shipped default is judged on human-rated sentences of a domain none of the three covers. On
# the three VADER domains a bag-of-words model gained +0.05 to +0.11 r on an unseen domain from each
# added train domain (docs/results/all_domains, lodo_tfidf.txt). The one earlier attempt to add movies
# (all_domains, twenty-fourth session) trained the teacher's chains, which the consistency filter had
# skewed to 60% positive, and it lost; the polarity objective reads the gold scores of every sentence,
# so that skew does not exist here. The cost: movies valid stops being an out-of-domain split for
# this candidate (for the research recipe it stays one; only the shipped default is in question).
#
# The rule, written before PA existed: as run_p3.sh's. PA's greedy answers to every valid sentence
# (192 tokens, confidence readout), read off its own line fitted on its tweets + products valid
# answers, against P2's. PA replaces P2 (the shipped default) iff its mean valid r over the three
# splits is above P2's (0.8120) and no parse rate falls by more than 0.01, and, since movies is now in
# its training, also neither tweets nor products valid r falls with a 95% paired interval below 0;
# then test is read once (`test.sh` with WHOS=pa, `ship_p2.py test p2 pa`) before it is copied.
# `ship_p2.py valid p2 pa` -> ship_pa.txt prints the figures.
# WHO and STEPS name another run of this recipe (run_pb.sh: WHO=pb STEPS=400).
cd "$(dirname "$0")/../../.."
WHO=${WHO:-pa}
STEPS=${STEPS:-200}
WHO=$WHO CONFIG=docs/results/polarity_sft/sft_p2.yaml \
  OVERRIDES="run.output_dir=runs/polarity_sft/$WHO run.max_steps=$STEPS polarity.dataset=[vader:tweets,vader:products,vader:movies]" \
  bash docs/results/polarity_sft/run_p2.sh
.venv/bin/python docs/results/polarity_sft/ship_p2.py valid p2 $WHO > docs/results/polarity_sft/ship_$WHO.txt
cat docs/results/polarity_sft/ship_$WHO.txt
