"""The GRPO recipe with Hint-GRPO and EMO-R3 reflection, on accelerate. One step, read top to
bottom in `GRPOTrainer.step`:

1. rollouts: G completions for each of this process's prompts (sampling log-probs kept);
2. hard groups (every rollout's polarity, or label, wrong) are re-sampled with the gold
   polarity as a hint (`hints.py`), or dropped (`drop_hard`), or kept (`hints.enabled=false`);
3. reflection (optional): the current policy answers EMO-R3's coherence/consistency questions
   about each rollout, without gradient (`reflection.py`);
4. rewards: the composite reward per rollout, per component (`emoreason.rewards`);
5. group advantages, then `num_iterations` passes of clipped-surrogate updates over minibatches
   (`core.py`), with the k3 KL to the reference (`emoreason.train.policy`) when `beta > 0`;
6. logging and checkpoints (`emoreason.train.loop`).

With `polarity.weight` > 0 every optimizer step also carries the SFT polarity objective on a batch
of scored sentences (`emoreason.train.polarity`), an anchor for the distribution the fitted score
reads.

The math lives in `core.py`, the hint and reflection policies in their own modules; this file
only orchestrates. Under `accelerate launch`/`torchrun` each process draws its own prompts,
generates with the unwrapped model, and DDP averages the gradients.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emoreason.data import load_pooled
from emoreason.data.schema import Sample, TaskInfo
from emoreason.formats import build_conversation, effective_mode, get_format
from emoreason.formats.readout import polarity_position
from emoreason.generation import Completion, GenerationBackend, SamplingParams, TransformersEngine
from emoreason.generation.logprobs import EncodedBatch, continuation_logprobs, encode_with_continuations, hint_token_ids
from emoreason.models.families.base import Conversation
from emoreason.models.loading import LoadedModel
from emoreason.rewards import build_reward
from emoreason.rewards.composite import Gold, ReflectionAnswers, RewardBreakdown
from emoreason.rl.config import GRPOConfig
from emoreason.rl.core import (
    advantage_shares,
    advantage_sums,
    balance_advantages,
    center_advantages,
    center_advantages_in_groups,
    group_advantages,
    grpo_loss,
    masked_mean,
)
from emoreason.rl.hints import (
    answer_names,
    gold_answer,
    hard_group_indices,
    hard_groups_by_gold,
    hint_for,
    hint_token_mask,
    hinted_rows,
    parsed_answer,
    sampled_mix,
)
from emoreason.rl.reflection import reflect
from emoreason.rl.rollouts import (
    ROLLOUTS_FILE,
    Rollout,
    StepTimer,
    Stream,
    make_rollouts,
    rollout_records,
    rollout_stats,
    rows_to_run,
    sampling_seed,
    shared_over_processes,
    update_windows,
    weighted_strata,
    window_totals,
)
from emoreason.train.loop import build_accelerator, prepare_training, stream_positions
from emoreason.train.polarity import PolaritySentences
from emoreason.train.policy import (
    RolloutWeights,
    load_trainable,
    prepare_policy,
    reference_model,
    setup_reference,
    without_dropout,
)
from emoreason.train.update import (
    RunningMeans,
    gradient_sync,
    optimizer_step,
    resolve_precision,
    update_precision,
    without_polarity_word,
    zero_missing_grads,
)
from emoreason.train.validation import Validation, ValidationHook
from emoreason.train.weights import trained_for

log = logging.getLogger(__name__)

#: A reward is anything called like CompositeReward: (completion text, gold, task, reflection).
Reward = Callable[[str, Gold, TaskInfo, ReflectionAnswers | None], RewardBreakdown]
#: step statistics that count groups (each process its own prompts'): summed over processes, not averaged
STEP_COUNTS = ("hints/groups", "groups/dropped", "groups/hard/")


class GRPOTrainer:
    def __init__(
        self,
        config: GRPOConfig,
        *,
        samples: Sequence[Sample] | None = None,
        task: TaskInfo | None = None,
        loaded: LoadedModel | None = None,
        reward: Reward | None = None,
        engine: GenerationBackend | None = None,
        accelerator: Any = None,
    ):
        """`samples`/`task` default to the data section, `loaded` to the model section, `reward` to
        the format's composite reward, `engine` (the rollout sampler) to the built-in one."""
        self.config = config
        self.accelerator = accelerator or build_accelerator(config.model, config.run)
        self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes
        if self.world > 1 and config.hints.drop_hard:
            # a process whose groups were all dropped would skip the update the others wait in (the run hangs),
            # and one that dropped some would run fewer windows than the others
            raise ValueError("hints.drop_hard runs in one process only: drop it, or run the ablation without torchrun")
        torch.manual_seed(config.run.seed)
        np.random.seed(config.run.seed)
        data = config.data
        specs: list[str] = []  # where the samples come from, named in a refusal of their media (none when given)
        if samples is None or task is None:
            samples, task = load_pooled(data.dataset, data.split, data.limit)
            specs = [data.dataset] if isinstance(data.dataset, str) else list(data.dataset)
        if not samples:
            raise ValueError(f"no training samples in {data.dataset} split {data.split}")
        self.samples, self.task, self.format = list(samples), task, get_format(data.format)
        self.reward: Reward = reward or build_reward(data.format, task, **config.reward.model_dump())
        media = {k: getattr(s, k) for s in self.samples for k in s.modalities if k != "text"}  # one file per kind
        loaded = loaded or load_trainable(config.model, self.accelerator, media, specs)
        policy = prepare_policy(loaded, config.model)
        if dropped := without_dropout(policy):
            log.warning(
                "GRPO turns dropout off in the policy (%d layers, e.g. %s=%g): the ratio to the old policy "
                "must be 1 on the weights the rollouts came from",
                len(dropped),
                *next(iter(dropped.items())),
            )
        beta = config.algorithm.beta
        self.reference, self.reference_adapter = setup_reference(policy, loaded) if beta > 0 else (None, None)
        rows, optim = config.rollout.prompts_per_step * config.rollout.group_size, config.optim
        windows = update_windows(rows, optim.minibatch_size, optim.gradient_accumulation)
        self.max_steps = config.run.max_steps
        #: optimizer steps a step takes with every group kept; the scheduler moves on by this many each step
        self.updates_per_step = config.algorithm.num_iterations * len(windows)
        updates = self.max_steps * self.updates_per_step
        seen = {"samples_seen": config.rollout.prompts_per_step * self.world}
        ready = prepare_training("grpo", config, self.accelerator, loaded, policy, optim, updates, seen)
        self.model, self.policy, self.optimizer, self.scheduler, self.loaded, self.run = ready
        self.run.adapter_settings = trained_for(self.format.name, self.task)
        self._warned_centring = False  # said once a run: centring left a whole step without a signal
        self._warned_unhintable = False  # said once a run: hard groups whose gold has no polarity to hint
        self.rollout_weights = RolloutWeights(self.loaded, config.rollout.merge_lora, config.rollout.dtype)
        batch_size = config.rollout.batch_size
        self.engine: GenerationBackend = engine or TransformersEngine(
            self.rollout_weights.loaded, batch_size=batch_size
        )
        #: the update's precision, "auto" resolved for this device (`train.update.resolve_precision`)
        self.precision = resolve_precision(optim.precision, self.accelerator.device)
        self.update_precision = partial(update_precision, self.precision, self.accelerator.device)
        log.info("update precision %s, rollouts in %s", self.precision, self.rollout_weights.dtype)
        self.run.note_resolved("optim.precision", optim.precision, self.precision)
        self.run.note_resolved("rollout.dtype", config.rollout.dtype, self.rollout_weights.dtype)
        self.rollout_log = self.run.step_log(ROLLOUTS_FILE) if config.rollout.log else None
        self.strata, self.strata_weights = weighted_strata(self.samples, task, data.balance, data.balance_weights)
        self.validation: ValidationHook | None = None
        self.fp32_engine: GenerationBackend | None = None  # built on first use (`_fp32_engine`)
        if config.validation.every:
            where = (data.dataset, config.run.output_dir, config.rollout.max_new_tokens, task)
            validation = Validation.build(config.validation, self.format, *where)
            engine = self._engine if config.validation.dtype == "rollout" else self._fp32_engine
            self.validation = ValidationHook(
                validation, self.run, self.max_steps, engine, self.policy, keep_answers=self._keep_validation_answers
            )
        #: the polarity objective beside the policy loss (`polarity` section), or None
        self.polarity = (
            PolaritySentences.load(config.polarity, self.loaded.tokenizer) if config.polarity.enabled else None
        )
        # The shared-prompt-prefix forward calls the model twice per backward, which DDP/FSDP
        # wrappers do not allow, and it needs the KV cache that gradient checkpointing turns off.
        self.share_prefix = self.world == 1 and not config.model.gradient_checkpointing
        #: where the answer chooses its polarity word, when that token is kept out of the policy term
        self.polarity_word = None
        if not config.algorithm.train_polarity_word:
            self.polarity_word = polarity_position(self.loaded.tokenizer, self.format)
            if self.polarity_word is None:
                raise ValueError(
                    f"algorithm.train_polarity_word=false needs a format that writes its polarity word first and a "
                    f"tokenizer that tells the three words apart at one token; {data.format!r} with this model does "
                    "not (use data.format=c2f, or leave train_polarity_word on)"
                )

    def _keep_validation_answers(self, step: int, answers: dict[str, list[dict[str, Any]]]) -> None:
        """OUTPUT_DIR/validation/step-N/<dataset>: each validation's answers as an evaluate folder, whose
        run.json names the run, the step and the start adapter (the weights themselves are checkpoint-N's
        when a checkpoint falls on the step)."""
        from emoreason.eval.run_identity import adapter_fingerprint, model_identity, run_identity
        from emoreason.eval.runner import write_answers

        assert self.validation is not None
        validation, config = self.validation.validation, self.config
        dtype = self.rollout_weights.dtype if validation.config.dtype == "rollout" else "float32"
        for name, records in answers.items():
            identity = run_identity(
                model=model_identity(config.model.name),
                format_name=self.format.name,
                task=validation.sets[name][1],
                params=validation.params,
                dataset=validation.specs[name],
                split=validation.config.split,
                dtype=dtype,
                score_readout=validation.config.score_readout,
            )
            # the weights that answered are the run's at this step, which neither the model nor an adapter
            # folder names: recorded so that fit-score does not read two steps' answers as one model's
            identity["trained_weights"] = {
                "run": str(Path(config.run.output_dir).resolve()),
                "step": step,
                "start_adapter": adapter_fingerprint(config.model.adapter) if config.model.adapter else None,
            }
            details = {
                "written_by": "in-training validation",
                "run": str(config.run.output_dir),
                "step": step,
                "start_adapter": config.model.adapter,
                "selection": {"sample": validation.config.sample, "seed": validation.config.seed},
            }
            folder = validation.output_dir / "validation" / f"step-{step}" / name.replace(":", "-")
            write_answers(folder, records, identity, details)

    @property
    def step_index(self) -> int:
        return self.run.step

    @property
    def log_history(self) -> list[dict[str, Any]]:
        return self.run.history

    # -- data -----------------------------------------------------------------------------

    def prompts_for_step(self, step: int) -> list[Sample]:
        """This process's prompts for `step`: a deterministic function of the step, so a resumed
        run sees exactly the prompts the uninterrupted one would have."""
        per_step, seed, shuffle = self.config.rollout.prompts_per_step, self.config.run.seed, self.config.data.shuffle
        start = (step * self.world + self.rank) * per_step
        positions = stream_positions(
            start, per_step, len(self.samples), seed, shuffle, self.strata, self.strata_weights
        )
        return [self.samples[i] for i in positions]

    @contextmanager
    def _engine(self) -> Iterator[GenerationBackend]:
        """The rollout engine on the current weights (merged/bf16 as the rollout section says)."""
        self.model.eval()
        with self.rollout_weights():
            yield self.engine

    @contextmanager
    def _fp32_engine(self) -> Iterator[GenerationBackend]:
        """An engine on the fp32 policy with its LoRA deltas merged (restored bit for bit after),
        as `evaluate` decodes the saved adapter; the rollout engine itself when rollouts are fp32."""
        if self.rollout_weights.dtype == "float32":
            with self._engine() as engine:
                yield engine
            return
        self.model.eval()
        if self.fp32_engine is None:
            self.fp32_engine = TransformersEngine(self.loaded, batch_size=self.config.rollout.batch_size)
        with self.rollout_weights.merged() if self.rollout_weights.merged else nullcontext():
            yield self.fp32_engine

    def _seed(self, step: int, stream: Stream) -> int:
        return sampling_seed(self.config.run.seed, step, stream, self.rank)

    # -- 1 + 2: rollouts with hints ----------------------------------------------------------

    def sampling(self, n: int, seed: int) -> SamplingParams:
        chosen = self.config.rollout.model_dump(include={"max_new_tokens", "temperature", "top_p", "top_k"})
        return SamplingParams(n=n, stop_strings=self.format.stop_strings, seed=seed, **chosen)

    def conversation(self, sample: Sample, hint: str | None = None, mode: str = "prompt") -> Conversation:
        options = {"use_audio_in_video": True} if self.config.rollout.use_audio_in_video else None
        cues = sample.cues if self.config.data.cues else None
        return build_conversation(sample, self.format, self.task, hint, mode, cues, options)  # type: ignore[arg-type]

    def _rollouts(
        self, sample: Sample, group: int, conversation: Conversation, outs: list[Completion], hinted: bool
    ) -> list[Rollout]:
        hint_ids = hint_token_ids(self.loaded, conversation.assistant_prefix)
        return make_rollouts(sample, group, conversation, outs, hint_ids, self.format, self.task, hinted)

    def generate_rollouts(self, prompts: list[Sample], step: int) -> tuple[list[list[Rollout]], dict[str, float]]:
        G = self.config.rollout.group_size
        conversations = [self.conversation(s) for s in prompts]
        outs = self.engine.generate(conversations, self.sampling(G, self._seed(step, Stream.ROLLOUTS)))
        groups = [self._rollouts(s, i, c, o, False) for i, (s, c, o) in enumerate(zip(prompts, conversations, outs))]
        golds = [Gold.from_sample(s, self.task) for s in prompts]
        hard = hard_group_indices([[r.parsed for r in g] for g in groups], golds, self.task)
        stats = {"groups/hard_rate": len(hard) / max(1, len(groups)), "hints/groups": 0.0, "groups/dropped": 0.0}
        stats.update(sampled_mix(groups, golds, self.task))  # the policy's own answers, before hints or drops
        stats.update(hard_groups_by_gold(hard, golds, self.task))
        if not hard:
            return groups, stats
        if self.config.hints.drop_hard:
            stats["groups/dropped"] = float(len(hard))
            return [g for i, g in enumerate(groups) if i not in set(hard)], stats
        if not self.config.hints.enabled:
            return groups, stats
        # a gold whose polarity is unknown (a label with no valence) has no hint to give: its group stays as sampled
        hints = {i: hint_for(golds[i], self.task) for i in hard}
        unhintable = sorted({gold_answer(golds[i], self.task) or "?" for i in hard if hints[i] is None})
        if unhintable and not self._warned_unhintable:
            log.warning(
                "hard groups of gold %s get no hint: their polarity is unknown (a label task's labels need a "
                "polarity to hint it; ?polarity=... gives them one); they stay as sampled",
                ", ".join(unhintable),
            )
            self._warned_unhintable = True
        hard = [i for i in hard if hints[i] is not None]
        if not hard:
            return groups, stats
        mode = effective_mode(self.config.hints.mode, self.format)
        rows = hinted_rows(G, self.config.hints.fraction)
        n_hinted = sum(rows)
        hinted_convs = [self.conversation(prompts[i], hints[i], mode) for i in hard]
        hinted = self.engine.generate(hinted_convs, self.sampling(n_hinted, self._seed(step, Stream.HINTED)))
        plain = [[] for _ in hard]  # the unhinted rest of each hard group, when fraction < 1
        if n_hinted < G:
            rest = self.sampling(G - n_hinted, self._seed(step, Stream.UNHINTED_REST))
            plain = self.engine.generate([conversations[i] for i in hard], rest)
        for slot, i in enumerate(hard):
            with_hint = self._rollouts(prompts[i], i, hinted_convs[slot], hinted[slot], True)
            groups[i] = with_hint + self._rollouts(prompts[i], i, conversations[i], plain[slot], False)
        stats["hints/groups"] = float(len(hard))
        return groups, stats

    # -- 3 + 4: reflection and rewards --------------------------------------------------------

    def reflect(self, rollouts: list[Rollout], step: int) -> None:
        items, seed = [(r.parsed, r.text, r.sample) for r in rollouts], self._seed(step, Stream.REFLECTION)
        answers = reflect(self.engine, items, self.task, self.format.name, self.config.reflection, seed=seed)
        for rollout, answer in zip(rollouts, answers):
            rollout.reflection = answer

    def score(self, rollouts: list[Rollout]) -> torch.Tensor:
        # the composite reward scores the rollout's own parse, which holds an answer cut at the token limit to
        # its closing tags: parsed again from the text, `<score>1.` of a 1.9 in the making earned a finished 1.0
        scored = getattr(self.reward, "score_parsed", None)
        for r in rollouts:
            gold = Gold.from_sample(r.sample, self.task, with_cues=self.config.data.cues)
            if scored is not None and r.parsed is not None:
                r.reward = scored(r.parsed, gold, self.task, r.reflection)
            else:  # a reward of one's own reads the text
                r.reward = self.reward(r.text, gold, self.task, r.reflection)
        return torch.tensor([r.reward.total for r in rollouts], dtype=torch.float32)

    # -- 5: the update ----------------------------------------------------------------------

    def _mask_layout(self, rollouts: list[Rollout]) -> tuple[list[int], list[int]]:
        """Each row's untrained hint tokens and the trained tokens after them (`hint_token_mask`):
        the hint is trained on as part of the completion under `hints.train_on_hint`."""
        hints, completions = [len(r.hint_ids) for r in rollouts], [r.completion.num_tokens for r in rollouts]
        if self.config.hints.train_on_hint:
            return [0] * len(rollouts), [h + n for h, n in zip(hints, completions)]
        return hints, completions

    def _encode(self, rollouts: list[Rollout]) -> tuple[EncodedBatch, torch.Tensor, torch.Tensor | None]:
        """Model inputs of a minibatch, its loss mask (padding 0, and hint tokens unless
        `hints.train_on_hint`) and, without `algorithm.train_polarity_word`, the policy term's mask
        (the loss mask less each row's polarity-word token). Built once per step and reused by the
        old-policy, reference and update passes (media load once)."""
        prompts, continuations = [r.conversation for r in rollouts], [r.continuation for r in rollouts]
        batch = encode_with_continuations(self.loaded, prompts, continuations, share_prefix=self.share_prefix)
        hints, trained = self._mask_layout(rollouts)
        mask = hint_token_mask(hints, trained, batch.targets.shape[1]).to(batch.targets.device)
        if self.polarity_word is None:
            return batch, mask, None
        return batch, mask, without_polarity_word(mask, continuations, self.polarity_word)

    def _rows_that_run(self, advantages: torch.Tensor) -> list[bool]:
        """Which rows the update runs. Without a KL term a row whose advantage is exactly 0 adds
        exactly 0 to the loss and to every gradient (`core.grpo_loss`), so its forward and backward
        are skipped (`algorithm.skip_zero_advantage`); under DDP every process must run its backward."""
        algo = self.config.algorithm
        if not algo.skip_zero_advantage or algo.beta > 0 or self.world > 1:
            return [True] * len(advantages)
        return [bool(a != 0) for a in advantages.tolist()]

    @torch.no_grad()
    def _fixed_logprobs(self, batches: list[EncodedBatch], reference: bool) -> list[torch.Tensor]:
        """Old-policy (before any update of this step) or reference-policy log-probs."""
        temperature = self.config.rollout.temperature
        chosen = reference_model(self.policy, self.reference, self.reference_adapter) if reference else None
        with chosen or nullcontext(self.policy) as model, self.update_precision():
            return [continuation_logprobs(model, b, temperature)[0] for b in batches]

    def update(self, rollouts: list[Rollout], advantages: torch.Tensor) -> dict[str, float]:
        optim, algo = self.config.optim, self.config.algorithm
        windows = update_windows(len(rollouts), optim.minibatch_size, optim.gradient_accumulation)
        runs = self._rows_that_run(advantages)
        totals = window_totals(windows, self._mask_layout(rollouts)[1])
        if self.world > 1:  # a window's tokens are every process's (the "dapo" mean is over all of them)
            mine = torch.tensor([t["num_tokens"] for t in totals], device=self.accelerator.device)
            summed = self.accelerator.reduce(mine, reduction="sum").tolist()
            totals = shared_over_processes(totals, summed, self.world)
        minibatches = rows_to_run(windows, runs)
        encoded = [self._encode([rollouts[i] for i in rows]) if rows else None for rows in minibatches]
        ran = [m for m, e in enumerate(encoded) if e is not None]  # minibatches with a row that runs
        batches = [encoded[m][0] for m in ran]
        # Exact old log-probs are needed once the policy moves within the step; before that,
        # logp.detach() is the same number and costs nothing.
        needs_old = algo.num_iterations > 1 or len(windows) > 1
        old = dict(zip(ran, self._fixed_logprobs(batches, reference=False))) if needs_old else {}
        ref = dict(zip(ran, self._fixed_logprobs(batches, reference=True))) if algo.beta > 0 else {}
        loss_settings = {
            **algo.model_dump(include={"beta", "eps_low", "eps_high", "loss_type"}),
            "max_completion_length": self.config.rollout.max_new_tokens,
        }
        running, temperature = RunningMeans(), self.config.rollout.temperature
        running.add("update/skipped_share", 1.0 - sum(runs) / max(1, len(runs)))
        if self.polarity_word is not None:  # how many rows had their polarity word kept out of the policy term
            ran_rows = sum(len(rows) for rows in minibatches)
            held = sum(float((e[1] - e[2]).sum()) for e in encoded if e is not None)
            running.add("update/polarity_word_held_share", held / max(1, ran_rows))
        self.model.train()
        optimizer_steps = algo.num_iterations * len(windows)
        for iteration in range(algo.num_iterations):
            first = 0  # index of the window's first minibatch
            for w, (window, sizes) in enumerate(zip(windows, totals)):
                if self.polarity is not None:
                    # first in the window, so that the window's last minibatch backward is the one that
                    # syncs (or this one, when the window runs nothing); its sentences are a function of
                    # the step and the optimizer step within it, so a resumed run draws the same ones
                    runs_any = any(encoded[first : first + len(window)])
                    index = self.run.step * optimizer_steps + iteration * len(windows) + w
                    running.add("polarity/loss", self._polarity_backward(index, last=not runs_any))
                for position in range(len(window)):
                    m, last = first + position, position == len(window) - 1
                    if encoded[m] is None:  # every row skipped: its share of the loss is exactly 0
                        for name in ("loss", "policy_loss", "kl"):
                            running.add(name, 0.0)
                        continue
                    (batch, mask, policy_mask), old_m, ref_m = encoded[m], old.get(m), ref.get(m)
                    with gradient_sync(self.accelerator, self.model, last), self.update_precision():
                        logp, entropy = continuation_logprobs(self.model, batch, temperature, with_entropy=True)
                        adv = advantages[minibatches[m]].to(logp.device)
                        out = grpo_loss(
                            logp,
                            logp.detach() if old_m is None else old_m,
                            adv,
                            mask,
                            ref_logp=ref_m,
                            policy_mask=policy_mask,
                            **sizes,
                            **loss_settings,
                        )
                        self.accelerator.backward(out.loss)
                    for name, value in out.as_floats().items():
                        running.add(name, value)
                    running.add("entropy", float(masked_mean(entropy, mask).item()))
                first += len(window)
                if not any(encoded[first - len(window) : first]):  # the window ran nothing: step on its zero gradient
                    zero_missing_grads(self.model, self.optimizer)
                grad_norm = optimizer_step(
                    self.accelerator, self.model, self.optimizer, self.scheduler, optim.max_grad_norm
                )
                if grad_norm is not None:
                    running.add("grad_norm", grad_norm)
        stats = running.means()
        for name in ("loss", "policy_loss"):  # per-minibatch parts of one window's loss: report the window total
            if name in stats:
                stats[name] = running.sums[name] / (algo.num_iterations * len(windows))
        return stats

    def _polarity_backward(self, index: int, last: bool) -> float:
        """Backward of `polarity.weight` x the polarity objective on the `index`-th batch of its
        sentences; the objective's value."""
        assert self.polarity is not None
        sentences = self.polarity.batch(index, self.rank, self.world, self.config.run.seed)
        with gradient_sync(self.accelerator, self.model, last), self.update_precision():
            loss = self.polarity.loss(self.model, self.loaded, sentences, self.share_prefix)
            self.accelerator.backward(self.config.polarity.weight * loss)
        return float(loss.item())

    # -- one step, and the run ------------------------------------------------------------

    def step(self) -> dict[str, float]:
        step, G, algo = self.run.step, self.config.rollout.group_size, self.config.algorithm
        timer = StepTimer()
        began = time.perf_counter()
        # the rate this step trains at (its first update's), read before an optimizer step moves the scheduler on
        lr = float(self.scheduler.get_last_lr()[0])
        self.model.eval()
        with self.rollout_weights():
            with timer.measure("generation"):
                groups, stats = self.generate_rollouts(self.prompts_for_step(step), step)
            rollouts = [r for g in groups for r in g]
            if rollouts and self.config.reflection.enabled:
                with timer.measure("reflection"):
                    self.reflect(rollouts, step)
        with timer.measure("reward"):
            rewards = self.score(rollouts) if rollouts else torch.zeros(0)
        given = [parsed_answer(r.parsed, self.task) or "none" for r in rollouts]
        scheduled = self.scheduler.last_epoch + self.updates_per_step
        with timer.measure("update"):
            if rollouts:
                advantages = group_advantages(rewards, G, algo.advantage_scale, algo.advantage_eps)
                answers = [gold_answer(Gold.from_sample(r.sample, self.task), self.task) or "none" for r in rollouts]
                stats.update(
                    {
                        f"advantages/share/{k}": v
                        for k, v in advantage_shares(advantages, answers, answer_names(self.task)).items()
                    }
                )
                if algo.advantage_balance == "gold":
                    advantages = balance_advantages(advantages, answers, algo.advantage_balance_max_weight)
                pulls = advantage_sums(advantages, given, [*answer_names(self.task), "none"])
                stats.update({f"advantages/pull/{k}": v for k, v in pulls.items()})
                if algo.advantage_center == "answer":
                    advantages = center_advantages(advantages, given, keep=("none",))
                elif algo.advantage_center == "answer_and_group":
                    groups_of = [r.group for r in rollouts]
                    centred = center_advantages_in_groups(advantages, given, groups_of, keep=("none",))
                    # what is left is a least-squares residual (~1e-17 where nothing is), so "0" means below 1e-6;
                    # e.g. groups of 2 whose answers differ, alike in every group, are centred to nothing
                    left = float(centred.abs().max()) if centred.numel() else 0.0
                    if bool(advantages.any()) and left < 1e-6 and not self._warned_centring:
                        log.warning(
                            "step %d: centring by answer and by group (algorithm.advantage_center) left every "
                            "advantage at 0, so the update learns nothing from the rewards; use larger groups "
                            "(rollout.group_size) or advantage_center: none",
                            step + 1,
                        )
                        self._warned_centring = True
                    advantages = centred
                stats.update(self.update(rollouts, advantages))
            # dropped groups leave fewer windows (all dropped: none), and the lr schedule would fall behind the step
            while self.scheduler.last_epoch < scheduled:
                self.scheduler.step()
        records = rollout_records(rollouts, advantages.tolist(), self.task) if rollouts and self.rollout_log else []
        mix = [*answer_names(self.task), "none", *(["other"] if self.task.labels else [])]
        stats.update(rollout_stats(groups, rewards, G, given, mix))
        stats.update({f"time/{k}": v for k, v in timer.parts.items()})
        stats["time/step"] = time.perf_counter() - began
        stats["lr"] = lr
        self.run.step += 1
        if self.rollout_log is not None:
            self._log_rollouts(records)
        return self.run.reduce(stats, counts=STEP_COUNTS)

    def _log_rollouts(self, records: list[dict]) -> None:
        """Every process's rollout records into rollouts.jsonl, under the step just taken."""
        if self.world > 1:
            from accelerate.utils import gather_object

            records = gather_object([{**record, "rank": self.rank} for record in records])
        self.run.log_records(self.rollout_log, records)

    def start(self) -> int | None:
        """Resume (when `run.resume` and a checkpoint exists), once; the step resumed at or None."""
        return self.run.start()

    def train(self, max_steps: int | None = None, progress: Callable[[dict], None] | None = None) -> list[dict]:
        """Run until `max_steps` (default: run.max_steps), resuming first when `run.resume` is
        set. Returns the log records of the steps run here; `progress` hears each, and first the
        step-0 validation's record where there is one (best/ may keep that step)."""
        self.start()
        started = self.validation.at_start() if self.validation else None
        if started is not None and progress is not None:
            progress(started)
        records = self.run.run_steps(self.step, max_steps or self.max_steps, progress, after_step=self.validation)
        self.run.end()
        return records


__all__ = ["GRPOTrainer", "Reward", "Rollout"]
