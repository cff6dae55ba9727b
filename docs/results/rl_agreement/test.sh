#!/bin/bash
# The test stage of run.sh's rule, run only for a candidate whose valid checks (v1)-(v3) hold:
#   docs/results/rl_agreement/test.sh step30   (run.sh's candidate)   or   ... test.sh step60   (run60.sh's)
# The candidate replaces the shipped default iff
#   (t1) on the 761 movies test sentences outside the seeded 300 (never used to choose anything) its
#        r minus SFT 600's has a paired 95% interval above 0, and
#   (t2) on the whole tweets and products test splits neither its r nor its acc-3 difference to
#        SFT 600 has an interval entirely below 0.
# Resumable. Log: runs/rl_agreement/test.log.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
who=${1:?give the candidate: step30 or step60}
candidate=runs/grpo/agreement_lr3e5/checkpoint-${who#step}/adapter
sft600=runs/sft600/final/adapter
mkdir -p runs/rl_agreement/test
evaluate() {  # who adapter out args...
  local out=$3
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --adapter $2 --out $out "${@:4}" > $out.log 2>&1
  echo "$1 $out done $(date +%T)"
}
# SFT 600's answers on these 761 are the lr 3e-5 run's out-of-sample check (same adapter and settings)
[ -f runs/rl_agreement/test/sft600-movies-outside300/metrics.json ] ||
  cp -r runs/rl_centred_lr3e5/test/sft600-movies-outside300 runs/rl_agreement/test/
evaluate $who $candidate runs/rl_agreement/test/$who-movies-outside300 -d vader:movies --split test \
  --sample 300 --seed 0 --outside-sample
$E compare runs/rl_agreement/test/{sft600,$who}-movies-outside300 \
  --out runs/rl_agreement/test/$who-movies-outside300-vs-sft600.json
for d in tweets products; do
  evaluate $who $candidate runs/rl_agreement/test/$who-$d-all -d vader:$d --split test
  evaluate sft600 $sft600 runs/rl_agreement/test/sft600-$d-all -d vader:$d --split test
  $E compare runs/rl_agreement/test/{sft600,$who}-$d-all --out runs/rl_agreement/test/$who-$d-all-vs-sft600.json
done
echo "all done $(date +%T)"
