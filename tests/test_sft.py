"""SFT on tiny models: the loss falls, the result loads for inference, runs resume exactly,
media reach the model, and bad SFT files fail with file, line and field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from emoreason.config_loader import ConfigError
from emoreason.data.errors import DataError
from emoreason.data.schema import Sample, vader_task
from emoreason.distill import LexiconTeacher, distill
from emoreason.formats import get_format
from emoreason.models import load_model
from emoreason.sft.config import load_config, parse_config
from emoreason.sft.data import load_sft_file, split_eval
from emoreason.sft.trainer import SFTTrainer
from emoreason.train.checkpoint_errors import CheckpointError

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

TASK = vader_task("tweets")
C2F = get_format("c2f")
SENTENCES = [
    ("I love this, it is wonderful", 3.0),
    ("this is awful and sad", -2.6),
    ("great fun, truly great", 2.9),
    ("terrible, I hate it", -3.0),
    ("a happy and lovely day", 2.8),
    ("so bad, so ugly", -2.9),
]


@pytest.fixture(scope="module")
def sft_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("distilled")
    samples = [Sample(id=f"s{i}", text=t, score=s, split="train") for i, (t, s) in enumerate(SENTENCES)]
    distill(samples, TASK, C2F, LexiconTeacher(C2F, TASK), out, rationalize=True)
    assert len((out / "sft.jsonl").read_text().splitlines()) == len(SENTENCES)
    return out / "sft.jsonl"


@pytest.fixture(scope="module")
def short_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Short prompts and chains, so a tiny model (character-level tokenizer) trains in seconds."""
    file = tmp_path_factory.mktemp("short") / "sft.jsonl"
    lines = []
    for i, (text, score) in enumerate(SENTENCES):
        polarity = "positive" if score > 0 else "negative"
        lines.append(
            json.dumps(
                {
                    "id": f"s{i}",
                    "format": "c2f",
                    "task": TASK.to_dict(),
                    "gold": {"polarity": polarity, "score": score},
                    "messages": [
                        {"role": "system", "content": "Judge the sentiment."},
                        {"role": "user", "content": text},
                        {
                            "role": "assistant",
                            "content": f"<polarity>{polarity}</polarity><think>{text[:12]}</think>"
                            f"<score>{score:g}</score>",
                        },
                    ],
                }
            )
        )
    file.write_text("\n".join(lines) + "\n")
    return file


