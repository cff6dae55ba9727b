"""The shipped default's whole-test answers (runs/readout/test_all/shipped-<domain>): gold against
the written score and against the confidence readout, one panel pair per domain. Run from the
project root after runs/readout/test_all.sh; writes docs/results/score_readout/readout_scatter.png."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

fig, axes = plt.subplots(2, 3, figsize=(12, 7.5), sharex=True, sharey=True)
for col, dom in enumerate(("tweets", "products", "movies")):
    recs = [json.loads(line) for line in Path(f"runs/readout/test_all/shipped-{dom}/predictions.jsonl").open()]
    gold = np.array([r["gold_score"] for r in recs])
    for row, (key, name) in enumerate((("written_score", "written"), ("score", "confidence readout"))):
        pred = np.array([0.0 if r.get(key, r["score"]) is None else r.get(key, r["score"]) for r in recs])
        ax = axes[row, col]
        ax.scatter(gold, pred, s=6, alpha=0.35)
        ax.axhspan(-0.5, 0.5, color="0.9", zorder=0)
        ax.set_title(f"{dom} test (n={len(recs)}), {name}: r {np.corrcoef(gold, pred)[0, 1]:.3f}", fontsize=9)
        ax.set_xlabel("gold (VADER human mean)") if row == 1 else None
        ax.set_ylabel("model score") if col == 0 else None
fig.tight_layout()
fig.savefig("docs/results/score_readout/readout_scatter.png", dpi=110)
print("wrote docs/results/score_readout/readout_scatter.png")
