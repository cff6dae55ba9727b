"""run.sh's, rl.sh's and test.sh's comparisons (A = the shipped default, B = the negation
continuation's step 120, neg120, or step 40 of the `negation`-reward run from it, rl40; then rl40
against neg120): each metric A -> B with B - A's 95% paired-bootstrap interval, and rule (v3),
the mean r over the seeded 200 of each valid split, read from the whole-split answers.

    cd docs/results/negation_sft && ../../../.venv/bin/python table.py > table.txt
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rl_agreement"))
from table import SHIPPED_MEAN_R, print_pairs, seeded_200_mean_r  # noqa: E402

ROOT = Path(__file__).resolve().parents[3] / "runs" / "negation_sft"
PAIRS = [("valid", f"{d}-all") for d in ("tweets", "products", "movies")]
PAIRS += [("test", f"{d}-all") for d in ("tweets", "products", "movies")]

if __name__ == "__main__":
    print_pairs(ROOT, PAIRS, ("neg120", "rl40"), "shipped")
    print_pairs(ROOT, PAIRS[:3], ("rl40",), "neg120")
    for who in ("shipped", "neg120", "rl40"):
        print(f"(v3) {who}: mean r on the seeded 200 of each valid split {seeded_200_mean_r(ROOT, who)}")
    print(f"(v3) the shipped default, as recorded: {SHIPPED_MEAN_R}")
