#!/bin/bash
# Step 30 of the lr 3e-5 run on EVERY sentence of the movies valid split (1,060), paired against
# SFT 600 on the same sentences (docs/results/ship_choice; same settings). The seeded 200 cannot
# separate 0.01-0.03 of r. Written before it ran: this is a valid check, not a ship decision; if the
# r difference's interval is above 0, step 30 is the candidate for the out-of-sample test check.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
out=runs/rl_centred_lr3e5/valid/step30-movies-all
[ -f $out/metrics.json ] || .venv/bin/emoreason evaluate -d vader:movies --split valid --max-new-tokens 192 \
  --adapter runs/grpo/centred_lr3e5/checkpoint-30/adapter --out $out > $out.log 2>&1
.venv/bin/emoreason compare runs/ship_choice/sft600-movies-valid-all $out --out $out-vs-sft600.json
