"""Does grounded quoting's cue-list count rule (`generation.quotes`: a list item may not head a word
more often than the input has it) keep answers whole? Read by run.sh; the rule is there.

    check.py select WHO   -> runs/cue_repeats/WHO-<domain>.jsonl: every valid sentence whose saved answer
                             (runs/polarity_sft/valid/WHO-<domain>-all) repeats a list cue, plus 20 seeded
                             controls that do not
    check.py compare WHO  -> the figures: old answers against the same sentences answered again with the
                             rule, and each whole split with the changed answers put in (the rule masks
                             only tokens that would repeat a spent cue, so under greedy decoding every
                             other answer is the saved one; the controls check that)
"""

import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "joint_sft"))
from decide import read  # noqa: E402  (the repeats / judgment checks of joint_sft's rule)

from emoreason.data import load_dataset  # noqa: E402
from emoreason.generation.chain_text import cue_key, normalize, occurrences  # noqa: E402
from emoreason.metrics.bootstrap import paired_difference  # noqa: E402

DOMAINS = ("tweets", "products", "movies")
VALID = Path("runs/polarity_sft/valid")
OUT = Path("runs/cue_repeats")
CONTROLS = 20


LIST_HEAD = re.compile(r'(?:cues:|;)[ \t]*"([^"\n]+)"')


def heads_a_cue_too_often(completion: str, source: str) -> bool:
    """What the rule says it stops: a list item heading a word more often than the input has it
    (decide.py's `repeats` also counts quotes with a number outside any list)."""
    heads = Counter(cue_key(q) for q in LIST_HEAD.findall(completion))
    return any(n > occurrences(key, normalize(source)) for key, n in heads.items())


def saved(who: str, domain: str) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (VALID / f"{who}-{domain}-all" / "predictions.jsonl").open())}


def select(who: str, out: Path = OUT, violates: Callable[[str, str], bool] | None = None) -> None:
    """`violates(completion, source)`: what another decode rule stops (no_cue_claim/check.py reads
    this with its own); by default this rule's repeats."""
    out.mkdir(parents=True, exist_ok=True)
    for domain in DOMAINS:
        checks = read(VALID / f"{who}-{domain}-all", "valid", domain)
        samples = {s.id: s for s in load_dataset(f"vader:{domain}").split("valid")}
        answers = saved(who, domain)
        # decide.py's repeats, and (added after PD's first answers: one movies answer headed "pleasure"
        # twice with a malformed number that decide.py's pattern misses) what the rule itself names
        if violates is None:
            repeating = sorted(
                i
                for i, a in checks.items()
                if a.repeats or heads_a_cue_too_often(answers[i]["raw_completion"], samples[i].source)
            )
            others = sorted(i for i, a in checks.items() if not a.repeats)
        else:
            repeating = sorted(i for i in checks if violates(answers[i]["raw_completion"], samples[i].source))
            others = sorted(i for i in checks if i not in repeating)
        kept = out / f"{who}-{domain}.controls"  # drawn once, before any answer with the rule
        controls = (
            kept.read_text().split()
            if kept.exists()
            else sorted(np.random.default_rng(0).choice(others, CONTROLS, replace=False).tolist())
        )
        with (out / f"{who}-{domain}.jsonl").open("w") as f:
            for sample_id in repeating + controls:
                s = samples[sample_id]
                f.write(json.dumps({"id": s.id, "text": s.source, "score": s.score}) + "\n")
        (out / f"{who}-{domain}.controls").write_text("\n".join(controls) + "\n")
        print(f"{who} {domain}: {len(repeating)} answers the rule names of {len(checks)}, {CONTROLS} controls")


def compare(
    who: str,
    out: Path = OUT,
    violates: Callable[[str, str], bool] = heads_a_cue_too_often,
    what: str = "answers heading a list item with a word more often than the input has it",
) -> None:
    for domain in DOMAINS:
        old = saved(who, domain)
        new = {r["id"]: r for r in map(json.loads, (out / f"{who}-{domain}" / "predictions.jsonl").open())}
        controls = (out / f"{who}-{domain}.controls").read_text().split()
        same = sum(
            (new[i]["raw_completion"], new[i]["score"]) == (old[i]["raw_completion"], old[i]["score"]) for i in controls
        )
        changed = [i for i in new if i not in controls]
        merged_dir = out / f"{who}-{domain}-merged"
        merged_dir.mkdir(exist_ok=True)
        with (merged_dir / "predictions.jsonl").open("w") as f:
            for i, row in old.items():
                f.write(json.dumps(new[i] if i in changed else row) + "\n")
        before = read(VALID / f"{who}-{domain}-all", "valid", domain)
        after = read(merged_dir, "valid", domain)
        ids = list(old)
        text = {s.id: s.source for s in load_dataset(f"vader:{domain}").split("valid")}
        heads = [
            sum(violates(rows[i]["raw_completion"], text[i]) for i in ids)
            for rows in (old, {**old, **{i: new[i] for i in changed}})
        ]
        parse = [np.mean([r["parse_ok"] for r in rows]) for rows in (old.values(), [new.get(i, old[i]) for i in ids])]
        gold = np.array([old[i]["gold_score"] for i in ids])

        def scores(rows):
            return np.array([r["score"] if r["score"] is not None else 0.0 for r in rows])

        a, b = scores([old[i] for i in ids]), scores([new[i] if i in changed else old[i] for i in ids])
        r_diff = paired_difference(lambda p, g: float(np.corrcoef(p, g)[0, 1]), a, b, gold)
        polarity_same = sum(new[i]["polarity"] == old[i]["polarity"] for i in changed)
        recall = [
            sum(x[i].cue_words_named for i in ids) / max(1, sum(x[i].cue_words for i in ids)) for x in (before, after)
        ]
        agree = [np.mean([x[i].agrees for i in ids if x[i].agrees is not None]) for x in (before, after)]
        print(
            f"{who} {domain}: controls word for word, same score {same}/{len(controls)}; answers repeating a cue "
            f"{sum(before[i].repeats for i in ids)} -> {sum(after[i].repeats for i in ids)} of {len(ids)}; "
            f"re-answered {len(changed)}, their polarity kept {polarity_same}, parse ok "
            f"{sum(old[i]['parse_ok'] for i in changed)} -> {sum(new[i]['parse_ok'] for i in changed)}, "
            f"finish 'length' {sum(old[i]['finish_reason'] == 'length' for i in changed)} -> "
            f"{sum(new[i]['finish_reason'] == 'length' for i in changed)}; {what} {heads[0]} -> {heads[1]}"
        )
        print(
            f"  whole split: parse rate {parse[0]:.3f} -> {parse[1]:.3f}; r {r_diff.a:.4f} -> {r_diff.b:.4f}, "
            f"{r_diff.difference:+.4f} [{r_diff.low:+.4f}, {r_diff.high:+.4f}]; cue recall {recall[0]:.3f} -> "
            f"{recall[1]:.3f}; judgment agreement {agree[0]:.3f} -> {agree[1]:.3f}"
        )


if __name__ == "__main__":
    {"select": select, "compare": compare}[sys.argv[1]](sys.argv[2])
