"""The rule of run.sh: does P1 (the polarity objective from the shipped default) replace it?

    .venv/bin/python docs/results/polarity_sft/ship.py > docs/results/polarity_sft/ship.txt
    .venv/bin/python docs/results/polarity_sft/ship.py test > docs/results/polarity_sft/test.txt

With `test`: the same figures on every test sentence (test.sh's answers), each adapter read off the
same line as on valid (P1's fitted on its valid answers); no verdict, test decides nothing.
A second argument names another candidate against the same shipped default (described only):
`ship.py test p2 > test_p2_vs_start.txt`.
"""

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from emoreason.eval.compare import paired_metrics, read_run, usable_score
from emoreason.eval.score_fit import fit_score_runs
from emoreason.formats.readout import ScoreFit
from emoreason.inference import with_fitted_score

# the line of its day: confidence, margin, cue sum (the probit margin came later, score_line/)
THREE_TERMS = ("confidence", "margin", "cues")

SPLIT = sys.argv[1] if len(sys.argv) > 1 else "valid"
WHO = sys.argv[2] if len(sys.argv) > 2 else "p1"
P1_VALID = Path("runs/polarity_sft/valid")
P1 = Path(f"runs/polarity_sft/{SPLIT}")
SHIPPED = Path("runs/line_domains/valid") if SPLIT == "valid" else Path(f"runs/polarity_sft/{SPLIT}")
# The line the shipped default had before P1 (e44f22f); the package carries a later one since.
SHIPPED_LINE = Path("docs/results/polarity_sft/start_score_fit.json")
DOMAINS = ("tweets", "products", "movies")
METRICS = ("pearson_r", "mae", "acc_3")


def parse_rate(records) -> float:
    return float(np.mean([bool(r.get("parse_ok")) for r in records]))


def main() -> None:
    mine = fit_score_runs([P1_VALID / f"{WHO}-tweets-all", P1_VALID / f"{WHO}-products-all"], terms=THREE_TERMS)
    shipped_line = ScoreFit.load(SHIPPED_LINE)
    weights = ", ".join(f"{w:.3f}" for w in mine.weights)
    print(f"{WHO.upper()}'s line: {weights} (confidence, margin, cues), intercept {mine.intercept:+.3f}, n {mine.n}")
    r_mean = {"shipped": [], "P1": []}
    parse_ok = True
    for domain in DOMAINS:
        a_records, task = read_run(SHIPPED / f"shipped-{domain}-all")
        b_records, _ = read_run(P1 / f"{WHO}-{domain}-all")
        ids = sorted(a_records)
        if sorted(b_records) != ids:
            raise SystemExit(f"{domain}: the two runs answered different sentences")
        a = [with_fitted_score(a_records[i], shipped_line, task) for i in ids]
        b = [with_fitted_score(b_records[i], mine, task) for i in ids]
        gold = np.array([float(r["gold_score"]) for r in a])
        sa = np.array([usable_score(r, task) for r in a])
        sb = np.array([usable_score(r, task) for r in b])
        differences = paired_metrics(task, sa, sb, gold, names=METRICS)
        parts = [f"{metric} {d}" for metric, d in differences.items()]
        r_mean["shipped"].append(differences["pearson_r"].a)
        r_mean["P1"].append(differences["pearson_r"].b)
        pa, pb = parse_rate(a), parse_rate(b)
        parse_ok &= pb >= pa - 0.01
        pairs = (("shipped", a), (WHO.upper(), b))
        mix = {who: Counter(r.get("polarity") or "none" for r in recs) for who, recs in pairs}
        gold_mix = Counter(task.score_polarity(g) for g in gold)
        mixes = ", ".join(f"{who} {m['positive']}/{m['negative']}/{m['neutral']}" for who, m in mix.items())
        print(f"{domain} ({len(ids)}), shipped -> {WHO.upper()}: " + "; ".join(parts))
        print(
            f"  parse rate {pa:.3f} -> {pb:.3f}; answers pos/neg/neu {mixes} (gold "
            f"{gold_mix['positive']}/{gold_mix['negative']}/{gold_mix['neutral']})"
        )
    if SPLIT != "valid":
        print(f"mean {SPLIT} r: shipped {np.mean(r_mean['shipped']):.4f}, {WHO.upper()} {np.mean(r_mean['P1']):.4f}")
        return
    s1 = np.mean(r_mean["P1"]) > np.mean(r_mean["shipped"])
    print(f"(s1) mean valid r: shipped {np.mean(r_mean['shipped']):.4f}, P1 {np.mean(r_mean['P1']):.4f}: {s1}")
    print(f"(s2) no parse rate falls by more than 0.01: {parse_ok}")
    print("verdict: P1 " + ("replaces the shipped default; read test" if s1 and parse_ok else "does not ship"))


if __name__ == "__main__":
    main()
