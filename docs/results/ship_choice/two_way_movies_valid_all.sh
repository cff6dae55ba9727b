#!/bin/bash
# The sixteenth session's ship choice (the two-way-centred run's best/, step 60, against the
# 600-step SFT adapter) checked on EVERY sentence of the movies valid split (1,060), as the
# eleventh session's choice was (movies_valid_all.sh; its sft600 folder is reused: same adapter,
# sentences and settings). Greedy, at most 192 new tokens, grounded quoting, confidence readout.
# The rule, written before this ran: the default is the adapter with the higher mean valid r over
# tweets (seeded 200), products (seeded 200) and movies (this whole split). With the seeded
# figures (SFT 600: 0.858, 0.753; two-way: 0.856, 0.760) the two-way adapter stays shipped iff its
# movies r here is above SFT 600's minus 0.005 (0.681 - 0.005 = 0.676); otherwise SFT 600 returns.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
out=runs/ship_choice/two_way-movies-valid-all
if [ ! -f $out/metrics.json ]; then
  .venv/bin/emoreason evaluate -d vader:movies --split valid --max-new-tokens 192 \
    --adapter runs/grpo/centred_in_groups/best/adapter --out $out > $out.log 2>&1
  echo "two_way movies valid (all) done $(date +%T)"
fi
.venv/bin/emoreason compare runs/ship_choice/sft600-movies-valid-all $out \
  --out runs/ship_choice/sft600-vs-two_way-movies-valid-all.json
