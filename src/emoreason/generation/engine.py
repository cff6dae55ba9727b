"""Batched generation with left padding, KV cache, shared-prefix reuse and early stopping.

Backends implement `GenerationBackend`. `TransformersEngine` is the CPU/GPU backend that ships;
a vLLM backend can implement the same `generate` for large GPU runs.

For text models (`causal_lm`) the engine runs its own decoding loop instead of
`model.generate`, because on small models decoding time is mostly per-step overhead:
- prompts that share a prefix (the format's system prompt, usually most of the prompt) are
  run through the model once for that prefix; rows then attend to that one copy of its keys and
  values (`cascade.py`), or, for models cascade attention does not cover, get a copy of it each;
- the rest of the prompts run in groups of similar length, each padded only to its own
  longest (`kv_cache.plan_prefill_groups`), then are stacked for decoding; a prompt sampled
  n times runs once, and its n rows start from copies of its cache;
- only the last position's logits are computed;
- the KV cache gets room for every token still to come after the prompt pass, and each step
  writes its token in place (`kv_cache.PreallocatedLayer`) instead of copying the cache;
- finished rows leave the batch (their cache rows are dropped), so a long straggler does not
  keep the whole batch busy;
- stop strings (a format's closing tag) are checked only when the new token could end one
  (`stopping.StopChecker`).
- a lone row (one request) decodes through a compiled step that reads the weights at
  memory speed (`single_row.py`), where it covers the model.
For every family, fp32 linear layers on CPU run on the kernel this CPU runs fastest at fp32
accuracy (`matmul.py`): MKL's, oneDNN's, or, in the text decoding loop, MKL's on weights packed
for the batch's row count.
Other families (images, audio) use `model.generate`, which knows their position encoding.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import torch
from transformers.cache_utils import Cache, DynamicCache

from emoreason.generation.cascade import cascade_attention_mode, decoding_mask, prompt_pass_mask, supports_cascade
from emoreason.generation.kv_cache import (
    MIN_SHARED_PREFIX,
    cache_of,
    left_padded,
    plain_dynamic,
    plan_prefill_groups,
    preallocate,
    shared_prefix_length,
    stack_caches,
    with_cache,
)
from emoreason.generation.matmul import (
    LINEAR_KERNELS,
    MKL,
    MKL_PACKED,
    ONEDNN_KERNEL,
    OneDnnLinears,
    PackedLinears,
    choose_linear_kernel,
    free_memory_bytes,
)
from emoreason.generation.negations import quote_constraint
from emoreason.generation.params import Completion, SamplingParams
from emoreason.generation.quotes import GroundedQuotes, QuoteLogitsProcessor
from emoreason.generation.sampling import choice_probabilities, choose_tokens
from emoreason.generation.single_row import (
    AUTO_MIN_WEIGHT_BYTES,
    SingleRowDecoder,
    compiled_step_pays,
    layout_supported,
    linear_weight_bytes,
)
from emoreason.generation.stopping import StopChecker
from emoreason.models.families.base import Conversation
from emoreason.models.families.causal_lm import render_prompts
from emoreason.models.loading import LoadedModel


class Prefill(NamedTuple):
    """The prompt pass of a group of rows: last-position logits, KV cache, attention mask."""

    logits: torch.Tensor
    cache: Cache
    mask: torch.Tensor


class GenerationBackend(Protocol):
    def generate(
        self,
        conversations: Sequence[Conversation],
        params: SamplingParams,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[Completion]]:
        """`n` completions per conversation, in input order."""


def eos_ids(loaded: LoadedModel) -> set[int]:
    tokenizer = loaded.tokenizer
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    configured = getattr(loaded.model.generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    return ids


def _quote_rows(tokenizer: Any, conversations: Sequence[Conversation], params: SamplingParams) -> GroundedQuotes:
    """Grounded quoting for every row of a batch (`params.n` per conversation): each row quotes its
    conversation's `evidence`, and the lexicon's rules read its `input_text`."""
    sources = [c.evidence for c in conversations for _ in range(params.n)]
    texts = [c.input_text for c in conversations for _ in range(params.n)]
    return quote_constraint(tokenizer, sources, params.name_negations, texts)


def auto_batch_size(loaded: LoadedModel, tokens_per_row: int) -> int:
    """Rows per forward pass: as many as the KV cache fits in a quarter of free memory, capped
    (32 on CPU, where larger batches stop paying off; 128 on GPU)."""
    config = loaded.model.config
    text_config = getattr(config, "text_config", None) or getattr(config, "get_text_config", lambda: config)()
    layers = getattr(text_config, "num_hidden_layers", 24)
    heads = getattr(text_config, "num_key_value_heads", None) or getattr(text_config, "num_attention_heads", 16)
    head_dim = getattr(text_config, "head_dim", None) or text_config.hidden_size // text_config.num_attention_heads
    bytes_per_token = 2 * layers * heads * head_dim * torch.finfo(loaded.dtype).bits // 8
    if loaded.device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(loaded.device)
        cap = 128
    else:
        free = free_memory_bytes()
        cap = 32
    fits = int(free * 0.25 // max(1, bytes_per_token * tokens_per_row))
    return max(1, min(cap, fits))


class TransformersEngine:
    """Batched generation on a loaded transformers model (see module docstring)."""

    def __init__(
        self,
        loaded: LoadedModel,
        batch_size: int | str = "auto",
        reuse_prefix: bool = True,
        preallocate_cache: bool = True,
        group_prefill: bool = True,
        linear_kernel: str | None = None,
        cascade: bool = True,
        single_row: bool | None = None,
    ):
        """`linear_kernel`: "mkl", "onednn" or "mkl_packed" for the linear layers (`matmul.py`;
        None: `matmul.choose_linear_kernel` measures which pays on this CPU; "mkl_packed" applies
        to the text decoding loop, other families get MKL's). `cascade`: one shared copy of the
        prompts' common prefix in the KV cache where `cascade.supports_cascade`. `single_row`:
        decode a lone row with the compiled step of `single_row.py` (None: where it covers the
        model, the model is large enough to repay the compile and `F.linear` of one row reads the weights
        well below memory speed on this CPU, `single_row.compiled_step_pays`). The other flags turn off an
        optimisation (for benchmarks and tests)."""
        self.loaded = loaded
        self.single_row = single_row
        self._step_pays: bool | None = None  # whether the compiled step pays on this CPU (`compiled_step_pays`)
        self.cascade = cascade
        if linear_kernel is not None and linear_kernel not in LINEAR_KERNELS:
            raise ValueError(f"unknown linear_kernel {linear_kernel!r}; use one of {', '.join(LINEAR_KERNELS)}")
        if linear_kernel in (ONEDNN_KERNEL, MKL_PACKED) and loaded.device.type != "cpu":
            raise ValueError(
                f"linear_kernel {linear_kernel!r} is a CPU kernel and the model is on {loaded.device}; "
                "leave it unset (PyTorch's own products run there)"
            )
        self.linear_kernel = linear_kernel
        self.batch_size = batch_size
        self.reuse_prefix = reuse_prefix
        self.preallocate_cache = preallocate_cache
        self.group_prefill = group_prefill
        self.eos = eos_ids(loaded)

    # -- public ---------------------------------------------------------------------------

    def generate(
        self,
        conversations: Sequence[Conversation],
        params: SamplingParams,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[Completion]]:
        results: list[list[Completion]] = [[] for _ in conversations]
        if not conversations:
            return results
        for conversation in conversations:  # fail before any compute, naming the file
            self.loaded.family.check_media(conversation)
        rows = self._rows_per_batch(conversations, params)
        prompts_per_batch = max(1, rows // params.n)
        generator = None
        if params.seed is not None:
            generator = torch.Generator(device=self.loaded.device).manual_seed(params.seed)
        kernel = self.linear_kernel
        if kernel is None:
            # the packed route exists only in the text decoding loop
            kernels = LINEAR_KERNELS if self.loaded.family.name == "causal_lm" else (MKL, ONEDNN_KERNEL)
            live = min(rows, len(conversations) * params.n)
            kernel = choose_linear_kernel(self.loaded.model, self.loaded.device, self.loaded.dtype, live, kernels)
        self._generate_batches(conversations, params, prompts_per_batch, generator, results, progress, kernel)
        return results

    # -- helpers --------------------------------------------------------------------------

    def _generate_batches(
        self,
        conversations: Sequence[Conversation],
        params: SamplingParams,
        prompts_per_batch: int,
        generator: torch.Generator | None,
        results: list[list[Completion]],
        progress: Callable[[int], None] | None,
        kernel: str,
    ) -> None:
        for start in range(0, len(conversations), prompts_per_batch):
            chunk = list(conversations[start : start + prompts_per_batch])
            if self.loaded.family.name == "causal_lm":
                outs = self._decode_text(chunk, params, generator, kernel)
            else:
                with OneDnnLinears(self.loaded.model) if kernel == ONEDNN_KERNEL else contextlib.nullcontext():
                    outs = self._decode_with_hf(chunk, params, generator)
            for offset, completions in enumerate(outs):
                for completion in completions:
                    completion.prompt_index = start + offset
                results[start + offset] = completions
            if progress is not None:
                progress(len(chunk))

    def _rows_per_batch(self, conversations: Sequence[Conversation], params: SamplingParams) -> int:
        if self.batch_size != "auto":
            return max(1, int(self.batch_size))
        sample = (
            render_prompts(self.loaded.tokenizer, [conversations[0]])
            if self.loaded.family.name == "causal_lm"
            else None
        )
        prompt_tokens = len(self.loaded.tokenizer(sample[0])["input_ids"]) if sample else 1024
        return auto_batch_size(self.loaded, prompt_tokens + params.max_new_tokens)

    def _finish(
        self,
        token_ids: list[int],
        logprobs: list[float],
        reason: str,
        stop: StopChecker,
        prompt_tokens: int,
        choice_probs: dict[int, float] | None = None,
    ) -> Completion:
        tokenizer = self.loaded.tokenizer
        text = tokenizer.decode(token_ids, skip_special_tokens=True)
        if reason == "stop":
            text = stop.cut(text)
        return Completion(
            text=text,
            token_ids=token_ids,
            logprobs=logprobs,
            finish_reason=reason,
            prompt_tokens=prompt_tokens,
            choice_probs=choice_probs,
        )

    def _prefill(
        self,
        suffixes: list[list[int]],
        prefix_cache: Cache | None,
        prefix_len: int,
        shared_prefix: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> Prefill:
        """The prompt pass of rows whose first `prefix_len` tokens were already run: the suffixes,
        left-padded to the longest. The prefix's keys/values come either as `prefix_cache`
        (copied to every row) or as `shared_prefix` (cascade attention; the rows' caches and masks
        then cover only their own tokens)."""
        model, device = self.loaded.model, self.loaded.device
        tokenizer = self.loaded.tokenizer
        batch = len(suffixes)
        input_ids, suffix_mask = left_padded(
            suffixes, tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        )
        input_ids, suffix_mask = input_ids.to(device), suffix_mask.to(device)
        positions = (prefix_len + suffix_mask.cumsum(dim=1) - 1).clamp(min=0)
        if shared_prefix is not None:
            out = model(
                input_ids=input_ids,
                attention_mask=prompt_pass_mask(suffix_mask, self.loaded.dtype),
                position_ids=positions,
                **with_cache(DynamicCache()),
                use_cache=True,
                logits_to_keep=1,
                shared_prefix=shared_prefix,
            )
            return Prefill(out.logits[:, -1, :], cache_of(out), suffix_mask)
        cache = None
        if prefix_cache is not None:
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(batch)
        mask = torch.cat([torch.ones((batch, prefix_len), dtype=torch.long, device=device), suffix_mask], dim=1)
        out = model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            **with_cache(cache),
            use_cache=True,
            logits_to_keep=1,
        )
        return Prefill(out.logits[:, -1, :], cache_of(out), mask)

    @torch.inference_mode()
    def _decode_text(
        self,
        conversations: list[Conversation],
        params: SamplingParams,
        generator: torch.Generator | None,
        kernel: str = MKL,
    ) -> list[list[Completion]]:
        model, tokenizer, device = self.loaded.model, self.loaded.tokenizer, self.loaded.device
        onednn = kernel == ONEDNN_KERNEL
        texts = render_prompts(tokenizer, conversations)
        prompt_ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        rows = [ids for ids in prompt_ids for _ in range(params.n)]
        # a single row has nothing to share its prompt with: one pass is cheaper than two
        prefix_len = shared_prefix_length(prompt_ids) if self.reuse_prefix and len(rows) > 1 else 0
        if prefix_len < MIN_SHARED_PREFIX:
            prefix_len = 0
        suffixes = [ids[prefix_len:] for ids in rows]
        prefix_cache, shared_prefix = None, None
        if prefix_len:
            prefix = torch.tensor([rows[0][:prefix_len]], device=device)
            with OneDnnLinears(model) if onednn else contextlib.nullcontext():
                prefix_cache = cache_of(model(input_ids=prefix, use_cache=True, logits_to_keep=1))
            if self.cascade and plain_dynamic(prefix_cache) and supports_cascade(model, device):
                shared_prefix = [(layer.keys, layer.values) for layer in prefix_cache.layers]
                prefix_cache = None
        with contextlib.ExitStack() as stack:
            if shared_prefix is not None:
                stack.enter_context(cascade_attention_mode(model))
            if onednn:  # cascade attention runs its kernels on PyTorch's defaults: no per-layer hooks needed
                stack.enter_context(OneDnnLinears(model, everywhere=shared_prefix is not None))
            packed = stack.enter_context(PackedLinears(model, len(rows))) if kernel == MKL_PACKED else None
            quotes = None
            if params.ground_quotes:
                quotes = _quote_rows(tokenizer, conversations, params)
            return self._decode_rows(
                rows,
                suffixes,
                prefix_cache,
                prefix_len,
                shared_prefix,
                params,
                generator,
                len(conversations),
                quotes,
                packed,
            )

    def _decode_rows(
        self,
        rows: list[list[int]],
        suffixes: list[list[int]],
        prefix_cache: Cache | None,
        prefix_len: int,
        shared_prefix: list[tuple[torch.Tensor, torch.Tensor]] | None,
        params: SamplingParams,
        generator: torch.Generator | None,
        prompts: int,
        quotes: GroundedQuotes | None = None,
        packed: PackedLinears | None = None,
    ) -> list[list[Completion]]:
        """The prompt pass of the rows' suffixes and the decoding loop (see `_decode_text`);
        `quotes` masks what an open quote may continue with (`generation.quotes`); `packed` is
        told when rows leave the batch."""
        model, tokenizer, device = self.loaded.model, self.loaded.tokenizer, self.loaded.device
        batch, copies = len(rows), params.n
        # the prompt pass runs once per prompt; its n rows then share its result (a copy each of
        # its cache, logits and mask): rows i*n .. i*n+n-1 are prompt i's
        prompt_suffixes = suffixes[::copies]
        groups = [list(range(len(prompt_suffixes)))]
        if self.group_prefill and plain_dynamic(prefix_cache):
            groups = plan_prefill_groups([len(s) for s in prompt_suffixes])
        parts = [
            self._prefill([prompt_suffixes[i] for i in group], prefix_cache, prefix_len, shared_prefix)
            for group in groups
        ]
        if copies > 1:
            parts = [_repeat_rows(part, copies) for part in parts]
        width = max(part.mask.shape[1] for part in parts)
        room = params.max_new_tokens if self.preallocate_cache else None
        if len(parts) > 1:
            cache = stack_caches([part.cache for part in parts], room)
        else:
            cache = parts[0].cache
            if room is not None:
                preallocate(cache, room)
        # the groups' masks, padded at the end like their caches (see kv_cache.stack_caches)
        attention = torch.cat([torch.nn.functional.pad(part.mask, (0, width - part.mask.shape[1])) for part in parts])
        logits = torch.cat([part.logits for part in parts])
        # row index in the original batch of each live cache row
        active = [prompt * copies + copy for group in groups for prompt in group for copy in range(copies)]
        next_position = torch.tensor([[len(rows[row])] for row in active], device=device)

        single = self._single_row_decoder() if batch == 1 and shared_prefix is None else None
        stop = StopChecker(tokenizer, params.stop_strings)
        generated: list[list[int]] = [[] for _ in range(batch)]
        logprobs: list[list[float]] = [[] for _ in range(batch)]
        finished: list[Completion | None] = [None] * batch
        choices = set(params.choice_tokens)
        chose: list[dict[int, float] | None] = [None] * batch
        for step in range(params.max_new_tokens):
            if quotes is not None:
                logits = quotes.mask(logits, active)
            tokens, token_logprobs = choose_tokens(logits, params.temperature, params.top_k, params.top_p, generator)
            token_list, logprob_list = tokens.tolist(), token_logprobs.tolist()
            if choices:
                slots = [i for i, row in enumerate(active) if chose[row] is None and token_list[i] in choices]
                if slots:
                    rows_probs = choice_probabilities(logits[slots], params.choice_tokens)
                    for slot, probs in zip(slots, rows_probs, strict=True):
                        chose[active[slot]] = probs
            keep: list[int] = []
            for slot, row in enumerate(active):
                if quotes is not None:
                    quotes.advance(row, token_list[slot])
                generated[row].append(token_list[slot])
                logprobs[row].append(logprob_list[slot])
                reason = None
                if token_list[slot] in self.eos:
                    reason = "eos"
                elif stop.stopped(generated[row]):
                    reason = "stop"
                elif step == params.max_new_tokens - 1:
                    reason = "length"
                if reason is None:
                    keep.append(slot)
                else:
                    finished[row] = self._finish(
                        generated[row], logprobs[row], reason, stop, len(rows[row]), chose[row]
                    )
            if not keep:
                break
            if len(keep) < len(active):
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                attention, next_position, tokens = attention[index], next_position[index], tokens[index]
                active = [active[slot] for slot in keep]
                if packed is not None:
                    packed.follow(len(active))
            if single is not None:  # one row: the compiled step writes the same cache in place
                logits = single.step(token_list[0], int(next_position[0, 0]), cache)
                next_position = next_position + 1
                continue
            attention = torch.cat([attention, torch.ones((len(active), 1), dtype=torch.long, device=device)], dim=1)
            if shared_prefix is None:
                out = model(
                    input_ids=tokens[:, None],
                    attention_mask=attention,
                    position_ids=next_position,
                    **with_cache(cache),
                    use_cache=True,
                )
            else:
                out = model(
                    input_ids=tokens[:, None],
                    attention_mask=decoding_mask(attention, self.loaded.dtype),
                    position_ids=next_position,
                    **with_cache(cache),
                    use_cache=True,
                    shared_prefix=shared_prefix,
                )
            cache = cache_of(out)
            next_position = next_position + 1
            logits = out.logits[:, -1, :]
        completions = [c for c in finished if c is not None]
        assert len(completions) == batch
        return [completions[i * params.n : (i + 1) * params.n] for i in range(prompts)]

    def _single_row_decoder(self) -> SingleRowDecoder | None:
        """The compiled one-row step for this model, or None (see `single_row.py`). Built per call:
        it only gathers references to the weights, so a model changed in place stays current."""
        model = self.loaded.model
        if self.single_row is False or (self.single_row is None and linear_weight_bytes(model) < AUTO_MIN_WEIGHT_BYTES):
            return None
        if self.single_row is None:
            if self._step_pays is None:  # decided once per engine, measured on the model's own weights
                self._step_pays = (
                    self.loaded.device.type == "cpu" and layout_supported(model) and compiled_step_pays(model)
                )
            if not self._step_pays:
                return None
        return SingleRowDecoder.build(model)

    @torch.inference_mode()
    def _decode_with_hf(
        self, conversations: list[Conversation], params: SamplingParams, generator: torch.Generator | None
    ) -> list[list[Completion]]:
        """Multimodal families: `model.generate`, then the same post-processing."""
        model, tokenizer = self.loaded.model, self.loaded.tokenizer
        if params.seed is not None:
            torch.manual_seed(params.seed)  # generate() samples from the global generator
        inputs = self.loaded.family.encode(self.loaded.processor, conversations)
        inputs = {k: v.to(self.loaded.device) if torch.is_tensor(v) else v for k, v in inputs.items()}
        prompt_width = inputs["input_ids"].shape[1]
        kwargs: dict[str, Any] = dict(
            max_new_tokens=params.max_new_tokens,
            num_return_sequences=params.n,
            return_dict_in_generate=True,
            output_logits=True,
            pad_token_id=tokenizer.pad_token_id,
        )
        if params.greedy and params.n > 1:
            # generate() refuses several greedy sequences; top-1 sampling is the same choice
            kwargs.update(do_sample=True, temperature=1.0, top_p=None, top_k=1)
        elif params.greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(
                do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=params.top_k or None
            )
        if params.stop_strings:
            kwargs.update(stop_strings=list(params.stop_strings), tokenizer=tokenizer)
        if params.ground_quotes:
            quotes = _quote_rows(tokenizer, conversations, params)
            kwargs["logits_processor"] = [QuoteLogitsProcessor(quotes, prompt_width)]
        out = model.generate(**inputs, **kwargs)
        sequences = out.sequences[:, prompt_width:]
        step_logits = torch.stack(out.logits, dim=1).float()  # [B, T, V]
        if not params.greedy:
            step_logits = step_logits / params.temperature
        chosen = (
            torch.log_softmax(step_logits, dim=-1).gather(-1, sequences[:, : step_logits.shape[1], None]).squeeze(-1)
        )
        stop = StopChecker(tokenizer, params.stop_strings)
        pad = tokenizer.pad_token_id
        choices = set(params.choice_tokens)
        completions = []
        prompt_lengths = inputs["attention_mask"].sum(dim=1).repeat_interleave(params.n).tolist()
        for row in range(sequences.shape[0]):
            ids: list[int] = []
            reason = "length"
            for position, token in enumerate(sequences[row].tolist()):
                ids.append(token)
                if token in self.eos:
                    reason = "eos"
                    break
                if stop.stopped(ids):
                    reason = "stop"
                    break
            if reason == "length" and pad is not None and pad not in self.eos:
                while ids and ids[-1] == pad:
                    ids.pop()
            lp = chosen[row, : len(ids)].tolist()
            at = next((i for i, token in enumerate(ids) if token in choices and i < len(out.logits)), None)
            probs = None if at is None else choice_probabilities(out.logits[at][row : row + 1], params.choice_tokens)[0]
            completions.append(self._finish(ids, lp, reason, stop, int(prompt_lengths[row]), probs))
        return [completions[i * params.n : (i + 1) * params.n] for i in range(len(conversations))]


def _repeat_rows(part: Prefill, copies: int) -> Prefill:
    """Each row of a prompt pass `copies` times in a row (the n samples of one prompt)."""
    part.cache.batch_repeat_interleave(copies)
    return Prefill(part.logits.repeat_interleave(copies, dim=0), part.cache, part.mask.repeat_interleave(copies, dim=0))


__all__ = ["GenerationBackend", "TransformersEngine", "auto_batch_size"]
