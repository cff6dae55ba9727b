"""Supervised fine-tuning on teacher chains (cold start), on the GRPO trainer's machinery.

Why not TRL's `SFTTrainer`: the product already has the machinery (`emoreason.train`) that
loads all three model families, encodes their media through the family's processor, trains
LoRA or full weights, checkpoints and resumes exactly, and runs the rows' shared system prompt
once (`encode_with_continuations`). SFT is that machinery with the loss swapped for the
negative log-likelihood of the assistant turn, so both stages save, resume and load the same
way and an SFT adapter is what `grpo model.adapter=...` and `--adapter` take.

Loss: the mean over the assistant tokens of the accumulation window (prompt tokens are
context only, never targets). The end-of-turn token is a target too, so the model learns to stop.
With `polarity.weight` > 0 a second term is added: the cross-entropy of the polarity word's
distribution where the answer starts against a target read off each sentence's gold score, on a
batch of scored sentences a step (`emoreason.train.polarity`).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emoreason.data.jsonl import iter_jsonl_lines
from emoreason.data.schema import Polarity, Sample, normalize_label
from emoreason.formats import get_format
from emoreason.formats.readout import polarity_position, polarity_word_index
from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.generation.logprobs import continuation_logprobs, encode_with_continuations
from emoreason.models.loading import LoadedModel
from emoreason.provenance import file_sha256, software_versions
from emoreason.sft.config import SFTConfig
from emoreason.sft.data import SFTExample, load_sft_file, split_eval
from emoreason.train.checkpoint import replace_folder
from emoreason.train.loop import build_accelerator, epoch_position, prepare_training
from emoreason.train.polarity import PolaritySentences
from emoreason.train.policy import load_trainable, prepare_policy
from emoreason.train.update import (
    gradient_sync,
    optimizer_step,
    resolve_precision,
    update_precision,
    without_polarity_word,
)
from emoreason.train.weights import save_weights, trained_for

log = logging.getLogger(__name__)


class SFTTrainer:
    def __init__(
        self,
        config: SFTConfig,
        *,
        train: Sequence[SFTExample] | None = None,
        eval_examples: Sequence[SFTExample] | None = None,
        loaded: LoadedModel | None = None,
        accelerator: Any = None,
    ):
        """`train`/`eval_examples` default to the data section's files, `loaded` to the model section."""
        self.config = config
        run = config.run
        self.accelerator = accelerator or build_accelerator(config.model, run)
        self.rank, self.world = self.accelerator.process_index, self.accelerator.num_processes
        torch.manual_seed(run.seed)
        np.random.seed(run.seed)

        if train is None and config.data.train_file is None:
            train, eval_examples = [], []  # the polarity objective alone (the config checks it is on)
        elif train is None:
            examples = load_sft_file(config.data.train_file)
            if config.data.eval_file:
                train, eval_examples = examples, load_sft_file(config.data.eval_file)
            else:
                train, eval_examples = split_eval(examples, config.data.eval_fraction, run.seed)
        if config.data.limit:
            train = list(train)[: config.data.limit]
        if not train and config.data.train_file is not None:
            raise ValueError(f"no training examples in {config.data.train_file}")

        media = {kind: path for example in train for kind, path in example.conversation.media.items()}
        loaded = loaded or load_trainable(config.model, self.accelerator, media)
        self.tokenizer = loaded.tokenizer
        self.polarity = PolaritySentences.load(config.polarity, self.tokenizer) if config.polarity.enabled else None
        self.train_examples, self.dropped_long = self._fit(train)
        if train and not self.train_examples:
            raise ValueError(
                f"every training example is longer than data.max_target_tokens={config.data.max_target_tokens}"
            )
        self.eval_examples, _ = self._fit(list(eval_examples or []))
        #: without data.train_polarity_word: where the chains' format writes its polarity word, whose
        #: token the chains' loss then leaves to the polarity objective
        self.polarity_word = None if config.data.train_polarity_word else self._polarity_word_position()

        policy = prepare_policy(loaded, config.model)
        t = config.train
        per_step = t.batch_size * t.gradient_accumulation * self.world
        # without chains the config asked for run.max_steps
        self.max_steps = run.max_steps or max(1, math.ceil(run.epochs * len(self.train_examples) / per_step))
        seen = {"examples_seen": per_step}
        ready = prepare_training("sft", config, self.accelerator, loaded, policy, t, self.max_steps, seen, "train")
        self.model, self.policy, self.optimizer, self.scheduler, self.loaded, self.run = ready
        self.share_prefix = self.world == 1 and not config.model.gradient_checkpointing
        #: the update's precision, "auto" resolved for this device (`train.update.resolve_precision`)
        self.precision = resolve_precision(t.precision, self.accelerator.device)
        log.info("update precision: %s (configured: %s)", self.precision, t.precision)
        self.run.note_resolved("train.precision", t.precision, self.precision)
        formats = {example.format for example, _ in self.train_examples}
        tasks = {example.task.name: example.task for example, _ in self.train_examples if example.task is not None}
        if len(formats) == 1 and len(tasks) <= 1:  # chains of one format and task: the adapter answers those
            self.run.adapter_settings = trained_for(formats.pop(), next(iter(tasks.values()), None))

    @property
    def step_index(self) -> int:
        return self.run.step

    @property
    def log_history(self) -> list[dict[str, Any]]:
        return self.run.history

    # -- data -----------------------------------------------------------------------------

    def _target_ids(self, example: SFTExample) -> list[int]:
        ids = list(self.tokenizer(example.target, add_special_tokens=False)["input_ids"])
        if self.tokenizer.eos_token_id is not None:
            ids.append(int(self.tokenizer.eos_token_id))
        return ids

    def _fit(self, examples: Sequence[SFTExample]) -> tuple[list[tuple[SFTExample, list[int]]], int]:
        limit = self.config.data.max_target_tokens
        kept, dropped = [], 0
        for example in examples:
            ids = self._target_ids(example)
            if len(ids) > limit:
                dropped += 1
                continue
            kept.append((example, ids))
        if dropped:
            log.warning(
                "%d example(s) with more than %d target tokens left out (data.max_target_tokens)", dropped, limit
            )
        return kept, dropped

    def _polarity_word_position(self) -> tuple[list[int], dict[Polarity, int]]:
        """(prefix ids, each polarity word's first token) of the chains' one format; an error that
        names the fix when the format has no leading one-token polarity word or a chain lacks it."""
        where = self.config.data.train_file or "the training chains"
        examples = self.train_examples + self.eval_examples
        formats = sorted({e.format or "(none)" for e, _ in examples})
        if len(formats) != 1 or formats[0] == "(none)":
            raise ValueError(
                f"data.train_polarity_word: false needs chains of one format with a `format` field; {where} has "
                f"{', '.join(formats) or 'no chains'}: write them with `emoreason distill` or set it to true"
            )
        position = polarity_position(self.tokenizer, get_format(formats[0]))
        if position is None:
            raise ValueError(
                f"data.train_polarity_word: false needs a format that writes its polarity word first, as one token "
                f"after the same prefix (c2f); {formats[0]} with this tokenizer does not: set it to true"
            )
        missing = [e.id for e, ids in examples if polarity_word_index(ids, position) is None]
        if missing:
            raise ValueError(
                f"data.train_polarity_word: false: {len(missing)} chain(s) of {where} do not start with a polarity "
                f"word after the format's prefix (first: {missing[0]}); mend them or set it to true"
            )
        return position

    def _example_at(self, index: int) -> tuple[SFTExample, list[int]]:
        return self.train_examples[
            epoch_position(index, len(self.train_examples), self.config.run.seed, self.config.data.shuffle)
        ]

    def batches_for_step(self, step: int) -> list[list[tuple[SFTExample, list[int]]]]:
        """This process's micro-batches for `step`: a function of the step alone, so a resumed
        run trains on exactly what the uninterrupted one would have."""
        t = self.config.train
        out: list[list[tuple[SFTExample, list[int]]]] = []
        if not self.train_examples:
            return out  # the polarity objective alone
        for micro in range(t.gradient_accumulation):
            start = ((step * t.gradient_accumulation + micro) * self.world + self.rank) * t.batch_size
            out.append([self._example_at(i) for i in range(start, start + t.batch_size)])
        return out

    # -- loss -----------------------------------------------------------------------------

    def _nll(self, model: torch.nn.Module, batch: list[tuple[SFTExample, list[int]]]) -> tuple[torch.Tensor, int]:
        """Summed negative log-likelihood of the targets, and their token count."""
        encoded = encode_with_continuations(
            self.loaded, [e.conversation for e, _ in batch], [ids for _, ids in batch], share_prefix=self.share_prefix
        )
        with update_precision(self.precision, self.accelerator.device):
            logp, _ = continuation_logprobs(model, encoded)
        mask = encoded.mask.to(logp.dtype)
        if self.polarity_word is not None:
            # the polarity word's token leaves the sum; the count (the loss's normaliser) keeps it
            mask = without_polarity_word(mask, [ids for _, ids in batch], self.polarity_word)
        return -(logp * mask).sum(), int(encoded.mask.sum().item())

    def polarity_loss(self, model: torch.nn.Module, sentences: Sequence[Sample]) -> torch.Tensor:
        """The polarity objective's mean cross-entropy on `sentences` (`emoreason.train.polarity`)."""
        assert self.polarity is not None
        with update_precision(self.precision, self.accelerator.device):
            return self.polarity.loss(model, self.loaded, sentences, self.share_prefix)

    def step(self) -> dict[str, float]:
        began = time.perf_counter()
        # the rate this step trains at, read before its optimizer step moves the scheduler on
        lr = float(self.scheduler.get_last_lr()[0])
        self.model.train()
        micro_batches = self.batches_for_step(self.step_index)
        own_tokens = sum(len(ids) for mb in micro_batches for _, ids in mb)
        # the loss is the mean over every process's target tokens of the window: each process divides its
        # sum by the window's total count, times the process count that DDP's gradient average divides by
        # (divided by its own count, a process of short chains weighed each of its tokens more)
        window_tokens = own_tokens
        if self.world > 1 and micro_batches:
            counted = torch.tensor(float(own_tokens), device=self.accelerator.device)
            window_tokens = float(self.accelerator.reduce(counted, reduction="sum").item())
        loss_sum = 0.0
        polarity_stats: dict[str, float] = {}
        if self.polarity is not None:
            # before the chains, so that the last micro-batch's backward is the one that syncs
            with gradient_sync(self.accelerator, self.model, last=not micro_batches):
                sentences = self.polarity.batch(self.step_index, self.rank, self.world, self.config.run.seed)
                polarity = self.polarity_loss(self.model, sentences)
                self.accelerator.backward(self.config.polarity.weight * polarity)
            polarity_stats["polarity/loss"] = float(polarity.item())
        for position, batch in enumerate(micro_batches):
            with gradient_sync(self.accelerator, self.model, last=position == len(micro_batches) - 1):
                nll, _ = self._nll(self.model, batch)
                self.accelerator.backward(nll * self.world / window_tokens)
            loss_sum += float(nll.item()) / window_tokens  # this process's share of the window's mean
        stats: dict[str, float] = {"tokens": float(own_tokens), **polarity_stats}
        if micro_batches:
            stats["loss"] = loss_sum
        grad_norm = optimizer_step(
            self.accelerator, self.model, self.optimizer, self.scheduler, self.config.train.max_grad_norm
        )
        if grad_norm is not None:
            stats["grad_norm"] = grad_norm
        stats["lr"] = lr
        stats["time/step"] = time.perf_counter() - began
        self.run.step += 1
        # the processes' shares of the loss and their token counts add up to the window's
        return self.run.reduce(stats, counts=("loss", "tokens"))

    # -- evaluation -----------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Held-out loss (token mean) and, on a few held-out prompts answered greedily, the
        parse rate and polarity accuracy (plus MAE for score tasks)."""
        cfg = self.config.eval
        stats: dict[str, float] = {}
        if not self.eval_examples or not self.accelerator.is_main_process:
            return stats
        self.model.eval()
        loss_set = self.eval_examples[: cfg.loss_examples]
        if loss_set:
            nll_total, tokens = 0.0, 0
            for start in range(0, len(loss_set), cfg.batch_size):
                nll, n = self._nll(self.policy, loss_set[start : start + cfg.batch_size])
                nll_total, tokens = nll_total + float(nll), tokens + n
            stats["eval/loss"] = nll_total / max(tokens, 1)
        stats.update(
            generation_eval(
                self.loaded,
                [e for e, _ in self.eval_examples[: cfg.generate_examples]],
                cfg.max_new_tokens,
                cfg.batch_size,
            )
        )
        self.model.train()
        return stats

    # -- the run --------------------------------------------------------------------------

    def final_dir(self) -> Path:
        return self.run.output_dir / "final"

    def start(self) -> int | None:
        """Resume (when `run.resume` and a checkpoint exists), once; the step resumed at or None."""
        return self.run.start()

    def train(self, progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Run to max_steps (resuming first when run.resume), evaluate every eval.every steps and
        at the end, and write final/ (adapter/ or model/, loadable with --adapter / as a model)."""
        every = self.config.eval.every
        self.start()
        if self.run.step == 0 and self.eval_examples:
            self.run.log(self.evaluate())  # step 0: the starting point, for the before/after comparison

        def evaluate_now(stats: dict[str, float]) -> None:
            if self.run.step == self.max_steps or (every and self.run.step % every == 0):
                stats.update(self.evaluate())

        records = self.run.run_steps(self.step, self.max_steps, progress, after_step=evaluate_now)
        # a rerun of a finished run trains nothing: its final/ stays as it was, since whatever read it (a GRPO run
        # from it, an evaluate of it) compares its bytes, and a rewrite is new bytes for the same weights
        if self.run.is_main and (records or not self.final_dir().is_dir()):
            self._write_final()
        self.run.end()
        return records

    def _last_eval(self) -> dict[str, Any] | None:
        """The last held-out evaluation's record: this process's history, else (a resumed run that evaluated
        before its checkpoint and not since) metrics.jsonl, which keeps the steps before the checkpoint."""
        evaluated = lambda record: "eval/loss" in record or "eval/parse_rate" in record  # noqa: E731
        found = next((r for r in reversed(self.log_history) if evaluated(r)), None)
        if found is None and self.run.metrics_file.is_file():
            logged = [line.record for line in iter_jsonl_lines(self.run.metrics_file) if line.record is not None]
            found = next((r for r in reversed(logged) if evaluated(r)), None)
        return found

    def _write_final(self) -> None:
        """final/: the trained weights and where they came from, renamed into place whole."""
        final = self.final_dir()
        tmp = final.with_name("final.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        save_weights(self.policy, tmp, self.loaded.processor, self.run.adapter_settings)
        last_eval = self._last_eval()
        train_file = self.config.data.train_file
        (tmp / "provenance.json").write_text(
            json.dumps(
                {
                    "steps": self.run.step,
                    "train_file": train_file,
                    # the bytes trained on, where the examples came from a file (a caller may pass them in)
                    "train_file_sha256": file_sha256(train_file) if Path(train_file or "").is_file() else None,
                    "versions": software_versions(),
                    "train_examples": len(self.train_examples),
                    "dropped_long": self.dropped_long,
                    "last_eval": last_eval,
                },
                indent=2,
            )
            + "\n"
        )
        replace_folder(tmp, final)


def generation_eval(
    loaded: LoadedModel, examples: Sequence[SFTExample], max_new_tokens: int = 192, batch_size: int = 8
) -> dict[str, float]:
    """Greedy answers to the examples' prompts, parsed by their format: parse rate, polarity
    accuracy against the gold polarity, label accuracy where there are gold labels (an emotion task's
    figure; its labels may have no polarity), and score MAE where there are gold scores."""
    usable = [e for e in examples if e.format]
    if not usable:
        return {}
    engine = TransformersEngine(loaded, batch_size=batch_size)
    parsed_ok, correct, judged, errors = 0, 0, 0, []
    labels_right, labelled = 0, 0
    for start in range(0, len(usable), batch_size):
        chunk = usable[start : start + batch_size]
        fmt = get_format(chunk[0].format or "c2f")
        params = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0, stop_strings=fmt.stop_strings)
        outputs = engine.generate([e.conversation for e in chunk], params)
        for example, out in zip(chunk, outputs):
            cut = out[0].finish_reason == "length"
            result = get_format(example.format or "c2f").parse(out[0].text, example.task, cut=cut)
            parsed_ok += result.ok
            gold_polarity = example.gold.get("polarity")
            if gold_polarity:
                judged += 1
                correct += result.polarity == gold_polarity
            gold_label = example.gold.get("label")
            if gold_label:
                labelled += 1
                labels_right += result.label is not None and normalize_label(result.label) == normalize_label(
                    gold_label
                )
            if result.score is not None and example.gold.get("score") is not None:
                errors.append(abs(result.score - float(example.gold["score"])))
    stats = {"eval/parse_rate": parsed_ok / len(usable)}
    if judged:
        stats["eval/polarity_accuracy"] = correct / judged
    if labelled:
        stats["eval/label_accuracy"] = labels_right / labelled
    if errors:
        stats["eval/score_mae_parsed"] = float(np.mean(errors))
    return stats


__all__ = ["SFTTrainer", "generation_eval"]
