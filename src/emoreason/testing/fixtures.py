"""Tiny offline models for tests: random weights, a few layers, a byte-level BPE tokenizer
trained in-process, and processors built from local parts. Nothing is downloaded.

Each builder writes a folder that `from_pretrained` (and the matching model family's `load`)
reads offline, and returns its path. Builds are seeded, so two builds give the same weights and
tokenizer; each takes well under ten seconds on two CPU cores. Caching across tests is up to
the caller (a session-scoped pytest fixture).

The models are untrained: they exercise shapes, padding, position ids and the processors'
token bookkeeping, not the quality of what they write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------

PAD_TOKEN = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

#: Reasoning-format tags, added as whole (non-special) tokens so they survive decoding with
#: `skip_special_tokens=True`, as tags do in real chat tokenizers.
TAG_TOKENS = [
    "<polarity>",
    "</polarity>",
    "<think>",
    "</think>",
    "<score>",
    "</score>",
    "<answer>",
    "</answer>",
    "<step1>",
    "</step1>",
    "<step2>",
    "</step2>",
    "<step3>",
    "</step3>",
    "\\boxed{",
]

VL_SPECIAL_TOKENS = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]

#: Named multimodal tokens of the Qwen2.5-Omni tokenizer (`tokenizer.image_token` etc.), which
#: `Qwen2_5OmniProcessor` reads.
OMNI_NAMED_TOKENS = {
    "audio_token": "<|AUDIO|>",
    "audio_bos_token": "<|audio_bos|>",
    "audio_eos_token": "<|audio_eos|>",
    "image_token": "<|IMAGE|>",
    "video_token": "<|VIDEO|>",
    "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
}

_CORPUS = [
    "The movie was wonderful, I loved every minute of it.",
    "This is the worst service I have ever had; never again!",
    "It was fine. Nothing special, nothing terrible.",
    "<think>The speaker smiles and the voice is warm, so the feeling is positive.</think>",
    "<polarity>positive</polarity> <polarity>negative</polarity> <polarity>neutral</polarity>",
    "<score>1.5</score> <score>-2.0</score> <score>0</score> <score>-0.25</score>",
    (
        "<step1>a person frowns in a dark room</step1><step2>they feel sad</step2>"
        "<step3>negative, low arousal</step3> \\boxed{sad} \\boxed{happy} \\boxed{angry}"
    ),
    "<answer>positive</answer> happy sad angry fear disgust surprise neutral contempt",
    "You are a helpful assistant. Explain the sentiment of the text, then give a score.",
    "Ce film était très bien. Das war schlecht. 这部电影很好。 😀 🙁",
    "0123456789 + - * / = ( ) [ ] { } < > . , ; : ! ? ' \" _ # @ & % $ ^ ~ | \\",
    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
]

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# The Qwen2.5-VL chat template (as shipped with the Qwen checkpoints).
QWEN2_5_VL_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# The Qwen2.5-Omni chat template (as shipped with the Qwen checkpoints).
QWEN2_5_OMNI_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}{% set image_count = namespace(value=0) %}"
    "{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_bos|><|IMAGE|><|vision_eos|>"
    "{% elif content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}"
    "{% set audio_count.value = audio_count.value + 1 %}"
    "{% if add_audio_id %}Audio {{ audio_count.value }}: {% endif %}"
    "<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_bos|><|VIDEO|><|vision_eos|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_tokenizer(
    extra_special: list[str] | tuple[str, ...] = (),
    named_special: dict[str, str] | None = None,
    chat_template: str = CHATML_TEMPLATE,
    vocab_size: int = 400,
) -> Any:
    """A byte-level BPE `PreTrainedTokenizerFast` trained on a small in-code corpus.

    Byte level: any text, unicode included, encodes and decodes back exactly. Special tokens
    take the first ids (pad 0, `<|im_start|>` 1, `<|im_end|>` 2 = eos, then `extra_special` and
    the values of `named_special`); the reasoning tags are added as whole tokens at the end.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    named_special = dict(named_special or {})
    specials = [PAD_TOKEN, IM_START, IM_END]
    for token in [*extra_special, *named_special.values()]:
        if token not in specials:
            specials.append(token)

    tokenizer = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tokenizer.add_tokens([AddedToken(tag, special=False, normalized=False) for tag in TAG_TOKENS])

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=IM_END,
        pad_token=PAD_TOKEN,
        bos_token=None,
        unk_token=None,
        extra_special_tokens=named_special if named_special else list(extra_special) or None,
        chat_template=chat_template,
        padding_side="left",
        model_max_length=32768,
        clean_up_tokenization_spaces=False,
    )


