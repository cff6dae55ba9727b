#!/bin/bash
# The control for continue.sh: is what D30 changed the `cue_coverage` reward's doing, or that of 30
# more GRPO steps? E: the same continuation of the shipped default (configs/c2f_vader_smollm2.yaml,
# 30 steps, same seed and prompts, validation at 0, 15, 30) with the recipe's own reward (grounding
# 0.5, no cue_coverage). Its validation keeps its answers (validation/step-N/<dataset>, the same
# seeded 100 of each valid split and the same decoding as continue.sh's evaluate runs), so E30 is
# paired with D30 and with the shipped default (A) on the same sentences without generating again.
# Reported, not part of continue.sh's rule.
#   docs/results/cue_recall/control.sh       (resumable)
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
R=runs/cuecont
E=.venv/bin/emoreason
SHIPPED=$(.venv/bin/python -c "from emoreason.models.shipped import resolve_shipped; print(resolve_shipped('sentiment'))")
[ -d $R/control/checkpoint-30 ] || $E grpo --config configs/c2f_vader_smollm2.yaml model.adapter=$SHIPPED \
  run.output_dir=$R/control run.max_steps=30 validation.every=15 >> $R/control.log 2>&1
[ -d $R/control/checkpoint-30 ] || { echo "grpo did not finish"; exit 1; }
echo "control done $(date +%T)"
for d in tweets products movies; do
  e30=$R/control/validation/step-30/vader-$d
  for a in A D30; do
    $E compare $R/valid/$a-$d-100 $e30 --out $R/valid/$a-vs-E30-$d.json > $R/valid/$a-vs-E30-$d.txt
    .venv/bin/python docs/results/cue_recall/measure.py --paired $R/valid/$a-$d-100 $e30 \
      > $R/valid/$a-vs-E30-$d-cues.txt 2>/dev/null
  done
  # the start as the control's own validation saw it, against continue.sh's evaluate of it: same answers?
  $E compare $R/valid/A-$d-100 $R/control/validation/step-0/vader-$d --out $R/valid/A-vs-E0-$d.json \
    > $R/valid/A-vs-E0-$d.txt
done
