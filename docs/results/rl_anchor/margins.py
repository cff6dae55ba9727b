"""Where the polarity margin P(positive) - P(negative) goes (described, not a rule): for each named
adapter, the three polarity words' probabilities where the answer states its polarity, read by one
prompt pass per valid sentence (no answer generated; `train.polarity.PolaritySentences`, the
distribution the polarity objective trains and the score line reads), and the margin's Pearson r with
the gold score, paired against the first adapter on the same sentences (1,000 resamples).

    .venv/bin/python docs/results/rl_anchor/margins.py sv=src/emoreason/resources/default_adapter \
        a1=runs/grpo/anchor_pg_lr15e5/checkpoint-60/adapter c0=runs/rl_anchor/c0/final/adapter

Why: A1's margin on movies valid fell (0.841 -> 0.826 off its saved answers) although its polarity
objective's train loss fell; whether the anchor alone (c0: the same 60 steps of the objective without
the rewards) moves it so, or the RL term does, is what this reads. The first adapter's margins are
checked against its saved answers' `polarity_probs` (runs/signed_verdict/valid-<d>) where NAMED
`sv`, so the pass reads what evaluate recorded.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from scipy.stats import pearsonr

from emoreason.data.schema import POLARITIES
from emoreason.eval.compare import read_run
from emoreason.metrics.bootstrap import paired_difference
from emoreason.models import load_model
from emoreason.train.config import PolarityObjectiveConfig
from emoreason.train.polarity import PolaritySentences

DOMAINS = ("tweets", "products", "movies")
BATCH = 32


def margins(adapter: str, domain: str) -> dict[str, float]:
    loaded = load_model("default", [adapter], dtype="float32")
    config = PolarityObjectiveConfig(weight=1.0, dataset=f"vader:{domain}", split="valid")
    reader = PolaritySentences.load(config, loaded.tokenizer)
    out: dict[str, float] = {}
    columns = {p: k for k, p in enumerate(POLARITIES)}
    with torch.no_grad():
        for at in range(0, len(reader.samples), BATCH):
            batch = reader.samples[at : at + BATCH]
            probs = torch.softmax(reader.choice_logprobs(loaded.model, loaded, batch, True).float(), dim=-1)
            for sample, row in zip(batch, probs, strict=True):
                out[sample.id] = float(row[columns["positive"]] - row[columns["negative"]])
    return out


def r(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(pearsonr(pred, gold)[0])


def main() -> None:
    named = dict(arg.split("=", 1) for arg in sys.argv[1:])
    first = next(iter(named))
    for domain in DOMAINS:
        saved, _ = read_run(Path(f"runs/signed_verdict/valid-{domain}"))
        gold = {i: float(x["gold_score"]) for i, x in saved.items()}
        read = {who: margins(path, domain) for who, path in named.items()}
        ids = sorted(set(gold).intersection(*read.values()))
        g = np.array([gold[i] for i in ids])
        if first == "sv":
            recorded = [saved[i]["polarity_probs"] for i in ids if saved[i].get("polarity_probs")]
            diff = max(
                abs((p["positive"] - p["negative"]) - read[first][i])
                for i, p in zip([i for i in ids if saved[i].get("polarity_probs")], recorded, strict=True)
            )
            print(f"{domain}: the pass against the saved answers' margins: largest difference {diff:.4f}")
        base = np.array([read[first][i] for i in ids])
        for who in named:
            mine = np.array([read[who][i] for i in ids])
            line = f"{domain} ({len(ids)}) {who}: margin r {r(mine, g):.3f}"
            if who != first:
                d = paired_difference(r, base, mine, g, n=1000, seed=0)
                line += f", - {first} {d}; mean |margin change| {np.mean(np.abs(mine - base)):.3f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
