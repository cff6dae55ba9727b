"""Greedy vs sampled variants from runs/consensus/<name>/<domain>.<split>.{greedy,sampled}.jsonl."""

import json
import sys

import numpy as np

from emoreason.data import load_dataset
from emoreason.formats import ParseResult
from emoreason.formats.consensus import choose_consensus
from emoreason.metrics.regression import uar_3

names, split = sys.argv[1].split(","), (sys.argv[2] if len(sys.argv) > 2 else "valid")
rng = np.random.default_rng(0)


def pr(a):
    return ParseResult("c2f", a["ok"], a["polarity"], a["score"])


def variant(rows, kind):
    out = []
    for r in rows:
        ans = r["answers"]
        if kind == "greedy" or kind == "sample1":
            a = ans[0]
        elif kind.startswith("vote"):
            k = int(kind[4:])
            a = ans[choose_consensus([pr(x) for x in ans[:k]]).index]
        elif kind.startswith("vmean"):
            k = int(kind[5:])
            parsed = [pr(x) for x in ans[:k]]
            c = choose_consensus(parsed)
            win = parsed[c.index].polarity
            s = [p.score for p in parsed if p.ok and p.polarity == win and p.score is not None]
            a = {"ok": bool(s), "score": float(np.mean(s)) if s else None}
        elif kind == "mean5":
            s = [x["score"] for x in ans if x["ok"] and x["score"] is not None]
            a = {"ok": bool(s), "score": float(np.mean(s)) if s else None}
        out.append(a["score"] if a.get("ok") and a.get("score") is not None else np.nan)
    return np.array(out)


def metrics(pred, gold, task):
    m = ~np.isnan(pred)
    p, g = pred[m], gold[m]
    pp = np.array([task.score_polarity(x) for x in p])
    gp = np.array([task.score_polarity(x) for x in g])
    return np.corrcoef(p, g)[0, 1], np.abs(p - g).mean(), (pp == gp).mean(), uar_3(pp, gp), m.mean()


for name in names:
    for domain in ("tweets", "products", "movies"):
        task = load_dataset(f"vader:{domain}").task
        greedy = [json.loads(raw) for raw in open(f"runs/consensus/{name}/{domain}.{split}.greedy.jsonl")]
        try:
            sampled = [json.loads(raw) for raw in open(f"runs/consensus/{name}/{domain}.{split}.sampled.jsonl")]
        except FileNotFoundError:
            sampled = []
        ids = [r["id"] for r in sampled] or [r["id"] for r in greedy]
        gmap = {r["id"]: r for r in greedy}
        smap = {r["id"]: r for r in sampled}
        ids = [i for i in ids if i in gmap]
        gold = np.array([gmap[i]["gold"] for i in ids])
        rows = {"greedy": variant([gmap[i] for i in ids], "greedy")}
        if sampled:
            for kind in ("sample1", "vote3", "vote5", "vmean3", "vmean5", "mean5"):
                rows[kind] = variant([smap[i] for i in ids], kind)
        for kind, pred in rows.items():
            r, mae, acc, uar, parse = metrics(pred, gold, task)
            line = (
                f"{name:8s} {domain:8s} n={len(ids):3d} {kind:7s} r={r:.3f} mae={mae:.3f}"
                f" acc3={acc:.3f} uar3={uar:.3f} parse={parse:.3f}"
            )
            if kind != "greedy":
                base = rows["greedy"]
                both = ~np.isnan(pred) & ~np.isnan(base)
                d = []
                idx = np.flatnonzero(both)
                for _ in range(1000):
                    b = rng.choice(idx, len(idx))
                    d.append(np.corrcoef(pred[b], gold[b])[0, 1] - np.corrcoef(base[b], gold[b])[0, 1])
                line += (
                    f"  dr={np.corrcoef(pred[both], gold[both])[0, 1] - np.corrcoef(base[both], gold[both])[0, 1]:+.3f}"
                    f" [{np.percentile(d, 2.5):+.3f},{np.percentile(d, 97.5):+.3f}]"
                )
            print(line)
