"""The GRPO trainer on tiny models: learning, Hint-GRPO, reflection, KL, resume, every family."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import torch

from emoreason.data.schema import Sample, TaskInfo, mikels_task, vader_task
from emoreason.formats.base import ParseResult
from emoreason.generation import Completion, SamplingParams
from emoreason.generation.logprobs import continuation_logprobs, encode_with_continuations, hint_token_ids
from emoreason.models import load_model
from emoreason.models.families.base import Conversation
from emoreason.rewards.composite import CompositeReward, RewardBreakdown
from emoreason.rl.config import ConfigError, load_config, parse_config
from emoreason.rl.core import grpo_loss
from emoreason.rl.trainer import GRPOTrainer, Rollout

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

VADER = vader_task("movies")
MIKELS = mikels_task("emoset")
# gold polarities: positive, negative, positive, negative
TEXT_SAMPLES = [
    Sample(id=f"s{i}", text=t, score=s, split="train")
    for i, (t, s) in enumerate(
        [
            ("a wonderful, moving film", 3.0),
            ("dull and far too long", -2.5),
            ("I loved the cast", 2.2),
            ("the worst script of the year", -3.1),
        ]
    )
]


def make_config(tmp_path: Path, model_path: Path, /, **sections: dict[str, Any]) -> Any:
    data: dict[str, Any] = {
        "run": {
            "output_dir": str(tmp_path / "run"),
            "max_steps": 2,
            "save_every": 0,
            "report_to": ["jsonl"],
            "resume": False,
        },
        "model": {"name": str(model_path), "device": "cpu", "lora": {"enabled": False}},
        "data": {"dataset": "vader:movies", "format": "c2f", "shuffle": False},
        "rollout": {"prompts_per_step": 2, "group_size": 4, "max_new_tokens": 8},
        "optim": {"lr": 1e-3, "minibatch_size": 8},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return parse_config(data)


class ScriptedEngine:
    """A generation backend whose answers are a function of the conversation; records calls."""

    def __init__(self, tokenizer: Any, answer: Callable[[Conversation, int], str]):
        self.tokenizer, self.answer = tokenizer, answer
        self.calls: list[tuple[list[Conversation], SamplingParams, bool]] = []

    def generate(self, conversations, params, progress=None):
        self.calls.append((list(conversations), params, torch.is_grad_enabled()))
        out = []
        for index, conversation in enumerate(conversations):
            completions = []
            for k in range(params.n):
                text = self.answer(conversation, k)
                ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                completions.append(
                    Completion(
                        text=text, token_ids=ids, logprobs=[0.0] * len(ids), finish_reason="stop", prompt_index=index
                    )
                )
            out.append(completions)
        return out


def user_text(conversation: Conversation) -> str:
    return conversation.messages[-1]["content"]


def always_negative(conversation: Conversation, k: int) -> str:
    """Says negative for every prompt; after a prefix hint only the rest of the answer."""
    body = f"<think>cue {k}</think><score>{-1 - k}</score>"
    return body if conversation.assistant_prefix else "<polarity>negative</polarity>" + body


def vowel_reward(text: str, gold: Any, task: Any, reflection: Any) -> RewardBreakdown:
    """A reward a tiny random model can learn quickly: the share of vowels in what it writes."""
    value = sum(ch in "aeiou" for ch in text) / max(1, len(text))
    return RewardBreakdown(total=value, components={"vowels": value}, parsed=ParseResult("c2f", False))


@pytest.fixture(scope="module")
def causal(tiny_models: dict[str, Path]) -> Path:
    return tiny_models["causal_lm"]


def scripted_trainer(
    tmp_path: Path,
    model_path: Path,
    /,
    answer=always_negative,
    samples=TEXT_SAMPLES,
    task=VADER,
    **sections: dict[str, Any],
) -> tuple[GRPOTrainer, ScriptedEngine]:
    loaded = load_model(str(model_path), device="cpu")  # where make_config puts the policy
    engine = ScriptedEngine(loaded.tokenizer, answer)
    trainer = GRPOTrainer(
        make_config(tmp_path, model_path, **sections), samples=samples, task=task, loaded=loaded, engine=engine
    )
    return trainer, engine


# --------------------------------------------------------------------------------------
# learning
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mean_reward_rises_on_a_learnable_reward(tmp_path: Path, causal: Path) -> None:
    config = make_config(
        tmp_path,
        causal,
        run={"max_steps": 24, "report_to": []},
        hints={"enabled": False},
        rollout={"prompts_per_step": 4, "group_size": 8, "max_new_tokens": 8},
        optim={"lr": 1e-2, "minibatch_size": 32},
    )
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    rewards = [r["reward/mean"] for r in trainer.train()]
    first, last = sum(rewards[:4]) / 4, sum(rewards[-4:]) / 4
    assert last > first + 0.25, rewards


# --------------------------------------------------------------------------------------
# Hint-GRPO
# --------------------------------------------------------------------------------------


def test_a_hard_group_whose_gold_has_no_polarity_is_not_counted_as_hinted(
    tmp_path: Path, causal: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Such groups were logged as hinted (hints/groups) and sampled again with no hint at all."""
    task = TaskInfo("own", labels=("boredom", "joy"), label_polarity={"joy": "positive"})
    samples = [Sample(id=f"b{i}", text=f"clip {i}", label="boredom", split="train") for i in range(2)]
    samples += [Sample(id=f"j{i}", text=f"clip {i}", label="joy", split="train") for i in range(2)]

    def wrong(conversation: Conversation, k: int) -> str:  # no answer names a label: every group is hard
        return "<step1>a</step1><step2>b</step2><step3>c</step3>\\boxed{nothing}"

    trainer, engine = scripted_trainer(
        tmp_path,
        causal,
        answer=wrong,
        samples=samples,
        task=task,
        data={"format": "emor3"},
        rollout={"prompts_per_step": 4},
        optim={"minibatch_size": 16},
    )
    with caplog.at_level("WARNING", logger="emoreason.rl.trainer"):
        groups, stats = trainer.generate_rollouts(trainer.prompts_for_step(0), 0)
    golds = [g[0].sample.label for g in groups]
    assert stats["groups/hard_rate"] == 1.0 and stats["hints/groups"] == golds.count("joy") == 2
    assert [all(r.hinted for r in g) for g in groups] == [gold == "joy" for gold in golds]
    assert "hard groups of gold boredom get no hint: their polarity is unknown" in caplog.text
    assert len(engine.calls[1][0]) == 2  # only the two hintable groups were asked again


