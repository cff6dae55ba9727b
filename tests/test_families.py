"""Model families on tiny offline models: fixture builders, media loading, encode, forward,
generate and completion log-probabilities (the two ways the shared generation code uses a
family), for Qwen2.5-VL and the Qwen2.5-Omni thinker.

The log-probability checks are the point: the shared code appends completion ids to the right
of `encode()`'s `input_ids` and passes the other tensors unchanged, so the prompt's logits must
not change when tokens are appended, a row's logits must not depend on the other rows of a
left-padded batch, and a full forward must reproduce the logits `generate` saw step by step
(the 3D rope positions of the incremental path and the full path agree).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from emoreason.models import media  # noqa: E402
from emoreason.models.families import detect_family  # noqa: E402
from emoreason.models.families.base import Conversation, MediaError  # noqa: E402
from emoreason.models.families.qwen2_5_omni import Qwen25OmniFamily  # noqa: E402
from emoreason.models.families.qwen2_5_vl import Qwen25VLFamily  # noqa: E402
from emoreason.models.families.qwen_video_processor import PilQwen2VLVideoProcessor  # noqa: E402
from emoreason.testing import fixtures  # noqa: E402

# transformers' Omni processor feeds a tensor to np.arange (numpy 2 deprecation, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

ATOL = 1e-4
#: keep the tiny models' vision inputs tiny (Qwen2.5-Omni's processor otherwise upsizes frames
#: to at least 128 tokens' worth)
SMALL = {
    "image_max_pixels": fixtures.MAX_PIXELS,
    "video_min_pixels": fixtures.MIN_PIXELS,
    "video_max_pixels": fixtures.MAX_PIXELS,
}


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny(tiny_models: dict[str, Path]) -> dict[str, Path]:
    return tiny_models


@pytest.fixture(scope="session")
def files(media_files: dict[str, Path]) -> dict[str, Path]:
    return media_files


@pytest.fixture(scope="session")
def vl(tiny: dict[str, Path]):
    family = Qwen25VLFamily()
    model, processor = family.load(tiny["qwen2_5_vl"], torch.float32, "cpu")
    return family, model, processor


@pytest.fixture(scope="session")
def omni(tiny: dict[str, Path]):
    family = Qwen25OmniFamily()
    model, processor = family.load(tiny["qwen2_5_omni"], torch.float32, "cpu")
    return family, model, processor


def _conv(text: str, prefix: str = "", system: str | None = None, **media_and_options) -> Conversation:
    options = dict(SMALL)
    options.update(media_and_options.pop("options", {}))
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    return Conversation(
        messages=messages, assistant_prefix=prefix, options=options, **{k: str(v) for k, v in media_and_options.items()}
    )


# --------------------------------------------------------------------------------------
# helpers: the shared code's two uses of encode()
# --------------------------------------------------------------------------------------


def _extra(inputs: dict) -> dict:
    return {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}


@torch.no_grad()
def _forward_with_completion(model, inputs: dict, completion: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of prompt + completion, and the completion tokens' log-probs, exactly as the
    shared code computes them: ids and mask concatenated on the right, the rest unchanged."""
    ids = torch.cat([inputs["input_ids"], completion], dim=1)
    mask = torch.cat([inputs["attention_mask"], torch.ones_like(completion)], dim=1)
    logits = model(input_ids=ids, attention_mask=mask, **_extra(inputs)).logits.float()
    width = inputs["input_ids"].shape[1]
    logprobs = logits[:, width - 1 : -1].log_softmax(-1).gather(-1, completion[..., None]).squeeze(-1)
    return logits, logprobs


