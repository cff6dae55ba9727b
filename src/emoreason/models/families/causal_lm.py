"""`causal_lm`: any chat LLM that transformers loads with AutoModelForCausalLM (text only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing the data formats must not load torch
    import torch

from emoreason.models.families.base import Conversation, ModelFamily


def render_prompts(tokenizer: Any, conversations: list[Conversation]) -> list[str]:
    """Chat-template text of each conversation, ending with the generation prompt and prefix."""
    texts = []
    for conversation in conversations:
        text = tokenizer.apply_chat_template(conversation.messages, tokenize=False, add_generation_prompt=True)
        texts.append(text + conversation.assistant_prefix)
    return texts


class CausalLMFamily(ModelFamily):
    name = "causal_lm"
    modalities = frozenset()

    @classmethod
    def matches(cls, config: Any) -> bool:
        from transformers import MODEL_FOR_CAUSAL_LM_MAPPING

        return type(config) in MODEL_FOR_CAUSAL_LM_MAPPING

    def load(self, path: str | Path, dtype: torch.dtype, device: torch.device | str) -> tuple[torch.nn.Module, Any]:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
        if not getattr(tokenizer, "chat_template", None):  # every prompt is a chat: refused before the weights load
            raise ValueError(
                f"model {path} has no chat template (a base checkpoint, not an instruct one?): use an instruct "
                "model, or add its chat template (chat_template.jinja) to the folder"
            )
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device).eval()
        prepare_tokenizer(tokenizer, model)
        return model, tokenizer

    def tokenizer(self, processor: Any) -> Any:
        return processor

    def encode(self, processor: Any, conversations: list[Conversation]) -> dict[str, torch.Tensor]:
        for conversation in conversations:
            self.check_media(conversation)
        texts = render_prompts(processor, conversations)
        # The chat template already wrote any BOS token; adding special tokens again would double it.
        batch = processor(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}


def prepare_tokenizer(tokenizer: Any, model: Any | None = None) -> None:
    """Left padding (prompts end at the right edge) and a pad token for batching."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model is not None and getattr(model.generation_config, "pad_token_id", None) is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
