"""The product on a CUDA GPU, where the machine has one (CI has none: these skip there).

The rest of the suite pins the models whose numbers it compares to the CPU in fp32; these tests
run the same pieces with the device left at `auto`, which is the GPU in bf16 where one is present:
greedy decoding against transformers' own, and SFT, GRPO (with a resume) and evaluate end to end,
then a CPU run in the same process. `docs/results/cuda_check/device_check.sh` runs the whole suite
on a GPU machine.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from emoreason.cli import app
from emoreason.data.schema import vader_task
from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.models import load_model
from emoreason.models.families.base import Conversation
from emoreason.train.curves import read_metrics

pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]
runner = CliRunner()
SENTENCES = [
    ("I love this, it is wonderful", 3.0),
    ("this is awful and sad", -2.6),
    ("great fun, truly great", 2.9),
    ("terrible, I hate it", -3.0),
]


def test_auto_puts_the_model_on_the_gpu_and_decodes_greedily_as_transformers_does(tiny_models: dict[str, Path]) -> None:
    loaded = load_model(str(tiny_models["causal_lm"]))
    assert loaded.device.type == "cuda" and next(loaded.model.parameters()).is_cuda
    texts = [t for t, _ in SENTENCES]
    convs = [Conversation([{"role": "user", "content": t}]) for t in texts]
    ours = TransformersEngine(loaded, batch_size=4).generate(convs, SamplingParams(max_new_tokens=10))
    inputs = {k: v.to(loaded.device) for k, v in loaded.family.encode(loaded.processor, convs).items()}
    with torch.inference_mode():
        reference = loaded.model.generate(
            **inputs, max_new_tokens=10, do_sample=False, pad_token_id=loaded.tokenizer.pad_token_id
        )
    width = inputs["input_ids"].shape[1]
    for row, completions in enumerate(ours):
        assert completions[0].token_ids == reference[row, width:].tolist()[: len(completions[0].token_ids)]


def _sft_file(folder: Path) -> Path:
    task = vader_task("tweets").to_dict()
    rows = []
    for i, (text, score) in enumerate(SENTENCES):
        polarity = "positive" if score > 0 else "negative"
        answer = f"<polarity>{polarity}</polarity><think>{text[:12]}</think><score>{score:g}</score>"
        messages = [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]
        gold = {"polarity": polarity, "score": score}
        rows.append({"id": f"s{i}", "format": "c2f", "task": task, "gold": gold, "messages": messages})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder / "sft.jsonl"


def _training_steps(run: Path) -> list[dict]:
    """The run's step records, their update figures finite (the `valid/` ones may be NaN: r of a
    tiny model's unparsed answers)."""
    records = [r for r in read_metrics(run / "metrics.jsonl") if "loss" in r]
    assert records
    for record in records:
        update = {k: v for k, v in record.items() if isinstance(v, float) and not k.startswith("valid/")}
        assert all(math.isfinite(v) for v in update.values()), record
    return records


def test_sft_grpo_and_evaluate_run_on_the_gpu_and_a_cpu_run_follows_in_the_same_process(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    model = str(tiny_models["causal_lm"])
    sft = [
        "sft",
        f"model.name={model}",
        f"data.train_file={_sft_file(tmp_path / 'data')}",
        "max_steps=2",
        f"output_dir={tmp_path / 'sft'}",
        "report_to=[jsonl]",
        "model.lora.r=4",
        "train.batch_size=2",
        "eval_fraction=0",
        "generate_examples=0",
    ]
    result = runner.invoke(app, sft)
    assert result.exit_code == 0, result.output
    adapter = tmp_path / "sft" / "final" / "adapter"
    assert (adapter / "adapter_config.json").is_file()
    assert load_model(model, adapters=[str(adapter)]).device.type == "cuda"

    grpo = [
        "grpo",
        f"model.name={model}",
        f"model.adapter={adapter}",
        "data.dataset=vader:movies",
        "data.limit=4",
        "rollout.prompts_per_step=2",
        "rollout.group_size=2",
        "rollout.max_new_tokens=6",
        "run.save_every=1",
        f"run.output_dir={tmp_path / 'grpo'}",
        "run.report_to=[jsonl]",
        "validation.every=1",
        "validation.sample=2",
        "validation.datasets=[vader:movies]",
        "validation.max_new_tokens=4",
    ]
    result = runner.invoke(app, [*grpo, "run.max_steps=1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, [*grpo, "run.max_steps=2"], env={"COLUMNS": "200"})  # resumes at step 1
    assert result.exit_code == 0, result.output
    assert "resumed" in result.output
    assert [r["step"] for r in _training_steps(tmp_path / "grpo")] == [1, 2]

    out = tmp_path / "eval"
    args = ["evaluate", "--model", model, "--adapter", str(tmp_path / "grpo" / "checkpoint-2" / "adapter")]
    result = runner.invoke(
        app, [*args, "-d", "vader:movies", "--sample", "3", "--max-new-tokens", "6", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["identity"]["dtype"] == "bfloat16" and len((out / "predictions.jsonl").read_text().splitlines()) == 3

    # the same process, now on the CPU: accelerate's state from the GPU runs must not carry over
    result = runner.invoke(app, [*sft[:4], f"output_dir={tmp_path / 'sft_cpu'}", *sft[5:], "model.device=cpu"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sft_cpu" / "final" / "adapter" / "adapter_config.json").is_file()
