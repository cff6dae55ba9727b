"""The machinery both trainers share (emoreason.train) and the GRPO step's pure helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from emoreason.data.schema import Sample, vader_task
from emoreason.formats.base import ParseResult
from emoreason.generation import Completion
from emoreason.models.families.base import Conversation
from emoreason.rewards.composite import RewardBreakdown
from emoreason.rl.rollouts import (
    AnswerMix,
    Pull,
    Rollout,
    Stream,
    advantage_pull,
    answer_mix,
    pull_by_answer,
    rollout_records,
    rows_to_run,
    sampling_seed,
    shared_over_processes,
    update_windows,
    window_totals,
)
from emoreason.sft.config import load_config as load_sft_config
from emoreason.train.config import OptimSection, build_optimizer
from emoreason.train.update import RunningMeans


def test_window_totals_and_rows_to_run_by_hand() -> None:
    windows = update_windows(5, 2, 2)  # [[[0, 1], [2, 3]], [[4]]]
    # the loss of a window is normalised over all its rows, skipped ones included
    assert window_totals(windows, [3, 1, 4, 1, 5]) == [
        {"num_tokens": 9.0, "num_sequences": 4},
        {"num_tokens": 5.0, "num_sequences": 1},
    ]
    assert rows_to_run(windows, [True, False, False, False, True]) == [[0], [], [4]]


def test_a_windows_tokens_are_every_processs_under_two_processes() -> None:
    """dapo divided by a process's own tokens: 9 short tokens here against 90 long ones weighed each of
    them ten times a long one's. Each process divides by its share of the total, 99 / 2, and DDP's average
    of the two gradients is then the sum over all 99 tokens over 99."""
    mine = window_totals(update_windows(2, 2, None), [4, 5])  # [{"num_tokens": 9.0, "num_sequences": 2}]
    assert shared_over_processes(mine, [99.0], world=2) == [{"num_tokens": 49.5, "num_sequences": 2}]
    per_token_sums = {"short": 9 * 1.0, "long": 90 * 1.0}  # a loss of 1 a token on each process
    averaged = sum(total / 49.5 for total in per_token_sums.values()) / 2
    assert averaged == pytest.approx(99 / 99)
    with pytest.raises(ValueError, match="1 token totals for 2 windows"):
        shared_over_processes(window_totals(update_windows(4, 2, 1), [1, 1, 1, 1]), [4.0], world=2)


def test_update_windows_by_hand() -> None:
    # 10 rollouts, minibatches of 4: [0-3] [4-7] [8-9]; accumulation 2: two optimizer steps
    assert update_windows(10, 4, 2) == [[[0, 1, 2, 3], [4, 5, 6, 7]], [[8, 9]]]
    # default accumulation: every minibatch in one window, one optimizer step per pass
    assert update_windows(10, 4, None) == [[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]]
    assert update_windows(3, 8, None) == [[[0, 1, 2]]]
    assert update_windows(0, 8, None) == []


def _record(gold: str, answer: str | None, advantage: float, hinted: bool = False) -> dict:
    return {
        "step": 1,
        "gold": {"polarity": gold},
        "answer": {"polarity": answer},
        "advantage": advantage,
        "hinted": hinted,
    }


def test_advantage_pull_sums_by_gold_and_answer_by_hand() -> None:
    records = [
        _record("negative", "negative", 0.5),
        _record("negative", "negative", 0.25, hinted=True),
        _record("negative", "positive", -0.75),
        _record("positive", "negative", -0.5),
        _record("positive", "positive", 0.75),
        _record("positive", None, -0.25),  # did not parse
    ]
    pulls = advantage_pull(records)
    assert pulls == [
        Pull("negative", "negative", 2, 1, 0.75, 0.25),
        Pull("negative", "positive", 1, 0, -0.75, 0.0),
        Pull("positive", "negative", 1, 0, -0.5, 0.0),
        Pull("positive", "none", 1, 0, -0.25, 0.0),
        Pull("positive", "positive", 1, 0, 0.75, 0.0),
    ]
    assert pull_by_answer(pulls) == {"negative": 0.25, "none": -0.25, "positive": 0.0}
    labelled = [{**_record("positive", "positive", 1.0), "gold": {"label": "joy"}, "answer": {"label": "fear"}}]
    assert advantage_pull(labelled, by="label") == [Pull("joy", "fear", 1, 0, 1.0, 0.0)]
    with pytest.raises(ValueError, match="polarity' or 'label"):
        advantage_pull(records, by="emotion")


def test_answer_mix_counts_the_unhinted_answers_and_the_right_share_by_hand() -> None:
    records = [
        _record("negative", "negative", 0.5),
        _record("negative", "positive", 0.5, hinted=True),  # steered by its hint: not the policy's own
        _record("negative", "positive", -0.5),
        _record("positive", "positive", 0.5),
        _record("positive", None, 0.0),  # did not parse: "none", and wrong
    ]
    # 4 unhinted: negative 1, positive 2, none 1; right 2 of 4
    assert answer_mix(records) == AnswerMix(4, {"negative": 0.25, "none": 0.25, "positive": 0.5}, 0.5)
    no_gold = {**_record("positive", "positive", 0.0), "gold": {"polarity": None}}
    # a rollout without a gold counts in the mix but not in the right share: 2 right of 4 graded, 5 answers
    assert answer_mix([*records, no_gold]) == AnswerMix(5, {"negative": 0.2, "none": 0.2, "positive": 0.6}, 0.5)
    only_hinted = answer_mix([_record("negative", "negative", 0.0, hinted=True)])
    assert only_hinted.rollouts == 0 and only_hinted.shares == {} and only_hinted.right != only_hinted.right
    labelled = [{**_record("positive", "positive", 1.0), "gold": {"label": "joy"}, "answer": {"label": "fear"}}]
    assert answer_mix(labelled, by="label") == AnswerMix(1, {"fear": 1.0}, 0.0)
    with pytest.raises(ValueError, match="polarity' or 'label"):
        answer_mix(records, by="emotion")


def test_rollout_records_carry_gold_answer_reward_and_advantage() -> None:
    task = vader_task("movies")
    sample = Sample(id="movies/7", text="dull", score=-2.5, split="train", domain="movies")
    text = "<polarity>positive</polarity><think>x</think><score>1</score>"
    parsed = ParseResult("c2f", True, polarity="positive", score=1.0)
    completion = Completion(text=text, token_ids=[1, 2, 3], logprobs=[0.0] * 3, finish_reason="stop", prompt_index=0)
    reward = RewardBreakdown(total=1.25, components={"format": 1.0, "polarity": 0.0, "score": 0.25}, parsed=parsed)
    rollout = Rollout(sample, 3, Conversation(messages=[]), [], completion, text, parsed, hinted=True, reward=reward)
    (record,) = rollout_records([rollout], [-0.5], task)
    assert record == {
        "id": "movies/7",
        "domain": "movies",
        "group": 3,
        "hinted": True,
        "gold": {"polarity": "negative", "score": -2.5, "label": None},
        "answer": {"polarity": "positive", "score": 1.0, "label": None, "ok": True},
        "reward": 1.25,
        "components": {"format": 1.0, "polarity": 0.0, "score": 0.25},
        "advantage": -0.5,
        "tokens": 3,
        "finish_reason": "stop",
        "text": text,
    }
    with pytest.raises(ValueError, match="1 rollouts but 2 advantages"):
        rollout_records([rollout], [0.0, 1.0], task)


def test_sampling_seeds_by_hand_and_distinct() -> None:
    assert sampling_seed(0, 0, Stream.ROLLOUTS, 0) == 0
    assert sampling_seed(1, 2, Stream.HINTED, 3) == 1_000_003 + 2 * 1009 + 101 + 3
    assert sampling_seed(10**6, 0, Stream.ROLLOUTS, 0) == (10**6 * 1_000_003) % 2**31
    seeds = {sampling_seed(7, step, stream, rank) for step in range(200) for stream in Stream for rank in range(8)}
    assert len(seeds) == 200 * len(Stream) * 8


def test_running_means() -> None:
    means = RunningMeans()
    for value in (1.0, 2.0, 6.0):
        means.add("loss", value)
    means.add("grad_norm", 0.5)
    assert means.means() == {"loss": 3.0, "grad_norm": 0.5}


def test_one_optimizer_section_with_recipe_defaults() -> None:
    sft = load_sft_config(None, [])
    assert isinstance(sft.train, OptimSection)
    assert (sft.train.lr, sft.train.scheduler) == (2e-4, "cosine")  # SFT's own defaults
    assert (OptimSection().lr, OptimSection().scheduler) == (1e-5, "constant")
    model = torch.nn.Linear(3, 2)
    model.bias.requires_grad_(False)
    optimizer, scheduler = build_optimizer(model, OptimSection(lr=0.1, warmup_steps=2, scheduler="linear"), 10)
    assert [p for group in optimizer.param_groups for p in group["params"]] == [model.weight]  # trainable only
    assert scheduler.get_last_lr() == [0.0]  # warm-up starts at 0


def test_auto_is_a_cpu_run_where_there_is_no_cuda() -> None:
    from emoreason.train.loop import runs_on_cpu

    assert runs_on_cpu("auto", cuda=False) and runs_on_cpu("cpu", cuda=True)
    assert not runs_on_cpu("auto", cuda=True) and not runs_on_cpu("cuda", cuda=False)


def test_a_warm_up_as_long_as_the_run_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    model = torch.nn.Linear(3, 2)
    with caplog.at_level("WARNING", logger="emoreason.train.config"):
        build_optimizer(model, OptimSection(lr=0.1, warmup_steps=5, scheduler="cosine"), 6)
        assert caplog.records == []
        build_optimizer(model, OptimSection(lr=0.1, warmup_steps=5, scheduler="cosine"), 1)
    assert "warmup_steps 5 covers all 1 optimizer steps" in caplog.text and "optim.warmup_steps=0" in caplog.text


def test_grpo_start_resumes_once(tmp_path: Path, tiny_models: dict[str, Path]) -> None:
    from emoreason.rl.trainer import GRPOTrainer
    from test_rl_trainer import TEXT_SAMPLES, VADER, make_config, vowel_reward

    def trainer() -> GRPOTrainer:
        config = make_config(
            tmp_path,
            tiny_models["causal_lm"],
            run={"max_steps": 3, "save_every": 2, "resume": True},
            hints={"enabled": False},
        )
        return GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)

    first = trainer()
    assert first.start() is None  # nothing to resume from
    first.train(max_steps=2)
    again = trainer()
    assert again.start() == 2 and again.start() == 2 and again.step_index == 2
    assert [r["step"] for r in again.train()] == [3]  # train() did not resume a second time
    with pytest.raises(FileNotFoundError):
        again.run.resume(tmp_path / "no-such-checkpoint")


def test_merged_generation_restores_the_base_weights_bit_for_bit(tiny_models: dict[str, Path]) -> None:
    from peft import LoraConfig, get_peft_model

    from emoreason.models import load_model
    from emoreason.train.policy import MergedForGeneration

    policy = get_peft_model(
        load_model(str(tiny_models["causal_lm"]), device="cpu").model, LoraConfig(r=4, target_modules="all-linear")
    )
    with torch.no_grad():
        for name, param in policy.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)  # a trained-looking adapter: the merge changes the weights
    policy.eval()
    ids = torch.tensor([[1, 5, 9, 2, 7]])
    expected = policy(input_ids=ids).logits
    before = {n: p.detach().clone() for n, p in policy.named_parameters()}
    merged = MergedForGeneration(policy)
    assert merged.layers
    for _ in range(2):  # the saved copies are reused on the second step
        with merged():
            base = next(layer.get_base_layer().weight for layer in merged.layers)
            assert not torch.equal(base, before[[n for n in before if n.endswith("base_layer.weight")][0]])
            inside = policy(input_ids=ids).logits  # the LoRA path is off: the deltas are in the weights
        torch.testing.assert_close(inside, expected, atol=1e-4, rtol=1e-4)
        after = dict(policy.named_parameters())
        assert all(torch.equal(before[n], after[n]) for n in before)  # bit for bit, not a subtraction
        assert not any(layer.merged for layer in merged.layers)
    assert MergedForGeneration(torch.nn.Linear(2, 2)).layers == []  # full fine-tuning: nothing to merge


def test_bf16_update_keeps_fp32_master_weights_and_resumes(tmp_path: Path, tiny_models: dict[str, Path]) -> None:
    from emoreason.rl.trainer import GRPOTrainer
    from test_rl_trainer import TEXT_SAMPLES, VADER, make_config, vowel_reward

    def trainer(out: Path) -> GRPOTrainer:
        config = make_config(
            out, tiny_models["causal_lm"], run={"max_steps": 4, "save_every": 2, "resume": True},
            hints={"enabled": False}, model={"lora": {"enabled": True, "r": 4, "alpha": 8}},
            optim={"lr": 2e-2, "minibatch_size": 4, "precision": "bf16"},
        )  # fmt: skip
        return GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)

    straight = trainer(tmp_path / "a")
    seen: list[bool] = []
    hook = straight.policy.register_forward_pre_hook(lambda *_: seen.append(torch.is_autocast_enabled("cpu")))
    records = straight.train()
    hook.remove()
    assert any(seen) and not all(seen)  # the update's passes in bf16, generation not
    assert records[-1]["grad_norm"] > 0
    trainable = [p for p in straight.policy.parameters() if p.requires_grad]
    assert trainable and all(p.dtype == torch.float32 for p in trainable)  # fp32 master weights
    states = [s for s in straight.optimizer.state_dict()["state"].values()]
    assert states and all(s["exp_avg"].dtype == torch.float32 for s in states)
    first = trainer(tmp_path / "b")
    first.train(max_steps=2)
    resumed = trainer(tmp_path / "b")
    assert [r["step"] for r in resumed.train()] == [3, 4]
    after = dict(resumed.policy.named_parameters())
    trained = [(n, p) for n, p in straight.policy.named_parameters() if p.requires_grad]
    worst = max(float((p - after[n]).detach().abs().max()) for n, p in trained)
    assert worst <= 1e-6, worst  # measured: 0.0 (bf16 autocast on CPU is deterministic)


def test_bf16_rollout_copy_follows_the_trained_policy(tmp_path: Path, tiny_models: dict[str, Path]) -> None:
    from emoreason.rl.trainer import GRPOTrainer
    from test_rl_trainer import TEXT_SAMPLES, VADER, make_config, vowel_reward

    config = make_config(
        tmp_path, tiny_models["causal_lm"], run={"max_steps": 2}, hints={"enabled": False},
        model={"lora": {"enabled": True, "r": 4, "alpha": 8}}, rollout={"dtype": "bfloat16", "max_new_tokens": 6},
        optim={"lr": 5e-2},
    )  # fmt: skip
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    weights = trainer.rollout_weights
    assert weights.copy is not None and trainer.engine.loaded.model is weights.copy
    assert all(p.dtype == torch.bfloat16 for p in weights.copy.parameters())
    assert not any("lora" in name for name, _ in weights.copy.named_parameters())  # a plain model
    trainer.train()
    before = {n: p.detach().clone() for n, p in trainer.policy.named_parameters()}
    with weights():
        pass
    assert all(torch.equal(before[n], p) for n, p in trainer.policy.named_parameters())  # policy untouched
    with torch.no_grad():
        for name, param in trainer.policy.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)  # a large adapter, so the copy with and without it differ clearly
    with weights():
        pass
    ids = torch.tensor([[1, 5, 9, 2, 7]])
    with torch.no_grad():
        expected = trainer.policy(input_ids=ids).logits  # the trained policy, LoRA path on
        with trainer.policy.disable_adapter():
            base = trainer.policy(input_ids=ids).logits
        got = weights.copy(input_ids=ids).logits.float()
    error, without = float((got - expected).abs().max()), float((got - base).abs().max())
    assert error < 0.1 * without, (error, without)  # the copy holds the adapter's deltas (to bf16 rounding)


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_takes_bf16_only_where_the_device_multiplies_it_natively(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emoreason.models import loading
    from emoreason.train.update import resolve_precision

    monkeypatch.setattr(loading, "native_bf16", lambda device: native)
    assert resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    assert resolve_precision("fp32", "cpu") == "fp32"
    names = {"bf16": "bfloat16", "fp32": "float32", "name": "rollout.dtype"}
    assert loading.bf16_where_native("auto", "cpu", **names) == ("bfloat16" if native else "float32")
    if native:
        assert resolve_precision("bf16", "cpu") == "bf16"
    else:  # asked for explicitly, bf16 is kept but the user is told it is emulated
        with pytest.warns(UserWarning, match="without native bf16 matmuls runs many times slower"):
            assert resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ValueError, match="unknown precision 'fp16'; use fp32, bf16 or auto"):
        resolve_precision("fp16", "cpu")


def test_native_bf16_reads_the_cpu_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    from emoreason.models.loading import native_bf16

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert native_bf16("cpu") is False
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert native_bf16("cpu") is True
    assert native_bf16("meta") is False


def test_auto_precision_in_the_trainers_resolves_for_this_machine(tmp_path: Path, tiny_models: dict[str, Path]) -> None:
    from emoreason.models.loading import native_bf16
    from emoreason.rl.trainer import GRPOTrainer
    from test_rl_trainer import TEXT_SAMPLES, VADER, make_config, vowel_reward

    config = make_config(
        tmp_path, tiny_models["causal_lm"], run={"max_steps": 1}, hints={"enabled": False},
        model={"lora": {"enabled": True, "r": 4, "alpha": 8}}, rollout={"dtype": "auto"}, optim={"precision": "auto"},
    )  # fmt: skip
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER, reward=vowel_reward)
    native = native_bf16("cpu")
    assert trainer.precision == ("bf16" if native else "fp32")
    assert trainer.rollout_weights.dtype == ("bfloat16" if native else "float32")
    assert (trainer.rollout_weights.copy is not None) == native
    # what `auto` became is kept with the run (config.yaml's last line), in the order of the settings
    assert trainer.run.resolved == {
        "optim.precision": "bf16" if native else "fp32",
        "rollout.dtype": "bfloat16" if native else "float32",
    }


def test_a_run_on_another_device_drops_the_process_wide_accelerate_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """accelerate keeps one state per process; a second run there on another device kind must not
    inherit the first run's device (or be refused): its single-process state is dropped."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, PartialState

    from emoreason.train.loop import _forget_another_devices_state

    AcceleratorState._reset_state(reset_partial_state=True)
    try:
        Accelerator(cpu=True)
        _forget_another_devices_state(cpu=True)  # same device kind: the state stays
        assert PartialState._shared_state and PartialState().device.type == "cpu"
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # as on a GPU machine
        _forget_another_devices_state(cpu=True)
        assert PartialState._shared_state
        _forget_another_devices_state(cpu=False)  # a GPU run after a CPU run: dropped
        assert not PartialState._shared_state and not AcceleratorState._shared_state
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