def test_media_a_text_model_cannot_read_are_refused_before_it_loads(
    tmp_path: Path, causal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GRPO with a text model on clips loaded the model, then failed with a traceback at step 1."""
    import emoreason.models.loading as loading
    from emoreason.models import MediaError

    def no_loading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("loaded")

    monkeypatch.setattr(loading, "load_model", no_loading)
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"RIFF")
    samples = [Sample(id="a", text="", audio=str(clip), label="angry", split="train")]
    with pytest.raises(MediaError, match=r"takes text only, not audio \(.*clip.wav\).*\?cues=only"):
        GRPOTrainer(make_config(tmp_path, causal, data={"format": "emor3"}), samples=samples, task=MIKELS)
    # from the recipe's own dataset, the refusal names it as it would measure the clips (a file's option is
    # `measure`: the example `?cues=only` names a cue column there)
    clips = tmp_path / "clips.jsonl"
    clips.write_text(json.dumps({"id": "a", "audio": str(clip), "label": "angry", "split": "train"}) + "\n")
    spec = f"jsonl:{clips}?labels=angry,happy"
    config = make_config(tmp_path, causal, data={"format": "emor3", "dataset": spec, "split": "train"})
    with pytest.raises(MediaError, match=re.escape(f"give the data as '{spec}&measure=only' instead")):
        GRPOTrainer(config)


def test_hard_groups_are_resampled_with_a_prefix_hint(tmp_path: Path, causal: Path) -> None:
    trainer, engine = scripted_trainer(tmp_path, causal)
    prompts = trainer.prompts_for_step(0)  # s0 (gold positive: every rollout wrong) and s1 (negative: right)
    groups, stats = trainer.generate_rollouts(prompts, 0)
    assert stats["groups/hard_rate"] == 0.5 and stats["hints/groups"] == 1
    hinted_call = engine.calls[1][0]
    assert [c.assistant_prefix for c in hinted_call] == ["<polarity>positive</polarity>"]
    assert engine.calls[1][1].n == 4  # fraction 1: the whole group is re-sampled with the hint
    hard, easy = groups
    assert all(r.hinted for r in hard) and not any(r.hinted for r in easy)
    prefix_ids = trainer.loaded.tokenizer("<polarity>positive</polarity>", add_special_tokens=False)["input_ids"]
    for rollout in hard:
        assert rollout.hint_ids == prefix_ids
        assert rollout.conversation.assistant_prefix == ""  # the prefix moved into the continuation
        assert rollout.text.startswith("<polarity>positive</polarity><think>")
        assert rollout.parsed.polarity == "positive"
    # hinted tokens are scored but carry zero loss weight; completion tokens carry weight 1
    logp, mask = policy_logprobs(trainer, hard + easy)
    for row, rollout in enumerate(hard + easy):
        hint, body = len(rollout.hint_ids), rollout.completion.num_tokens
        assert mask[row, :hint].sum() == 0
        assert mask[row, hint : hint + body].eq(1).all() and mask[row, hint + body :].sum() == 0
    assert torch.isfinite(logp[mask.bool()]).all()
    record = trainer.step()  # the whole step runs on these rollouts
    assert record["hints/groups"] >= 1 and "hints/success_rate" in record


def test_hint_fraction_and_prompt_mode(tmp_path: Path, causal: Path) -> None:
    trainer, engine = scripted_trainer(tmp_path, causal, hints={"fraction": 0.5, "mode": "prompt"})
    groups, _ = trainer.generate_rollouts(trainer.prompts_for_step(0), 0)
    hard = groups[0]
    assert [r.hinted for r in hard] == [True, True, False, False]
    hinted_conv, plain_conv = engine.calls[1][0][0], engine.calls[2][0][0]
    assert hinted_conv.assistant_prefix == "" and "positive" in user_text(hinted_conv).split("\n")[-1]
    assert user_text(plain_conv) == user_text(engine.calls[0][0][0])  # the unhinted rest: the plain prompt
    assert all(r.hint_ids == [] for r in hard)


def policy_logprobs(trainer: GRPOTrainer, rollouts: list[Rollout]) -> tuple[torch.Tensor, torch.Tensor]:
    """The policy's log-probs of the rollouts' continuations and the update's loss mask, from the
    inputs the update builds (`GRPOTrainer._encode`)."""
    batch, mask, _ = trainer._encode(rollouts)
    with torch.no_grad():
        logp, _ = continuation_logprobs(trainer.policy, batch)
    return logp, mask


def _hint_logprob(trainer: GRPOTrainer, sample: Sample, hint: str) -> float:
    """log p(hint tokens | the plain prompt of `sample`) under the trainer's policy."""
    ids = hint_token_ids(trainer.loaded, hint)
    batch = encode_with_continuations(trainer.loaded, [trainer.conversation(sample)], [ids], share_prefix=False)
    with torch.no_grad():
        logp, _ = continuation_logprobs(trainer.policy, batch)
    return float(logp.sum())


def test_train_on_hint_puts_the_hint_into_the_loss_and_teaches_the_gold_polarity(tmp_path: Path, causal: Path) -> None:
    hints = {"fraction": 0.5}
    masked, _ = scripted_trainer(tmp_path / "masked", causal, hints=hints, optim={"lr": 1e-2, "minibatch_size": 8})
    trained, _ = scripted_trainer(
        tmp_path / "trained", causal, hints={**hints, "train_on_hint": True}, optim={"lr": 1e-2, "minibatch_size": 8}
    )
    groups, _ = trained.generate_rollouts(trained.prompts_for_step(0), 0)
    hard = groups[0]  # s0, gold positive: two hinted rows, two plain (negative) ones
    assert [r.hinted for r in hard] == [True, True, False, False]
    _, mask = policy_logprobs(trained, hard)
    for row, rollout in enumerate(hard):
        length = len(rollout.hint_ids) + rollout.completion.num_tokens
        assert mask[row, :length].eq(1).all() and mask[row, length:].sum() == 0
    # one step each from the same weights: the hinted rows earn more, and only a trained hint
    # moves the plain prompt towards the gold polarity by that
    hint, s0 = "<polarity>positive</polarity>", TEXT_SAMPLES[0]
    before = _hint_logprob(trained, s0, hint)
    assert before == pytest.approx(_hint_logprob(masked, s0, hint))
    masked.step()
    trained.step()
    rise_masked, rise_trained = _hint_logprob(masked, s0, hint) - before, _hint_logprob(trained, s0, hint) - before
    assert rise_trained > 0.5 and rise_trained > rise_masked + 0.5, (rise_masked, rise_trained)
    with pytest.raises(ConfigError, match="train_on_hint needs hints.mode: prefix"):
        make_config(tmp_path, causal, hints={"train_on_hint": True, "mode": "prompt"})


def test_polarity_word_kept_out_of_the_policy_term(tmp_path: Path, causal: Path) -> None:
    sections = {"hints": {"fraction": 0.5, "train_on_hint": True}, "algorithm": {"train_polarity_word": False}}
    trainer, _ = scripted_trainer(tmp_path, causal, **sections)
    groups, _ = trainer.generate_rollouts(trainer.prompts_for_step(0), 0)
    rollouts = [r for group in groups for r in group]
    assert any(r.hinted for r in rollouts) and not all(r.hinted for r in rollouts)
    batch, mask, policy_mask = trainer._encode(rollouts)
    prefix, starts = trainer.polarity_word
    at = len(trainer.loaded.tokenizer("<polarity>", add_special_tokens=False)["input_ids"])
    for row, rollout in enumerate(rollouts):
        # the token the word is chosen at: in the trained hint or in the sampled answer alike
        assert rollout.continuation[at] == starts[rollout.parsed.polarity] and rollout.continuation[:at] == prefix
        assert (mask[row] - policy_mask[row]).nonzero().flatten().tolist() == [at]
    # the loss the update builds gives the held token no gradient, every other trained token one
    logp, _ = continuation_logprobs(trainer.policy, batch)
    logp = logp.detach().requires_grad_(True)
    advantages = torch.linspace(-1.0, 1.0, len(rollouts))
    grpo_loss(logp, logp.detach(), advantages, mask, policy_mask=policy_mask).loss.backward()
    assert logp.grad[policy_mask.bool()].ne(0).all() and logp.grad[(mask - policy_mask).bool()].eq(0).all()
    record = trainer.step()
    assert record["update/polarity_word_held_share"] == 1.0
    plain, _ = scripted_trainer(tmp_path / "plain", causal, hints=sections["hints"])
    assert plain.polarity_word is None and plain._encode(rollouts)[2] is None
    with pytest.raises(ValueError, match="train_polarity_word=false needs a format that writes its polarity"):
        scripted_trainer(tmp_path / "emor3", causal, data={"format": "emor3"}, algorithm={"train_polarity_word": False})


def test_hints_off_and_drop_hard(tmp_path: Path, causal: Path) -> None:
    off, engine = scripted_trainer(tmp_path / "off", causal, hints={"enabled": False})
    groups, stats = off.generate_rollouts(off.prompts_for_step(0), 0)
    assert len(engine.calls) == 1 and not any(r.hinted for g in groups for r in g) and len(groups) == 2
    assert stats["groups/hard_rate"] == 0.5
    drop, engine = scripted_trainer(tmp_path / "drop", causal, hints={"drop_hard": True})
    groups, stats = drop.generate_rollouts(drop.prompts_for_step(0), 0)
    assert len(engine.calls) == 1 and stats["groups/dropped"] == 1
    assert [g[0].sample.id for g in groups] == ["s1"]
    drop.step()


def test_a_step_whose_groups_all_drop_keeps_the_lr_schedule_and_logs_no_reward(tmp_path: Path, causal: Path) -> None:
    """It logged reward/mean 0.0 (a point on the curve from nothing) and skipped the scheduler's steps, so
    every later step trained at the lr of a step before; under two processes the run hung instead."""
    from types import SimpleNamespace

    positives = [s for s in TEXT_SAMPLES if (s.score or 0) > 0]  # the scripted policy says negative to both
    drop, _ = scripted_trainer(tmp_path, causal, samples=positives, hints={"drop_hard": True})
    drop.start()
    before = drop.scheduler.last_epoch
    record = drop.step()
    assert record["groups/dropped"] == 2 and "reward/mean" not in record
    assert drop.scheduler.last_epoch == before + drop.updates_per_step == before + 1
    two = SimpleNamespace(process_index=0, num_processes=2)
    with pytest.raises(ValueError, match="hints.drop_hard runs in one process only"):
        GRPOTrainer(make_config(tmp_path, causal, hints={"drop_hard": True}), samples=positives, accelerator=two)


def test_the_policys_own_answers_are_logged_before_hints_replace_them(tmp_path: Path, causal: Path) -> None:
    """The answer mix counted the hinted rows, which say the gold: a policy saying "negative" to every prompt
    logged a 50/50 mix and a polarity reward of 1."""
    trainer, _ = scripted_trainer(tmp_path, causal)  # always negative; s0 is positive (hinted), s1 negative
    trainer.start()
    record = trainer.step()
    assert record["sampled/negative_share"] == 1.0 and record["sampled/positive_share"] == 0.0
    assert record["sampled/right_share"] == 0.5 and record["hints/groups"] == 1
    assert record["rollouts/positive_share"] == 0.5  # the batch trained on: the hinted rows say positive


# --------------------------------------------------------------------------------------
# reflection (EMO-R3)
# --------------------------------------------------------------------------------------


def test_reflection_answers_shape_the_reward(tmp_path: Path, causal: Path) -> None:
    samples = [
        Sample(id=f"m{i}", text="children laughing at a clown", label="amusement", split="train") for i in range(2)
    ]
    answer_text = (
        "<step1>a clown juggles for children</step1><step2>they would feel delighted</step2>"
        "<step3>positive, high arousal</step3>\n\\boxed{anger}"
    )  # wrong label on purpose

    def answer(conversation: Conversation, k: int) -> str:
        return "amusement" if "Which emotion best describes" in user_text(conversation) else answer_text

    common = dict(samples=samples, task=MIKELS, data={"format": "emor3"}, hints={"enabled": False})
    plain, _ = scripted_trainer(tmp_path / "plain", causal, answer=answer, **common)
    reflective, engine = scripted_trainer(
        tmp_path / "refl", causal, answer=answer, reflection={"enabled": True}, **common
    )
    for trainer in (plain, reflective):
        groups, _ = trainer.generate_rollouts(trainer.prompts_for_step(0), 0)
        rollouts = [r for g in groups for r in g]
        if trainer is reflective:
            trainer.reflect(rollouts, 0)
        trainer.score(rollouts)
        trainer.result = rollouts  # type: ignore[attr-defined]
    # no image: only the coherence question; the policy named the gold label -> coherence 1
    for before, after in zip(plain.result, reflective.result):  # type: ignore[attr-defined]
        assert before.reward.components == {"accuracy": 0.0, "format": 1.0}
        assert after.reward.components == {"accuracy": 0.0, "format": 1.0, "coherence": 1.0}
        assert after.reward.total == pytest.approx(before.reward.total + 0.1)
    questions, params, grad = engine.calls[-1]
    assert len(questions) == 8 and not grad and params.temperature == 0.6 and params.top_p == 0.95
    shown = user_text(questions[0]).split("Which emotion")[0]  # the reasoning shown before the question
    assert "a clown juggles" in shown and "delighted" in shown
    assert "arousal" not in shown and "anger" not in shown and "boxed" not in shown  # not step3, not the answer
    assert questions[0].image is None
    # a label task logs the mix of labels given: every rollout said "anger"
    record = plain.step()
    assert record["rollouts/anger_share"] == 1.0 and record["rollouts/amusement_share"] == 0.0
    assert "rollouts/positive_share" not in record and record["rollouts/other_share"] == 0.0


# --------------------------------------------------------------------------------------
# KL to the reference, LoRA, resume
# --------------------------------------------------------------------------------------


def test_kl_to_the_base_model_with_lora(tmp_path: Path, causal: Path) -> None:
    config = make_config(
        tmp_path,
        causal,
        run={"max_steps": 3},
        hints={"enabled": False},
        model={"lora": {"enabled": True, "r": 4, "alpha": 8}},
        algorithm={"beta": 0.1},
        optim={"lr": 5e-2},
    )
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    assert trainer.reference is None  # LoRA: the reference is the base with the adapter off
    records = trainer.train()
    assert records[0]["kl"] == pytest.approx(0.0, abs=1e-7)  # LoRA B starts at zero: policy == base
    assert records[-1]["kl"] > 0


def test_dropout_is_off_so_the_first_update_is_measured_on_the_rollouts_weights(tmp_path: Path, causal: Path) -> None:
    # a base whose attention drops half its weights in train mode, and a LoRA adapter with dropout: the
    # reference log-probs are taken in eval mode, so with dropout left on the first step's KL (LoRA B is
    # zero: the policy is the base) would be far from 0
    dropping = tmp_path / "dropping"
    shutil.copytree(causal, dropping)
    settings = json.loads((dropping / "config.json").read_text())
    (dropping / "config.json").write_text(json.dumps({**settings, "attention_dropout": 0.5}))
    config = make_config(
        tmp_path,
        dropping,
        run={"max_steps": 1},
        hints={"enabled": False},
        model={"lora": {"enabled": True, "r": 4, "alpha": 8, "dropout": 0.3}},
        algorithm={"beta": 0.1},
    )
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    rates = [m.p for m in trainer.model.modules() if isinstance(m, torch.nn.Dropout)]
    rates += [m.attention_dropout for m in trainer.model.modules() if hasattr(m, "attention_dropout")]
    assert rates and set(rates) == {0.0}
    assert trainer.train()[0]["kl"] == pytest.approx(0.0, abs=1e-7)


def test_a_rollout_cut_at_the_token_limit_is_rewarded_for_what_it_finished(tmp_path: Path, causal: Path) -> None:
    """The reward parsed the text again without knowing it was cut: `<score>1.` (a 1.9 in the making) earned a
    finished score of 1.0 and the format reward, while rollouts.jsonl logged the same rollout as unparsed."""
    from emoreason.generation import Completion
    from emoreason.rl.rollouts import make_rollouts

    trainer, _ = scripted_trainer(tmp_path, causal)
    sample = Sample(id="s", text="pretty good", score=1.9, split="train")
    text = "<polarity>positive</polarity>\n<think>\nfine\n</think>\n<score>1."
    conversation = trainer.conversation(sample)
    cut, done = (Completion(t, [1], [0.0], reason) for t, reason in ((text, "length"), (text + "9</score>", "stop")))
    rollouts = make_rollouts(sample, 0, conversation, [cut, done], [], trainer.format, trainer.task)
    trainer.score(rollouts)
    assert not rollouts[0].parsed.ok and rollouts[0].reward.components["format"] == 0.0
    assert rollouts[0].reward.components.get("score", 0.0) == 0.0
    assert rollouts[1].reward.components["format"] == 1.0 and rollouts[1].reward.total > rollouts[0].reward.total


def test_kl_anchors_to_a_loaded_adapter_not_the_base(tmp_path: Path, causal: Path) -> None:
    from peft import LoraConfig, get_peft_model

    from emoreason.models import load_model as load

    # a "cold start" adapter whose B matrices are not zero, so it differs from the base model
    started = get_peft_model(load(str(causal)).model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    with torch.no_grad():
        for name, param in started.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    started.save_pretrained(tmp_path / "sft")
    config = make_config(
        tmp_path / "run",
        causal,
        run={"max_steps": 3, "save_every": 3},
        hints={"enabled": False},
        model={"adapter": str(tmp_path / "sft"), "lora": {"enabled": True, "r": 4, "alpha": 8}},
        algorithm={"beta": 0.1},
        optim={"lr": 5e-2},
    )
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    assert trainer.reference_adapter == "reference"
    frozen = {n: p.detach().clone() for n, p in trainer.policy.named_parameters() if ".reference." in n}
    assert frozen and not any(p.requires_grad for n, p in trainer.policy.named_parameters() if ".reference." in n)
    records = trainer.train()
    assert records[0]["kl"] == pytest.approx(0.0, abs=1e-6)  # policy == the loaded adapter at the start
    assert records[-1]["kl"] > 0
    after = dict(trainer.policy.named_parameters())
    assert all(torch.equal(after[n], value) for n, value in frozen.items())  # the anchor never moves
    assert any(p.requires_grad for n, p in after.items() if ".default." in n)  # the policy still trains
    saved = tmp_path / "run" / "run" / "checkpoint-3" / "adapter"
    assert (saved / "adapter_config.json").is_file() and not (saved / "reference").exists()
    trainer.run.release()
    # the start adapter retrained in place: resuming would anchor to other weights than the run began with
    with torch.no_grad():
        for name, param in started.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    started.save_pretrained(tmp_path / "sft")
    longer = config.model_copy(update={"run": config.run.model_copy(update={"max_steps": 4, "resume": True})})
    from emoreason.train.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="model.adapter's contents: sha256:.* -> sha256:.* \\(rewritten in place"):
        GRPOTrainer(longer, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward).start()


def _trainable(trainer: GRPOTrainer) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in trainer.policy.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("lora", [True, False])
def test_resume_is_exact(tmp_path: Path, causal: Path, lora: bool) -> None:
    def trainer(out: Path, **run: Any) -> GRPOTrainer:
        config = make_config(
            out,
            causal,
            run={"max_steps": 4, "save_every": 2, "resume": True, **run},
            hints={"enabled": False},
            model={"lora": {"enabled": lora, "r": 4, "alpha": 8}},
            algorithm={"beta": 0.05},
            optim={"lr": 2e-2, "minibatch_size": 4},
        )
        return GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)

    straight = trainer(tmp_path / "a")
    straight.train()
    first = trainer(tmp_path / "b")
    first.train(max_steps=2)
    checkpoint = tmp_path / "b" / "run" / "checkpoint-2"
    assert (checkpoint / ("adapter/adapter_config.json" if lora else "model/config.json")).is_file()
    assert (checkpoint / "optimizer.pt").is_file() and (checkpoint / "rng_rank0.pt").is_file()
    # a step logged after the checkpoint, then a crash: the resumed run redoes it
    with (tmp_path / "b" / "run" / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps({"step": 3, "reward/mean": 9.9}) + "\n")
    with (tmp_path / "b" / "run" / "rollouts.jsonl").open("a") as handle:
        handle.write(json.dumps({"step": 3, "id": "lost with the crash"}) + "\n")
    resumed = trainer(tmp_path / "b")
    records = resumed.train()
    assert [r["step"] for r in records] == [3, 4]
    a, b = _trainable(straight), _trainable(resumed)
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-6, rtol=0, msg=name)
    lines = [json.loads(line) for line in (tmp_path / "b" / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 3, 4] and lines[2]["reward/mean"] != 9.9
    # each line says when it was written (a run's pace, read from its file), never into the history
    assert all(datetime.fromisoformat(r["time"]).tzinfo is not None for r in lines[2:])
    assert all("time" not in r for r in records)
    # the rollouts of the redone steps replace the lost ones, and are the uninterrupted run's
    rollouts = {run: read_rollouts(tmp_path / run / "run") for run in ("a", "b")}
    assert [r["step"] for r in rollouts["b"]] == [step for step in (1, 2, 3, 4) for _ in range(8)]
    assert [(r["id"], r["text"]) for r in rollouts["b"]] == [(r["id"], r["text"]) for r in rollouts["a"]]


def read_rollouts(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "rollouts.jsonl").read_text().splitlines()]


