"""Does the chain cite the words the judgment rests on? The shipped default's own answers, against the words
whose removal moves its polarity probabilities most (`metrics.attribution`).

    run.py RUNS SPLIT [N] -> for each VADER domain, a seeded N (default 100) of the answers in
                             RUNS/SPLIT-<domain> (an `emoreason evaluate` folder of the shipped default);
                             their attributions appended to runs/attribution/SPLIT-<domain>.jsonl (a rerun
                             computes only the ids that file lacks), then the figures printed

Written before any attribution of a real answer was read (beyond `make run`'s five). Descriptive: nothing is
chosen on these figures. For each domain and all three together:
- agreement: the reading P(positive) - P(negative) the attribution pass finds for the whole sentence (a
  training-style forward, `generation.logprobs.choice_logprobs`; any token's shift plus its reading without
  it) against the one the answer recorded (the engine's probabilities), largest and mean absolute difference;
- leading word: the token with the largest |shift|, where it moves P(positive) - P(negative) by 0.1 or more;
  the share of answers with one; of them, the share the chain cites (`leading_word_cited`: a citation span
  in the text touches it), with a 95% bootstrap interval; and against chance: the mean over the same
  answers of (cited tokens / tokens), which is what a leading token drawn at random would give, with the
  paired difference and its interval;
- what the leading word is: a word VADER's lexicon rates as a cue of its own (`metrics.valence.cue_valence`),
  a negation, a booster, or another word;
- the same cited share among the answers whose chain concludes against its own numbers (they hold the
  rationalized sentence, "The lexicon alone leans ...") and among the others;
- |shift| of cited tokens against uncited ones: per answer with both, the mean |shift| of each, paired;
- seconds a sentence, and a token.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.data.schema import Sample
from emoreason.eval.compare import read_run
from emoreason.formats import get_format
from emoreason.inference import attribute_words
from emoreason.metrics.attribution import leading_word_cited, reading
from emoreason.metrics.bootstrap import bootstrap_ci, paired_difference
from emoreason.metrics.valence import cue_valence, vader_boosters, vader_lexicon, vader_negations
from emoreason.models import load_model

DOMAINS = ("tweets", "products", "movies")
MIN_SHIFT = 0.1
OUT = Path("runs/attribution")
RATIONALE = "The lexicon alone leans"


def chosen_ids(records: dict, n: int, seed: int = 0) -> list[str]:
    """A seeded `n` of the answers (all when fewer), in a fixed order."""
    ids = sorted(records)
    return sorted(random.Random(seed).sample(ids, min(n, len(ids))))


def attribute(runs: str, split: str, n: int) -> None:
    """Attribute the chosen answers of each domain that the output file lacks."""
    OUT.mkdir(parents=True, exist_ok=True)
    loaded = None
    for domain in DOMAINS:
        records, task = read_run(f"{runs}/{split}-{domain}")
        path = OUT / f"{split}-{domain}.jsonl"
        done = {json.loads(line)["id"] for line in path.open()} if path.is_file() else set()
        todo = [i for i in chosen_ids(records, n) if i not in done]
        if not todo:
            continue
        loaded = loaded or load_model("default")
        fmt = get_format("c2f")
        texts = {s.id: s.text for s in load_dataset(f"vader:{domain}").split(split)}
        with path.open("a") as out:
            for record_id in todo:
                sample = Sample(id=record_id, text=texts[record_id])
                began = time.perf_counter()
                (shifts,) = attribute_words(loaded, [sample], fmt, task)
                seconds = time.perf_counter() - began
                row = {"id": record_id, "seconds": round(seconds, 3), "attribution": [s.to_dict() for s in shifts]}
                out.write(json.dumps(row) + "\n")
                out.flush()
        print(f"{split}-{domain}: {len(todo)} attributed", file=sys.stderr)


def kind(word: str) -> str:
    """What a leading token is: rated (a cue of its own in VADER's lexicon), negation, booster, other."""
    low = word.strip(".,!?;:\"'()").lower()
    if low in vader_negations() or low.endswith("n't"):
        return "negation"
    if low in vader_boosters():
        return "booster"
    return "rated" if cue_valence(low, vader_lexicon()) is not None else "other"


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def share_ci(flags: list[bool]) -> str:
    if not flags:
        return "n/a"
    values = np.asarray(flags, dtype=float)
    low, high = bootstrap_ci(lambda p, _t: float(np.mean(p)), values, values)
    return f"{values.mean():.3f} [{low:.3f}, {high:.3f}] (n={len(flags)})"


def mean_difference(a: list[float], b: list[float]) -> str:
    """mean(b) - mean(a) over the same answers, with its paired 95% bootstrap interval."""
    paired = paired_difference(lambda p, _t: float(np.mean(p)), np.asarray(a), np.asarray(b), np.zeros(len(a)))
    return f"{paired.difference:+.3f} [{paired.low:+.3f}, {paired.high:+.3f}]"


def figures(pairs: list[tuple[dict, dict]]) -> dict[str, list]:
    """The per-answer facts the report sums, from (answer record, its attribution row) pairs."""
    facts: dict[str, list] = {k: [] for k in ("diffs", "cited", "chance", "kinds", "against", "others")}
    facts.update({k: [] for k in ("cited_shift", "uncited_shift", "seconds", "tokens")})
    for record, attributed in pairs:
        ranked = attributed["attribution"]
        spans = [s for s in record["citations"].get("spans", []) if s.get("field") == "text"]
        touched = [any(s["start"] < a["end"] and a["start"] < s["end"] for s in spans) for a in ranked]
        facts["seconds"].append(attributed["seconds"])
        facts["tokens"].append(len(ranked))
        lead = leading_word_cited(ranked, spans, MIN_SHIFT)
        if lead is not None:
            facts["cited"].append(lead)
            facts["chance"].append(sum(touched) / len(touched))
            facts["kinds"].append(kind(ranked[0]["word"]))
            facts["against" if RATIONALE in record["raw_completion"] else "others"].append(lead)
        if any(touched) and not all(touched):
            sizes = [abs(a["shift"]) for a in ranked]
            facts["cited_shift"].append(mean([x for x, t in zip(sizes, touched, strict=True) if t]))
            facts["uncited_shift"].append(mean([x for x, t in zip(sizes, touched, strict=True) if not t]))
        if record.get("polarity_probs") and ranked:
            base = ranked[0]["shift"] + reading(ranked[0]["without"])
            facts["diffs"].append(abs(base - reading(record["polarity_probs"])))
    return facts


def report(runs: str, split: str, n: int) -> None:
    """Print the figures of the module doc."""
    everything: list[tuple[dict, dict]] = []
    for domain in (*DOMAINS, "all"):
        if domain == "all":
            pairs = everything
        else:
            records, _ = read_run(f"{runs}/{split}-{domain}")
            chosen = set(chosen_ids(records, n))
            found = [json.loads(line) for line in (OUT / f"{split}-{domain}.jsonl").open()]
            pairs = [(records[a["id"]], a) for a in found if a["id"] in chosen]
            everything.extend(pairs)
        f = figures(pairs)
        print(f"== {split} {domain}: {len(pairs)} answers, {sum(f['tokens'])} tokens")
        if f["diffs"]:
            print(f"  reading vs the answer's: max |diff| {max(f['diffs']):.4f}, mean {mean(f['diffs']):.4f}")
        print(f"  a leading word (|shift| >= {MIN_SHIFT}): {len(f['cited'])} of {len(pairs)}")
        print(f"  leading word cited: {share_ci(f['cited'])}")
        if f["cited"]:
            cited = [float(c) for c in f["cited"]]
            against_chance = mean_difference(f["chance"], cited)
            print(f"  chance (cited tokens / tokens): {mean(f['chance']):.3f}; cited - chance {against_chance}")
            counts = {k: f["kinds"].count(k) for k in sorted(set(f["kinds"]))}
            print("  leading word is: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda x: -x[1])))
        print(f"  cited, answers with the rationalized sentence: {share_ci(f['against'])}")
        print(f"  cited, the other answers: {share_ci(f['others'])}")
        if f["cited_shift"]:
            gap = mean_difference(f["uncited_shift"], f["cited_shift"])
            print(
                f"  mean |shift| cited {mean(f['cited_shift']):.3f} vs uncited {mean(f['uncited_shift']):.3f} "
                f"(n={len(f['cited_shift'])} answers with both): {gap}"
            )
        seconds, tokens = f["seconds"], f["tokens"]
        print(f"  seconds a sentence {mean(seconds):.2f}, a token {sum(seconds) / max(1, sum(tokens)):.3f}")


if __name__ == "__main__":
    runs_dir, split_name = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    attribute(runs_dir, split_name, count)
    report(runs_dir, split_name, count)
