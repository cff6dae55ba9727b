import collections
import json
import os
import random


def load(p):
    return {d["id"]: d for d in map(json.loads, open(p + "/predictions.jsonl"))}


g = load("runs/sampled_vs_greedy/t0.0")
s = load("/work/main/runs/sampled_vs_greedy/t0.8")
for cls in ("positive", "negative", "neutral"):
    ids = [i for i in g if g[i]["gold_polarity"] == cls and i in s]
    gr = sum(g[i]["polarity"] == cls for i in ids) / len(ids)
    sr = sum(s[i]["polarity"] == cls for i in ids) / len(ids)
    right = [i for i in ids if g[i]["polarity"] == cls]
    lost = sum(s[i]["polarity"] != cls for i in right) / max(1, len(right))
    wrong = [i for i in ids if g[i]["polarity"] != cls]
    fixed = sum(s[i]["polarity"] == cls for i in wrong) / max(1, len(wrong))
    mix = collections.Counter(s[i]["polarity"] for i in ids)
    print(
        f"{cls}: n {len(ids)}, recall greedy {gr:.3f}, sampled {sr:.3f};"
        f" greedy-right turned wrong when sampled {lost:.3f} (of {len(right)}),"
        f" greedy-wrong right when sampled {fixed:.3f} (of {len(wrong)}); sampled answers {dict(mix)}"
    )

# With votes.sh's four samples per sentence: among sentences whose greedy answer is right, the
# share of sampled answers that are wrong, per gold polarity, and the negative - positive difference
# with a 95% bootstrap interval over sentences.
if os.path.exists("runs/sampled_vs_greedy/t0.8x4/predictions.jsonl"):
    v = load("runs/sampled_vs_greedy/t0.8x4")
    loss = {}
    for cls in ("positive", "negative"):
        right = [i for i in g if g[i]["gold_polarity"] == cls and g[i]["polarity"] == cls and i in v]
        loss[cls] = [
            sum(a["polarity"] != cls for a in v[i]["votes"]["answers"]) / len(v[i]["votes"]["answers"]) for i in right
        ]
        print(
            f"{cls}, four samples: greedy right on {len(right)};"
            f" sampled answers wrong {sum(loss[cls]) / len(right):.3f}"
        )
    rng = random.Random(0)
    diffs = sorted(
        sum(rng.choices(loss["negative"], k=len(loss["negative"]))) / len(loss["negative"])
        - sum(rng.choices(loss["positive"], k=len(loss["positive"]))) / len(loss["positive"])
        for _ in range(2000)
    )
    point = sum(loss["negative"]) / len(loss["negative"]) - sum(loss["positive"]) / len(loss["positive"])
    print(f"negative - positive: {point:+.3f} [{diffs[50]:+.3f}, {diffs[1949]:+.3f}]")