def test_tensorboard_hides_the_steps_a_resume_redoes(tmp_path: Path, causal: Path) -> None:
    """TensorBoard drew a resumed run's redone steps twice, the interrupted run's values beside the new ones."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def trainer() -> GRPOTrainer:
        run = {"max_steps": 4, "save_every": 2, "resume": True, "report_to": ["jsonl", "tensorboard"]}
        config = make_config(tmp_path, causal, run=run, hints={"enabled": False})
        return GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)

    trainer().train()
    for done in ("checkpoint-4", "checkpoint-latest"):  # the run stopped after step 4, its last save at step 2
        shutil.rmtree(tmp_path / "run" / done, ignore_errors=True)
    records = trainer().train()
    assert [r["step"] for r in records] == [3, 4]
    events = EventAccumulator(str(tmp_path / "run" / "grpo"))
    events.Reload()
    drawn = [(e.step, e.value) for e in events.Scalars("reward/mean")]
    assert [step for step, _ in drawn] == [1, 2, 3, 4]
    assert [value for _, value in drawn[2:]] == pytest.approx([r["reward/mean"] for r in records], abs=1e-5)


def test_rollouts_jsonl_records_each_rollout_with_the_advantage_the_update_used(tmp_path: Path, causal: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in ("metrics.jsonl", "rollouts.jsonl"):  # left by an earlier run in the same folder
        (run / name).write_text(json.dumps({"step": 0, "id": "stale"}) + "\n")
    trainer, _ = scripted_trainer(tmp_path, causal)  # 2 steps of 2 prompts x G=4, hints on
    seen: list[torch.Tensor] = []
    update = trainer.update
    trainer.update = lambda rollouts, advantages: seen.append(advantages) or update(rollouts, advantages)  # type: ignore[method-assign]
    trainer.train()
    lines = read_rollouts(run)
    assert [r["step"] for r in lines] == [1] * 8 + [2] * 8
    assert [r["id"] for r in lines] == [f"s{i}" for i in range(4) for _ in range(4)]
    # always_negative: the positive-gold groups (s0, s2) were hard and re-sampled with the gold as a hint
    assert [r["hinted"] for r in lines] == ([True] * 4 + [False] * 4) * 2
    assert all(r["answer"]["polarity"] == r["gold"]["polarity"] == "positive" for r in lines[:4])
    assert all(r["answer"]["polarity"] == "negative" == r["gold"]["polarity"] for r in lines[4:8])
    assert all(r["components"]["polarity"] == 1.0 and r["answer"]["ok"] for r in lines)
    logged = torch.tensor([r["advantage"] for r in lines])
    torch.testing.assert_close(logged, torch.cat(seen), atol=1e-6, rtol=0)
    assert logged.abs().sum() > 0  # the scores differ within each group
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    if sys.platform.startswith("linux"):  # the process's size after each step, its freed heap given back (train.heap)
        assert all(0.01 < m["memory/resident_gb"] < 1024 for m in metrics)
    off, _ = scripted_trainer(tmp_path / "off", causal, rollout={"log": False})
    off.train()
    assert not (tmp_path / "off" / "run" / "rollouts.jsonl").exists()


def uneven_answers(conversation: Conversation, k: int) -> str:
    """Three positives and a negative on the positive sentences, two of each on the negative ones:
    in a step the answers' advantage sums differ from 0 (the shared push `center` removes)."""
    positive = any(word in user_text(conversation) for word in ("wonderful", "loved"))
    polarity = "positive" if (k < 3 if positive else k >= 2) else "negative"
    score = (1 + k) if polarity == "positive" else -(1 + k)
    return f"<polarity>{polarity}</polarity><think>cue {k}</think><score>{score}</score>"


