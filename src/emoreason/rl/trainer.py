"""The GRPO loop with Hint-GRPO and EMO-R3 reflection, on accelerate.

One step, read top to bottom in `GRPOTrainer.step`:

1. rollouts: G completions for each of this process's prompts (generation engine, sampling
   log-probs kept);
2. hard groups (every rollout's polarity, or label, wrong) are re-sampled with the gold
   polarity as a hint (`hints.py`), or dropped (`drop_hard`), or kept (`hints.enabled=false`);
3. reflection (optional): the current policy answers EMO-R3's coherence/consistency questions
   about each rollout, without gradient (`reflection.py`);
4. rewards: the composite reward per rollout, per component;
5. group advantages, then `num_iterations` passes of clipped-surrogate updates over
   minibatches (`core.py`), with the k3 KL to the reference policy when `beta > 0` (LoRA: the
   base model with the adapter switched off, or, when training continues a loaded adapter, a
   frozen copy of that adapter; never a second copy of the model);
6. logging and checkpoints.

The math lives in `core.py`, the hint and reflection policies in their own modules; this file
only orchestrates. Under `accelerate launch`/`torchrun` each process draws its own prompts,
generates with the unwrapped model, and DDP averages the gradients.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext
import dataclasses
import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emoreason.data.schema import Sample, TaskInfo
from emoreason.formats import get_format
from emoreason.formats.base import ParseResult
from emoreason.generation import Completion, SamplingParams, TransformersEngine
from emoreason.generation.logprobs import (
    EncodedBatch,
    continuation_logprobs,
    encode_with_continuations,
    hint_token_ids,
)
from emoreason.inference import build_conversation
from emoreason.models.families.base import Conversation
from emoreason.models.loading import LoadedModel
from emoreason.rewards.composite import CompositeReward, Gold, ReflectionAnswers, RewardBreakdown
from emoreason.rl import checkpoint as ckpt
from emoreason.recipes import flat_recipe
from emoreason.rl.config import GRPOConfig, ModelConfig, dump_config
from emoreason.rl.core import group_advantages, grpo_loss, masked_mean, zero_std_groups
from emoreason.rl.hints import HintConfig, effective_mode, hard_group_indices, hint_for, hint_token_mask, hinted_rows
from emoreason.rl.reflection import ReflectionConfig, reflect
from emoreason.rl.run import RunLog, epoch_position

log = logging.getLogger(__name__)

#: A reward is anything called like CompositeReward: (completion text, gold, task, reflection).
Reward = Callable[[str, Gold, TaskInfo, ReflectionAnswers | None], RewardBreakdown]


@dataclass
class Rollout:
    """One sampled completion and everything the update needs to know about it."""

    sample: Sample
    group: int  # index of its prompt within the step
    conversation: Conversation  # the prompt as sampled, without any assistant prefix
    hint_ids: list[int]  # prefix-hint tokens: scored as context, zero loss weight
    completion: Completion
    text: str  # prefix + completion: what is parsed and rewarded
    parsed: ParseResult
    hinted: bool = False
    reflection: ReflectionAnswers | None = None
    reward: RewardBreakdown | None = None

    @property
    def continuation(self) -> list[int]:
        return self.hint_ids + self.completion.token_ids


@dataclass
class StepTimer:
    parts: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.parts[name] = self.parts.get(name, 0.0) + seconds


def build_accelerator(config: GRPOConfig) -> Any:
    from accelerate import Accelerator

    log_with = ["tensorboard"] if "tensorboard" in config.run.report_to and _has_tensorboard() else None
    return Accelerator(cpu=config.model.device == "cpu", log_with=log_with, project_dir=config.run.output_dir)


def _has_tensorboard() -> bool:
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None and importlib.util.find_spec("tensorboardX") is None:
        log.warning("report_to has tensorboard but neither tensorboard nor tensorboardX is installed; skipping it")
        return False
    return True


def make_reward(config: GRPOConfig) -> CompositeReward:
    section = config.reward
    if section.preset == "c2f":
        return CompositeReward.c2f(section.weights, section.score_kind, config.data.format, **section.score_params)
    preset = CompositeReward.emor3 if section.preset == "emor3" else CompositeReward.r1
    return preset(section.weights, format=config.data.format)


POLICY_ADAPTER = "default"  # peft's name for the adapter a model is created or loaded with
REFERENCE_ADAPTER = "reference"


def prepare_policy(loaded: LoadedModel, settings: ModelConfig) -> torch.nn.Module:
    """LoRA (new adapter, or the one loaded as trainable) or full fine-tuning; shared by GRPO and SFT."""
    model = loaded.model
    if settings.lora.enabled:
        if not ckpt.is_peft(model):
            from peft import LoraConfig, get_peft_model

            lora = settings.lora
            with warnings.catch_warnings():  # peft reads a transformers attribute deprecated in v5
                warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
                model = get_peft_model(model, LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                                         target_modules=lora.target_modules, task_type="CAUSAL_LM"))
    else:
        if ckpt.is_peft(model):
            raise ValueError("model.adapter is a LoRA adapter but model.lora.enabled is false; enable LoRA to "
                             "continue training it, or merge it first")
        for param in model.parameters():
            param.requires_grad_(True)
    if settings.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if hasattr(model, "enable_input_require_grads"):
            model.enable_input_require_grads()
    model.train()
    return model


class GRPOTrainer(RunLog):
    def __init__(
        self,
        config: GRPOConfig,
        *,
        samples: Sequence[Sample] | None = None,
        task: TaskInfo | None = None,
        loaded: LoadedModel | None = None,
        reward: Reward | None = None,
        accelerator: Any = None,
    ):
        from transformers import get_scheduler

        self.config = config
        self.accelerator = accelerator or build_accelerator(config)
        self.rank = self.accelerator.process_index
        self.world = self.accelerator.num_processes
        self.output_dir = Path(config.run.output_dir)
        torch.manual_seed(config.run.seed)
        np.random.seed(config.run.seed)

        if samples is None or task is None:
            samples, task = load_training_data(config)
        if not samples:
            raise ValueError(f"no training samples in {config.data.dataset} split {config.data.split}")
        self.samples, self.task = list(samples), task
        self.format = get_format(config.data.format)
        self.reward: Reward = reward or make_reward(config)
        self.hints = HintConfig(**config.hints.model_dump())
        self.reflection = ReflectionConfig(**config.reflection.model_dump())

        if loaded is None:
            from emoreason.models.loading import load_model

            loaded = load_model(config.model.name, config.model.adapter, family=config.model.family,
                                dtype=config.model.dtype, device=str(self.accelerator.device)
                                if config.model.device == "auto" else config.model.device, trainable=True)
        policy = prepare_policy(loaded, config.model)
        self.uses_lora = ckpt.is_peft(policy)
        self.reference = None
        self.reference_adapter: str | None = None
        if config.algorithm.beta > 0 and not self.uses_lora:
            self.reference = copy.deepcopy(policy).eval().requires_grad_(False)
        elif config.algorithm.beta > 0 and loaded.adapters:
            # LoRA that continues a loaded adapter (GRPO after SFT): "adapter off" would be the
            # base model, which never learned the format; the KL anchors to the adapter as loaded,
            # a frozen copy of it beside the trainable one (TRL's ref_adapter_name idea).
            policy.load_adapter(loaded.adapters[0], adapter_name=REFERENCE_ADAPTER, is_trainable=False)
            policy.set_adapter(POLICY_ADAPTER)
            self.reference_adapter = REFERENCE_ADAPTER

        params = [p for p in policy.parameters() if p.requires_grad]
        optim = config.optim
        optimizer = torch.optim.AdamW(params, lr=optim.lr, betas=optim.betas, weight_decay=optim.weight_decay)
        self.updates_per_step = self._optimizer_steps_per_step()
        self.scheduler = get_scheduler(optim.scheduler, optimizer, num_warmup_steps=optim.warmup_steps,
                                       num_training_steps=config.run.max_steps * self.updates_per_step)
        # The scheduler is stepped by hand: accelerate's wrapper would step it once per process.
        self.model, self.optimizer = self.accelerator.prepare(policy, optimizer)
        self.policy = self.accelerator.unwrap_model(self.model)
        self.loaded = dataclasses.replace(loaded, model=self.policy)
        self.engine = TransformersEngine(self.loaded, batch_size=config.rollout.batch_size)
        # The shared-prompt-prefix forward calls the model twice per backward, which DDP/FSDP
        # wrappers do not allow, and it needs the KV cache that gradient checkpointing turns off.
        self.share_prefix = self.world == 1 and not config.model.gradient_checkpointing
        self.step_index = 0
        self.log_history: list[dict[str, Any]] = []

    # -- data -----------------------------------------------------------------------------

    def prompts_for_step(self, step: int) -> list[Sample]:
        """This process's prompts for `step`: a deterministic function of the step, so a resumed
        run sees exactly the prompts the uninterrupted one would have."""
        per_step = self.config.rollout.prompts_per_step
        start = (step * self.world + self.rank) * per_step
        return [self._sample_at(i) for i in range(start, start + per_step)]

    def _sample_at(self, index: int) -> Sample:
        return self.samples[epoch_position(index, len(self.samples), self.config.run.seed, self.config.data.shuffle)]

    def _seed(self, step: int, stream: int) -> int:
        return (self.config.run.seed * 1_000_003 + step * 1009 + stream * 101 + self.rank) % (2**31)

    # -- 1 + 2: rollouts with hints ----------------------------------------------------------

    def sampling(self, n: int, seed: int) -> SamplingParams:
        r = self.config.rollout
        return SamplingParams(n=n, max_new_tokens=r.max_new_tokens, temperature=r.temperature, top_p=r.top_p,
                              top_k=r.top_k, stop_strings=self.format.stop_strings, seed=seed)

    def conversation(self, sample: Sample, hint: str | None = None, mode: str = "prompt") -> Conversation:
        options = {"use_audio_in_video": True} if self.config.rollout.use_audio_in_video else None
        return build_conversation(sample, self.format, self.task, hint=hint, hint_mode=mode,  # type: ignore[arg-type]
                                  cues=sample.cues if self.config.data.cues else None, options=options)

    def _rollouts(self, sample: Sample, group: int, conversation: Conversation, outs: list[Completion],
                  hinted: bool) -> list[Rollout]:
        prefix = conversation.assistant_prefix
        plain = dataclasses.replace(conversation, assistant_prefix="")
        hint_ids = hint_token_ids(self.loaded, prefix)
        rollouts = []
        for completion in outs:
            text = prefix + completion.text
            rollouts.append(Rollout(sample, group, plain, list(hint_ids), completion, text,
                                    self.format.parse(text, self.task), hinted=hinted))
        return rollouts

    def generate_rollouts(self, prompts: list[Sample], step: int) -> tuple[list[list[Rollout]], dict[str, float]]:
        G = self.config.rollout.group_size
        conversations = [self.conversation(s) for s in prompts]
        outs = self.engine.generate(conversations, self.sampling(G, self._seed(step, 0)))
        groups = [self._rollouts(s, i, c, o, False) for i, (s, c, o) in enumerate(zip(prompts, conversations, outs))]
        golds = [Gold.from_sample(s, self.task) for s in prompts]
        hard = hard_group_indices([[r.parsed for r in g] for g in groups], golds, self.task)
        stats = {"groups/hard_rate": len(hard) / max(1, len(groups)), "hints/groups": 0.0, "groups/dropped": 0.0}
        if not hard:
            return groups, stats
        if self.hints.drop_hard:
            stats["groups/dropped"] = float(len(hard))
            return [g for i, g in enumerate(groups) if i not in set(hard)], stats
        if not self.hints.enabled:
            return groups, stats
        mode = effective_mode(self.hints.mode, self.format)
        rows = hinted_rows(G, self.hints.fraction)
        n_hinted = sum(rows)
        hinted_convs = [self.conversation(prompts[i], hint_for(golds[i], self.task), mode) for i in hard]
        hinted = self.engine.generate(hinted_convs, self.sampling(n_hinted, self._seed(step, 1)))
        plain = [[] for _ in hard] if n_hinted == G else self.engine.generate(
            [conversations[i] for i in hard], self.sampling(G - n_hinted, self._seed(step, 2)))
        for slot, i in enumerate(hard):
            groups[i] = (self._rollouts(prompts[i], i, hinted_convs[slot], hinted[slot], True)
                         + self._rollouts(prompts[i], i, conversations[i], plain[slot], False))
        stats["hints/groups"] = float(len(hard))
        return groups, stats

    # -- 3 + 4: reflection and rewards --------------------------------------------------------

    def reflect(self, rollouts: list[Rollout], step: int) -> None:
        items = [(r.parsed, r.text, r.sample) for r in rollouts]
        answers = reflect(self.engine, items, self.task, self.format.name, self.reflection, seed=self._seed(step, 3))
        for rollout, answer in zip(rollouts, answers):
            rollout.reflection = answer

    def score(self, rollouts: list[Rollout]) -> torch.Tensor:
        for r in rollouts:
            r.reward = self.reward(r.text, Gold.from_sample(r.sample, self.task), self.task, r.reflection)
        return torch.tensor([r.reward.total for r in rollouts], dtype=torch.float32)

    # -- 5: the update ----------------------------------------------------------------------

    def _optimizer_steps_per_step(self) -> int:
        rows = self.config.rollout.prompts_per_step * self.config.rollout.group_size
        minibatches = math.ceil(rows / self.config.optim.minibatch_size)
        accumulation = self.config.optim.gradient_accumulation or minibatches
        return self.config.algorithm.num_iterations * math.ceil(minibatches / accumulation)

    def _encode(self, rollouts: list[Rollout]) -> tuple[EncodedBatch, torch.Tensor]:
        """Model inputs of a minibatch and its loss mask (hint tokens and padding 0). Built once
        per step and reused by the old-policy, reference and update passes (media load once)."""
        batch = encode_with_continuations(self.loaded, [r.conversation for r in rollouts],
                                          [r.continuation for r in rollouts], share_prefix=self.share_prefix)
        mask = hint_token_mask([len(r.hint_ids) for r in rollouts], [r.completion.num_tokens for r in rollouts],
                               batch.targets.shape[1]).to(batch.targets.device)
        return batch, mask

    def _forward(self, model: torch.nn.Module, rollouts: list[Rollout], with_entropy: bool = False):
        batch, mask = self._encode(rollouts)
        logp, entropy = continuation_logprobs(model, batch, self.config.rollout.temperature, with_entropy)
        return logp, mask, entropy

    @torch.no_grad()
    def _fixed_logprobs(self, batches: list[EncodedBatch], reference: bool) -> list[torch.Tensor]:
        """Old-policy (before any update of this step) or reference-policy log-probs."""
        temperature = self.config.rollout.temperature
        if reference and self.reference_adapter:
            self.policy.set_adapter(self.reference_adapter)
            try:
                return [continuation_logprobs(self.policy, b, temperature)[0] for b in batches]
            finally:
                self.policy.set_adapter(POLICY_ADAPTER)  # peft makes the active adapter the trainable one
        if reference and self.uses_lora:
            with self.policy.disable_adapter():
                return [continuation_logprobs(self.policy, b, temperature)[0] for b in batches]
        model = self.reference if reference else self.policy
        return [continuation_logprobs(model, b, temperature)[0] for b in batches]

    def update(self, rollouts: list[Rollout], advantages: torch.Tensor) -> dict[str, float]:
        cfg, algo = self.config.optim, self.config.algorithm
        order = list(range(len(rollouts)))
        minibatches = [order[i : i + cfg.minibatch_size] for i in range(0, len(order), cfg.minibatch_size)]
        encoded = [self._encode([rollouts[i] for i in mb]) for mb in minibatches]
        batches = [batch for batch, _ in encoded]
        accumulation = cfg.gradient_accumulation or len(minibatches)
        # Exact old log-probs are needed once the policy moves within the step; before that,
        # logp.detach() is the same number and costs nothing.
        needs_old = algo.num_iterations > 1 or accumulation < len(minibatches)
        old = self._fixed_logprobs(batches, reference=False) if needs_old else None
        ref = self._fixed_logprobs(batches, reference=True) if algo.beta > 0 else None
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}

        def add(name: str, value: float) -> None:
            sums[name] = sums.get(name, 0.0) + value
            counts[name] = counts.get(name, 0) + 1

        self.model.train()
        for _ in range(algo.num_iterations):
            for start in range(0, len(minibatches), accumulation):
                window = list(range(start, min(start + accumulation, len(minibatches))))
                num_sequences = sum(len(minibatches[m]) for m in window)
                num_tokens = float(sum(encoded[m][1].sum().item() for m in window))
                for position, m in enumerate(window):
                    sync = position == len(window) - 1
                    context = self.accelerator.no_sync(self.model) if not sync and self.world > 1 else nullcontext()
                    with context:
                        batch, mask = encoded[m]
                        logp, entropy = continuation_logprobs(self.model, batch, self.config.rollout.temperature,
                                                              with_entropy=True)
                        adv = advantages[minibatches[m]].to(logp.device)
                        out = grpo_loss(
                            logp, old[m] if old is not None else logp.detach(), adv, mask,
                            ref_logp=ref[m] if ref is not None else None, beta=algo.beta,
                            eps_low=algo.eps_low, eps_high=algo.eps_high, loss_type=algo.loss_type,
                            num_sequences=num_sequences, num_tokens=num_tokens,
                            max_completion_length=self.config.rollout.max_new_tokens,
                        )
                        self.accelerator.backward(out.loss)
                    for name, value in out.as_floats().items():
                        add(name, value)
                    add("entropy", float(masked_mean(entropy, mask).item()))
                grad_norm = None
                if cfg.max_grad_norm is not None:
                    grad_norm = self.accelerator.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                self.optimizer.step()
                self.scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
                if grad_norm is not None:
                    add("grad_norm", float(grad_norm))
        stats = {name: sums[name] / counts[name] for name in sums}
        if "loss" in stats:  # the per-minibatch losses are parts of one window's loss: report the window total
            stats["loss"] = sums["loss"] / (algo.num_iterations * math.ceil(len(minibatches) / accumulation))
        return stats

    # -- one step, and the run ------------------------------------------------------------

    def step(self) -> dict[str, float]:
        step = self.step_index
        timer = StepTimer()
        began = time.perf_counter()
        self.model.eval()
        prompts = self.prompts_for_step(step)
        groups, stats = self.generate_rollouts(prompts, step)
        timer.add("generation", time.perf_counter() - began)
        rollouts = [r for g in groups for r in g]
        if rollouts and self.reflection.enabled:
            t = time.perf_counter()
            self.reflect(rollouts, step)
            timer.add("reflection", time.perf_counter() - t)
        t = time.perf_counter()
        G = self.config.rollout.group_size
        rewards = self.score(rollouts) if rollouts else torch.zeros(0)
        timer.add("reward", time.perf_counter() - t)
        t = time.perf_counter()
        if rollouts:
            advantages = group_advantages(rewards, G, self.config.algorithm.advantage_scale,
                                          self.config.algorithm.advantage_eps)
            stats.update(self.update(rollouts, advantages))
        timer.add("update", time.perf_counter() - t)
        stats.update(self._rollout_stats(groups, rewards))
        stats.update({f"time/{k}": v for k, v in timer.parts.items()})
        stats["time/step"] = time.perf_counter() - began
        stats["lr"] = float(self.scheduler.get_last_lr()[0])
        self.step_index += 1
        return self._reduce(stats)

    def _rollout_stats(self, groups: list[list[Rollout]], rewards: torch.Tensor) -> dict[str, float]:
        rollouts = [r for g in groups for r in g]
        if not rollouts:
            return {"reward/mean": 0.0, "reward/std": 0.0}
        G = self.config.rollout.group_size
        stats = {
            "reward/mean": float(rewards.mean()),
            "reward/std": float(rewards.std()) if len(rewards) > 1 else 0.0,
            "groups/zero_std_share": float(zero_std_groups(rewards, G).float().mean()),
            "completion/mean_length": float(np.mean([r.completion.num_tokens for r in rollouts])),
            "completion/truncated_share": float(np.mean([r.completion.finish_reason == "length" for r in rollouts])),
            "completion/parse_ok": float(np.mean([r.parsed.ok for r in rollouts])),
        }
        names = sorted({name for r in rollouts for name in (r.reward.components if r.reward else {})})
        for name in names:
            values = [r.reward.components[name] for r in rollouts if r.reward and name in r.reward.components]
            stats[f"reward/{name}/mean"] = float(np.mean(values))
            stats[f"reward/{name}/std"] = float(np.std(values))
        hinted_groups = [g for g in groups if any(r.hinted for r in g)]
        if hinted_groups:
            # a hinted group "succeeds" when its rewards now differ, i.e. it teaches something
            stats["hints/success_rate"] = float(np.mean([np.ptp([r.reward.total for r in g]) > 1e-6
                                                         for g in hinted_groups]))
        return stats

    def _reduce(self, stats: dict[str, float]) -> dict[str, float]:
        """Mean over processes of each statistic that a process reported."""
        if self.world == 1:
            return stats
        from accelerate.utils import gather_object

        every = gather_object([stats])
        keys = sorted({k for s in every for k in s})  # e.g. hints/* exist only where a group was hinted
        return {k: float(np.mean([s[k] for s in every if k in s])) for k in keys}

    # -- checkpoints ------------------------------------------------------------------------

    def save(self, rolling: bool = False) -> Path:
        return ckpt.save_checkpoint(
            self.output_dir, self.step_index, model=self.policy, optimizer=self.optimizer, scheduler=self.scheduler,
            state={"samples_seen": self.step_index * self.world * self.config.rollout.prompts_per_step,
                   "config": self.config.model_dump(mode="json")},
            processor=self.loaded.processor, rank=self.rank, world_size=self.world,
            barrier=self.accelerator.wait_for_everyone if self.world > 1 else None,
            keep=self.config.run.keep_checkpoints, rolling=rolling,
        )

    def train(self, max_steps: int | None = None, progress: Callable[[dict[str, Any]], None] | None = None
              ) -> list[dict[str, Any]]:
        """Run until `max_steps` (default: run.max_steps), resuming from the newest checkpoint
        when `run.resume` is set. Returns the log records of the steps run here."""
        run = self.config.run
        max_steps = max_steps or run.max_steps
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if run.resume and self.step_index == 0:
            self.resume()
        if self.accelerator.is_main_process:
            (self.output_dir / "config.yaml").write_text(dump_config(self.config))
        if self.accelerator.trackers == [] and self.accelerator.log_with:
            self.accelerator.init_trackers("grpo", config=flat_recipe(self.config.model_dump(mode="json")))
        records = []
        while self.step_index < max_steps:
            stats = self.step()
            self._log(stats)
            records.append(self.log_history[-1])
            if progress is not None:
                progress(self.log_history[-1])
            if self.step_index == max_steps or (run.save_every and self.step_index % run.save_every == 0):
                self.save()
            elif run.save_latest:
                self.save(rolling=True)
        if self.accelerator.trackers:
            self.accelerator.end_training()
        return records


def load_training_data(config: GRPOConfig) -> tuple[list[Sample], TaskInfo]:
    from emoreason.data import load_dataset

    specs = [config.data.dataset] if isinstance(config.data.dataset, str) else list(config.data.dataset)
    if not specs:
        raise ValueError("data.dataset is an empty list; give at least one dataset spec")
    samples: list[Sample] = []
    task: TaskInfo | None = None
    for spec in specs:
        dataset = load_dataset(spec)
        if task is not None and (dataset.task.scale != task.scale or dataset.task.labels != task.labels):
            raise ValueError(f"data.dataset: {spec} ({dataset.task.name}) and {specs[0]} ({task.name}) are different "
                             "tasks; pool datasets of one scale or label set only")
        task = task or dataset.task
        chosen = dataset.split(config.data.split)
        samples.extend(chosen[: config.data.limit] if config.data.limit else chosen)
    assert task is not None
    return samples, task


__all__ = ["GRPOTrainer", "Rollout", "build_accelerator", "load_training_data", "make_reward", "prepare_policy"]
