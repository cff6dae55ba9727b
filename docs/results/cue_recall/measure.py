"""How much of its input does a chain account for? For each `evaluate` folder: of the distinct words
of each input that VADER's lexicon rates (`metrics.valence.lexicon_words`, exactly the words the
lexicon teacher's chain states a number for), the share the answer states a number for
(`valence_cue_recall`, pooled over answers, with a 95% bootstrap interval over answers), how many
the answers state against how many the inputs have, and the error of answers that name all of
their input's words against those that leave some out. With two folders answering the same
sentences, also the paired difference B - A of the pooled recall. With a GRPO run's rollouts.jsonl,
the same for sampled answers, and how often a group's answers differ in how many words they name
(where they do not, a reward for naming them has nothing to tell apart).

    .venv/bin/python docs/results/cue_recall/measure.py runs/calib/valid/shipped-movies-all
    .venv/bin/python docs/results/cue_recall/measure.py --paired A_FOLDER B_FOLDER
    .venv/bin/python docs/results/cue_recall/measure.py --rollouts RUN/rollouts.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from emoreason.data.base import load_dataset
from emoreason.metrics.bootstrap import bootstrap_ci, paired_difference
from emoreason.metrics.valence import cue_omissions, vader_lexicon, valence_check


def pooled(named: np.ndarray, expected: np.ndarray) -> float:
    return float(named.sum() / expected.sum()) if expected.sum() else float("nan")


def answers(folder: Path) -> tuple[dict[str, str], list[dict]]:
    """The input text of each sentence of the folder's split, and the folder's answer records."""
    identity = json.loads((folder / "run.json").read_text())["identity"]
    dataset = load_dataset(identity["dataset"])
    text = {s.id: s.text for s in dataset.split(identity["split"])}
    return text, [json.loads(line) for line in (folder / "predictions.jsonl").open()]


def counts(text: dict[str, str], rows: list[dict]) -> dict[str, tuple[int, int, float | None, float]]:
    """Per answered sentence id (`answers`): (lexicon words in the input, those the answer states a
    number for, the answer's score, the gold score)."""
    lexicon = vader_lexicon()
    out = {}
    for row in rows:
        check = valence_check(row.get("raw_completion") or "", row.get("polarity"), lexicon, text[row["id"]])
        out[row["id"]] = (check.cue_words, check.cue_words_named, row.get("score"), row["gold_score"])
    return out


def report(folder: Path) -> None:
    text, records = answers(folder)
    rows = list(counts(text, records).values())
    expected = np.array([r[0] for r in rows])
    named = np.array([r[1] for r in rows])
    low, high = bootstrap_ci(pooled, named, expected)
    print(f"{folder} ({len(rows)} answers)")
    recall = pooled(named, expected)
    print(f"  cue recall {recall:.3f} [{low:.3f}, {high:.3f}]: {named.sum()} of {expected.sum()} words")
    print(f"  lexicon words per input {expected.mean():.2f}, stated per answer {named.mean():.2f}")
    several = expected >= 2
    all_named = int(np.sum(named[several] == expected[several]))
    print(f"  inputs with 2+ lexicon words: {several.sum()}; answers naming all of them {all_named}")
    for name, keep in (("names all", (named == expected) & (expected > 0)), ("leaves some out", named < expected)):
        err = [abs(r[2] - r[3]) for r, k in zip(rows, keep) if k and r[2] is not None]
        print(f"  {name}: {len(err)} answers, MAE {np.mean(err):.3f}" if err else f"  {name}: none")
    left = cue_omissions([r.get("raw_completion") or "" for r in records], [text[r["id"]] for r in records])
    print(
        "  left out most often (word, valence, left out / in inputs): "
        + ", ".join(f"{o.word} ({o.valence:+.1f}) {o.left_out}/{o.seen}" for o in left[:10])
    )


def paired(a: Path, b: Path) -> None:
    ca, cb = counts(*answers(a)), counts(*answers(b))
    shared = sorted(set(ca) & set(cb))
    expected = np.array([ca[i][0] for i in shared])
    diff = paired_difference(
        lambda named, exp: pooled(named, exp),
        np.array([ca[i][1] for i in shared]),
        np.array([cb[i][1] for i in shared]),
        expected,
    )
    print(
        f"cue recall on {len(shared)} shared answers: A {diff.a:.3f}, B {diff.b:.3f}, "
        f"B - A {diff.difference:+.3f} [{diff.low:+.3f}, {diff.high:+.3f}]"
    )


def rollouts(path: Path) -> None:
    texts = {}
    lexicon = vader_lexicon()
    groups: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as lines:
        for line in lines:
            row = json.loads(line)
            domain = row["domain"]
            if domain not in texts:
                texts[domain] = {s.id: s.text for s in load_dataset(f"vader:{domain}").split("train")}
            check = valence_check(
                row["text"], row["answer"]["polarity"], lexicon, texts[domain][row["id"].split("#")[0]]
            )
            groups[(row["step"], row["id"])].append((check.cue_words, check.cue_words_named))
    expected = np.array([e for group in groups.values() for e, _ in group])
    named = np.array([n for group in groups.values() for _, n in group])
    several = expected >= 2
    differ = [len({n for _, n in g}) > 1 for g in groups.values() if g[0][0] >= 2]
    print(f"{path} ({len(expected)} rollouts, {len(groups)} groups)")
    all_named = np.mean(named[several] == expected[several])
    print(f"  cue recall {pooled(named, expected):.3f}; rollouts naming all of 2+ words {all_named:.3f}")
    print(f"  groups on inputs with 2+ words: {len(differ)}; their answers differ in words named {np.mean(differ):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--paired", action="store_true", help="two folders: the paired difference B - A")
    parser.add_argument("--rollouts", action="store_true", help="GRPO rollouts.jsonl(.gz) files, not folders")
    args = parser.parse_args()
    if args.rollouts:
        for path in args.folders:
            rollouts(path)
    elif args.paired:
        paired(*args.folders)
    else:
        for folder in args.folders:
            report(folder)


if __name__ == "__main__":
    main()
