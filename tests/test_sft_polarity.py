"""The SFT polarity objective: targets read off a gold score, the soft cross-entropy, and the
trainer's term (what it computes is what the readout reads, it falls as it trains, its batches
are a function of the step, and a bad setting is refused by name), and the chains' loss that
leaves the polarity word's token to it (`data.train_polarity_word: false`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from emoreason.config_loader import ConfigError
from emoreason.data.schema import TaskInfo, vader_task
from emoreason.formats.conversation import build_conversation
from emoreason.sft.trainer import SFTTrainer
from emoreason.train.polarity import polarity_targets, soft_polarity_loss, target_matrix

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

VADER = vader_task("tweets")  # neutral band (-0.5, 0.5)


@pytest.mark.parametrize(
    ("score", "sd", "expected"),
    [
        # Phi(-0.5) = 0.30854 on each side, the rest neutral
        (0.0, 1.0, {"positive": 0.30854, "negative": 0.30854, "neutral": 0.38292}),
        # P(pos) = 1 - Phi(0.5 - 2) = Phi(1.5) = 0.93319; P(neg) = Phi(-0.5 - 2) = Phi(-2.5) = 0.00621
        (2.0, 1.0, {"positive": 0.93319, "negative": 0.00621, "neutral": 0.06060}),
        # sd 0.5: P(neg) = Phi((-0.5 + 1) / 0.5) = Phi(1) = 0.84134; P(pos) = 1 - Phi(3) = 0.00135
        (-1.0, 0.5, {"positive": 0.00135, "negative": 0.84134, "neutral": 0.15731}),
    ],
)
def test_polarity_targets_are_a_raters_normal_cut_at_the_neutral_band(score, sd, expected) -> None:
    got = polarity_targets(score, VADER, sd)
    assert got == pytest.approx(expected, abs=1e-5)
    assert sum(got.values()) == pytest.approx(1.0)


def test_polarity_targets_refuse_what_has_no_target() -> None:
    with pytest.raises(ValueError, match="no score scale"):
        polarity_targets(1.0, TaskInfo("emotions", labels=("joy", "anger")), 1.0)
    with pytest.raises(ValueError, match="finite"):
        polarity_targets(math.nan, VADER, 1.0)
    with pytest.raises(ValueError, match="rater_sd"):
        polarity_targets(1.0, VADER, 0.0)


def test_soft_polarity_loss_renormalises_over_the_three_words() -> None:
    # p = 0.5 / 0.25 / 0.25 after renormalising 0.2 / 0.1 / 0.1; target all on the third: -log 0.25 = 1.38629
    choice = torch.log(torch.tensor([[0.2, 0.1, 0.1]]))
    assert float(soft_polarity_loss(choice, torch.tensor([[0.0, 0.0, 1.0]]))) == pytest.approx(1.38629, abs=1e-5)
    # two rows, mean: row 2 with target 0.5 / 0.5 / 0 on p = 0.5 / 0.25 / 0.25: -(0.5 log 0.5 + 0.5 log 0.25) = 1.03972
    two = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]]))
    targets = torch.tensor([[0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    assert float(soft_polarity_loss(two, targets)) == pytest.approx((1.38629 + 1.03972) / 2, abs=1e-5)
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        soft_polarity_loss(torch.zeros(2, 2), torch.zeros(2, 2))
    columns = target_matrix([{"negative": 0.1, "neutral": 0.2, "positive": 0.7}])
    assert columns.tolist() == [[pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.7)]]  # POLARITIES order


SENTENCES = [
    ("I love this, it is wonderful", 3.0),
    ("this is awful and sad", -2.6),
    ("it is a phone", 0.1),
    ("terrible, I hate it", -3.0),
    ("a happy and lovely day", 2.8),
    ("nothing much to say", -0.2),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("polarity")
    # the same strong gold everywhere: a target a few steps can reach whatever the prompt (a tiny random
    # model does not learn to tell six sentences apart under c2f's long instructions in 12 steps)
    positive = root / "positive.jsonl"
    rows = [{"id": f"p{i}", "text": t, "score": 3.2, "split": "train"} for i, (t, _) in enumerate(SENTENCES)]
    positive.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = root / "scored.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "text": t, "score": s, "split": "train"}) + "\n"
            for i, (t, s) in enumerate(SENTENCES)
        )
    )
    chains = root / "sft.jsonl"
    lines = []
    for i, (text, score) in enumerate(SENTENCES[:2]):
        polarity = "positive" if score > 0 else "negative"
        messages = [
            {"role": "user", "content": text},
            {
                "role": "assistant",
                "content": f"<polarity>{polarity}</polarity><think>x</think><score>{score:g}</score>",
            },
        ]
        lines.append(json.dumps({"id": f"c{i}", "messages": messages}))
    chains.write_text("\n".join(lines) + "\n")
    # two domains of unequal size (six sentences and two) for `polarity.balance: domain`
    domains = root / "domains.jsonl"
    rows = [
        {"id": f"big{i}", "text": t, "score": s, "split": "train", "domain": "big"}
        for i, (t, s) in enumerate(SENTENCES)
    ]
    rows += [
        {"id": f"small{i}", "text": t, "score": s, "split": "train", "domain": "small"}
        for i, (t, s) in enumerate(SENTENCES[:2])
    ]
    domains.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"data": data, "positive": positive, "chains": chains, "domains": domains}


def make_trainer(
    tmp_path: Path,
    model: Path,
    files: dict[str, Path],
    data: str = "data",
    chains: bool = True,
    data_overrides: dict[str, Any] | None = None,
    **polarity: Any,
) -> SFTTrainer:
    from emoreason.sft.config import parse_config

    config = parse_config(
        {
            "run": {"output_dir": str(tmp_path / "run"), "max_steps": 12, "save_every": 0, "report_to": ["jsonl"]},
            "model": {"name": str(model), "device": "cpu", "lora": {"enabled": True, "r": 4, "alpha": 8}},
            "data": {
                "train_file": str(files["chains"]) if chains else None,
                "eval_fraction": 0.0,
                **(data_overrides or {}),
            },
            "train": {"batch_size": 2, "lr": 1e-2, "scheduler": "constant"},
            "eval": {"every": 0, "loss_examples": 0, "generate_examples": 0},
            "polarity": {"dataset": f"jsonl:{files[data]}?scale=-4,4&neutral=0.5", "batch_size": 6, **polarity},
        }
    )
    return SFTTrainer(config)


def test_the_polarity_term_reads_what_the_readout_reads_and_falls_as_it_trains(tmp_path, tiny_models, files) -> None:
    trainer = make_trainer(tmp_path, tiny_models["causal_lm"], files, "positive", weight=1.0)
    assert trainer.polarity is not None
    sentences = trainer.polarity.samples
    # the term's distribution is the model's at the polarity word, after the prompt and "<polarity>"
    # (what `evaluate` keeps as `polarity_probs`): checked against a fresh forward pass
    with torch.no_grad():
        got = torch.softmax(
            trainer.polarity.choice_logprobs(trainer.model, trainer.loaded, sentences[:2], trainer.share_prefix), dim=-1
        )
        loaded = trainer.loaded
        for row, sample in enumerate(sentences[:2]):
            conversation = build_conversation(sample, trainer.polarity.format, trainer.polarity.task)
            inputs = loaded.family.encode(loaded.processor, [conversation])
            prefix = torch.tensor([trainer.polarity.prefix])
            logits = trainer.model(input_ids=torch.cat([inputs["input_ids"], prefix], dim=1)).logits[0, -1].float()
            words = [trainer.polarity.starts[p] for p in ("negative", "neutral", "positive")]
            assert torch.allclose(got[row], torch.softmax(logits[words], dim=-1), atol=1e-5)
    # the cross-entropy's floor is the targets' own entropy: what can fall is the KL divergence above it
    targets = trainer.polarity.targets(sentences)
    floor = float(-(targets * targets.log()).sum(-1).mean())
    before = float(trainer.polarity_loss(trainer.model, sentences).detach()) - floor
    records = trainer.train()
    after = float(trainer.polarity_loss(trainer.model, sentences).detach()) - floor
    assert all("polarity/loss" in r for r in records) and after < 0.5 * before, (before, after)


def test_the_polarity_term_asks_with_each_samples_cue_text(tmp_path, tiny_models, files, monkeypatch) -> None:
    """Its prompts were built without the cues every other prompt of the sample carries (`cues=only`: empty)."""
    import dataclasses

    import emoreason.train.polarity as module

    trainer = make_trainer(tmp_path, tiny_models["causal_lm"], files, weight=1.0)
    assert trainer.polarity is not None
    heard, real = [], module.build_conversation
    monkeypatch.setattr(module, "build_conversation", lambda *a, **k: heard.append(k.get("cues")) or real(*a, **k))
    cued = [dataclasses.replace(s, cues=f"voice: bright {i}") for i, s in enumerate(trainer.polarity.samples[:2])]
    with torch.no_grad():
        trainer.polarity.choice_logprobs(trainer.model, trainer.loaded, cued, False)
    assert heard == ["voice: bright 0", "voice: bright 1"]


def test_the_polarity_batches_are_a_function_of_the_step(tmp_path, tiny_models, files) -> None:
    trainer = make_trainer(tmp_path, tiny_models["causal_lm"], files, weight=0.5, batch_size=4)
    assert trainer.polarity is not None
    first = trainer.polarity.batch(3, rank=0, world=2, seed=0)
    assert [s.id for s in first] == [s.id for s in trainer.polarity.batch(3, rank=0, world=2, seed=0)]
    other = trainer.polarity.batch(3, rank=1, world=2, seed=0)
    assert len(first) == len(other) == 4 and [s.id for s in first] != [s.id for s in other]


def test_balance_domain_gives_each_domain_an_equal_share_of_every_step(tmp_path, tiny_models, files) -> None:
    pooled = make_trainer(tmp_path / "none", tiny_models["causal_lm"], files, "domains", weight=1.0, batch_size=4)
    balanced = make_trainer(
        tmp_path / "domain", tiny_models["causal_lm"], files, "domains", weight=1.0, batch_size=4, balance="domain"
    )
    assert pooled.polarity is not None and balanced.polarity is not None

    def drawn(trainer: SFTTrainer) -> list[list[str]]:
        assert trainer.polarity is not None
        return [[s.domain for s in trainer.polarity.batch(step, 0, 1, 0)] for step in range(6)]

    # the small domain (2 of 8 sentences) gets 2 of every 4 draws, so it is gone through 6 times in 6 steps
    assert all(sorted(step) == ["big", "big", "small", "small"] for step in drawn(balanced))
    small = [s.id for step in range(6) for s in balanced.polarity.batch(step, 0, 1, 0) if s.domain == "small"]
    assert sorted(small) == ["small0"] * 6 + ["small1"] * 6
    # by pool share it gets a quarter of the draws: each epoch of 8 holds it twice
    assert sum(step.count("small") for step in drawn(pooled)) == 6
    first = [s.id for s in balanced.polarity.batch(4, 0, 1, 0)]
    assert first == [s.id for s in balanced.polarity.batch(4, 0, 1, 0)]  # a function of the step (resume)
    from emoreason.cli.ui import console, show_sft_data

    with console.capture() as shown:
        show_sft_data(balanced)
    assert "the domains take turns: big 6, small 2" in " ".join(shown.get().split())
    with pytest.raises(ValueError, match="two or more domains"):
        make_trainer(tmp_path / "one", tiny_models["causal_lm"], files, "data", weight=1.0, balance="domain")


def test_the_polarity_term_is_off_by_default_and_refuses_bad_settings(tmp_path, tiny_models, files) -> None:
    from emoreason.sft.config import parse_config

    off = make_trainer(tmp_path / "off", tiny_models["causal_lm"], files)
    assert off.polarity is None and "polarity/loss" not in off.step()
    with pytest.raises(ConfigError, match="polarity.dataset"):
        parse_config({"polarity": {"weight": 1.0}})
    with pytest.raises(ConfigError, match="rater_sd"):
        parse_config({"polarity": {"weight": 1.0, "dataset": "vader:tweets", "rater_sd": 0}})
    with pytest.raises(ValueError, match="polarity.format: c2f"):
        make_trainer(tmp_path / "emor3", tiny_models["causal_lm"], files, weight=1.0, format="emor3")


def test_the_polarity_term_alone_trains_without_chains(tmp_path, tiny_models, files) -> None:
    from emoreason.sft.config import parse_config

    trainer = make_trainer(tmp_path, tiny_models["causal_lm"], files, "positive", chains=False, weight=1.0)
    assert trainer.train_examples == [] and trainer.max_steps == 12
    first, second = trainer.step(), trainer.step()
    assert "loss" not in first and second["polarity/loss"] < first["polarity/loss"]
    with pytest.raises(ConfigError, match="no chains"):
        parse_config({"data": {"train_file": None}})
    with pytest.raises(ConfigError, match="run.max_steps"):
        parse_config({"data": {"train_file": None}, "polarity": {"weight": 1.0, "dataset": "vader:tweets"}})


def test_the_sft_command_trains_the_polarity_objective_alone(tmp_path, tiny_models, files) -> None:
    from typer.testing import CliRunner

    from emoreason.cli import app

    args = [
        "sft",
        f"model.name={tiny_models['causal_lm']}",
        "model.device=cpu",
        "data.train_file=null",
        "polarity.weight=1.0",
        f"polarity.dataset=jsonl:{files['positive']}?scale=-4,4&neutral=0.5",
        "polarity.batch_size=4",
        "max_steps=2",
        f"output_dir={tmp_path / 'cli'}",
        "report_to=[jsonl]",
        "model.lora.r=4",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "no chains: the polarity objective on 6 scored sentences alone; 2 steps" in said
    assert "polarity loss" in said
    assert (tmp_path / "cli" / "final" / "adapter").is_dir()
    logged = [json.loads(line) for line in (tmp_path / "cli" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if "polarity/loss" in r] == [1, 2]


def _chains(path: Path, answers: list[str], fmt: str | None = "c2f") -> Path:
    rows = []
    for i, (answer, (text, _)) in enumerate(zip(answers, SENTENCES)):
        row: dict[str, Any] = {"id": f"c{i}", "messages": [{"role": "user", "content": text}]}
        row["messages"].append({"role": "assistant", "content": answer})
        if fmt is not None:
            row["format"] = fmt
        rows.append(json.dumps(row))
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_chains_loss_can_leave_the_polarity_word_to_the_polarity_objective(tmp_path, tiny_models, files) -> None:
    from emoreason.generation.logprobs import continuation_logprobs, encode_with_continuations

    answers = [
        "<polarity>positive</polarity><think>x</think><score>2</score>",
        "<polarity>negative</polarity><think>y z</think><score>-1.5</score>",
    ]
    c2f = {**files, "chains": _chains(tmp_path / "c2f.jsonl", answers)}
    full = make_trainer(tmp_path / "full", tiny_models["causal_lm"], c2f)
    held = make_trainer(tmp_path / "held", tiny_models["causal_lm"], c2f, data_overrides={"train_polarity_word": False})
    assert full.polarity_word is None and held.polarity_word is not None
    batch = held.train_examples
    prefix, starts = held.polarity_word
    # by hand: the held token is the one right after the format's prefix, the first of the polarity word
    at = [next(i for i in range(len(prefix), len(ids)) if ids[i] in starts.values()) for _, ids in batch]
    assert all(list(ids[a - len(prefix) : a]) == prefix for a, (_, ids) in zip(at, batch))
    with torch.no_grad():
        full_nll, full_count = full._nll(held.model, batch)
        held_nll, held_count = held._nll(held.model, batch)
        encoded = encode_with_continuations(held.loaded, [e.conversation for e, _ in batch], [i for _, i in batch])
        logp, _ = continuation_logprobs(held.model, encoded)
    # the sum loses exactly those tokens' log-likelihood; the normaliser (the token count) keeps them
    word = sum(float(logp[row, a]) for row, a in enumerate(at))
    assert float(full_nll - held_nll) == pytest.approx(-word, rel=1e-4, abs=1e-4) and word < 0
    assert held_count == full_count == sum(len(ids) for _, ids in batch)
    from emoreason.cli.ui import console, show_sft_data

    with console.capture() as shown:
        show_sft_data(held)
    assert "2 training examples (their polarity word left out of their loss), 0 held out" in shown.get()
    # refused by name: chains without a format, a format without a leading polarity word, a chain without one
    bad = [
        (_chains(tmp_path / "none.jsonl", answers, fmt=None), "one format with a `format` field"),
        (_chains(tmp_path / "emor3.jsonl", answers, fmt="emor3"), "writes its polarity word first"),
        (_chains(tmp_path / "late.jsonl", [answers[0], "<think>x</think><score>1</score>"]), "1 chain"),
    ]
    for n, (chains, message) in enumerate(bad):
        with pytest.raises(ValueError, match=message):
            make_trainer(
                tmp_path / f"bad{n}",
                tiny_models["causal_lm"],
                {**files, "chains": chains},
                data_overrides={"train_polarity_word": False},
            )