def make_config(tmp_path: Path, model: Path, train_file: Path, /, **sections: dict[str, Any]) -> Any:
    data: dict[str, Any] = {
        "run": {
            "output_dir": str(tmp_path / "run"),
            "max_steps": 2,
            "save_every": 0,
            "report_to": ["jsonl"],
            "resume": False,
            "save_latest": False,
        },
        "model": {"name": str(model), "device": "cpu", "lora": {"enabled": True, "r": 4, "alpha": 8}},
        "data": {"train_file": str(train_file), "eval_fraction": 0.0},
        "train": {"batch_size": 3, "lr": 1e-2, "scheduler": "constant"},
        "eval": {"every": 0, "loss_examples": 6, "generate_examples": 2, "max_new_tokens": 8},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return parse_config(data)


def test_sft_lowers_the_loss_and_the_model_loads_for_inference(tmp_path: Path, tiny_models, short_file) -> None:
    from emoreason.generation import SamplingParams, TransformersEngine
    from emoreason.inference import analyze

    examples = load_sft_file(short_file)
    config = make_config(
        tmp_path,
        tiny_models["causal_lm"],
        short_file,
        run={"max_steps": 10},
        model={"lora": {"enabled": False}},
        train={"lr": 3e-3, "batch_size": 6},
    )
    trainer = SFTTrainer(config, train=examples, eval_examples=examples)
    trainer.train()
    evals = [r["eval/loss"] for r in trainer.log_history if "eval/loss" in r]
    assert len(evals) == 2 and evals[-1] < 0.75 * evals[0]  # the held-out loss (here: the train set) fell
    assert trainer.log_history[0]["step"] == 0 and "eval/parse_rate" in trainer.log_history[-1]
    provenance = json.loads((tmp_path / "run" / "final" / "provenance.json").read_text())
    assert provenance["steps"] == 10 and provenance["train_examples"] == len(SENTENCES)
    assert provenance["train_file_sha256"] == hashlib.sha256(short_file.read_bytes()).hexdigest()
    assert provenance["versions"]["emoreason"] and provenance["versions"]["torch"]  # what made it

    loaded = load_model(str(tmp_path / "run" / "final" / "model"), device="cpu")
    records = analyze(
        TransformersEngine(loaded), [Sample(id="q", text="nice")], TASK, "c2f", "tiny", SamplingParams(max_new_tokens=4)
    )
    assert records[0]["id"] == "q"
    assert_same_loss(trainer, loaded.model)


def test_each_step_logs_the_rate_it_trained_at(
    tmp_path: Path, tiny_models, short_file, caplog: pytest.LogCaptureFixture
) -> None:
    """The logged lr was the next step's: a warm-up's first step trained at 0 and logged 5e-3. The
    warning that the warm-up covers the run named `optim.warmup_steps`, a key SFT refuses."""
    examples = load_sft_file(short_file)
    config = make_config(
        tmp_path, tiny_models["causal_lm"], short_file, train={"scheduler": "linear", "warmup_steps": 2, "lr": 1e-2}
    )
    with caplog.at_level("WARNING", logger="emoreason.train.config"):
        trainer = SFTTrainer(config, train=examples, eval_examples=[])
    assert (
        "train.warmup_steps 2 covers all 2 optimizer steps" in caplog.text and "add train.warmup_steps=0" in caplog.text
    )
    trainer.train()
    assert [r["lr"] for r in trainer.log_history if "lr" in r] == [0.0, 5e-3]


def assert_same_loss(trainer: SFTTrainer, model: torch.nn.Module) -> None:
    """The reloaded weights are the trained ones: the same loss on a batch as the trainer's policy."""
    batch = trainer.train_examples[:2]
    with torch.no_grad():
        trained, _ = trainer._nll(trainer.policy, batch)
        reloaded, _ = trainer._nll(model, batch)
    assert float(reloaded) == pytest.approx(float(trained), rel=1e-4)


def test_sft_loss_covers_the_assistant_turn_and_its_end_token_only(tmp_path: Path, tiny_models, sft_file) -> None:
    config = make_config(tmp_path, tiny_models["causal_lm"], sft_file)
    trainer = SFTTrainer(config)
    example, ids = trainer.train_examples[0]
    assert ids[-1] == trainer.tokenizer.eos_token_id
    assert trainer.tokenizer.decode(ids[:-1]) == example.target
    assert all(m["role"] != "assistant" for m in example.conversation.messages)


def test_sft_resumes_exactly(tmp_path: Path, tiny_models, short_file) -> None:
    straight = SFTTrainer(make_config(tmp_path / "a", tiny_models["causal_lm"], short_file, run={"max_steps": 4}))
    straight.train()
    first = SFTTrainer(
        make_config(tmp_path / "b", tiny_models["causal_lm"], short_file, run={"max_steps": 4, "save_every": 2})
    )
    first.step(), first.step()
    first.run.save()
    resumed = SFTTrainer(
        make_config(tmp_path / "b", tiny_models["causal_lm"], short_file, run={"max_steps": 4, "resume": True})
    )
    resumed.train()
    assert resumed.step_index == 4
    a = {k: v for k, v in straight.policy.state_dict().items() if "lora" in k}
    b = {k: v for k, v in resumed.policy.state_dict().items() if "lora" in k}
    assert a and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    adapter = tmp_path / "b" / "run" / "final" / "adapter"
    assert_same_loss(resumed, load_model(str(tiny_models["causal_lm"]), [str(adapter)], device="cpu").model)


def test_a_resume_with_other_training_settings_stops_unless_told(tmp_path: Path, tiny_models, short_file) -> None:
    """A rerun into a run's folder with another lr or batch size used to resume silently and rewrite
    config.yaml, so the record named settings the first steps were not trained with."""
    model = tiny_models["causal_lm"]
    SFTTrainer(make_config(tmp_path, model, short_file, run={"max_steps": 2, "save_every": 2})).train()
    changed = {"lr": 1e-3, "batch_size": 2}
    again = SFTTrainer(make_config(tmp_path, model, short_file, run={"max_steps": 4, "resume": True}, train=changed))
    with pytest.raises(CheckpointError, match="other settings") as refused:
        again.train()
    assert "train.batch_size: 3 -> 2" in str(refused.value) and "train.lr: 0.01 -> 0.001" in str(refused.value)
    assert "run.max_steps" not in str(refused.value)  # running longer is not a change of recipe
    assert again.step_index == 0 and "lr: 0.01" in (tmp_path / "run" / "config.yaml").read_text()
    told = {"max_steps": 4, "resume": True, "resume_with_changes": True}
    resumed = SFTTrainer(make_config(tmp_path, model, short_file, run=told, train=changed))
    resumed.train()
    assert resumed.step_index == 4
    assert "lr: 0.001" in (tmp_path / "run" / "config.yaml").read_text()
    assert "lr: 0.01" in (tmp_path / "run" / "config.until-step-2.yaml").read_text()


def test_a_resume_notices_the_train_file_rewritten_in_place(tmp_path: Path, tiny_models, short_file) -> None:
    """data.train_file was compared by its path: rewritten (a new distill into the same folder), the resumed
    run went on with other examples and another order, and said nothing."""
    model, data = tiny_models["causal_lm"], Path(shutil.copy(short_file, tmp_path / "sft.jsonl"))
    SFTTrainer(make_config(tmp_path, model, data, run={"max_steps": 2, "save_every": 2})).train()
    lines = data.read_text().splitlines()
    data.write_text("\n".join(reversed(lines)) + "\n")
    again = SFTTrainer(make_config(tmp_path, model, data, run={"max_steps": 4, "resume": True}))
    with pytest.raises(CheckpointError, match=r"data.train_file's contents: sha256:\w+ -> sha256:\w+ \(rewritten"):
        again.train()


def test_a_checkpoint_from_before_a_setting_existed_resumes(tmp_path: Path, tiny_models, short_file) -> None:
    """A setting added since a checkpoint was written counts at its default, not as a change; one since
    removed leaves the settings uncompared (a warning), never a run that cannot be resumed."""
    model = tiny_models["causal_lm"]
    SFTTrainer(make_config(tmp_path, model, short_file, run={"max_steps": 2, "save_every": 2})).train()
    state_file = tmp_path / "run" / "checkpoint-2" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    del state["config"]["polarity"]  # as written by a version without the polarity objective
    state_file.write_text(json.dumps(state))
    resumed = SFTTrainer(make_config(tmp_path, model, short_file, run={"max_steps": 3, "resume": True}))
    resumed.train()
    assert resumed.step_index == 3
    state = json.loads((tmp_path / "run" / "checkpoint-3" / "trainer_state.json").read_text())
    state["config"]["train"]["a_setting_since_removed"] = 1
    (tmp_path / "run" / "checkpoint-3" / "trainer_state.json").write_text(json.dumps(state))
    again = SFTTrainer(make_config(tmp_path, model, short_file, run={"max_steps": 4, "resume": True}))
    again.train()
    assert again.step_index == 4


def test_sft_full_fine_tuning_and_split(tmp_path: Path, tiny_models, short_file) -> None:
    config = make_config(
        tmp_path,
        tiny_models["causal_lm"],
        short_file,
        model={"lora": {"enabled": False}},
        data={"eval_fraction": 0.34},
        eval={"every": 1},
    )
    trainer = SFTTrainer(config)
    assert len(trainer.train_examples) == 4 and len(trainer.eval_examples) == 2
    trainer.train()
    assert (tmp_path / "run" / "final" / "model" / "config.json").is_file()
    assert sum("eval/loss" in r for r in trainer.log_history) == 3  # step 0, 1, 2
    train_ids = {e.id for e, _ in trainer.train_examples}
    held = {e.id for e, _ in trainer.eval_examples}
    assert not train_ids & held
    assert split_eval(load_sft_file(short_file), 0.34, 0)[1] == split_eval(load_sft_file(short_file), 0.34, 0)[1]


def test_the_held_out_share_keeps_speakers_whole(tmp_path: Path) -> None:
    """Clips of one speaker were held out and trained on alike: the held-out loss was of voices heard."""
    speakers = ["ann", "ann", "bob", "bob", "bob", "cy", "cy", "dee", "dee", "dee"]
    samples = [
        Sample(
            id=f"s{i}",
            text=f"{SENTENCES[i % 6][0]} {i}",
            score=SENTENCES[i % 6][1],
            split="train",
            meta={"speaker": who},
        )
        for i, who in enumerate(speakers)
    ]
    distill(samples, TASK, C2F, LexiconTeacher(C2F, TASK), tmp_path / "d", rationalize=True)
    examples = load_sft_file(tmp_path / "d" / "sft.jsonl")
    assert [e.speaker for e in examples] == speakers  # distill writes each chain's speaker
    for seed in range(5):
        train, held = split_eval(examples, 0.3, seed)
        assert 3 <= len(held) <= 4 and len(train) + len(held) == 10  # the share is 3: as near as whole speakers allow
        assert not {e.speaker for e in train} & {e.speaker for e in held}
    # one big speaker drawn first was held out whole: 90 of 100 examples for a share of 5
    skewed = [dataclasses.replace(examples[0], id=f"k{i}", speaker="big" if i < 90 else "small") for i in range(100)]
    for seed in range(6):
        assert {e.speaker for e in split_eval(skewed, 0.05, seed)[1]} == {"small"}
    # without speakers, examples are drawn one by one, as before (the same held-out examples for a seed)
    alone = [dataclasses.replace(e, speaker=None) for e in examples]
    assert [e.id for e in split_eval(alone, 0.3, 0)[1]] == ["s3", "s4", "s7"]
    # one speaker for all: drawn one by one too, not all held out or none
    one = [dataclasses.replace(e, speaker="ann") for e in examples]
    assert len(split_eval(one, 0.3, 0)[1]) == 3
    # the run says which speakers it held out: with few speakers the count is well off the share
    from types import SimpleNamespace

    from emoreason.cli.ui import console, show_sft_data

    train, held = split_eval(examples, 0.3, 0)
    trainer = SimpleNamespace(
        train_examples=[(e, None) for e in train], eval_examples=[(e, None) for e in held], dropped_long=0, max_steps=3
    )
    with console.capture() as captured:
        show_sft_data(trainer)
    names = ", ".join(sorted({e.speaker for e in held}))
    assert f"{len(held)} held out (whole speakers: {names})" in " ".join(captured.get().split())
    line = json.loads((tmp_path / "d" / "sft.jsonl").read_text().splitlines()[0])
    (tmp_path / "bad.jsonl").write_text(json.dumps({**line, "speaker": ["ann"]}) + "\n")
    with pytest.raises(DataError, match="speaker"):
        load_sft_file(tmp_path / "bad.jsonl")


@pytest.mark.parametrize(("family", "kind"), [("qwen2_5_vl", "image"), ("qwen2_5_omni", "audio")])
def test_sft_on_multimodal_families(tmp_path: Path, tiny_models, media_files, family: str, kind: str) -> None:
    task = vader_task("x")
    record = {
        "id": "m1",
        "format": "c2f",
        "task": task.to_dict(),
        kind: str(media_files["image" if kind == "image" else "wav"]),
        "gold": {"polarity": "positive", "score": 2.0},
        "messages": [
            {"role": "system", "content": C2F.system_prompt(task)},
            {"role": "user", "content": f"Text: what a day\n\nThe {kind} is attached."},
            {
                "role": "assistant",
                "content": "<polarity>positive</polarity>\n<think>\nText: "
                "a bright voice and a smile, clearly upbeat\n</think>\n<score>2</score>",
            },
        ],
    }
    file = tmp_path / "mm.jsonl"
    file.write_text(json.dumps(record) + "\n" + json.dumps({**record, "id": "m2"}) + "\n")
    examples = load_sft_file(file)
    assert getattr(examples[0].conversation, kind) == record[kind]
    config = make_config(
        tmp_path,
        tiny_models[family],
        file,
        train={"batch_size": 2},
        run={"max_steps": 1},
        eval={"generate_examples": 0},
    )
    trainer = SFTTrainer(config, train=examples, eval_examples=examples)
    before = {k: v.clone() for k, v in trainer.policy.state_dict().items() if "lora_B" in k}
    trainer.train()
    losses = [r["loss"] for r in trainer.log_history if "loss" in r]
    assert losses and all(torch.isfinite(torch.tensor(losses)))
    after = {k: v for k, v in trainer.policy.state_dict().items() if "lora_B" in k}
    assert any(not torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"messages": [{"role": "user", "content": "hi"}]}', "'messages'"),
        ('{"messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "x"}]}', "messages[1].role"),
        (
            '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}], '
            '"image": "nope.png"}',
            "media file not found",
        ),
        (
            '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}], '
            '"task": {"x": 1}}',
            "'task'",
        ),
    ],
)
def test_bad_sft_lines_name_file_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    good = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}'
    file = tmp_path / "bad.jsonl"
    file.write_text(good + "\n" + line + "\n")
    with pytest.raises(DataError) as err:
        load_sft_file(file)
    assert f"{file}:2" in str(err.value) and message in str(err.value)
    with pytest.raises(DataError, match="emoreason distill"):
        load_sft_file(tmp_path / "missing.jsonl")