def test_advantage_center_answer_zeroes_each_answers_push(tmp_path: Path, causal: Path) -> None:
    def run(center: str) -> tuple[list[dict], list[dict]]:
        trainer, _ = scripted_trainer(
            tmp_path / center,
            causal,
            answer=uneven_answers,
            hints={"enabled": False},
            algorithm={"advantage_center": center, "advantage_scale": "none"},
        )
        return trainer.train(), read_rollouts(tmp_path / center / "run")

    def sums(lines: list[dict]) -> dict[tuple[int, str], float]:
        out: dict[tuple[int, str], float] = {}
        for r in lines:
            key = (r["step"], r["answer"]["polarity"])
            out[key] = out.get(key, 0.0) + r["advantage"]
        return out

    (plain_logs, plain), (centred_logs, centred) = run("none"), run("answer")
    _, both = run("answer_and_group")
    assert [r["text"] for r in plain] == [r["text"] for r in centred]  # the same rollouts
    pushed = sums(plain)
    assert max(abs(v) for v in pushed.values()) > 0.05  # the uneven answers push one way
    assert all(abs(v) < 1e-5 for v in sums(centred).values())  # records keep 6 decimals
    group_sums = Counter()
    for r in centred:
        group_sums[r["step"], r["group"]] += r["advantage"]
    assert max(abs(v) for v in group_sums.values()) > 0.05  # centring per answer breaks the groups' sums
    group_sums = Counter()
    for r in both:
        group_sums[r["step"], r["group"]] += r["advantage"]
    assert all(abs(v) < 1e-5 for v in [*sums(both).values(), *group_sums.values()])  # both kinds of sum 0
    for logs in (plain_logs, centred_logs):  # logged before centring, either way
        for record in logs:
            for answer in ("positive", "negative"):
                assert record[f"advantages/pull/{answer}"] == pytest.approx(pushed[(record["step"], answer)], abs=1e-5)
            assert record["advantages/pull/neutral"] == record["advantages/pull/none"] == 0.0
    # within a prompt the ordering of its answers survives: the right answers still beat the wrong
    for lines in (plain, centred):
        for r in lines:
            right = r["answer"]["polarity"] == r["gold"]["polarity"]
            assert (r["advantage"] > 0) == right or r["advantage"] == pytest.approx(0.0, abs=1e-6)


