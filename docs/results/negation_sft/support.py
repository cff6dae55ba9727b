"""How often a negation an answer names stands just before its cue in the input
(`valence_negation_support`, `emoreason.metrics.valence`), and how many of the stated cues that
stand just after a negation have it named (`valence_negation_recall`), read from saved answers: the shipped
default's, the continuation's and the `negation`-reward run's whole valid splits (run.sh's
answers were written before the check existed; `evaluate` computes it since).

    cd docs/results/negation_sft && ../../../.venv/bin/python support.py > support.txt
"""

from pathlib import Path

from emoreason.data import load_dataset
from emoreason.eval.predictions import read_predictions, score_samples

ROOT = Path(__file__).resolve().parents[3] / "runs" / "negation_sft"

for who in ("shipped", "neg120", "rl40"):
    named = supported = negatable = recalled = 0
    for domain in ("tweets", "products", "movies"):
        dataset = load_dataset(f"vader:{domain}")
        predictions, _ = read_predictions(ROOT / "valid" / f"{who}-{domain}-all" / "predictions.jsonl")
        for row in predictions.values():  # `evaluate` keeps the answer as raw_completion
            row["completion"] = row["raw_completion"]
        metrics = score_samples(dataset.split("valid"), predictions, dataset.task, "c2f")
        print(
            f"{who:8s} {domain:8s} negations named {metrics['n_valence_negations']:4d}, standing just before "
            f"their cue {metrics['valence_negation_support']:.3f}; list agreement "
            f"{metrics['valence_list_agreement']:.3f}, judgment agreement {metrics['valence_judgment_agreement']:.3f}"
        )
        named += metrics["n_valence_negations"]
        supported += round(metrics["valence_negation_support"] * metrics["n_valence_negations"])
        negatable += metrics["n_valence_negatable"]
        recalled += round(metrics["valence_negation_recall"] * metrics["n_valence_negatable"])
    print(f"{who:8s} all three: {named} named, {supported} standing just before their cue ({supported / named:.3f});")
    print(f"{'':8s} of the {negatable} stated cues that stand just after a negation, {recalled} named as negated")
