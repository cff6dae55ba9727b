"""P1 (or the adapter the argument names) against MiniLM + ridge on every test sentence, paired
(described, not a rule).

MiniLM + ridge's answers are docs/results/minilm_ridge/<domain>-test/predictions.jsonl (sentence
embeddings and a ridge regression trained on the tweets and products train splits); P1's are
runs/polarity_sft/test/p1-<domain>-all (test.sh), read off P1's line as ship.py reads them.

    .venv/bin/python docs/results/polarity_sft/vs_minilm.py > docs/results/polarity_sft/vs_minilm.txt
    .venv/bin/python docs/results/polarity_sft/vs_minilm.py p2 > docs/results/polarity_sft/vs_minilm_p2.txt
    .venv/bin/python docs/results/polarity_sft/vs_minilm.py pb > docs/results/polarity_sft/vs_minilm_pb.txt
    .venv/bin/python docs/results/polarity_sft/vs_minilm.py pc > docs/results/polarity_sft/vs_minilm_pc.txt
"""

import json
import sys
from pathlib import Path

import numpy as np

from emoreason.eval.compare import paired_metrics, read_run, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.inference import with_fitted_score

# the line of its day: confidence, margin, cue sum (the probit margin came later, score_line/)
THREE_TERMS = ("confidence", "margin", "cues")

WHO = sys.argv[1] if len(sys.argv) > 1 else "p1"
line = fit_score_runs(
    [Path(f"runs/polarity_sft/valid/{WHO}-{d}-all") for d in ("tweets", "products")], terms=THREE_TERMS
)
for domain in ("tweets", "products", "movies"):
    ours, task = read_run(Path(f"runs/polarity_sft/test/{WHO}-{domain}-all"))
    path = Path(f"docs/results/minilm_ridge/{domain}-test/predictions.jsonl")
    ridge = {r["id"]: float(r["score"]) for r in map(json.loads, path.open())}
    ids = sorted(ours)
    if sorted(ridge) != ids:
        raise SystemExit(f"{domain}: the two answered different sentences")
    a = np.array([ridge[i] for i in ids])
    b = np.array([usable_score(with_fitted_score(ours[i], line, task), task) for i in ids])
    gold = np.array([float(ours[i]["gold_score"]) for i in ids])
    differences = paired_metrics(task, a, b, gold, names=("pearson_r", "mae", "acc_3"))
    parts = [f"{metric} {d}" for metric, d in differences.items()]
    print(f"{domain} ({len(ids)}), MiniLM + ridge -> {WHO.upper()}: " + "; ".join(parts))
