#!/bin/bash
# PD: the shipped default (PC) trained 150 steps further on the lexicon teacher's chains of all three
# domains (8 a step) beside PC's own polarity objective (16 sentences a step, the domains taking
# turns, rater_sd 0.5), the token where each chain writes its polarity word left out of the chains'
# loss (`data.train_polarity_word: false`, new this session), lr 1e-4 cosine (sft.yaml).
#
# Why: PC was trained 600 steps on the polarity word alone after its chains were learnt, and the
# chain it writes is thin: it states a number for 0.40 / 0.44 / 0.26 of the lexicon-rated words of its
# tweets / products / movies valid inputs (the teacher: all of them), mostly one cue ("loved", not
# "superb", "happy"; "best", not "ugh", "stuck"), and on 4-8% of its answers the chain's numbers lean
# against the polarity it wrote. The product is the explanation. Chains alone on all three domains
# (RESULTS, "all-domains C") raised recall (0.44 -> 0.54 on tweets) but moved the polarity word to the
# filter's mix and cost movies MAE; here the polarity objective alone keeps setting that word, and the
# chains teach what follows it.
#
# The rule, written before PD existed. PC's answers (with the emphasis constraint: runs/polarity_sft/
# valid/pce-*, the flags below) against PD's on every valid sentence. `decide.py valid pce pd` ->
# decide.txt (cue recall and judgment agreement, paired) and `ship_p2.py valid pce pd` -> valid_r.txt
# (r, each off its own line fitted on its tweets + products valid answers). PD replaces PC iff
#   (1) its cue recall is higher on all three valid splits, each paired 95% interval above 0;
#   (2) no split's judgment agreement falls with its interval below 0;
#   (3) no split's r falls with its interval below 0, and its mean valid r is at most 0.005 below PC's;
#   (4) no parse rate falls by more than 0.01.
# Then test is read once (PC's test answers with the constraint, and PD's;
# `decide.py test pce pd`, `ship_p2.py test pce pd`) and PD ships whatever test says, if its fp16 form
# passes ship.sh's two checks. Otherwise PC stays and test is not read.
cd "$(dirname "$0")/../../.."
# run_pe.sh runs the same steps for PE: WHO, CONFIG, CHAINS (the distill folder), TEACHER (distill
# overrides) and OUT (the suffix of the result files) default to PD's
WHO=${WHO:-pd}
CONFIG=${CONFIG:-docs/results/joint_sft/sft.yaml}
CHAINS=${CHAINS:-runs/joint/distill}
OUT=${OUT-}
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
[ -f $CHAINS/sft.jsonl ] || $E distill --config configs/distill_c2f_vader_lexicon.yaml \
  -d vader:tweets -d vader:products -d vader:movies --out $CHAINS $TEACHER
mkdir -p runs/joint
[ -f runs/joint/$WHO/final/adapter/adapter_config.json ] || \
  $E sft --config $CONFIG >> runs/joint/$WHO.log 2>&1
echo "$WHO trained $(date +%T)"
R=runs/polarity_sft/valid
for d in products tweets movies; do
  out=$R/$WHO-$d-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
    --adapter runs/joint/$WHO/final/adapter --out $out -d vader:$d --split valid > $out.log 2>&1
  echo "$d done $(date +%T)"
done
D=docs/results/joint_sft
.venv/bin/python docs/results/polarity_sft/ship_p2.py valid pce $WHO > $D/valid_r$OUT.txt
.venv/bin/python $D/decide.py valid pce $WHO $D/valid_r$OUT.txt --rule $WHO > $D/decide$OUT.txt
cat $D/valid_r$OUT.txt $D/decide$OUT.txt