def _check_family_end_to_end(family, model, processor, conversations: list[Conversation]) -> dict:
    placeholders = set(model.generation_config.suppress_tokens)
    assert {model.config.image_token_id, model.config.video_token_id} <= placeholders
    inputs = family.encode(processor, conversations)
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    assert ids.shape == mask.shape and ids.shape[0] == len(conversations)
    assert (mask[:, -1] == 1).all(), "prompts must end at the right edge (left padding)"
    lengths = mask.sum(1)
    assert lengths.min() < ids.shape[1], "the test batch should need padding"
    pad = family.tokenizer(processor).pad_token_id
    assert (ids[mask == 0] == pad).all()
    for row, conversation in enumerate(conversations):
        text = family.tokenizer(processor).decode(ids[row, mask[row].bool()])
        assert text.endswith("<|im_start|>assistant\n" + conversation.assistant_prefix)

    with torch.no_grad():
        prompt_logits = model(**inputs).logits.float()
        out = model.generate(
            **inputs, max_new_tokens=5, do_sample=False, output_logits=True, return_dict_in_generate=True
        )
    width = ids.shape[1]
    assert torch.isfinite(prompt_logits[mask.bool()]).all()
    completion = out.sequences[:, width:]
    assert completion.shape == (len(conversations), 5)
    assert not placeholders & set(completion.flatten().tolist())

    # log-probs of the generated completion, computed the shared code's way
    logits, logprobs = _forward_with_completion(model, inputs, completion)
    assert logprobs.shape == completion.shape and torch.isfinite(logprobs).all() and (logprobs <= 0).all()
    # appending tokens leaves the prompt's logits unchanged
    torch.testing.assert_close(logits[:, :width][mask.bool()], prompt_logits[mask.bool()], atol=ATOL, rtol=ATOL)
    # a full forward sees what generate() saw step by step (same 3D positions)
    step_logits = torch.stack(out.logits, dim=1).float()
    torch.testing.assert_close(logits[:, width - 1 : -1], step_logits, atol=ATOL, rtol=ATOL)

    # each row alone gives the same logits as inside the left-padded batch
    for row, conversation in enumerate(conversations):
        single = family.encode(processor, [conversation])
        n = int(lengths[row])
        assert single["input_ids"].shape[1] == n
        assert torch.equal(single["input_ids"][0], ids[row, width - n :])
        single_logits, single_logprobs = _forward_with_completion(model, single, completion[row : row + 1])
        torch.testing.assert_close(single_logits[0], logits[row, width - n :], atol=ATOL, rtol=ATOL)
        torch.testing.assert_close(single_logprobs[0], logprobs[row], atol=ATOL, rtol=ATOL)

    # several samples per prompt, as the generation engine asks for them (sampling from the top
    # token only, so each sample must equal the greedy output)
    with torch.no_grad():
        twice = model.generate(**inputs, max_new_tokens=5, do_sample=True, top_k=1, num_return_sequences=2)
    assert torch.equal(twice[:, width:], completion.repeat_interleave(2, dim=0))
    return inputs


# --------------------------------------------------------------------------------------
# fixture builders
# --------------------------------------------------------------------------------------


def test_tiny_causal_lm_and_tokenizer_round_trip(tiny: dict[str, Path]) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny["causal_lm"])
    model = AutoModelForCausalLM.from_pretrained(tiny["causal_lm"]).eval()
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    assert model.config.eos_token_id == tokenizer.eos_token_id
    for text in ["plain ascii", "Héllo wörld — “quotes” 😀 这部电影很好 \t\n  spaces", "<think>x</think>\\boxed{sad}"]:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == text
        assert max(ids) < model.config.vocab_size
    for tag in fixtures.TAG_TOKENS:
        assert len(tokenizer(tag, add_special_tokens=False)["input_ids"]) == 1, tag
    # tags are ordinary tokens: they survive skip_special_tokens, the chat markers do not
    ids = tokenizer("<polarity>positive</polarity><|im_end|>", add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids, skip_special_tokens=True) == "<polarity>positive</polarity>"
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )
    batch = tokenizer([prompt, prompt + "more words here"], return_tensors="pt", padding=True)
    assert tokenizer.padding_side == "left" and (batch["attention_mask"][:, -1] == 1).all()
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=3, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert out.shape[1] == batch["input_ids"].shape[1] + 3


def test_fixture_builds_are_deterministic(tiny: dict[str, Path], tmp_path: Path) -> None:
    again = fixtures.make_tiny_qwen2_5_vl(tmp_path / "again")
    for name in ("model.safetensors", "tokenizer.json", "config.json", "preprocessor_config.json"):
        assert (again / name).read_bytes() == (tiny["qwen2_5_vl"] / name).read_bytes(), name