def flat_now_and_then() -> Callable[..., RewardBreakdown]:
    """The vowel reward, but flat (every rollout 0.3) for negative golds, and for every prompt on
    even steps (a step scores 2 prompts x G=4 rollouts): some steps skip half their rows, some all."""
    calls = [0]

    def reward(text: str, gold: Any, task: Any, reflection: Any) -> RewardBreakdown:
        step, calls[0] = calls[0] // 8, calls[0] + 1
        if step % 2 == 1 or gold.score < 0:
            return RewardBreakdown(total=0.3, components={"flat": 0.3}, parsed=ParseResult("c2f", False))
        return vowel_reward(text, gold, task, reflection)

    return reward


@pytest.mark.parametrize("loss_type", ["grpo", "dapo"])
def test_skipping_zero_advantage_rows_trains_the_same_weights(tmp_path: Path, causal: Path, loss_type: str) -> None:
    def run(skip: bool) -> tuple[dict[str, torch.Tensor], list[dict]]:
        config = make_config(
            tmp_path / str(skip),
            causal,
            run={"max_steps": 4, "report_to": []},
            hints={"enabled": False},
            model={"lora": {"enabled": True, "r": 4, "alpha": 8}},
            algorithm={"skip_zero_advantage": skip, "loss_type": loss_type},
            optim={"lr": 2e-2, "minibatch_size": 4},
        )
        trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=flat_now_and_then())
        return _trainable(trainer), trainer.train()

    (skipped, logs), (computed, full_logs) = run(True), run(False)
    # half the rows (the negative gold's group) on steps 1 and 3; every row on steps 2 and 4
    assert [r["update/skipped_share"] for r in logs] == [0.5, 1.0, 0.5, 1.0]
    assert [r["update/skipped_share"] for r in full_logs] == [0.0] * 4
    assert [r["loss"] for r in logs] == pytest.approx([r["loss"] for r in full_logs], abs=1e-6)
    for name in computed:  # steps 2 and 4 still move the weights, by AdamW's momentum
        torch.testing.assert_close(skipped[name], computed[name], atol=1e-6, rtol=0, msg=name)
    assert any(not torch.equal(computed[name], 0 * computed[name]) for name in computed)


