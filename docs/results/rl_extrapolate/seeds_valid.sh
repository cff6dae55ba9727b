#!/bin/bash
# Does movies valid rank these adapters as movies test does? (description, after run.sh and ship.sh)
# X_2 gained +0.022 r over SFT 600 on movies valid and -0.002 on movies test. Seeds 1-3's step 60 have
# movies test answers (docs/results/rl_seeds/) but none on movies valid; this adds them, so that six
# adapters from one start (R1, R2, R3, X_1, X_2 and S itself) have both, and prints each one's paired r
# difference to S on valid (1,060) and on test (761) side by side.
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
E=.venv/bin/emoreason
R=runs/rl_extrapolate
for s in 1 2 3; do
  out=$R/valid/s$s-movies-all
  [ -f $out/metrics.json ] || $E evaluate --max-new-tokens 192 --adapter runs/grpo/agreement_s$s/checkpoint-60/adapter \
    --out $out -d vader:movies --split valid > $out.log 2>&1
  echo "$out done $(date +%T)"
done
.venv/bin/python - <<'PY'
import numpy as np

from emoreason.eval.compare import compare_runs

V, T = "runs/rl_extrapolate/valid", "runs/rl_extrapolate/test"
S_valid, S_test = f"{V}/sft600-movies-all", "runs/rl_seeds/test/sft600-movies-outside300"
who = {f"R{s}": (f"{V}/s{s}-movies-all", f"runs/rl_seeds/test/s{s}-movies-outside300") for s in (1, 2, 3)}
who |= {f"X_{a}": (f"{V}/x{a}-movies-all", f"{T}/x{a}-movies-outside300") for a in (1, 2)}
rows = []
for name, (valid, test) in who.items():
    # the r difference `emoreason compare` prints (1,000 paired resamples, seed 0)
    dv, dt = (compare_runs(*pair)["metrics"]["pearson_r"] for pair in ((S_valid, valid), (S_test, test)))
    rows.append((dv["difference"], dt["difference"]))
    print(f"{name} - S: movies valid r {dv['difference']:+.3f} [{dv['low']:+.3f}, {dv['high']:+.3f}]; "
          f"movies test r {dt['difference']:+.3f} [{dt['low']:+.3f}, {dt['high']:+.3f}]")
v, t = np.array(rows).T
print(f"across the {len(rows)} adapters: Pearson r of the valid and test differences {np.corrcoef(v, t)[0, 1]:+.2f}")
PY