def _vocab_size(tokenizer: Any) -> int:
    # room for a few more tokens, rounded up like real checkpoints pad their embedding tables
    return ((len(tokenizer) + 63) // 64) * 64


def _build(model_class: Any, config: Any, seed: int) -> Any:
    """The model with seeded random weights, leaving the caller's random state untouched."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model_class(config).to(torch.float32).eval()


def _text_kwargs(tokenizer: Any) -> dict[str, Any]:
    return dict(
        vocab_size=_vocab_size(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        rms_norm_eps=1e-6,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.convert_tokens_to_ids(PAD_TOKEN),
        tie_word_embeddings=False,
    )


def _generation_config(tokenizer: Any) -> Any:
    from transformers import GenerationConfig

    return GenerationConfig(
        eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.convert_tokens_to_ids(PAD_TOKEN),
        do_sample=False,
    )


# --------------------------------------------------------------------------------------
# causal_lm
# --------------------------------------------------------------------------------------


def make_tiny_causal_lm(path: str | Path, seed: int = 0) -> Path:
    """A 2-layer Llama (hidden 64, 4 heads, 2 KV heads) with a ChatML tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer()
    config = LlamaConfig(
        **_text_kwargs(tokenizer), head_dim=16, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}
    )
    model = _build(LlamaForCausalLM, config, seed)
    model.generation_config = _generation_config(tokenizer)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


# --------------------------------------------------------------------------------------
# Vision parts shared by Qwen2.5-VL and the Omni thinker
# --------------------------------------------------------------------------------------

PATCH_SIZE = 14
MERGE_SIZE = 2
TEMPORAL_PATCH_SIZE = 2
#: 2x2 .. 4x4 merged tokens per image / per frame pair
MIN_PIXELS = (PATCH_SIZE * MERGE_SIZE) ** 2 * 4
MAX_PIXELS = (PATCH_SIZE * MERGE_SIZE) ** 2 * 16

_IMAGE_PROCESSOR_FIELDS = {
    "do_resize": True,
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "do_convert_rgb": True,
    "resample": 3,
    "patch_size": PATCH_SIZE,
    "temporal_patch_size": TEMPORAL_PATCH_SIZE,
    "merge_size": MERGE_SIZE,
    "min_pixels": MIN_PIXELS,
    "max_pixels": MAX_PIXELS,
    "size": {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS},
}


def _vision_kwargs(out_hidden_size: int) -> dict[str, Any]:
    return dict(
        depth=2,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        in_channels=3,
        patch_size=PATCH_SIZE,
        spatial_merge_size=MERGE_SIZE,
        temporal_patch_size=TEMPORAL_PATCH_SIZE,
        window_size=112,
        out_hidden_size=out_hidden_size,
        fullatt_block_indexes=[1],
    )


def _image_processor() -> Any:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    return Qwen2VLImageProcessorPil(**{k: v for k, v in _IMAGE_PROCESSOR_FIELDS.items() if k != "size"})


def _write_processor_files(
    path: Path,
    processor_class: str,
    tokenizer: Any,
    chat_template: str,
    extra_preprocessor: dict[str, Any] | None = None,
) -> None:
    """Write the processor the way Qwen checkpoints ship it: preprocessor_config.json (image
    processor, plus the feature extractor for Omni), video_preprocessor_config.json, the
    tokenizer files and chat_template.jinja.

    Written by hand because `Qwen2VLVideoProcessor` cannot be instantiated without torchvision,
    which has no CPU build here; the files are the same as `processor.save_pretrained` writes.
    """
    image = {
        **_IMAGE_PROCESSOR_FIELDS,
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": processor_class,
    }
    if extra_preprocessor:
        image.update(extra_preprocessor)
    (path / "preprocessor_config.json").write_text(json.dumps(image, indent=2) + "\n")
    video = {k: v for k, v in _IMAGE_PROCESSOR_FIELDS.items()}
    video.update(
        {
            "video_processor_type": "Qwen2VLVideoProcessor",
            "processor_class": processor_class,
            "do_sample_frames": False,
            "min_frames": 4,
            "max_frames": 768,
        }
    )
    (path / "video_preprocessor_config.json").write_text(json.dumps(video, indent=2) + "\n")
    tokenizer.save_pretrained(path)
    (path / "chat_template.jinja").write_text(chat_template)


