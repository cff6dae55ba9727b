#!/bin/bash
# Does SFT 600's cold start come out bit for bit the same when rebuilt? (issue 18; RESULTS, "How large
# is what Hint-GRPO adds out of domain": the rebuild's training losses part from the recorded run's at
# step 3, 3.1375 -> 3.1345, "its cause ... was not measured".)
#
# Two runs of configs/sft_c2f_vader_smollm2.yaml's first 4 steps, one after the other on an idle CPU,
# the same data (runs/distill/vader_lexicon_unmatched/sft.jsonl, the chains SFT 600 was trained on),
# the same code and thread count. The warmup (5 steps) makes steps 1-4 the same lr as in the 600-step
# run, so their losses are comparable with runs/sft600/metrics.jsonl (rebuilt in the twenty-ninth
# session on this machine kind) and the older recorded rebuild. The step-0 evaluation keeps its 64
# loss examples (it draws nothing at random) and writes no answers (generate_examples=0), to save time.
# Description only: it decides nothing, it says where the drift comes from:
#   - A and B differ  -> the same machine does not repeat itself (a nondeterministic kernel);
#   - A = B, and A differs from runs/sft600 -> the drift is between sessions (machine or library);
#   - A = B = runs/sft600 -> the recorded run's drift was its own machine's.
# Output: probe.txt (compare.py); each run's own log is runs/sft_determinism/<run>/.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
for run in a b; do
  [ -f runs/sft_determinism/$run/final/adapter/adapter_config.json ] ||
    .venv/bin/emoreason sft --config configs/sft_c2f_vader_smollm2.yaml run.max_steps=4 \
      run.output_dir=runs/sft_determinism/$run data.train_file=runs/distill/vader_lexicon_unmatched/sft.jsonl \
      eval.generate_examples=0
done
.venv/bin/python docs/results/sft_determinism/compare.py > docs/results/sft_determinism/probe.txt
cat docs/results/sft_determinism/probe.txt
