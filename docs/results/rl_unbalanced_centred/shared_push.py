"""The push a run's updates gave each answer's first token on every prompt at once, two ways:
the advantage sum by answer, and sum_i A_i (1[a_i = b] - f_b(group_i)), the first-order logit
gradient with the policy's probability of b on a prompt estimated by its group's answer share.
The two agree while every group's advantages sum to 0; centring per answer breaks that.
Usage: python shared_push.py ROLLOUTS.jsonl [...]  (gunzip the committed .gz files first)."""

import collections
import json
import sys

for path in sys.argv[1:]:
    rows = [json.loads(line) for line in open(path)]
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["step"], r.get("rank", 0), r["group"])].append(r)
    plain = collections.Counter()
    exact = collections.Counter()
    for g in groups.values():
        answers = [r["answer"]["polarity"] or "none" for r in g]
        freq = collections.Counter(answers)
        for r, a in zip(g, answers):
            plain[a] += r["advantage"]
            for b in ("negative", "neutral", "positive"):
                exact[b] += r["advantage"] * ((a == b) - freq[b] / len(g))
    print(
        path,
        "sum of A by answer:",
        {k: round(v, 2) for k, v in sorted(plain.items())},
        "| sum A (1[a=b] - f_b(group)):",
        {k: round(v, 2) for k, v in sorted(exact.items())},
    )