# --------------------------------------------------------------------------------------
# Qwen2.5-VL
# --------------------------------------------------------------------------------------


def make_tiny_qwen2_5_vl(path: str | Path, seed: int = 0) -> Path:
    """A tiny `Qwen2_5_VLForConditionalGeneration` with its processor files.

    Text: 2 layers, hidden 64, 4 heads of 16 (mrope_section [2, 3, 3] sums to 16 / 2), 2 KV heads.
    Vision: depth 2, hidden 32, 2 heads, patch 14, temporal patch 2, spatial merge 2.
    Images and frames are resized to 4..16 merged tokens (min/max pixels 28*28*4 .. 28*28*16).
    """
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(extra_special=VL_SPECIAL_TOKENS, chat_template=QWEN2_5_VL_TEMPLATE)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in VL_SPECIAL_TOKENS}
    text = _text_kwargs(tokenizer)
    text["rope_parameters"] = {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]}
    vision = _vision_kwargs(out_hidden_size=text["hidden_size"])
    vision["tokens_per_second"] = 2
    config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    model = _build(Qwen2_5_VLForConditionalGeneration, config, seed)
    model.generation_config = _generation_config(tokenizer)
    model.save_pretrained(path)
    _write_processor_files(path, "Qwen2_5_VLProcessor", tokenizer, QWEN2_5_VL_TEMPLATE)
    return path


# --------------------------------------------------------------------------------------
# Qwen2.5-Omni thinker
# --------------------------------------------------------------------------------------

_WHISPER_FIELDS = {
    "feature_extractor_type": "WhisperFeatureExtractor",
    "feature_size": 128,
    "sampling_rate": 16000,
    "hop_length": 160,
    "chunk_length": 30,
    "n_fft": 400,
    "n_samples": 480000,
    "nb_max_frames": 3000,
    "padding_side": "right",
    "padding_value": 0.0,
    "dither": 0.0,
    "return_attention_mask": True,
}


def make_tiny_qwen2_5_omni_thinker(path: str | Path, seed: int = 0) -> Path:
    """A tiny `Qwen2_5OmniThinkerForConditionalGeneration` (text output only) with its processor.

    Text and vision as in `make_tiny_qwen2_5_vl`; audio encoder: 2 layers, d_model 32, 2 heads,
    128 mel bins (what the processor's `WhisperFeatureExtractor` produces), n_window 100.
    """
    from transformers import Qwen2_5OmniThinkerConfig, Qwen2_5OmniThinkerForConditionalGeneration

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(named_special=OMNI_NAMED_TOKENS, chat_template=QWEN2_5_OMNI_TEMPLATE)
    tid = {name: tokenizer.convert_tokens_to_ids(token) for name, token in OMNI_NAMED_TOKENS.items()}
    text = _text_kwargs(tokenizer)
    text["rope_parameters"] = {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]}
    audio = dict(
        num_mel_bins=128,
        encoder_layers=2,
        encoder_attention_heads=2,
        encoder_ffn_dim=64,
        d_model=32,
        max_source_positions=1500,
        n_window=100,
        output_dim=text["hidden_size"],
    )
    config = Qwen2_5OmniThinkerConfig(
        text_config=text,
        vision_config=_vision_kwargs(out_hidden_size=text["hidden_size"]),
        audio_config=audio,
        audio_token_index=tid["audio_token"],
        image_token_index=tid["image_token"],
        video_token_index=tid["video_token"],
        audio_start_token_id=tid["audio_bos_token"],
        audio_end_token_id=tid["audio_eos_token"],
        vision_start_token_id=tid["vision_bos_token"],
        vision_end_token_id=tid["vision_eos_token"],
        position_id_per_seconds=25,
        seconds_per_chunk=2,
        tie_word_embeddings=False,
    )
    model = _build(Qwen2_5OmniThinkerForConditionalGeneration, config, seed)
    model.generation_config = _generation_config(tokenizer)
    model.save_pretrained(path)
    _write_processor_files(
        path, "Qwen2_5OmniProcessor", tokenizer, QWEN2_5_OMNI_TEMPLATE, extra_preprocessor=_WHISPER_FIELDS
    )
    return path


__all__ = [
    "TAG_TOKENS",
    "build_tiny_tokenizer",
    "make_tiny_causal_lm",
    "make_tiny_qwen2_5_omni_thinker",
    "make_tiny_qwen2_5_vl",
]
