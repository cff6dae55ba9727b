"""Exploratory: what the shipped model's own token probabilities say about the score, on the
greedy answers saved in runs/consensus/shipped (seeded 200 per split). Writes
runs/readout/<domain>.<split>.jsonl with, per sentence: gold, greedy score, polarity probs at
the polarity token, and the digit distributions at `about <n>` and `<score><n>`."""

import json
import sys
import time
from pathlib import Path

import torch

from emoreason.api.explainer import load_engine
from emoreason.data import load_dataset
from emoreason.formats import get_format
from emoreason.inference import conversations_for
from emoreason.models.families.causal_lm import render_prompts

torch.set_grad_enabled(False)
loaded, _ = load_engine("default", None, batch_size=4)
model, tok = loaded.model, loaded.tokenizer
fmt = get_format("c2f")


def V(s):
    return tok(s, add_special_tokens=False)["input_ids"]


POL = {p: V(p)[0] for p in ("positive", "negative", "neutral")}
DIG = [V(str(d))[0] for d in range(10)]
MINUS_SP, SP, MINUS = V(" -")[0], V(" ")[0], V("-")[0]


def digits_at(logp, pos):
    return logp[pos, DIG].softmax(-1).tolist()


for split in sys.argv[1].split(","):
    for domain in ("tweets", "products", "movies"):
        out = Path(f"runs/readout/{domain}.{split}.jsonl")
        if out.exists():
            continue
        ds = load_dataset(f"vader:{domain}")
        byid = {s.id: s for s in ds.split(split)}
        rows = [json.loads(line) for line in open(f"runs/consensus/shipped/{domain}.{split}.greedy.jsonl")]
        began = time.time()
        recs = []
        for r in rows:
            s = byid[r["id"]]
            text = r["answers"][0]["text"]
            conv = conversations_for([s], fmt, ds.task)[0]
            prompt = render_prompts(tok, [conv])[0]
            # the completion text does not repeat the assistant prefix; join as the engine did
            p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
            c_ids = tok(text, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([p_ids + c_ids])
            logp = model(ids).logits[0].float().log_softmax(-1)
            n = len(p_ids)
            rec = {
                "id": r["id"],
                "gold": r["gold"],
                "score": r["answers"][0]["score"],
                "polarity": r["answers"][0]["polarity"],
            }
            # polarity token: first completion token that is a polarity word
            for j, t in enumerate(c_ids):
                if t in POL.values():
                    lp = logp[n + j - 1]
                    rec["p_pol"] = {k: lp[v].exp().item() for k, v in POL.items()}
                    break
            # numbers: after 'about' and after '<score>'
            toks = [tok.decode([t]) for t in c_ids]
            for name, anchor in (("about", "about"), ("score", "score")):
                for j in range(len(toks) - 1, -1, -1):
                    if toks[j] == anchor and (anchor == "about" or toks[j - 1] == "<"):
                        k = j + 1 + (1 if anchor == "score" else 0)  # skip '>' after 'score'
                        sign_tok = c_ids[k]
                        neg = sign_tok in (MINUS_SP, MINUS)
                        if sign_tok in (MINUS_SP, MINUS, SP):
                            psign = logp[n + k - 1].exp()
                            k += 1
                        if k + 2 < len(c_ids):
                            rec[name] = {
                                "neg": neg,
                                "p_minus": (
                                    logp[n + k - 2, MINUS_SP if anchor == "about" else MINUS].exp().item()
                                    if anchor
                                    else None
                                ),
                                "int": digits_at(logp, n + k - 1),
                                "tenth": digits_at(logp, n + k + 1),
                                "greedy_int": toks[k],
                                "greedy_tenth": toks[k + 2],
                            }
                        break
            recs.append(rec)
        with out.open("w") as f:
            for rec in recs:
                f.write(json.dumps(rec) + "\n")
        print(domain, split, len(recs), f"{time.time() - began:.0f}s", flush=True)
