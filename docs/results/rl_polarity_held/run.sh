#!/bin/bash
# Hint-GRPO from P2 with the polarity word held out of the policy term (issue 18, thirty-fifth session).
#
# Why. The score the product reports is read mostly off the probabilities at the token where the
# answer chooses its polarity word (P2's line: 0.963 x the margin there, 0.475 x the written score
# times the written polarity's probability). The SFT polarity objective trains that distribution
# against calibrated targets (docs/results/polarity_sft/); GRPO's rewards move it towards certainty on
# one answer, and every RL recipe here left r where its start had it or lower, moving the polarity
# prior. `algorithm.train_polarity_word: false` keeps that token out of the policy-gradient term (the
# KL term, 0.04 here, still anchors it to P2), so the rewards can shape only the chain and the written
# score, which the line weighs 0.475 through the confidence. The question is the issue's: does RL,
# so restricted, beat its SFT start?
#
# The run: docs/results/rl_agreement/grpo.yaml (lr 3e-5, format + polarity + score + agreement 1.0 +
# grounding 0.5, hints trained on, two-way centring, KL 0.04 to the start, 6 prompts x 4, 160 tokens),
# 60 steps, seed 0, validation off, from P2 (runs/polarity_sft/p2/final/adapter, the fp32 form of the
# shipped default), with algorithm.train_polarity_word=false. Candidate G1 = its step 60, fixed now;
# nothing else is chosen.
#
# The rule, written before the run: G1's greedy answers to every sentence of the three valid splits
# (192 tokens, confidence readout), read off its own line fitted on its tweets + products valid
# answers, against P2's (runs/polarity_sft/valid; `ship_p2.py valid p2 g1` -> docs/results/rl_polarity_held/valid.txt).
# G1 replaces P2 as the shipped default iff its mean valid r over the three splits is above P2's and no
# parse rate falls by more than 0.01; then test is read once (every test sentence, paired with P2's),
# and the issue's goal is met iff G1 - P2 on movies test has a 95% paired interval for r above 0 and
# neither in-domain test r difference has an interval below 0. Otherwise test is not read. One seed:
# the seeds of the agreement recipe differed from each other by up to 0.023 movies test r, so a single
# run can fail the goal by chance and can pass it by chance; a pass would need seeds before a claim.
# WHO=t1 (control.sh) runs the same steps with the polarity word trained.
#
# WHO=g2 (thirty-sixth session; written before its run): G1 with optim.lr=1.5e-4 (5x). Why: G1 ended
# at KL 0.002 to P2 and moved neither the written score nor the margin (describe.txt), so at lr 3e-5
# the recipe with the word held barely moves the model; the question left is whether a larger step on
# the chain and the written score, still without the policy term on the polarity word, changes what
# the metrics see. Output runs/grpo/held_p2_lr15e5, candidate G2 = its step 60. The rule is G1's,
# against P2 (`ship_p2.py valid p2 g2` -> valid_g2.txt): G2 replaces P2 iff its mean valid r over the
# three splits is above P2's (0.8120) and no parse rate falls by more than 0.01; then test is read
# once and the goal is judged as above. Otherwise test is not read.
#
# WHO=g3 (thirty-seventh session; written before its run): G2's run (word held, lr 1.5e-4) from PB, the
# default shipped this session (runs/polarity_sft/pb/final/adapter, fp32), to runs/grpo/held_pb_lr15e5.
# Why: PB's polarity agrees with its own chain's cues less often than P2's (valid 0.947 / 0.901 / 0.897
# against 0.962 / 0.923 / 0.934), because its polarity word was trained and its chain was not; from P2,
# G2 raised that agreement on every split (to 0.981 / 0.942 / 0.963) while costing r about 0.01. From
# PB the agreement reward has more to correct. The rule is PB's own (run_pa.sh), against PB
# (`ship_p2.py valid pb g3` -> valid_g3.txt): G3 replaces PB iff its mean valid r over the three splits
# is above PB's (0.8279), no parse rate falls by more than 0.01, and neither tweets nor products valid r
# falls with a 95% paired interval below 0; then test is read once (in a later session if this one
# ends first) and the goal is judged as above, with PB for P2. Described beside it, not part of the
# rule: each split's valence_judgment_agreement.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/polarity_sft
D=docs/results/rl_polarity_held
WHO=${WHO:-g1}
# CMP: the comparisons each run prints, "incumbent candidate file" (ship_p2.py valid A B > $D/file.txt)
case $WHO in
  g1) G=runs/grpo/held_p2 HOLD=algorithm.train_polarity_word=false CMP=("p2 g1 valid") ;;
  g2) G=runs/grpo/held_p2_lr15e5 HOLD="algorithm.train_polarity_word=false optim.lr=1.5e-4" CMP=("p2 g2 valid_g2") ;;
  g3) G=runs/grpo/held_pb_lr15e5 HOLD="algorithm.train_polarity_word=false optim.lr=1.5e-4" START=pb
      CMP=("pb g3 valid_g3") ;;
  t1) G=runs/grpo/trained_p2 HOLD= CMP=("p2 t1 control_valid" "t1 g1 g1_vs_t1_valid") ;;
  *) echo "WHO must be g1, g2, g3 or t1" >&2; exit 2 ;;
esac
[ -f $G/checkpoint-60/adapter/adapter_config.json ] ||
  $E grpo --config docs/results/rl_agreement/grpo.yaml validation.every=0 run.max_steps=60 run.seed=0 \
    run.output_dir=$G model.adapter=$R/${START:-p2}/final/adapter $HOLD >> $G.log 2>&1
echo "grpo done $(date +%T)"
for d in ${DOMAINS:-movies tweets products}; do
  out=$R/valid/$WHO-$d-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --score-readout confidence --no-name-negations \
    --adapter $G/checkpoint-60/adapter --out $out -d vader:$d --split valid > $out.log 2>&1
  echo "$d valid done $(date +%T)"
done
for comparison in "${CMP[@]}"; do
  read -r a b file <<< "$comparison"
  .venv/bin/python docs/results/polarity_sft/ship_p2.py valid $a $b > $D/$file.txt
  cat $D/$file.txt
done
