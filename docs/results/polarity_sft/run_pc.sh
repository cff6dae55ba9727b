#!/bin/bash
# PC: PB's recipe (run_pb.sh: the polarity objective, rater_sd 0.5, on the tweets + products + movies
# train sentences, from the same start) with the domains taking turns (`polarity.balance: domain`: each
# step's 16 sentences spread evenly over the three domains) and 600 steps instead of 400; nothing else
# changed. Draws per domain: tweets 3,200 (PB 1,450, P2 1,700), products 3,200 (PB 1,280, P2 1,500),
# movies 3,200 (PB 3,670).
#
# Why: PB draws by pool share, so movies (8,484 of 14,810 train sentences) gets 57% of each step. On
# valid PB gained on movies (+0.060 r over P2) and held tweets and products; on test it lost tweets
# (-0.028 [-0.043, -0.014]), which the rule let decide nothing. A candidate that gives tweets and products
# about twice the draws while movies keeps about PB's may keep the movie-review gain without that loss;
# the shipped default is judged on human-rated sentences of a fourth domain, where no one domain should
# dominate what it learnt.
#
# The rule, written before PC existed: PB's answers to every valid sentence against PC's (192 tokens,
# confidence readout), each read off its own line fitted on its tweets + products valid answers
# (`ship_p2.py valid pb pc` -> ship_pc.txt). PC replaces PB (the shipped default) iff its mean valid r
# over the three splits is above PB's (0.8279), no parse rate falls by more than 0.01, and no split's
# valid r falls with a 95% paired interval below 0. Then test is read once (`WHOS=pc test.sh`,
# `ship_p2.py test pb pc` -> test_pc.txt) and PC ships whatever test says (test decides nothing); the fp16
# form must pass ship.sh's two checks (`WHO=pc ship.sh`).
cd "$(dirname "$0")/../../.."
WHO=pc CONFIG=docs/results/polarity_sft/sft_p2.yaml \
  OVERRIDES="run.output_dir=runs/polarity_sft/pc run.max_steps=600 polarity.dataset=[vader:tweets,vader:products,vader:movies] polarity.balance=domain" \
  bash docs/results/polarity_sft/run_p2.sh
.venv/bin/python docs/results/polarity_sft/ship_p2.py valid pb pc > docs/results/polarity_sft/ship_pc.txt
cat docs/results/polarity_sft/ship_pc.txt