def test_the_policy_loss_logged_is_the_windows_not_a_minibatchs_share(tmp_path: Path, causal: Path) -> None:
    """Each minibatch's policy loss is its part of the window's loss; the log took their mean, so with two
    minibatches a window it showed half the loss (an eighth in the shipped SIMS and EmoSet recipes)."""
    config = make_config(
        tmp_path,
        causal,
        run={"max_steps": 2, "report_to": []},
        hints={"enabled": False},
        model={"lora": {"enabled": True, "r": 4, "alpha": 8}},
        algorithm={"num_iterations": 2, "beta": 0.0},
        optim={"lr": 2e-2, "minibatch_size": 4},
    )
    logs = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward).train()
    assert any(abs(r["loss"]) > 1e-6 for r in logs)  # the second pass moves the ratio off 1
    assert [r["policy_loss"] for r in logs] == pytest.approx([r["loss"] for r in logs], abs=1e-7)


# --------------------------------------------------------------------------------------
# multimodal families: media reach the log-prob forward pass
# --------------------------------------------------------------------------------------


def small_media() -> dict[str, int]:
    """Processor size overrides that keep the tiny models' vision inputs a few patches big."""
    from emoreason.testing import fixtures

    return {
        "image_max_pixels": fixtures.MAX_PIXELS,
        "video_min_pixels": fixtures.MIN_PIXELS,
        "video_max_pixels": fixtures.MAX_PIXELS,
    }


@pytest.mark.parametrize("family,media", [("qwen2_5_vl", "image"), ("qwen2_5_omni", "wav")])
def test_multimodal_families_train(
    tmp_path: Path, tiny_models: dict[str, Path], media_files: dict[str, Path], family: str, media: str
) -> None:
    kind = "image" if media == "image" else "audio"
    samples = [
        Sample(id=f"v{i}", text="look at this", label="amusement", split="train", **{kind: str(media_files[media])})
        for i in range(2)
    ]
    config = make_config(
        tmp_path,
        tiny_models[family],
        run={"max_steps": 1},
        data={"format": "emor3"},
        hints={"enabled": False},
        reflection={"enabled": family == "qwen2_5_vl", "max_new_tokens": 4},
        rollout={"prompts_per_step": 2, "group_size": 2, "max_new_tokens": 6},
        optim={"lr": 1e-2, "minibatch_size": 2},
    )
    emor3 = CompositeReward.emor3()

    def reward(text: str, gold: Any, task: Any, reflection: Any) -> RewardBreakdown:
        # EMO-R3's reward (constant on an untrained model) plus one that varies, so the update moves
        base, vowels = emor3(text, gold, task, reflection), vowel_reward(text, gold, task, reflection)
        return RewardBreakdown(base.total + vowels.total, {**base.components, **vowels.components}, base.parsed)

    trainer = GRPOTrainer(config, samples=samples, task=MIKELS, reward=reward)
    original = trainer.conversation

    def small(sample: Sample, hint: Any = None, mode: str = "prompt") -> Conversation:
        conversation = original(sample, hint, mode)
        return Conversation(
            conversation.messages,
            conversation.image,
            conversation.video,
            conversation.audio,
            conversation.assistant_prefix,
            {**conversation.options, **small_media()},
        )

    trainer.conversation = small  # type: ignore[method-assign]
    before = _trainable(trainer)
    seen: list[dict[str, Any]] = []
    hook = trainer.policy.register_forward_pre_hook(lambda m, a, kw: seen.append(kw) or None, with_kwargs=True)
    groups, _ = trainer.generate_rollouts(trainer.prompts_for_step(0), 0)
    rollouts = [r for g in groups for r in g]
    logp, mask = policy_logprobs(trainer, rollouts)
    media_key = "pixel_values" if kind == "image" else "input_features"
    assert media_key in seen[-1] and seen[-1][media_key] is not None
    assert torch.isfinite(logp[mask.bool()]).all()
    hook.remove()
    record = trainer.step()
    after = _trainable(trainer)
    assert record["grad_norm"] > 0 and any(not torch.equal(before[n], after[n]) for n in before)
    if kind == "image":
        assert "reward/consistency/mean" in record  # the image was shown to the reflection question


# --------------------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------------------


