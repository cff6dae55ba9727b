"""Is the rebuilt run (out_of_sample.sh, stage 1) the recorded one?

SFT 600: its held-out loss at steps 150-600 against the figures RESULTS gives for the original run
("A longer cold start"). The lr 3e-5 run: each step's mean reward, KL and gradient norm against
metrics.jsonl here (the original run's log). Identical rollouts give identical rewards, so a step
whose reward matches to 1e-6 drew the same completions.

    .venv/bin/python docs/results/rl_centred_lr3e5/rebuild_check.py
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RECORDED_SFT_LOSS = {150: 0.215, 300: 0.183, 450: 0.167, 600: 0.163}
GRPO_KEYS = ("reward/mean", "kl", "grad_norm")


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def main() -> None:
    sft = {row["step"]: row for row in rows(ROOT / "runs/sft600/metrics.jsonl") if "eval/loss" in row}
    print("SFT 600 held-out loss: step, recorded, rebuilt")
    for step, recorded in RECORDED_SFT_LOSS.items():
        rebuilt = sft.get(step, {}).get("eval/loss")
        print(f"  {step:4d}  {recorded:.3f}  {'-' if rebuilt is None else f'{rebuilt:.3f}'}")
    recorded_rows = {row["step"]: row for row in rows(Path(__file__).with_name("metrics.jsonl"))}
    rebuilt_rows = {row["step"]: row for row in rows(ROOT / "runs/grpo/centred_lr3e5/metrics.jsonl")}
    print("lr 3e-5 run: step, then recorded / rebuilt for " + ", ".join(GRPO_KEYS))
    same = 0
    for step in sorted(rebuilt_rows):
        old, new = recorded_rows.get(step, {}), rebuilt_rows[step]
        if "reward/mean" not in new:
            continue
        cells = [f"{old.get(k, float('nan')):.6f} / {new.get(k, float('nan')):.6f}" for k in GRPO_KEYS]
        same += abs(old.get("reward/mean", float("nan")) - new["reward/mean"]) < 1e-6
        print(f"  {step:3d}  " + "   ".join(cells))
    steps = sum("reward/mean" in row for row in rebuilt_rows.values())
    print(f"steps whose mean reward matches the record to 1e-6: {same} of {steps}")


if __name__ == "__main__":
    main()