def test_detect_family(tiny: dict[str, Path]) -> None:
    from transformers import AutoConfig

    expected = {"causal_lm": "causal_lm", "qwen2_5_vl": "qwen2_5_vl", "qwen2_5_omni": "qwen2_5_omni"}
    for key, name in expected.items():
        assert detect_family(AutoConfig.from_pretrained(tiny[key])).name == name
    assert not Qwen25VLFamily.matches(AutoConfig.from_pretrained(tiny["qwen2_5_omni"]))
    assert not Qwen25OmniFamily.matches(AutoConfig.from_pretrained(tiny["causal_lm"]))


# --------------------------------------------------------------------------------------
# media
# --------------------------------------------------------------------------------------


def test_media_loading(files: dict[str, Path]) -> None:
    image = media.load_image(files["image"])
    assert image.mode == "RGB" and image.size == (80, 60)

    video = media.load_video_frames(files["video"])  # 8 frames at 4 fps: 2 s
    assert video.frames.shape == (4, 48, 64, 3) and video.frames.dtype == np.uint8
    assert video.indices[0] == 0 and video.indices[-1] == 7 and video.total_frames == 8
    assert video.duration == pytest.approx(2.0) and video.sampled_fps == pytest.approx(2.0)
    assert media.load_video_frames(files["video"], num_frames=6).frames.shape[0] == 6
    assert media.load_video_frames(files["video"], num_frames=99).frames.shape[0] == 8  # never more than it has

    audio = media.load_audio(files["wav"])
    assert audio.dtype == np.float32 and audio.shape == (24000,)
    resampled = media.load_audio(files["wav44"])  # 1 s of 44.1 kHz stereo -> 16 kHz mono
    assert resampled.shape == (16000,) and np.abs(resampled).max() < 0.5

    track = media.extract_audio_from_video(files["video_audio"])  # 3 s of AAC
    assert track is not None and abs(track.size - 48000) < 2048 and np.abs(track).max() > 0.1
    assert media.extract_audio_from_video(files["video"]) is None
    assert media.load_audio(files["video_audio"]).size == track.size  # containers go through PyAV


@pytest.mark.parametrize(
    "loader,key",
    [
        (media.load_image, "broken_png"),
        (media.load_video_frames, "broken_mp4"),
        (media.load_audio, "broken_wav"),
        (media.extract_audio_from_video, "broken_mp4"),
    ],
)
def test_media_errors_name_the_file(files: dict[str, Path], loader, key: str) -> None:
    with pytest.raises(MediaError, match="broken"):
        loader(files[key])
    missing = files[key].with_name("missing" + files[key].suffix)
    with pytest.raises(MediaError, match=f"not found: {missing}"):
        loader(missing)


def test_encode_raises_media_error(vl, omni, files: dict[str, Path], tmp_path: Path) -> None:
    family, _, processor = vl
    with pytest.raises(MediaError, match="nowhere.png"):
        family.encode(processor, [_conv("x", image=tmp_path / "nowhere.png")])
    with pytest.raises(MediaError, match="broken.png"):
        family.encode(processor, [_conv("x", image=files["image"]), _conv("y", image=files["broken_png"])])
    with pytest.raises(MediaError, match="audio"):  # Qwen2.5-VL takes no audio
        family.encode(processor, [_conv("x", audio=files["wav"])])
    family, _, processor = omni
    with pytest.raises(MediaError, match="broken.wav"):
        family.encode(processor, [_conv("x", audio=files["broken_wav"])])
    with pytest.raises(MediaError, match="broken.mp4"):
        family.encode(processor, [_conv("x", video=files["broken_mp4"])])


def test_an_image_too_thin_for_the_processor_is_a_media_error_naming_it(vl, omni, tmp_path: Path) -> None:
    """A 1x300 image failed with the processor's "absolute aspect ratio must be smaller than 200", which
    names neither the file nor what to do; evaluate leaves out a sample whose media raise MediaError."""
    from PIL import Image

    thin, fine = tmp_path / "strip.png", tmp_path / "wide.png"
    Image.new("RGB", (300, 1)).save(thin)
    Image.new("RGB", (200, 1)).save(fine)  # at the limit: the processor takes it
    for family, _, processor in (vl, omni):
        with pytest.raises(MediaError, match=r"strip\.png is 300x1 pixels, 300 times .* crop it or pad it"):
            family.encode(processor, [_conv("x", image=thin)])
        assert family.encode(processor, [_conv("x", image=fine)])["input_ids"].shape[0] == 1