def test_config_errors_name_the_key_path(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("run:\n  max_step: 3\nalgorithm:\n  beta: lots\n")
    with pytest.raises(ConfigError) as err:
        load_config(recipe)
    message = str(err.value)
    assert "run.max_step: unknown key" in message and "max_steps" in message
    assert "(did you mean max_steps?)" in message and "(did you mean" not in message.split("algorithm.beta")[1]
    with pytest.raises(ConfigError, match=r"train: unknown key.*\(did you mean optim\?") as section:
        load_config(None, ["train.lr=1e-4"])  # SFT's name for the training section
    with pytest.raises(ConfigError) as far:
        load_config(None, ["run.colour=2"])  # nothing close: no guess
    assert "did you mean" not in str(far.value) and "did you mean" in str(section.value)
    assert "algorithm.beta" in message and "lots" in message
    assert load_config(None, ["max_steps=3", "lr=2e-5"]).run.max_steps == 3
    with pytest.raises(ConfigError, match="ambiguous"):
        load_config(None, ["enabled=false"])
    with pytest.raises(ConfigError, match="reflection.enabled needs"):
        load_config(None, ["reflection.enabled=true"])


GRPO_RECIPES = sorted(
    p
    for p in Path(__file__).resolve().parents[1].joinpath("configs").glob("*.yaml")
    if not p.name.startswith(("sft_", "distill_"))
)  # the others: test_sft.py, test_distill_recipe.py


@pytest.mark.parametrize("recipe", GRPO_RECIPES, ids=[p.stem for p in GRPO_RECIPES])
def test_shipped_recipes_validate(recipe: Path) -> None:
    config = load_config(recipe)
    assert config.run.output_dir.startswith("runs/grpo/")


@pytest.mark.parametrize(
    "texts",
    [["good", "a far longer sentence about a film", "good", "meh"], ["good", "a far longer sentence", "bad", "meh"]],
    ids=["a prompt repeats", "distinct prompts"],
)
def test_shared_prefix_forward_matches_the_plain_one(causal: Path, texts: list[str]) -> None:
    """Running the common prompt prefix once (KV cache expanded to every row), and a repeated
    prompt once (its cache copied to its rows), gives the same log-probs and the same gradients
    as the full left-padded batch."""
    from emoreason.generation.logprobs import continuation_logprobs, encode_with_continuations

    loaded = load_model(str(causal), device="cpu")  # fp32: the two forwards are compared to 1e-5
    system = {"role": "system", "content": "Rate the sentiment of the sentence, then explain it briefly."}
    conversations = [Conversation([system, {"role": "user", "content": t}]) for t in texts]
    repeated = len(set(texts)) < len(texts)
    tok = loaded.tokenizer
    continuations = [
        tok(t, add_special_tokens=False)["input_ids"]
        for t in ["<polarity>positive</polarity> yes", "no", "<score>2</score>", "fine then, fine"]
    ]
    results = []
    for share in (False, True):
        loaded.model.zero_grad()
        batch = encode_with_continuations(loaded, conversations, continuations, share_prefix=share)
        assert (batch.prefix_ids is not None) == share
        assert (batch.prompt_inputs is not None) == (share and repeated)
        logp, entropy = continuation_logprobs(loaded.model, batch, temperature=0.7, with_entropy=True)
        (logp * batch.mask).sum().backward()
        grads = {n: p.grad.clone() for n, p in loaded.model.named_parameters() if p.grad is not None}
        results.append((logp.detach(), batch.mask, grads))
    (plain, mask, plain_grads), (shared, shared_mask, shared_grads) = results
    assert torch.equal(mask, shared_mask)
    torch.testing.assert_close(shared[mask.bool()], plain[mask.bool()], atol=1e-5, rtol=1e-5)
    assert plain_grads.keys() == shared_grads.keys() and plain_grads
    for name in plain_grads:
        torch.testing.assert_close(shared_grads[name], plain_grads[name], atol=1e-4, rtol=1e-3, msg=name)


def test_a_killed_run_loses_at_most_the_step_in_flight(tmp_path: Path, causal: Path) -> None:
    config = make_config(
        tmp_path,
        causal,
        run={"max_steps": 3, "save_every": 100, "resume": True, "report_to": ["jsonl", "tensorboard"]},
        hints={"enabled": False},
    )
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    trainer.train()
    run = tmp_path / "run"
    assert json.loads((run / "checkpoint-latest" / "trainer_state.json").read_text())["step"] == 2
    assert (run / "checkpoint-3" / "trainer_state.json").is_file()  # the last step is always kept
    assert list(run.rglob("events.out.tfevents.*")), "no TensorBoard event file"
    # killed during step 3, before its checkpoint: the rerun starts at step 3 from checkpoint-latest
    import shutil

    shutil.rmtree(run / "checkpoint-3")
    again = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    assert [r["step"] for r in again.train()] == [3]


def test_gradient_checkpointing_trains(tmp_path: Path, causal: Path) -> None:
    config = make_config(
        tmp_path,
        causal,
        run={"max_steps": 1},
        hints={"enabled": False},
        model={"gradient_checkpointing": True, "lora": {"enabled": True, "r": 4, "alpha": 8}},
        optim={"lr": 5e-2},
    )
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    assert not trainer.share_prefix
    before = _trainable(trainer)
    record = trainer.train()[0]
    after = _trainable(trainer)
    assert record["grad_norm"] > 0 and any(not torch.equal(before[n], after[n]) for n in before)


def test_token_logprobs_and_entropy_against_a_float64_reference() -> None:
    from emoreason.generation.logprobs import _kept, _token_logprobs

    torch.manual_seed(0)
    logits, targets = torch.randn(2, 3, 11) * 3, torch.tensor([[0, 5, 10], [3, 3, 7]])
    logp, entropy = _token_logprobs(logits, targets, temperature=0.7, with_entropy=True)
    z = logits.double() / 0.7
    reference = z.gather(-1, targets[..., None]).squeeze(-1) - torch.logsumexp(z, dim=-1)
    p = torch.softmax(z, dim=-1)
    torch.testing.assert_close(logp.double(), reference, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(entropy.double(), -(p * p.log()).sum(-1), atol=1e-5, rtol=1e-5)
    assert _token_logprobs(logits, targets, 1.0, with_entropy=False)[1] is None
    # a model that ignored `logits_to_keep` positions returned all of them: the kept ones are picked
    keep = torch.tensor([1, 2])
    assert torch.equal(_kept(logits, keep, length=3), logits[:, 1:3]) and _kept(logits[:, :2], keep, 3).shape[1] == 2
    with pytest.raises(ValueError, match="logits for 3 positions; expected 2 or 5"):
        _kept(logits, keep, length=5)


def test_advantage_balance_gives_each_gold_polarity_the_same_pull(tmp_path: Path, causal: Path) -> None:
    """The negative-gold groups disagree on polarity, the positive-gold ones only on the score: the
    former carry most of the |advantage| (logged as advantages/share/*) until `advantage_balance: gold`
    rescales both to the same total."""

    def answer(conversation: Conversation, k: int) -> str:
        negative = any(word in user_text(conversation) for word in ("dull", "worst"))
        polarity, score = ("negative", -2.0) if negative and k == 0 else ("positive", 2.0 + 0.2 * k)
        return f"<polarity>{polarity}</polarity><think>cue</think><score>{score}</score>"

    def advantages_seen(**algorithm: Any) -> tuple[torch.Tensor, dict[str, float]]:
        trainer, _ = scripted_trainer(
            tmp_path / str(len(algorithm)),
            causal,
            answer=answer,
            run={"max_steps": 1, "report_to": []},
            rollout={"prompts_per_step": 4, "group_size": 4, "max_new_tokens": 8},
            hints={"enabled": False},
            algorithm={"advantage_scale": "none", **algorithm},  # Dr. GRPO, as the recipe
        )
        seen: list[torch.Tensor] = []
        trainer.update = lambda rollouts, advantages: seen.append(advantages) or {}  # type: ignore[method-assign]
        stats = trainer.step()
        return seen[0], stats

    # rows: prompts positive, negative, positive, negative (4 rows each)
    negative_rows = torch.tensor([0, 1, 0, 1]).repeat_interleave(4).bool()
    plain, stats = advantages_seen()
    share = float(plain[negative_rows].abs().sum() / plain.abs().sum())
    assert share > 0.8
    assert stats["advantages/share/negative"] == pytest.approx(share)
    assert stats["advantages/share/negative"] + stats["advantages/share/positive"] == pytest.approx(1.0)
    assert stats["advantages/share/neutral"] == 0.0  # no neutral prompt this step: logged all the same
    balanced, _ = advantages_seen(advantage_balance="gold", advantage_balance_max_weight=1000.0)
    assert float(balanced[negative_rows].abs().sum()) == pytest.approx(float(balanced[~negative_rows].abs().sum()))
    # within a group the advantages keep their signs and ratios
    torch.testing.assert_close(balanced[:4] / balanced[:4].abs().sum(), plain[:4] / plain[:4].abs().sum())


def same_answer(conversation: Conversation, k: int) -> str:
    """One answer for every rollout: each group's rewards are equal, so every advantage is 0."""
    body = "<think>cue</think><score>-1</score>"
    return body if conversation.assistant_prefix else "<polarity>negative</polarity>" + body


def test_the_polarity_objective_anchors_every_optimizer_step(tmp_path: Path, causal: Path) -> None:
    scored = tmp_path / "scored.jsonl"
    # golds far apart, so that two batches' targets (and so their losses) differ even where a tiny
    # random model reads every sentence alike
    texts = {"a lovely day": 3.2, "fine, I guess": 1.0, "rather dull": -1.0, "I hated it": -3.2}
    rows = [{"id": f"p{i}", "text": t, "score": s, "split": "train"} for i, (t, s) in enumerate(texts.items())]
    scored.write_text("".join(json.dumps(row) + "\n" for row in rows))
    polarity = {"weight": 1.0, "dataset": f"jsonl:{scored}?scale=-4,4&neutral=0.5", "batch_size": 2}
    sections: dict[str, Any] = {"optim": {"lr": 1e-2, "minibatch_size": 8}, "hints": {"enabled": False}}
    # no advantage anywhere (and no KL): without the anchor a step leaves the weights as they were
    plain, _ = scripted_trainer(tmp_path / "plain", causal, answer=same_answer, **sections)
    before = [p.detach().clone() for p in plain.policy.parameters()]
    record = plain.step()
    assert "polarity/loss" not in record and plain.polarity is None
    assert all(torch.equal(a, p) for a, p in zip(before, plain.policy.parameters()))
    # with it, every step moves the weights, and what it logs is the objective on that step's own
    # batch of sentences before the update
    anchored, _ = scripted_trainer(tmp_path / "anchored", causal, answer=same_answer, polarity=polarity, **sections)
    assert anchored.polarity is not None
    loss = partial_loss(anchored)
    batches = [anchored.polarity.batch(step, 0, 1, 0) for step in range(2)]
    assert abs(loss(batches[0]) - loss(batches[1])) > 1e-3  # the check below tells them apart
    everything = anchored.polarity.samples
    start = loss(everything)
    for step, batch in enumerate(batches):
        expected, weights = loss(batch), [p.detach().clone() for p in anchored.policy.parameters()]
        record = anchored.step()
        assert record["polarity/loss"] == pytest.approx(expected, abs=1e-5), step
        assert any(not torch.equal(a, p) for a, p in zip(weights, anchored.policy.parameters()))
    # and it trains the distribution towards the targets
    for _ in range(4):
        anchored.step()
    assert loss(everything) < start - 1e-3  # (a tiny random model reads every sentence alike: little to gain)
    with pytest.raises(ConfigError, match="polarity.weight > 0 needs polarity.dataset"):
        make_config(tmp_path, causal, polarity={"weight": 1.0})


def partial_loss(trainer: GRPOTrainer) -> Callable[[list[Sample]], float]:
    """The polarity objective on the trainer's current policy, as a float."""
    assert trainer.polarity is not None
    polarity = trainer.polarity

    def value(sentences: list[Sample]) -> float:
        with torch.no_grad():
            return float(polarity.loss(trainer.policy, trainer.loaded, sentences, trainer.share_prefix))

    return value


def test_centring_that_leaves_no_advantage_says_so_once(
    tmp_path: Path, causal: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two prompts of one gold polarity, each answered once positive and once negative: each answer's push
    is the same in both groups, so centring by answer and by group zeroes every advantage, and the run
    learned nothing without a word."""
    samples = [Sample(id=f"p{i}", text=f"great film {i}", score=2.0, split="train") for i in range(2)]

    def split(conversation: Conversation, k: int) -> str:
        polarity, score = ("positive", 2) if k == 0 else ("negative", -2)
        return f"<polarity>{polarity}</polarity><think>cue</think><score>{score}</score>"

    def run(center: str) -> str:
        caplog.clear()
        trainer, _ = scripted_trainer(
            tmp_path / center,
            causal,
            answer=split,
            samples=samples,
            hints={"enabled": False},
            rollout={"prompts_per_step": 2, "group_size": 2, "max_new_tokens": 8},
            algorithm={"advantage_center": center},
        )
        with caplog.at_level("WARNING", logger="emoreason.rl.trainer"):
            trainer.train()
        return caplog.text

    said = run("answer_and_group")
    assert said.count("left every advantage at 0") == 1 and "step 1:" in said  # two steps, one warning
    assert "left every advantage" not in run("none")


def test_group_counts_are_summed_over_processes_not_averaged(
    tmp_path: Path, causal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every statistic was a mean over processes, counts too: two processes hinting 1 and 3 groups logged 2."""
    import accelerate.utils

    from emoreason.rl.trainer import STEP_COUNTS

    trainer, _ = scripted_trainer(tmp_path, causal)
    mine = {"hints/groups": 1.0, "groups/hard/negative": 1.0, "reward/mean": 2.0}
    theirs = {"hints/groups": 3.0, "groups/hard/negative": 2.0, "reward/mean": 4.0}
    monkeypatch.setattr(accelerate.utils, "gather_object", lambda objects: [mine, theirs])
    monkeypatch.setattr(trainer.run, "world", 2)
    both = trainer.run.reduce(mine, counts=STEP_COUNTS)
    assert both == {"groups/hard/negative": 3.0, "hints/groups": 4.0, "reward/mean": 3.0}