def test_sft_config_errors_and_shipped_recipe() -> None:
    config = load_config(
        Path(__file__).resolve().parents[1] / "configs" / "sft_c2f_vader_smollm2.yaml", ["max_steps=3", "lr=1e-4"]
    )
    assert config.run.max_steps == 3 and config.train.lr == 1e-4 and config.model.lora.enabled
    with pytest.raises(ConfigError, match="train.batch_sise: unknown key") as typo:
        load_config(None, ["train.batch_sise=3"])
    assert "(did you mean batch_size?)" in str(typo.value)
    # GRPO's name for the training section, given to SFT
    with pytest.raises(ConfigError, match=r"optim: unknown key.*\(did you mean train\? SFT recipes name it"):
        load_config(None, ["optim.lr=1e-4"])
    with pytest.raises(ConfigError, match="run.epochs"):
        load_config(None, ["epochs=-1"])


def test_cli_sft_runs_and_reports(tmp_path: Path, tiny_models, short_file) -> None:
    from typer.testing import CliRunner

    from emoreason.cli import app

    args = [
        "sft",
        f"model.name={tiny_models['causal_lm']}",
        "model.device=cpu",
        f"data.train_file={short_file}",
        "max_steps=2",
        f"output_dir={tmp_path / 'cli'}",
        "report_to=[jsonl]",
        "model.lora.r=4",
        "eval_fraction=0.34",
        "generate_examples=1",
        "max_new_tokens=4",
        "train.batch_size=2",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "held-out evaluation" in result.output and (tmp_path / "cli" / "final" / "adapter").is_dir()
    again = CliRunner().invoke(app, args)  # already done: resumes at the end and rewrites final/
    assert again.exit_code == 0 and "resumed at step 2" in again.output
    bad = CliRunner().invoke(
        app, ["sft", "data.train_file=/nonexistent.jsonl", f"model.name={tiny_models['causal_lm']}"]
    )
    assert bad.exit_code == 2 and "emoreason distill" in bad.output


def test_a_malformed_override_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot apply overrides"):
        load_config(None, ["eval.every=[1"])


def test_a_bad_override_is_named_as_the_override_not_the_file(tmp_path: Path) -> None:
    from emoreason.config_loader import load_recipe
    from emoreason.rl.config import GRPOConfig

    recipe = Path(__file__).parents[1] / "configs" / "c2f_vader_smollm2.yaml"
    with pytest.raises(
        ConfigError, match=r"^invalid override\nrun.max_steps: .*\[from the override run.max_steps=abc\]$"
    ):
        load_recipe(GRPOConfig, recipe, ["max_steps=abc"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("run:\n  max_steps: many\n")
    with pytest.raises(
        ConfigError,
        match=r"broken.yaml: invalid config\nrun.max_steps: .*got 'many'\)\noptim.lr: .*\[from the override ",
    ):
        load_recipe(GRPOConfig, broken, ["optim.lr=abc"])  # one problem is the file's: the file is named
    unclosed = tmp_path / "unclosed.yaml"  # a parser error was a yaml traceback
    unclosed.write_text("run:\n  max_steps: [3\n")
    with pytest.raises(ConfigError, match=r"unclosed.yaml: not valid YAML: (?s:.*)line 2, column 14"):
        load_recipe(GRPOConfig, unclosed)
    listed = tmp_path / "listed.yaml"  # a list at the top: "Cannot merge incompatible container types"
    listed.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="listed.yaml: the top level must be a mapping of sections"):
        load_recipe(GRPOConfig, listed, ["run.seed=1"])
    # the recipes in the folder, not the GRPO one for every command (`sft -c configs` named a GRPO recipe)
    with pytest.raises(ConfigError, match=r"is a folder; give a YAML config file \(here: .*listed.yaml"):
        load_recipe(GRPOConfig, tmp_path)
    twice = tmp_path / "twice.yaml"  # a key given twice was a yaml traceback
    twice.write_text("run:\n  max_steps: 3\nrun:\n  seed: 1\n")
    with pytest.raises(ConfigError, match=r"twice.yaml: not valid YAML: (?s:.*)duplicate key run(?s:.*)line 3"):
        load_recipe(GRPOConfig, twice)


def test_an_empty_mapping_override_empties_the_files_mapping() -> None:
    from emoreason.config_loader import load_recipe
    from emoreason.rl.config import GRPOConfig

    recipe = Path(__file__).parents[1] / "configs" / "c2f_vader_smollm2.yaml"
    config = load_recipe(GRPOConfig, recipe, ["data.balance=none", "data.balance_weights={}"])
    assert config.data.balance_weights == {}
    kept = load_recipe(GRPOConfig, recipe, ["reward.add={grounding: 0.25}"])  # a non-empty mapping merges
    assert kept.reward.add == {"grounding": 0.25}


def test_the_step_line_tells_the_training_loss_from_the_held_out_one() -> None:
    """It printed `loss 2.748 loss 2.925`: the train and the held-out loss under one name."""
    from emoreason.cli.ui import sft_step_line

    line = sft_step_line({"step": 3, "loss": 2.748, "eval/loss": 2.925, "eval/parse_rate": 1.0, "time/step": 0.5})
    assert line == "sft step 3: loss 2.748 held-out loss 2.925 held-out parse_rate 1.000 0.5s/step"


def test_the_trained_adapter_says_what_it_answers(tmp_path: Path, tiny_models, short_file) -> None:
    """final/adapter had no emoreason.json: analyze and serve then fell back to c2f / vader whatever the
    chains were. Now it names the chains' format, and their task where a name reads back as it."""
    from emoreason.data.schema import resolve_task
    from emoreason.models.shipped import AdapterSettings
    from emoreason.train.weights import trained_for

    assert trained_for("c2f", resolve_task("vader:movies")) == {"format": "c2f", "task": "vader:movies"}
    assert trained_for("emor3", resolve_task("ravdess")) == {"format": "emor3", "task": "ravdess"}
    own_scale = resolve_task(scale=(1.0, 7.0))  # "custom" names no scale: the task is written whole
    assert trained_for("c2f", own_scale) == {"format": "c2f", "task": own_scale.to_dict()}
    SFTTrainer(make_config(tmp_path, tiny_models["causal_lm"], short_file, run={"max_steps": 1})).train()
    settings = AdapterSettings.read(tmp_path / "run" / "final" / "adapter")
    examples = load_sft_file(short_file)
    assert settings.format == examples[0].format == "c2f"
    assert settings.task == "vader:tweets"  # the chains' task, by the name analyze reads it back with


def test_a_run_resumed_at_its_end_records_its_last_evaluation(tmp_path: Path, tiny_models, short_file) -> None:
    """A crash between the last checkpoint and final/ left a rerun nothing to train: it wrote final/ with
    `last_eval: null`, the evaluations being in metrics.jsonl, not in the new process's history."""
    import shutil

    sections = {"run": {"max_steps": 2, "save_every": 2, "resume": True}, "data": {"eval_fraction": 0.3}}
    config = make_config(tmp_path, tiny_models["causal_lm"], short_file, eval={"every": 1}, **sections)
    SFTTrainer(config).train()
    written = json.loads((tmp_path / "run" / "final" / "provenance.json").read_text())["last_eval"]
    shutil.rmtree(tmp_path / "run" / "final")
    SFTTrainer(config).train()
    again = json.loads((tmp_path / "run" / "final" / "provenance.json").read_text())["last_eval"]
    assert written is not None and {k: v for k, v in again.items() if k != "time"} == written  # the log adds its time


def test_a_rerun_of_a_finished_run_leaves_its_adapter_as_it_was(tmp_path: Path, tiny_models, short_file) -> None:
    """It rewrote final/ with the same weights and the module list in another order (peft saves a set): the
    adapter's digest changed, and a GRPO run from it, or an evaluate of it, refused to resume."""
    from emoreason.provenance import adapter_fingerprint

    sections = {"run": {"max_steps": 2, "save_every": 2, "resume": True}, "data": {"eval_fraction": 0.0}}
    config = make_config(tmp_path, tiny_models["causal_lm"], short_file, **sections)
    SFTTrainer(config).train()
    adapter = tmp_path / "run" / "final" / "adapter"
    saved = json.loads((adapter / "adapter_config.json").read_text())
    assert saved["target_modules"] == sorted(saved["target_modules"])  # one order, whichever process saves it
    before = adapter_fingerprint(str(adapter))
    SFTTrainer(config).train()
    assert adapter_fingerprint(str(adapter)) == before


def test_the_held_out_answers_of_a_label_task_are_scored_by_label(tmp_path: Path, tiny_models) -> None:
    """Only polarity accuracy was reported: an emotion task's figure is its label, and a label without a
    polarity (joy, given none) was not counted at all."""
    from emoreason.data.schema import resolve_task
    from emoreason.models import load_model
    from emoreason.sft.trainer import generation_eval

    task = resolve_task(labels=("joy", "anger"))
    rows = []
    for i, (text, label) in enumerate((("yay", "joy"), ("grr", "anger"))):
        answer = f"<step1>t</step1><step2>t</step2><step3>t</step3>\\boxed{{{label}}}"
        messages = [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]
        rows.append(
            {"id": str(i), "format": "emor3", "task": task.to_dict(), "gold": {"label": label}, "messages": messages}
        )
    file = tmp_path / "sft.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    loaded = load_model(str(tiny_models["causal_lm"]), device="cpu")
    stats = generation_eval(loaded, load_sft_file(file), max_new_tokens=4)
    assert stats["eval/label_accuracy"] == 0.0 and "eval/polarity_accuracy" not in stats  # a random model: none right