def test_pil_video_processor_matches_the_image_processor(vl, files: dict[str, Path]) -> None:
    """A 'video' of the same frame twice is one temporal patch of that image: the numpy port of
    the video processor must give the image processor's pixels and grid."""
    _, _, processor = vl
    frame = np.asarray(media.load_image(files["image2"]))
    video = PilQwen2VLVideoProcessor.from_config_dict(processor.image_processor.to_dict())
    got = video([np.stack([frame, frame])])
    want = processor.image_processor([frame], return_tensors="pt")
    assert torch.equal(got["video_grid_thw"], want["image_grid_thw"])
    torch.testing.assert_close(got["pixel_values_videos"], want["pixel_values"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("which", ["vl", "omni"])
def test_saved_processor_and_model_reload(
    which: str, request: pytest.FixtureRequest, files: dict[str, Path], tmp_path: Path
) -> None:
    """Trainers save the processor beside their checkpoints (transformers 5 writes one
    processor_config.json); loading that folder must give the same inputs and logits."""
    family, model, processor = request.getfixturevalue(which)
    processor.save_pretrained(tmp_path)
    model.save_pretrained(tmp_path)
    loaded, loaded_processor = family.load(tmp_path, torch.float32, "cpu")
    conversation = _conv("x", image=files["image"], video=files["video"])
    if which == "vl":  # the checkpoint's own pixel settings, not the test's
        conversation = Conversation(messages=conversation.messages, image=conversation.image, video=conversation.video)
    want, got = family.encode(processor, [conversation]), family.encode(loaded_processor, [conversation])
    assert want.keys() == got.keys()
    for key in want:
        assert torch.equal(want[key], got[key]), key
    with torch.no_grad():
        torch.testing.assert_close(loaded(**got).logits, model(**want).logits, atol=0, rtol=0)


# --------------------------------------------------------------------------------------
# Qwen2.5-VL
# --------------------------------------------------------------------------------------


def test_qwen2_5_vl_end_to_end(vl, files: dict[str, Path]) -> None:
    family, model, processor = vl
    conversations = [
        _conv(
            "How does the person feel?",
            prefix="<think>",
            system="Answer briefly.",
            image=files["image"],
            video=files["video"],
        ),
        _conv("And in this picture, described in a longer question?", image=files["image2"]),
    ]
    inputs = _check_family_end_to_end(family, model, processor, conversations)
    assert set(inputs) == {
        "input_ids",
        "attention_mask",
        "mm_token_type_ids",
        "pixel_values",
        "image_grid_thw",
        "pixel_values_videos",
        "video_grid_thw",
        "second_per_grid_ts",
    }
    assert inputs["image_grid_thw"].shape == (2, 3) and inputs["video_grid_thw"].shape == (1, 3)
    assert inputs["second_per_grid_ts"].tolist() == pytest.approx([1.0])  # 2 frames per patch at 2 fps
    assert (inputs["mm_token_type_ids"] == 2).sum() == inputs["video_grid_thw"].prod() // 4


def test_qwen2_5_vl_text_only_and_mixed_batch(vl, files: dict[str, Path]) -> None:
    family, model, processor = vl
    inputs = family.encode(processor, [_conv("no media at all"), _conv("a clip", video=files["video"])])
    assert "pixel_values" not in inputs and inputs["video_grid_thw"].shape == (1, 3)
    with torch.no_grad():
        assert torch.isfinite(model(**inputs).logits).all()


def test_qwen2_5_vl_without_mm_token_type_ids(vl, files: dict[str, Path]) -> None:
    """Callers that drop `mm_token_type_ids` still get the 3D positions (derived from the ids)."""
    family, model, processor = vl
    inputs = family.encode(processor, [_conv("x", image=files["image"], video=files["video"])])
    with torch.no_grad():
        want = model(**inputs).logits
        got = model(**{k: v for k, v in inputs.items() if k != "mm_token_type_ids"}).logits
    torch.testing.assert_close(got, want, atol=ATOL, rtol=ATOL)


# --------------------------------------------------------------------------------------
# Qwen2.5-Omni thinker
# --------------------------------------------------------------------------------------


def test_qwen2_5_omni_end_to_end(omni, files: dict[str, Path]) -> None:
    family, model, processor = omni
    conversations = [
        _conv(
            "What is the emotion?",
            prefix="<polarity>",
            system="Answer briefly.",
            image=files["image"],
            video=files["video"],
            audio=files["wav"],
        ),
        _conv("And here, in this longer question about the clip?", audio=files["wav44"]),
    ]
    inputs = _check_family_end_to_end(family, model, processor, conversations)
    assert set(inputs) == {
        "input_ids",
        "attention_mask",
        "pixel_values",
        "image_grid_thw",
        "pixel_values_videos",
        "video_grid_thw",
        "video_second_per_grid",
        "input_features",
        "feature_attention_mask",
    }
    assert inputs["input_features"].shape[:2] == (2, 128)
    assert inputs["feature_attention_mask"].sum(1).tolist() == [150, 100]  # 1.5 s and 1 s at 100 frames/s
    # clips are padded just past their end, not to the extractor's 30 s window, with the same
    # features under the mask as the processor's own full-window padding
    extractor = processor.feature_extractor
    assert inputs["input_features"].shape[-1] < extractor.nb_max_frames
    for row, path in enumerate([files["wav"], files["wav44"]]):
        full = extractor(
            [media.load_audio(path)],
            sampling_rate=16000,
            padding="max_length",
            return_attention_mask=True,
            return_tensors="pt",
        )
        frames = int(full["attention_mask"].sum())
        assert frames == int(inputs["feature_attention_mask"][row].sum())
        torch.testing.assert_close(
            inputs["input_features"][row, :, :frames], full["input_features"][0, :, :frames], atol=1e-5, rtol=1e-5
        )


def test_qwen2_5_omni_text_only(omni) -> None:
    family, model, processor = omni
    inputs = family.encode(processor, [_conv("just words", prefix="<think>"), _conv("more words, and some more")])
    assert set(inputs) == {"input_ids", "attention_mask"}
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=3, do_sample=False)
    assert out.shape == (2, inputs["input_ids"].shape[1] + 3)


def test_qwen2_5_omni_use_audio_in_video(omni, files: dict[str, Path]) -> None:
    family, model, processor = omni
    option = {"use_audio_in_video": True}
    conversations = [
        _conv("What do they say?", video=files["video_audio"], options=option),
        _conv(
            "A silent clip and a sound, asked at greater length?",
            video=files["video"],
            audio=files["wav"],
            options=option,
        ),
    ]
    inputs = _check_family_end_to_end(family, model, processor, conversations)
    assert inputs["use_audio_in_video"] is True
    # the talking clip's 3 s track, the silent clip's 2 s of silence, then the standalone 1.5 s sound
    assert inputs["input_features"].shape[0] == 3
    frames = inputs["feature_attention_mask"].sum(1).tolist()
    assert abs(frames[0] - 300) <= 10 and frames[1:] == [200, 150]
    tokenizer = family.tokenizer(processor)
    first = tokenizer.decode(inputs["input_ids"][0][inputs["attention_mask"][0].bool()])
    assert "<|vision_bos|><|audio_bos|><|VIDEO|>" in first  # audio interleaved into the video

    with pytest.raises(ValueError, match="use_audio_in_video"):
        family.encode(processor, [conversations[0], _conv("x", video=files["video"])])


def test_full_omni_checkpoint_loads_the_thinker(
    omni, tiny: dict[str, Path], files: dict[str, Path], tmp_path: Path
) -> None:
    """A full Qwen2.5-Omni folder (thinker + talker + token2wav, weights named `thinker.*`, the
    thinker's config nested in config.json) loads as the same thinker."""
    from safetensors.torch import load_file, save_file
    from transformers import AutoConfig

    family, model, _ = omni
    source, full = tiny["qwen2_5_omni"], tmp_path / "full-omni"
    full.mkdir()
    weights = {f"thinker.{k}": v for k, v in load_file(source / "model.safetensors").items()}
    weights["talker.model.embed_tokens.weight"] = torch.zeros(4, 8)
    weights["token2wav.code2wav_bigvgan_model.conv_pre.weight"] = torch.zeros(2, 2)
    save_file(weights, full / "model.safetensors", metadata={"format": "pt"})
    thinker = json.loads((source / "config.json").read_text())
    thinker.pop("architectures", None)
    config = {
        "architectures": ["Qwen2_5OmniForConditionalGeneration"],
        "model_type": "qwen2_5_omni",
        "enable_audio_output": True,
        "thinker_config": thinker,
    }
    (full / "config.json").write_text(json.dumps(config))
    for file in source.iterdir():
        if file.name not in ("config.json", "model.safetensors"):
            shutil.copy(file, full / file.name)

    assert detect_family(AutoConfig.from_pretrained(full)).name == "qwen2_5_omni"
    loaded, loaded_processor = family.load(full, torch.float32, "cpu")
    assert type(loaded).__name__ == "Qwen2_5OmniThinkerForConditionalGeneration"
    inputs = family.encode(loaded_processor, [_conv("x", image=files["image"], audio=files["wav"])])
    with torch.no_grad():
        torch.testing.assert_close(loaded(**inputs).logits, model(**inputs).logits, atol=0, rtol=0)


@pytest.mark.parametrize("which", ["qwen2_5_vl", "qwen2_5_omni"])
def test_generation_engine_and_analyze_with_media(which: str, tiny: dict[str, Path], files: dict[str, Path]) -> None:
    """The product path: load_model -> TransformersEngine -> audit records, with an image (and audio)."""
    from emoreason.data import Sample
    from emoreason.data.schema import resolve_task
    from emoreason.generation import SamplingParams, TransformersEngine
    from emoreason.inference import analyze
    from emoreason.models import load_model

    loaded = load_model(str(tiny[which]))
    assert loaded.family.name == which
    engine = TransformersEngine(loaded, batch_size=4)
    media = {"image": str(files["image"])}
    if which == "qwen2_5_omni":
        media["audio"] = str(files["wav"])
    samples = [Sample(id="a", text="a sunny beach", **media), Sample(id="b", text="plain text only")]
    records = analyze(
        engine, samples, resolve_task("vader"), "c2f", loaded.name, SamplingParams(max_new_tokens=4, n=1), batch_size=2
    )
    assert [r["id"] for r in records] == ["a", "b"]
    assert all(r["completion_tokens"] >= 1 and r["raw_completion"] is not None for r in records)
    groups = engine.generate([], SamplingParams())
    assert groups == []
    two = engine.generate(
        [Conversation(messages=[{"role": "user", "content": "hi"}], **media)], SamplingParams(n=2, max_new_tokens=3)
    )
    assert len(two[0]) == 2 and two[0][0].token_ids == two[0][1].token_ids  # greedy n=2 gives equal copies
    assert all(lp <= 0 for c in two[0] for lp in c.logprobs)
    # the polarity-probability readout's choice on this path (`generate`'s logits): the greedy
    # token is the most probable of the choice, and the probabilities sum to 1
    first = two[0][0].token_ids[0]
    choice = (first, first + 1, first + 2)
    kept = engine.generate(
        [Conversation(messages=[{"role": "user", "content": "hi"}], **media)],
        SamplingParams(max_new_tokens=3, choice_tokens=choice),
    )[0][0]
    assert kept.token_ids == two[0][0].token_ids and kept.choice_probs is not None
    assert max(kept.choice_probs, key=kept.choice_probs.get) == first
    assert abs(sum(kept.choice_probs.values()) - 1.0) < 1e-6


def test_adapter_resolution_shipped_none_and_training(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from emoreason.models import loading

    shipped = tmp_path / "default_adapter"
    monkeypatch.setattr(loading, "shipped_default_adapter", lambda: shipped)
    # inference on the default model gets the shipped adapter; a named adapter replaces it
    assert loading.resolve_adapters("default", None) == [str(shipped)]
    assert loading.resolve_adapters("default", ["mine"]) == ["mine"]
    # `none` is the bare base model; training from `default` never starts from the shipped adapter
    assert loading.resolve_adapters("default", ["none"]) == []
    assert loading.resolve_adapters("default", "none") == []
    assert loading.resolve_adapters("default", None, trainable=True) == []
    # other models never get it
    assert loading.resolve_adapters("/models/other", None) == []
    with pytest.raises(ValueError, match="cannot be combined"):
        loading.resolve_adapters("default", ["none", "mine"])
    monkeypatch.setattr(loading, "shipped_default_adapter", lambda: None)
    assert loading.resolve_adapters("default", None) == []


def test_an_image_is_made_rgb_as_the_image_processors_make_it(tmp_path: Path) -> None:
    """Transparent pixels came out black (the processors composite onto white), and a 16-bit grey PNG
    nearly all white (PIL clips it at 255)."""
    from PIL import Image

    clear = Image.new("RGBA", (4, 4), (200, 10, 10, 0))
    clear.putpixel((0, 0), (200, 10, 10, 255))
    clear.save(tmp_path / "clear.png")
    rgb = np.asarray(media.load_image(tmp_path / "clear.png"))
    assert rgb[1, 1].tolist() == [255, 255, 255] and rgb[0, 0].tolist() == [200, 10, 10]
    grey = np.tile(np.linspace(0, 65535, 16, dtype=np.uint16), (4, 1))
    Image.fromarray(grey).save(tmp_path / "grey16.png")
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I")
    deep = np.asarray(media.load_image(tmp_path / "grey16.png"))
    assert deep[0, 0].tolist() == [0, 0, 0] and deep[0, -1].tolist() == [255, 255, 255]
    assert 110 < deep.mean() < 145  # a ramp: about mid-grey on average


def test_an_audio_file_with_nan_samples_is_a_media_error_naming_it(tmp_path: Path) -> None:
    import soundfile as sf

    samples = np.zeros(1600, dtype=np.float32)
    samples[10] = np.nan
    sf.write(tmp_path / "nan.wav", samples, 16000, subtype="FLOAT")
    with pytest.raises(MediaError, match=r"nan\.wav holds NaN or infinite samples"):
        media.load_audio(tmp_path / "nan.wav")


def test_a_model_without_a_chat_template_is_refused_before_its_weights_load(tiny: dict[str, Path], tmp_path) -> None:
    import shutil

    from emoreason.models import load_model

    base = shutil.copytree(tiny["causal_lm"], tmp_path / "base")
    (base / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((base / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (base / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="has no chat template .a base checkpoint, not an instruct one"):
        load_model(str(base), adapters="none")


def test_an_adapter_of_another_base_is_named_with_the_base_it_records(tiny: dict[str, Path], tmp_path) -> None:
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file, save_file

    from emoreason.models import load_model

    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"])
    # a base of other module names: peft loaded none of the adapter's weights, with a warning, and ran the base
    other = load_model(str(tiny["qwen2_5_vl"]), adapters="none").model
    get_peft_model(other, config).save_pretrained(tmp_path / "vl_adapter")
    with pytest.raises(ValueError, match=r"vl_adapter does not fit .*module names .*trained on .*--model"):
        load_model(str(tiny["causal_lm"]), adapters=[str(tmp_path / "vl_adapter")])
    # a base of other widths: peft's size-mismatch error named neither the adapter nor its base
    own = load_model(str(tiny["causal_lm"]), adapters="none").model
    get_peft_model(own, config).save_pretrained(tmp_path / "wide")
    weights = tmp_path / "wide" / "adapter_model.safetensors"
    save_file({k: torch.zeros(v.shape[0], v.shape[1] * 2) for k, v in load_file(weights).items()}, weights)
    with pytest.raises(ValueError, match=r"wide does not fit .*other shapes .it was trained on .*--model"):
        load_model(str(tiny["causal_lm"]), adapters=[str(tmp_path / "wide")])


def test_full_fine_tuning_trains_fp32_weights(tiny: dict[str, Path]) -> None:
    """`dtype: auto` is bf16 on a GPU: full fine-tuning then kept bf16 weights and optimizer state, and
    most updates at a fine-tuning lr rounded away."""
    from types import SimpleNamespace

    from emoreason.train.config import ModelConfig
    from emoreason.train.policy import load_trainable

    accelerator = SimpleNamespace(device=torch.device("cpu"))
    full = {"name": str(tiny["causal_lm"]), "lora": {"enabled": False}}
    loaded = load_trainable(ModelConfig(**full, dtype="auto"), accelerator)
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}
    with pytest.raises(ValueError, match="model.dtype=bfloat16 with model.lora.enabled=false.*model.dtype=float32"):
        load_trainable(ModelConfig(**full, dtype="bfloat16"), accelerator)
    lora = load_trainable(ModelConfig(name=str(tiny["causal_lm"]), dtype="bfloat16"), accelerator)
    assert {p.dtype for p in lora.model.parameters()} == {torch.bfloat16}  # LoRA: peft keeps its own weights fp32
