"""What the model itself would open its text part with, where the input has a word the lexicon rates.

    openers.py ADAPTER ANSWERS...   (ANSWERS: evaluate folders answered by ADAPTER)

For every answer in the folders whose input has a rated word (`generation.chain_text.has_rated_word`), the
prompt plus the answer up to `Text:` is run through the model once: its likeliest next token, counted by
what it begins with, and whether the shipped text-opening rule steps in (`opens_with_cues`: more than
half the probability on tokens beginning "Positive", "Negative" or "No"). PG's answers were made with an
earlier form of the rule that restricted the opening for every input with a rated word; the two forms
give the same greedy answer unless the rule stays out and the likeliest token begins neither
"Positive" nor "Negative" ("differ" below). Those sentences are written to
runs/no_cue_claim/differ-<split>-<folder name>.jsonl, to be answered again with the shipped rule.
"""

import json
import sys
from collections import Counter
from pathlib import Path

import torch

from emoreason.data import load_dataset
from emoreason.formats import get_format
from emoreason.formats.conversation import build_conversation
from emoreason.generation.chain_text import has_rated_word
from emoreason.generation.quotes import GroundedQuotes
from emoreason.models import load_model
from emoreason.models.families.causal_lm import render_prompts

OUT = Path("runs/no_cue_claim")


def main(adapter: str, folders: list[str]) -> None:
    loaded = load_model("default", [adapter])
    tokenizer, fmt = loaded.tokenizer, get_format("c2f")
    for folder in folders:
        run = json.loads((Path(folder) / "run.json").read_text())
        dataset, split = run["identity"]["dataset"], run["identity"]["split"]
        ds = load_dataset(dataset)
        samples = {s.id: s for s in ds.split(split)}
        openers: Counter[str] = Counter()
        kept_out: Counter[str] = Counter()
        differing: list[dict] = []
        for line in (Path(folder) / "predictions.jsonl").open():
            answer = json.loads(line)
            sample, completion = samples[answer["id"]], answer["raw_completion"]
            at = completion.find("Text:")
            if at < 0 or not has_rated_word(sample.text):
                continue
            prompt = render_prompts(tokenizer, [build_conversation(sample, fmt, ds.task)])[0]
            ids = tokenizer(prompt + completion[: at + len("Text:")], return_tensors="pt", add_special_tokens=False)
            with torch.inference_mode():
                logits = loaded.model(**ids).logits[0, -1]
            word = tokenizer.decode([int(logits.argmax())]).strip()
            opener = next((w for w in ("Positive", "Negative", "No") if word.startswith(w)), f"other: {word!r}")
            rule = GroundedQuotes(tokenizer, [sample.text])
            for token in tokenizer(completion[: at + len("Text:")], add_special_tokens=False)["input_ids"]:
                rule.advance(0, token)
            steps_in = rule.opens_with_cues(0, logits)
            openers[opener] += 1
            kept_out[opener] += not steps_in
            if not steps_in and opener not in ("Positive", "Negative"):
                differing.append({"id": sample.id, "text": sample.text, "score": sample.score})
        differ = len(differing)
        OUT.mkdir(parents=True, exist_ok=True)
        with (OUT / f"differ-{split}-{Path(folder).name}.jsonl").open("w") as f:
            f.writelines(json.dumps(row) + "\n" for row in differing)
        print(
            f"{folder}: {sum(openers.values())} answers with a rated word; likeliest opener {dict(openers)}; "
            f"the rule stays out {dict(kept_out)}; differ {differ}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
