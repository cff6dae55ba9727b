import json, collections
def load(p):
    return {d['id']: d for d in map(json.loads, open(p + '/predictions.jsonl'))}
g = load('runs/sampled_vs_greedy/t0.0'); s = load('/work/main/runs/sampled_vs_greedy/t0.8')
for cls in ('positive', 'negative', 'neutral'):
    ids = [i for i in g if g[i]['gold_polarity'] == cls and i in s]
    gr = sum(g[i]['polarity'] == cls for i in ids) / len(ids)
    sr = sum(s[i]['polarity'] == cls for i in ids) / len(ids)
    right = [i for i in ids if g[i]['polarity'] == cls]
    lost = sum(s[i]['polarity'] != cls for i in right) / max(1, len(right))
    wrong = [i for i in ids if g[i]['polarity'] != cls]
    fixed = sum(s[i]['polarity'] == cls for i in wrong) / max(1, len(wrong))
    mix = collections.Counter(s[i]['polarity'] for i in ids)
    print(f"{cls}: n {len(ids)}, recall greedy {gr:.3f}, sampled {sr:.3f}; greedy-right turned wrong when sampled {lost:.3f} (of {len(right)}), greedy-wrong right when sampled {fixed:.3f} (of {len(wrong)}); sampled answers {dict(mix)}")
